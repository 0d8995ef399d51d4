"""One event that cannot be read back or processed fails alone (DESIGN §6): it gets the error
status and the reason, the other events of its batch run, and the requeue sweep is never
filled by events that keep failing."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.models import Profile
from apps.tracking.processing import (
    REQUEUE_SWEEP_LIMIT,
    Processed,
    collected_events_requeue,
    profile_events_process,
    profileless_events_process,
)
from apps.tracking.replay import events_replay
from apps.workflows.models import WorkflowRun
from tests.events.factories import legacy_event_time_set
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(hours=1)
# UTC+14 on the first day of year 1 is still year 1 BC in UTC: PostgreSQL stores it, psycopg
# cannot turn it into a Python datetime ("timestamp too small").
BEFORE_YEAR_ONE = "0001-01-01 00:00:00+14"
UNREADABLE = "DataError: timestamp too small (before year 1): '0001-12-31 10:00:00+00 BC'"


def seen_workflow():
    return WorkflowFactory(
        graph=linear_graph(("append_remove", {"append": {"profile@traits.seen": "event@id"}}))
    )


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def test_an_event_that_cannot_be_read_back_fails_alone_and_its_profile_goes_on():
    RuleFactory(workflow=seen_workflow(), event_type="page-view")
    profile = ProfileFactory()
    first = EventFactory(profile=profile, session=None, time=T0)
    poison = EventFactory(profile=profile, session=None, time=T0 + timedelta(seconds=1))
    last = EventFactory(profile=profile, session=None, time=T0 + timedelta(seconds=2))
    legacy_event_time_set(poison, BEFORE_YEAR_ONE)

    assert profile_events_process(profile_id=profile.id) == Processed(events=2)

    statuses = dict(Event.objects.values_list("id", "status"))
    assert statuses == {first.id: "processed", poison.id: "error", last.id: "processed"}
    assert Event.objects.filter(pk=poison.pk).values_list("status_message", flat=True).get() == (
        UNREADABLE
    )
    assert Profile.objects.get(pk=profile.pk).traits == {"seen": [first.id, last.id]}
    assert sorted(WorkflowRun.objects.values_list("event_id", flat=True)) == sorted(
        [first.id, last.id]
    )
    # Nothing is left for the workers: the next delivery finds no work.
    assert profile_events_process(profile_id=profile.id) == Processed()


def test_an_event_whose_outcome_cannot_be_written_fails_alone():
    # PostgreSQL keeps JSON nested deeper than the JSON encoder writes back (255 levels):
    # the batch's outcome write fails for this one event only.
    RuleFactory(workflow=seen_workflow(), event_type="page-view")
    profile = ProfileFactory()
    first = EventFactory(profile=profile, session=None, time=T0)
    deep = EventFactory(
        profile=profile, session=None, time=T0 + timedelta(seconds=1), properties=nested(300)
    )
    last = EventFactory(profile=profile, session=None, time=T0 + timedelta(seconds=2))

    assert profile_events_process(profile_id=profile.id) == Processed(events=2)

    rows = dict(Event.objects.values_list("id", "status"))
    assert rows == {first.id: "processed", deep.id: "error", last.id: "processed"}
    assert Event.objects.filter(pk=deep.pk).values_list("status_message", flat=True).get() == (
        "TypeError: Recursion limit reached"
    )
    assert Profile.objects.get(pk=profile.pk).traits == {"seen": [first.id, last.id]}


def test_a_profileless_event_that_cannot_be_read_back_fails_alone():
    RuleFactory(workflow=WorkflowFactory(graph=linear_graph(("log_message", {"message": "x"}))))
    good = EventFactory(profile=None, session=None, time=T0)
    poison = EventFactory(profile=None, session=None, time=T0 + timedelta(seconds=1))
    legacy_event_time_set(poison, "infinity")

    assert profileless_events_process(event_ids=[good.id, poison.id]) == Processed(events=1)

    rows = dict(Event.objects.values_list("id", "status"))
    assert rows == {good.id: "processed", poison.id: "error"}
    assert Event.objects.filter(pk=poison.pk).values_list("status_message", flat=True).get() == (
        "DataError: timestamp too large (after year 10K): 'infinity'"
    )


def test_events_of_one_profile_cannot_fill_the_sweep():
    """The sweep hands on profiles, not rows: a profile with more waiting events than one
    sweep takes does not hide the others (seen: five requests of 1,000 unreadable events)."""
    old = timezone.now() - timedelta(minutes=10)
    crowded = ProfileFactory()
    EventFactory(profile=crowded, session=None, inserted=old)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_event (id, type, source_id, profile_id, time, inserted, status,"
            " status_message, is_bot, properties, context, traits, metadata, request, tags)"
            " SELECT 'crowd-' || n, type, source_id, profile_id, time, inserted, status, '',"
            " false, '{}', '{}', '{}', '{}', '{}', '{}'"
            " FROM events_event, generate_series(1, %s) AS n",
            [REQUEUE_SWEEP_LIMIT],
        )
    other = EventFactory(session=None, inserted=old + timedelta(seconds=1))
    loose = EventFactory(profile=None, session=None, inserted=old + timedelta(seconds=2))

    assert collected_events_requeue(older_than_seconds=60) == Processed(
        events=REQUEUE_SWEEP_LIMIT + 3,
        profile_ids=[crowded.id, other.profile_id],
        event_ids=[loose.id],
    )


def test_a_replay_skips_an_event_that_cannot_be_read_back_and_replays_the_others():
    RuleFactory(workflow=seen_workflow(), event_type="page-view")
    profile = ProfileFactory()
    good = EventFactory(profile=profile, session=None, time=T0, status="processed")
    poison = EventFactory(
        profile=profile, session=None, time=T0 + timedelta(seconds=1), status="processed"
    )
    legacy_event_time_set(poison, BEFORE_YEAR_ONE)

    assert events_replay(event_ids=[good.id, poison.id]) == Processed(events=1)

    assert list(WorkflowRun.objects.values_list("event_ref", "replay")) == [(good.id, True)]
    # A replay keeps the statuses.
    assert dict(Event.objects.values_list("id", "status")) == {
        good.id: "processed",
        poison.id: "processed",
    }
