import pytest
from django.contrib.admin import site
from django.urls import reverse

from apps.profiles.models import Profile
from tests.admin.factories import EventFactory, ProfileFactory, SessionFactory

pytestmark = pytest.mark.django_db

PROFILES = reverse("admin:profiles_profile_changelist")
SESSIONS = reverse("admin:profiles_session_changelist")


def _result_ids(response) -> list[str]:
    return sorted(str(obj.pk) for obj in response.context["cl"].result_list)


@pytest.fixture
def profiles():
    return {
        "ann": ProfileFactory(
            id="ann",
            ids=["merged-a1", "merged-a2"],
            segments=["vip", "buyers"],
            data={"contact": {"email": {"main": "Ann@Example.com"}}},
            visit_count=3,
        ),
        "bob": ProfileFactory(
            id="bob",
            segments=["buyers"],
            active=False,
            data={"contact": {"email": {"main": "bob@example.com"}}},
        ),
        "cid": ProfileFactory(id="cid"),
    }


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("merged-a2", ["ann"]),  # an id merged into ann
        ("ann", ["ann"]),
        ("  bob ", ["bob"]),
        ("ann@example.COM", ["ann"]),
        ("BOB@example.com", ["bob"]),
        ("merged", []),  # exact ids only
        ("example.com", []),  # an e-mail's beginning, not any part of it
        ("AN", ["ann"]),  # the beginning of an e-mail, in any case
        ("b", ["bob"]),
        ("bob@", ["bob"]),
        ("ann@example.co", ["ann"]),
        ("x_%", []),  # LIKE's wildcards are plain characters
    ],
)
def test_search_by_exact_id_merged_id_or_email(staff_client, profiles, term, expected):
    response = staff_client.get(PROFILES, {"q": term})

    assert response.status_code == 200
    assert _result_ids(response) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"segment": "buyers"}, ["ann", "bob"]),
        ({"segment": "vip"}, ["ann"]),
        ({"active__exact": "0"}, ["bob"]),
    ],
)
def test_filters(staff_client, profiles, params, expected):
    response = staff_client.get(PROFILES, params)

    assert _result_ids(response) == expected


def test_segment_filter_offers_the_segments_in_use(staff_client, profiles):
    response = staff_client.get(PROFILES)

    segment_filter = next(
        spec for spec in response.context["cl"].filter_specs if spec.title == "segment"
    )
    assert segment_filter.lookup_choices == [("buyers", "buyers"), ("vip", "vip")]


def test_list_columns(staff_client, profiles):
    response = staff_client.get(PROFILES, {"q": "ann"})

    content = response.content.decode()
    assert (
        '<td class="field-email_in_list"><span title="Ann@Example.com" style="display: '
        "inline-block; max-width: 16em; overflow: hidden; text-overflow: ellipsis; white-space: "
        'nowrap; vertical-align: bottom">Ann@Example.com</span></td>'
    ) in content
    assert '<td class="field-segment_list">vip, buyers</td>' in content
    assert '<td class="field-visit_count">3</td>' in content


def test_change_page_links_to_sessions_and_events_with_counts(staff_client, profiles):
    ann = profiles["ann"]
    ann.traits = {"plan": "gold"}
    ann.save()
    session = SessionFactory(profile=ann)
    SessionFactory(profile=ann)
    EventFactory.create_batch(3, profile=ann, session=session)
    EventFactory(profile=profiles["bob"])

    response = staff_client.get(reverse("admin:profiles_profile_change", args=["ann"]))

    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert f'<a href="{SESSIONS}?profile=ann">2 session(s)</a>' in content
    events = reverse("admin:events_event_changelist")
    assert f'<a href="{events}?profile=ann">3 event(s)</a>' in content
    assert '<pre class="cdp-json">{\n  &quot;plan&quot;: &quot;gold&quot;\n}</pre>' in content
    assert "merged-a1, merged-a2" in content


def test_related_counts_stop_at_the_cap(staff_client, profiles, monkeypatch):
    monkeypatch.setattr("apps.profiles.selectors.RELATED_COUNT_CAP", 2)
    EventFactory.create_batch(3, profile=profiles["ann"], session=None)

    response = staff_client.get(reverse("admin:profiles_profile_change", args=["ann"]))

    assert "more than 2 event(s)" in response.content.decode()


class TestSessions:
    @pytest.fixture
    def sessions(self, profiles):
        return {
            "s-ann": SessionFactory(
                id="s-ann",
                profile=profiles["ann"],
                app={"name": "Chrome", "version": "120.0"},
                os={"name": "Mac OS X", "version": "10.15"},
                device={"type": "pc"},
            ),
            "s-bot": SessionFactory(id="s-bot", profile=profiles["bob"], is_bot=True),
            "s-end": SessionFactory(id="s-end", profile=profiles["bob"], status="ended"),
        }

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"q": "s-ann"}, ["s-ann"]),
            ({"q": "bob"}, ["s-bot", "s-end"]),
            ({"q": "s-"}, []),
            ({"is_bot__exact": "1"}, ["s-bot"]),
            ({"status__exact": "ended"}, ["s-end"]),
            ({"profile": "ann"}, ["s-ann"]),
        ],
    )
    def test_search_and_filters(self, staff_client, sessions, params, expected):
        response = staff_client.get(SESSIONS, params)

        assert response.status_code == 200
        assert _result_ids(response) == expected

    def test_list_shows_a_device_summary_and_the_profile(self, staff_client, sessions):
        response = staff_client.get(SESSIONS, {"q": "s-ann"})

        content = response.content.decode()
        assert '<td class="field-device_summary">Chrome 120.0 · Mac OS X 10.15 · pc</td>' in (
            content
        )
        profile_url = reverse("admin:profiles_profile_change", args=["ann"])
        assert f'<a href="{profile_url}" title="ann">ann</a>' in content

    def test_change_page_links_to_events_and_profile(self, staff_client, sessions):
        EventFactory.create_batch(2, profile=sessions["s-ann"].profile, session=sessions["s-ann"])

        response = staff_client.get(reverse("admin:profiles_session_change", args=["s-ann"]))

        content = response.content.decode()
        events = reverse("admin:events_event_changelist")
        assert f'<a href="{events}?session=s-ann">2 event(s)</a>' in content
        assert reverse("admin:profiles_profile_change", args=["ann"]) in content
        assert '<pre class="cdp-json">{\n  &quot;type&quot;: &quot;pc&quot;\n}</pre>' in content


def test_lists_name_a_person_by_email_then_name_then_id():
    assert str(ProfileFactory(id="p1", data={"contact": {"email": {"main": "a@x.io"}}})) == "a@x.io"
    assert (
        str(ProfileFactory(id="p2", data={"pii": {"firstname": "Ann", "lastname": "Lee"}}))
        == "Ann Lee"
    )
    assert str(ProfileFactory(id="p3", data={"pii": {"lastname": "Lee"}})) == "Lee"
    assert str(ProfileFactory(id="p4", data={})) == "p4"


def test_a_page_past_the_end_keeps_the_filters(staff_client, profiles, monkeypatch):
    monkeypatch.setattr(site._registry[Profile], "list_per_page", 1)

    response = staff_client.get(PROFILES, {"segment": "buyers", "p": "7"}, follow=True)

    assert response.redirect_chain == []
    assert len(_result_ids(response)) == 1
    assert response.context["cl"].page_num == 2
    assert (
        "There is no page 7 of this list: showing page 2, the last one, with the same filters."
        in response.content.decode()
    )
