"""An event that a live segment's aggregate counts goes to the worker, which re-evaluates the
profile's live segments when it processes it (the event changes no profile field)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.profiles.models import Profile, Segment, SegmentTransition
from apps.profiles.services.segments import live_segments, segment_save
from apps.tracking.processing import profile_events_process
from apps.tracking.routing import event_needs_processing
from tests.events.factories import EventFactory as StoredEventFactory
from tests.workflows.factories import EventFactory, ProfileFactory

pytestmark = pytest.mark.django_db


def test_a_counted_event_type_is_processed_and_moves_the_profile_into_the_segment():
    segment_save(
        segment=Segment(name="Buyers", condition='count(events type "purchase" last 7 days) > 1')
    )
    live_segments.cache_clear()
    profile = ProfileFactory()
    StoredEventFactory(profile=profile, type="purchase", time=timezone.now() - timedelta(days=2))
    event = EventFactory(profile=profile, type="purchase")

    assert event_needs_processing(source_id=event.source_id, event_type="purchase") is True
    assert event_needs_processing(source_id=event.source_id, event_type="page-view") is False
    profile_events_process(profile_id=profile.pk)

    assert Profile.objects.get(pk=profile.pk).segments == ["buyers"]
    assert list(SegmentTransition.objects.values_list("segment", "entered", "cause")) == [
        ("buyers", True, "live")
    ]


def test_an_aggregate_over_every_type_counts_every_event():
    segment_save(segment=Segment(name="Active", condition="count(events last 1 hour) > 0"))
    live_segments.cache_clear()

    assert event_needs_processing(source_id="any", event_type="page-view") is True
