"""Consents: the consent-given event applied by the worker, the consent history of every path
(visitor, workflow action, admin edit, merge), and the column the auto-revoke job reads."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from apps.events.models import Event, EventType
from apps.events.services import event_mappings_process
from apps.profiles.consents import consent_entry_valid, consents_next_revoke
from apps.profiles.models import ConsentChange, ConsentType, MergeRecord, Profile
from apps.profiles.services.merge import profiles_merge
from apps.profiles.services.merge_undo import merge_undo
from apps.profiles.services.writes import profile_edit
from apps.sources.services import event_source_create
from apps.tracking.processing import profile_events_process
from apps.tracking.routing import event_needs_processing
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def consent_types():
    ConsentType.objects.create(id="marketing", name="Newsletter", auto_revoke_days=30)
    ConsentType.objects.create(id="analytics", name="Statistics")
    ConsentType.objects.create(id="cookies", name="Necessary cookies", revokable=False)
    ConsentType.objects.create(id="old", name="Retired", enabled=False)


def consent_given(profile, consents, *, time=T0, event_id=None):
    kwargs = {"id": event_id} if event_id else {}
    return EventFactory(
        profile=profile,
        type="consent-given",
        properties={"consents": consents},
        time=time,
        **kwargs,
    )


def history(profile_id):
    return list(
        ConsentChange.objects.filter(profile_id=profile_id)
        .order_by("at", "id")
        .values_list("consent_type", "action", "at", "via", "by", "revoke_at")
    )


def test_consent_given_is_a_predefined_event_type_that_needs_the_worker():
    event_type = EventType.objects.get(type="consent-given")

    assert (event_type.name, event_type.predefined) == ("Consent Given", True)
    assert event_needs_processing(source_id="any", event_type="consent-given") is True


def test_a_grant_runs_until_the_auto_revoke_days_or_for_good(consent_types):
    profile = ProfileFactory()
    event = consent_given(profile, {"marketing": True, "analytics": True}, event_id="ev-1")

    profile_events_process(profile_id=profile.pk)

    profile.refresh_from_db()
    assert profile.consents == {
        "marketing": {"grant": "2026-05-01T09:30:00+00:00", "revoke": "2026-05-31T09:30:00+00:00"},
        "analytics": {"grant": "2026-05-01T09:30:00+00:00", "revoke": None},
    }
    assert profile.consents_next_revoke == datetime(2026, 5, 31, 9, 30, tzinfo=UTC)
    assert history(profile.pk) == [
        ("analytics", "granted", T0, "event", "ev-1", None),
        ("marketing", "granted", T0, "event", "ev-1", datetime(2026, 5, 31, 9, 30, tzinfo=UTC)),
    ]
    event.refresh_from_db()
    assert (event.status, event.status_message, event.metadata.get("warnings")) == (
        "processed",
        "",
        None,
    )


def test_false_revokes_a_revokable_consent_and_keeps_a_non_revokable_one(consent_types):
    profile = ProfileFactory(
        consents={
            "marketing": {"grant": "2026-04-01T00:00:00+00:00", "revoke": None},
            "cookies": {"grant": "2026-04-01T00:00:00+00:00", "revoke": None},
        }
    )
    event = consent_given(profile, {"marketing": False, "cookies": False}, event_id="ev-2")

    profile_events_process(profile_id=profile.pk)

    profile.refresh_from_db()
    assert profile.consents == {"cookies": {"grant": "2026-04-01T00:00:00+00:00", "revoke": None}}
    assert profile.consents_next_revoke is None
    assert history(profile.pk) == [("marketing", "revoked", T0, "event", "ev-2", None)]
    event.refresh_from_db()
    assert event.status == "processed"
    assert event.metadata["warnings"] == ["Consent 'cookies' cannot be revoked; it stays granted."]
    # Shown at the top of the event's admin page.
    assert event.status_message == "Consent 'cookies' cannot be revoked; it stays granted."


def test_unknown_and_disabled_types_are_ignored_with_a_note_on_the_event(consent_types):
    profile = ProfileFactory()
    event = consent_given(
        profile, {"newsletter-2019": True, "old": True, "analytics": "yes", "marketing": False}
    )

    profile_events_process(profile_id=profile.pk)

    profile.refresh_from_db()
    assert profile.consents == {}
    assert history(profile.pk) == []
    event.refresh_from_db()
    assert event.status == "processed"
    assert event.metadata["warnings"] == [
        "Consent 'analytics': 'yes' is not true or false; ignored.",
        "Consent type 'newsletter-2019' is unknown or disabled; ignored.",
        "Consent type 'old' is unknown or disabled; ignored.",
    ]


def test_consents_that_are_not_an_object_change_nothing_and_say_so(consent_types):
    profile = ProfileFactory(consents={"analytics": {"revoke": None}})
    event = consent_given(profile, ["marketing"])

    profile_events_process(profile_id=profile.pk)

    profile.refresh_from_db()
    assert profile.consents == {"analytics": {"revoke": None}}
    event.refresh_from_db()
    assert event.metadata["warnings"] == [
        "properties.consents must be an object of consent type ids to true or false, e.g. "
        '{"marketing": true}; nothing was changed.'
    ]


def test_a_renewed_grant_moves_the_revoke_time_and_is_recorded_again(consent_types):
    profile = ProfileFactory()
    consent_given(profile, {"marketing": True}, event_id="first")
    consent_given(profile, {"marketing": True}, time=T0 + timedelta(days=10), event_id="second")

    profile_events_process(profile_id=profile.pk)

    profile.refresh_from_db()
    assert profile.consents == {
        "marketing": {"grant": "2026-05-11T09:30:00+00:00", "revoke": "2026-06-10T09:30:00+00:00"}
    }
    assert [(by, revoke_at) for *_, by, revoke_at in history(profile.pk)] == [
        ("first", datetime(2026, 5, 31, 9, 30, tzinfo=UTC)),
        ("second", datetime(2026, 6, 10, 9, 30, tzinfo=UTC)),
    ]


def test_re_applying_mappings_applies_consent_given_too(consent_types):
    profile = ProfileFactory()
    event = consent_given(profile, {"analytics": True}, event_id="again")
    Event.objects.filter(pk=event.pk).update(status="processed")

    event_mappings_process(event_ids=[event.pk])

    profile.refresh_from_db()
    assert profile.consents == {"analytics": {"grant": "2026-05-01T09:30:00+00:00", "revoke": None}}
    assert history(profile.pk) == [("analytics", "granted", T0, "event", "again", None)]


def test_the_add_consent_action_writes_the_grant_time_and_is_recorded(consent_types):
    workflow = WorkflowFactory(
        graph=linear_graph(
            ("add_consent", {"consent": "marketing", "revoke": "2027-01-01T00:00:00+00:00"})
        )
    )
    RuleFactory(workflow=workflow, event_type="purchase")
    profile = ProfileFactory()
    event = EventFactory(profile=profile, type="purchase", time=T0, id="buy")

    before = datetime.now(UTC)
    profile_events_process(profile_id=profile.pk)

    profile.refresh_from_db()
    granted = datetime.fromisoformat(profile.consents["marketing"]["grant"])
    assert before <= granted <= datetime.now(UTC)
    assert profile.consents["marketing"]["revoke"] == "2027-01-01T00:00:00+00:00"
    assert profile.consents_next_revoke == datetime(2027, 1, 1, tzinfo=UTC)
    assert history(profile.pk) == [
        ("marketing", "granted", granted, "workflow", event.pk, datetime(2027, 1, 1, tzinfo=UTC))
    ]


def test_an_admin_edit_of_the_consents_is_recorded_as_the_editors(consent_types):
    profile = ProfileFactory(consents={"analytics": {"revoke": None}})

    before = datetime.now(UTC)
    profile_edit(
        profile_id=profile.pk,
        changes={"consents": {"marketing": {"grant": "2026-05-02T10:00:00Z", "revoke": None}}},
        actor="dpo@example.com",
    )

    rows = history(profile.pk)
    assert [row[:2] + row[3:] for row in rows] == [
        ("marketing", "granted", "admin", "dpo@example.com", None),
        ("analytics", "revoked", "admin", "dpo@example.com", None),
    ]
    assert rows[0][2] == datetime(2026, 5, 2, 10, 0, tzinfo=UTC)
    assert before <= rows[1][2] <= datetime.now(UTC)


def test_the_survivor_of_a_merge_keeps_the_history_and_an_undo_gives_it_back(consent_types):
    survivor = ProfileFactory(id="survivor")
    merged = ProfileFactory(id="merged")
    consent_given(merged, {"marketing": True}, event_id="m-ev")
    profile_events_process(profile_id=merged.pk)

    profiles_merge(profile_ids=["survivor", "merged"], reason="same", actor="a")

    assert history("survivor") == [
        ("marketing", "granted", T0, "event", "m-ev", datetime(2026, 5, 31, 9, 30, tzinfo=UTC))
    ]
    survivor.refresh_from_db()
    assert survivor.consents_next_revoke == datetime(2026, 5, 31, 9, 30, tzinfo=UTC)

    merge_undo(merge_id=MergeRecord.objects.get(survivor_id="survivor").pk, actor="a")

    assert history("survivor") == []
    assert len(history("merged")) == 1
    assert Profile.objects.get(pk="survivor").consents_next_revoke is None


@pytest.mark.parametrize(
    ("entry", "valid"),
    [
        ({"grant": "2026-05-01T00:00:00Z", "revoke": None}, True),
        ({"revoke": None}, True),  # the shape from before grant times were kept
        ({"revoke": "2026-05-01T09:30:01+00:00"}, True),
        ({"revoke": "2026-05-01T09:30:00+00:00"}, False),
        ({"revoke": "2026-05-01"}, False),  # a date alone: its start
        ({"revoke": "soon"}, False),  # unreadable: never assumed
        ("yes", False),
        (None, False),
    ],
)
def test_a_consent_holds_until_its_revoke_time(entry, valid):
    assert consent_entry_valid(entry, T0) is valid


def test_the_next_revoke_is_the_earliest_readable_one():
    assert consents_next_revoke(
        {
            "a": {"grant": None, "revoke": "2026-07-01T00:00:00+02:00"},
            "b": {"revoke": "2026-06-30"},
            "c": {"revoke": "soon"},
            "d": {"revoke": None},
            "e": 5,
        }
    ) == datetime(2026, 6, 30, tzinfo=UTC)
    assert consents_next_revoke({"d": {"revoke": None}}) is None
    assert consents_next_revoke([]) is None


def test_a_consent_bar_event_sent_to_track_is_applied_by_the_worker(client, consent_types):
    event_source_create(name="Web", source_id="web-source")
    body = {
        "source": {"id": "web-source"},
        "session": {"id": "s-bar"},
        "events": [
            {"type": "consent-given", "properties": {"consents": {"marketing": True}}},
        ],
    }

    response = client.post("/track", data=json.dumps(body), content_type="application/json")

    assert response.status_code == 200
    profile_id = response.json()["profile"]["id"]
    event = Event.objects.get(type="consent-given")
    assert event.status == "collected"  # left for the worker

    profile_events_process(profile_id=profile_id)

    event.refresh_from_db()
    assert event.status == "processed"
    assert Profile.objects.get(pk=profile_id).consents == {
        "marketing": {
            "grant": event.time.isoformat(),
            "revoke": (event.time + timedelta(days=30)).isoformat(),
        }
    }
    assert history(profile_id) == [
        ("marketing", "granted", event.time, "event", event.pk, event.time + timedelta(days=30))
    ]
