import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.profiles.models import ErasureRecord, MergeRecord, Profile, Segment
from apps.profiles.services.erasure import erasure_proceed
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory, SegmentFactory, SessionFactory


@pytest.fixture
def staff_client(client, db):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


def change_url(profile_id: str) -> str:
    return reverse("admin:profiles_profile_change", args=[profile_id])


@pytest.mark.django_db
def test_the_profile_page_shows_the_person_and_a_paginated_timeline(staff_client):
    profile = ProfileFactory(
        id="jo",
        ids=["jo-phone"],
        segments=["vip"],
        traits={"plan": "pro"},
        interests={"sport": 3},
        consents={"marketing": {"revoke": None}},
        data={
            "pii": {"firstname": "Jo", "lastname": "Doe"},
            "contact": {"email": {"main": "jo@x.io"}},
        },
    )
    session = SessionFactory(id="jo-session", profile=profile)
    for number in range(55):
        EventFactory(id=f"e{number:02}", profile=profile, session=session, type=f"type-{number:02}")

    first = staff_client.get(change_url("jo"))
    older = staff_client.get(change_url("jo") + "?timeline=2")

    assert first.status_code == 200
    person = first.context["person"]
    assert (person["name"], person["email"], person["ids"]) == ("Jo Doe", "jo@x.io", ["jo-phone"])
    assert (person["segments"], person["traits"]) == (["vip"], [("plan", "pro")])
    assert person["interests"] == [("sport", 3)]
    assert len(first.context["timeline_events"]) == 50
    assert (first.context["timeline_newer"], first.context["timeline_older"]) == (None, 2)
    assert len(older.context["timeline_events"]) == 5
    assert (older.context["timeline_newer"], older.context["timeline_older"]) == (1, None)
    page = first.content.decode()
    assert "The person at a glance" in page
    assert "jo-session" in page
    assert reverse("admin:profiles_profile_export", args=["jo"]) in page
    assert "/admin/workflows/workflowrun/?profile=jo" in page


@pytest.mark.django_db
def test_export_answers_the_profile_in_tracardi_shape(staff_client, client):
    ProfileFactory(id="jo", ids=["old"], segments=["vip"], traits={"plan": "pro"})

    response = staff_client.get(reverse("admin:profiles_profile_export", args=["jo"]))

    assert response.status_code == 200
    document = json.loads(response.content)
    assert sorted(document) == [
        "active",
        "aux",
        "consents",
        "data",
        "id",
        "ids",
        "interests",
        "metadata",
        "primary_id",
        "segments",
        "stats",
        "traits",
    ]
    assert (document["id"], document["ids"], document["traits"]) == ("jo", ["old"], {"plan": "pro"})
    assert (
        staff_client.get(reverse("admin:profiles_profile_export", args=["nope"])).status_code == 404
    )
    staff_client.logout()
    anonymous = client.get(reverse("admin:profiles_profile_export", args=["jo"]))
    assert anonymous.status_code == 302


@pytest.mark.django_db
def test_merge_action_and_undo_button(staff_client):
    ProfileFactory(id="older", traits={"a": 1})
    newer = ProfileFactory(id="newer", traits={"b": 2})
    Profile.objects.filter(pk="older").update(updated=newer.updated.replace(year=2000))

    response = staff_client.post(
        reverse("admin:profiles_profile_changelist"),
        {"action": "merge_profiles", ACTION_CHECKBOX_NAME: ["older", "newer"]},
    )

    assert response.status_code == 302
    assert response["Location"] == change_url("newer")
    survivor = Profile.objects.get()
    assert (survivor.pk, survivor.ids, survivor.traits) == ("newer", ["older"], {"a": 1, "b": 2})
    record = MergeRecord.objects.get()
    assert record.actor == "marketer"
    page = staff_client.get(change_url("newer")).content.decode()
    undo_url = reverse("admin:profiles_profile_undo_merge", args=["newer", record.pk])
    assert undo_url in page

    assert staff_client.get(undo_url).status_code == 405
    undone = staff_client.post(undo_url)

    assert undone.status_code == 302
    assert sorted(Profile.objects.values_list("pk", flat=True)) == ["newer", "older"]
    record.refresh_from_db()
    assert (record.status, record.undone_by) == ("undone", "marketer")


