"""Periodic and background work on profiles (thin: ids in, a service call, safe to repeat)."""

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from apps.profiles.models import Segment
from apps.profiles.services.segments import segment_sweep_batch

SWEEP_KEY = "profiles:segment-sweep:{}"


@shared_task(name="profiles.segments_refresh_scheduled")
def segments_refresh_scheduled() -> int:
    """Beat: start a sweep for each enabled scheduled segment that has none running."""
    started = 0
    segment_ids = Segment.objects.filter(enabled=True, kind=Segment.Kind.SCHEDULED).values_list(
        "pk", flat=True
    )
    for segment_id in segment_ids:
        # A sweep marks itself for one schedule interval; a sweep whose worker died is
        # restarted once the mark expires.
        if cache.add(
            SWEEP_KEY.format(segment_id), 1, timeout=settings.CDP_SEGMENT_SCHEDULE_SECONDS
        ):
            segment_sweep.delay(segment_id, "")
            started += 1
    return started


@shared_task(name="profiles.segment_sweep", acks_late=True)
def segment_sweep(segment_id: str, after_id: str) -> None:
    """One batch of a scheduled segment's sweep; enqueues the next batch while more is left."""
    next_after = segment_sweep_batch(
        segment_id=segment_id, after_id=after_id, batch_size=settings.CDP_SEGMENT_BATCH_SIZE
    )
    if next_after is None:
        cache.delete(SWEEP_KEY.format(segment_id))
        return
    segment_sweep.delay(segment_id, next_after)
