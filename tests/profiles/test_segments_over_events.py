"""Segments whose condition reads the profile's stored events: marked time-dependent, swept by
the beat as time passes, counted in the database by the preview, and refused at save when the
aggregate is malformed."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.profiles import tasks
from apps.profiles.models import Profile, Segment, SegmentTransition
from apps.profiles.selectors import segment_preview
from apps.profiles.services.changes import profile_changed
from apps.profiles.services.segments import (
    live_segments,
    segment_save,
    segment_sweep_batch,
)
from apps.profiles.tasks import SWEEP_KEY, segments_refresh_scheduled
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory, SegmentFactory
from tests.support.celery_worker import celery_worker_factory, wait_for  # noqa: F401

BUYERS = 'count(events type "purchase" in last 7 days) > 1'
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() frozen at a settable instant (every caller reads it through the module)."""

    class Clock:
        now = T0

    monkeypatch.setattr(timezone, "now", lambda: Clock.now)
    return Clock


@pytest.mark.django_db
def test_a_condition_over_events_makes_the_segment_time_dependent():
    over_events = segment_save(segment=Segment(name="Buyers", condition=BUYERS))
    plain = segment_save(segment=Segment(name="Visitors", condition="profile@stats.visits > 1"))

    assert over_events.time_dependent is True
    assert plain.time_dependent is False
    plain.condition = 'days_since(events type "purchase") > 30'
    assert segment_save(segment=plain).time_dependent is True
    assert Segment.objects.get(pk=plain.pk).time_dependent is True


@pytest.mark.django_db
def test_the_sweep_moves_a_profile_out_once_its_purchases_age_out_of_the_window(clock):
    segment = SegmentFactory(name="Buyers", condition=BUYERS, time_dependent=True)
    buyer = ProfileFactory(id="buyer")
    EventFactory(profile=buyer, type="purchase", time=T0 - timedelta(days=6))
    EventFactory(profile=buyer, type="purchase", time=T0 - timedelta(days=1))
    EventFactory(profile=buyer, type="page-view", time=T0)
    once = ProfileFactory(id="once")
    EventFactory(profile=once, type="purchase", time=T0 - timedelta(days=2))

    assert segment_sweep_batch(segment_id=segment.pk, after_id="", batch_size=10) is None
    assert dict(Profile.objects.values_list("pk", "segments")) == {
        "buyer": ["buyers"],
        "once": [],
    }

    # The older purchase is exactly 7 days old: still inside `last 7 days`.
    clock.now = T0 + timedelta(days=1)
    segment_sweep_batch(segment_id=segment.pk, after_id="", batch_size=10)
    assert Profile.objects.get(pk="buyer").segments == ["buyers"]

    clock.now = T0 + timedelta(days=1, microseconds=1)
    segment_sweep_batch(segment_id=segment.pk, after_id="", batch_size=10)
    assert dict(Profile.objects.values_list("pk", "segments")) == {"buyer": [], "once": []}
    transitions = SegmentTransition.objects.order_by("at").values_list(
        "profile_id", "entered", "at", "cause"
    )
    assert list(transitions) == [
        ("buyer", True, T0, "sweep"),
        ("buyer", False, T0 + timedelta(days=1, microseconds=1), "sweep"),
    ]


@pytest.mark.django_db
def test_a_profile_change_evaluates_live_segments_over_its_events():
    segment_save(segment=Segment(name="Buyers", condition=BUYERS))
    live_segments.cache_clear()
    buyer = ProfileFactory(id="buyer")
    for days in (1, 2):
        EventFactory(profile=buyer, type="purchase", time=timezone.now() - timedelta(days=days))

    profile_changed(profile_id="buyer", changed_fields=["stats.visits"])

    assert Profile.objects.get(pk="buyer").segments == ["buyers"]


@pytest.mark.django_db
def test_the_preview_counts_a_condition_over_events_in_the_database():
    for number in range(3):
        profile = ProfileFactory(id=f"p{number}")
        for _ in range(number):
            EventFactory(profile=profile, type="purchase", properties={"price": 60})

    preview = segment_preview(condition='sum(event@properties.price type "purchase") >= 100')

    assert (preview.matched, preview.evaluated, preview.in_database) == (1, 3, True)
    assert preview.text == "Matches 1 of 3 profiles."


@pytest.mark.django_db
def test_the_beat_sweeps_time_dependent_segments_of_any_kind(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.segment_sweep, "delay", lambda *args: sent.append(args[0]))
    live = segment_save(segment=Segment(name="Buyers", condition=BUYERS))
    scheduled = SegmentFactory(name="Loyal", condition="profile@stats.visits > 9", kind="scheduled")
    SegmentFactory(name="Visitors", condition="profile@stats.visits > 1")
    for segment in Segment.objects.all():
        cache.delete(SWEEP_KEY.format(segment.pk))

    assert segments_refresh_scheduled() == 2
    assert sorted(sent) == sorted([live.pk, scheduled.pk])


@pytest.mark.django_db
def test_the_segment_form_refuses_a_malformed_aggregate_with_the_notation_message(client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))

    response = client.post(
        reverse("admin:profiles_segment_add"),
        {
            "name": "Buyers",
            "condition": 'count(events type "purchase" in last 7 years) > 1',
            "kind": "live",
            "enabled": "on",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["condition"] == [
        "Unexpected 'years' at column 40; expected a time unit (minutes, hours, days, weeks)"
    ]
    assert not Segment.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_sweep_drops_the_member_once_real_time_has_passed_the_window(
    celery_worker_factory,  # noqa: F811
):
    celery_worker_factory()
    segment = segment_save(
        segment=Segment(name="Recent", condition='count(events type "purchase" last 1 minutes) > 0')
    )
    buyer = ProfileFactory(id="buyer")
    bought = timezone.now() - timedelta(seconds=30)
    EventFactory(profile=buyer, type="purchase", time=bought)
    cache.delete(SWEEP_KEY.format(segment.pk))

    assert segments_refresh_scheduled() == 1
    wait_for(
        lambda: Profile.objects.get(pk="buyer").segments == ["recent"],
        timeout=25,
        message="the first sweep to add the buyer",
    )
    wait_for(lambda: timezone.now() > bought + timedelta(minutes=1), timeout=45)
    wait_for(lambda: cache.get(SWEEP_KEY.format(segment.pk)) is None, timeout=20)
    assert segments_refresh_scheduled() == 1
    wait_for(
        lambda: Profile.objects.get(pk="buyer").segments == [],
        timeout=25,
        message="the next sweep to drop the buyer",
    )


@pytest.mark.django_db
def test_a_sweep_batch_answers_a_condition_over_events_in_one_query(clock):
    segment = SegmentFactory(name="Buyers", condition=BUYERS, time_dependent=True)

    def queries_for_a_batch_of(count: int) -> int:
        Profile.objects.all().delete()
        for number in range(count):
            profile = ProfileFactory(id=f"p{number:02}")
            EventFactory(profile=profile, type="purchase", time=T0 - timedelta(days=1))
        with CaptureQueriesContext(connection) as queries:
            segment_sweep_batch(segment_id=segment.pk, after_id="", batch_size=50)
        assert Profile.objects.filter(segments__contains=["buyers"]).count() == 0
        return len(queries)

    # The segment, the batch, its answer, and the progress: not a query per profile.
    assert queries_for_a_batch_of(2) == queries_for_a_batch_of(12) == 7