@pytest.mark.django_db
def test_forget_action_asks_then_erases(staff_client):
    profile = ProfileFactory(id="gone", data={"contact": {"email": {"main": "gone@x.io"}}})
    EventFactory(profile=profile)
    url = reverse("admin:profiles_profile_changelist")

    asked = staff_client.post(url, {"action": "forget_profiles", ACTION_CHECKBOX_NAME: ["gone"]})

    assert asked.status_code == 200
    assert "gone@x.io" in asked.content.decode()
    assert Profile.objects.filter(pk="gone").exists()

    done = staff_client.post(
        url, {"action": "forget_profiles", ACTION_CHECKBOX_NAME: ["gone"], "confirm": "yes"}
    )

    # The erasure is started (the ids are forgotten at once); the worker deletes the rows.
    assert done.status_code == 302
    record = ErasureRecord.objects.get()
    assert (record.profile_ids, record.actor, record.status) == (["gone"], "marketer", "running")
    assert erasure_proceed(erasure_id=record.pk) is True
    assert not Profile.objects.filter(pk="gone").exists()


@pytest.mark.django_db
def test_segment_admin_shows_members_and_puts_condition_errors_on_the_field(staff_client):
    segment = SegmentFactory(name="VIP")
    ProfileFactory(segments=["vip"])
    ProfileFactory(segments=["vip", "other"])
    ProfileFactory(segments=[])

    listing = staff_client.get(reverse("admin:profiles_segment_changelist")).content.decode()
    assert "2 profile(s)" in listing
    assert "/admin/profiles/profile/?segment=vip" in listing

    response = staff_client.post(
        reverse("admin:profiles_segment_change", args=[segment.pk]),
        {
            "name": "VIP",
            "description": "",
            "condition": "profile@stats.visits >>",
            "kind": "live",
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["condition"]

    created = staff_client.post(
        reverse("admin:profiles_segment_add"),
        {
            "name": "Loyal Customers",
            "condition": "profile@stats.visits > 10",
            "kind": "scheduled",
            "enabled": "on",
        },
    )
    assert created.status_code == 302
    assert Segment.objects.get(name="Loyal Customers").slug == "loyal-customers"


@pytest.mark.django_db
def test_record_admin_pages_render(staff_client):
    ProfileFactory(id="a"), ProfileFactory(id="b")
    staff_client.post(
        reverse("admin:profiles_profile_changelist"),
        {"action": "merge_profiles", ACTION_CHECKBOX_NAME: ["a", "b"]},
    )
    record = MergeRecord.objects.get()

    for url in (
        reverse("admin:profiles_mergerecord_changelist") + "?q=b",
        reverse("admin:profiles_mergerecord_change", args=[record.pk]),
        reverse("admin:profiles_erasurerecord_changelist"),
        reverse("admin:profiles_identificationpoint_changelist"),
        reverse("admin:profiles_identificationpoint_add"),
    ):
        assert staff_client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_the_timeline_filters_by_type_and_day_and_its_pages_keep_the_filter(staff_client):
    profile = ProfileFactory(id="jo")
    start = datetime(2026, 11, 1, 12, tzinfo=UTC)
    for number in range(60):
        EventFactory(
            id=f"v{number:02}",
            profile=profile,
            type="page-view",
            time=start + timedelta(hours=number),
        )
    EventFactory(id="buy", profile=profile, type="purchase", time=start + timedelta(days=1))

    purchases = staff_client.get(change_url("jo"), {"timeline_type": "purchase"})
    views = staff_client.get(
        change_url("jo"), {"timeline_type": "page-view", "timeline_before": "2026-11-02"}
    )
    broken = staff_client.get(change_url("jo"), {"timeline_before": "yesterday"})

    assert [event.pk for event in purchases.context["timeline_events"]] == ["buy"]
    # Up to the end of 2 November: 36 views (12:00 on the 1st to 23:00 on the 2nd).
    assert [event.pk for event in views.context["timeline_events"]][:2] == ["v35", "v34"]
    assert len(views.context["timeline_events"]) == 36
    assert views.context["timeline_older"] is None
    assert len(broken.context["timeline_events"]) == 50  # an unreadable day filters nothing
    page = staff_client.get(change_url("jo"), {"timeline_type": "page-view"}).content.decode()
    assert '?timeline=2&amp;timeline_type=page-view#timeline">Older' in page
