"""Reads of events for the admin, the workers and the purge."""

from collections.abc import Iterator, Sequence
from datetime import datetime

from django.db import connection
from django.db.models import QuerySet

from apps.core.rows import values_stream
from apps.events.documents import DOCUMENT_COLUMNS, event_document_of
from apps.events.models import Event
from apps.profiles.models import Session

MAX_EVENT_TYPES = 200

# Distinct event types by a "loose index scan" over the (type, -time) index: one index probe per
# type instead of reading every event (SELECT DISTINCT would scan the whole table). The table
# name is a constant of this code, never input.
_EVENT_TYPES_SQL = f"""
WITH RECURSIVE types(type) AS (
    (SELECT type FROM {Event._meta.db_table} ORDER BY type LIMIT 1)
    UNION ALL
    SELECT (SELECT e.type FROM {Event._meta.db_table} e WHERE e.type > types.type
            ORDER BY e.type LIMIT 1)
    FROM types WHERE types.type IS NOT NULL
)
SELECT type FROM types WHERE type IS NOT NULL LIMIT %s
"""


def event_types_in_use(*, limit: int | None = MAX_EVENT_TYPES) -> list[str]:
    """The event types stored, in order, at most `limit` (the admin's type filter; None: all,
    for the purge)."""
    with connection.cursor() as cursor:
        # LIMIT NULL is no limit.
        cursor.execute(_EVENT_TYPES_SQL, [limit])
        return [row[0] for row in cursor.fetchall()]


def profile_events_to_erase(profile_id: str, ids: list[str]) -> list[QuerySet[Event]]:
    """What an erasure of the profile deletes of the events, as three index-served selections
    (the erasure takes each in batches): the profile's, through the (profile, time) index; its
    sessions', through the (session, time) index, for events of its sessions stored under
    another profile; and those stored without a profile row (saveProfile=false) that name one
    of its `ids` in metadata: the NULL range of the (profile, time) index, filtered."""
    sessions = Session.objects.filter(profile_id=profile_id).values("pk")
    # Ordered as the index: a batch (LIMIT) then walks it, where without an order the planner
    # may prefer a sequential scan that re-reads every deleted row of the earlier batches.
    return [
        Event.objects.filter(profile_id=profile_id).order_by("time"),
        Event.objects.filter(session_id__in=sessions).order_by("session", "time"),
        Event.objects.filter(profile__isnull=True, metadata__profile_id__in=ids).order_by("time"),
    ]


def events_to_purge(
    *,
    before: datetime,
    types: Sequence[str] | None = None,
    source_ids: Sequence[str] | None = None,
    exclude_source_ids: Sequence[str] | None = None,
) -> list[QuerySet[Event]]:
    """Events whose time is before `before` (an event at exactly `before` stays), of `types`
    (all stored types when None), from `source_ids` (any when None) but none of
    `exclude_source_ids`: one selection per type, each a range of the (type, -time) index walked
    oldest first, so that a purge can take them in batches (LIMIT) without a table scan."""
    if types is None:
        types = event_types_in_use(limit=None)
    selections = []
    for event_type in types:
        rows = Event.objects.filter(type=event_type, time__lt=before)
        if source_ids is not None:
            rows = rows.filter(source_id__in=list(source_ids))
        if exclude_source_ids:
            rows = rows.exclude(source_id__in=list(exclude_source_ids))
        selections.append(rows.order_by("time"))
    return selections


EXPORT_CHUNK_SIZE = 5000


def events_for_export(
    *,
    types: Sequence[str] | None = None,
    source_ids: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    segment: str | None = None,
) -> QuerySet[Event]:
    """Events of these types and sources, whose time is at or after `since` and before
    `until`, of profiles in the segment (slug)."""
    events = Event.objects.all()
    if types:
        events = events.filter(type__in=list(types))
    if source_ids:
        events = events.filter(source_id__in=list(source_ids))
    if since is not None:
        events = events.filter(time__gte=since)
    if until is not None:
        events = events.filter(time__lt=until)
    if segment is not None:
        events = events.filter(profile__segments__contains=[segment])
    return events


def event_documents_stream(
    events: QuerySet[Event], *, chunk_size: int = EXPORT_CHUNK_SIZE
) -> Iterator[dict]:
    """The events' documents (event_document's shape), in id order, a page at a time."""
    for values in values_stream(events, fields=DOCUMENT_COLUMNS, chunk_size=chunk_size):
        yield event_document_of(*values)
