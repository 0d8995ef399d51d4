"""Event indexing: the properties an event type names are copied, cast to their type, into its
events' `traits` when they are stored (IndexedProperty), so that the events list can filter on
them and conditions can read them typed. `events_reindex` applies a change to the stored events
of a type, in batches, with progress on its EventReindexJob.

A value that does not cast (a number property holding "n/a") is left out of the traits rather
than stored wrong; the property itself is kept as sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.events.bulk import events_located
from apps.events.models import Event, EventReindexJob, IndexedProperty
from apps.notation.templates import to_text

logger = logging.getLogger(__name__)

REINDEX_BATCH = 2_000
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}

_TRAITS_UPDATE = f"""
UPDATE {Event._meta.db_table} AS e SET traits = u.traits
FROM jsonb_to_recordset(%s::jsonb) AS u(id text, traits jsonb)
WHERE e.id = u.id AND {{located}}
"""


@dataclass(frozen=True, slots=True)
class TraitRule:
    path: tuple[str, ...]
    trait: str
    type: str


def trait_rule(row: IndexedProperty) -> TraitRule:
    return TraitRule(path=tuple(row.property.split(".")), trait=row.trait, type=row.type)


def indexed_traits(rules: tuple[TraitRule, ...], properties: dict, traits: dict) -> dict:
    """`traits` with each rule's property added under its trait, cast (a new dict when any
    is added; `traits` itself otherwise)."""
    added: dict[str, Any] = {}
    for rule in rules:
        value: Any = properties
        for key in rule.path:
            if not isinstance(value, dict) or key not in value:
                value = None
                break
            value = value[key]
        cast = trait_cast(value, rule.type)
        if cast is not None:
            added[rule.trait] = cast
    return {**traits, **added} if added else traits


def trait_cast(value: Any, kind: str) -> Any:
    """The value as the trait's type, or None when it is missing or does not read as one."""
    if value is None or isinstance(value, dict | list):
        return None
    if kind == IndexedProperty.Type.TEXT:
        return value if isinstance(value, str) else to_text(value)
    if kind == IndexedProperty.Type.NUMBER:
        return _number(value)
    if kind == IndexedProperty.Type.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        return True if text in _TRUE else False if text in _FALSE else None
    if kind == IndexedProperty.Type.DATETIME:
        return _datetime(value)
    return None


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number) if number.is_integer() and "." not in str(value) else number


def _datetime(value: Any) -> str | None:
    """ISO 8601 in UTC (a time without a zone is read as UTC), as stored times are."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat()


class ReindexUnderway(Exception):
    """A re-index of the type is queued or running: one at a time (`job` is it)."""

    def __init__(self, job: EventReindexJob):
        super().__init__(
            f"A re-index of the {job.event_type.type} events is already under way (job {job.pk}, "
            f"{job.status}); follow its progress, then start another if needed."
        )
        self.job = job


def reindex_job_create(*, event_type, requested_by: str) -> EventReindexJob:
    """A queued re-index of the type's stored events (the caller enqueues it at commit).
    Raises ReindexUnderway while another of the type is queued or running."""
    under_way = EventReindexJob.objects.filter(
        event_type=event_type,
        status__in=(EventReindexJob.Status.QUEUED, EventReindexJob.Status.RUNNING),
    )
    running = under_way.first()
    if running is not None:
        raise ReindexUnderway(running)
    total = Event.objects.filter(type=event_type.type).count()
    try:
        with transaction.atomic():
            return EventReindexJob.objects.create(
                event_type=event_type,
                requested_by=requested_by,
                requested_at=timezone.now(),
                total=total,
            )
    except IntegrityError as error:
        # Another request started one between the check and the insert (one_reindex_under_way).
        running = under_way.first()
        if running is None:
            raise
        raise ReindexUnderway(running) from error


def events_reindex(job_id: str, *, batch: int = REINDEX_BATCH) -> EventReindexJob | None:
    """Apply the type's indexed properties to its stored events, `batch` at a time, newest
    first through event_type_time, each batch in its own transaction with the job's progress.
    Traits a rule no longer names are kept (they may come from the client or a workflow)."""
    claimed = EventReindexJob.objects.filter(
        pk=job_id, status=EventReindexJob.Status.QUEUED
    ).update(status=EventReindexJob.Status.RUNNING)
    if not claimed:
        return None
    job = EventReindexJob.objects.select_related("event_type").get(pk=job_id)
    rules = tuple(trait_rule(row) for row in job.event_type.indexed_properties.all())
    events = Event.objects.filter(type=job.event_type.type).order_by("-time", "-id")
    cursor: tuple[datetime, str] | None = None
    try:
        while True:
            page = events
            if cursor is not None:
                page = page.filter(time__lte=cursor[0]).exclude(time=cursor[0], id__gte=cursor[1])
            rows = list(page.values_list("id", "time", "properties", "traits", "inserted")[:batch])
            if not rows:
                break
            updates = []
            for event_id, _time, properties, traits, _inserted in rows:
                indexed = indexed_traits(rules, properties or {}, traits or {})
                if indexed is not traits:
                    updates.append({"id": event_id, "traits": indexed})
            with transaction.atomic():
                if updates:
                    located, params = events_located(
                        [update["id"] for update in updates], [row[4] for row in rows]
                    )
                    with connection.cursor() as sql:
                        sql.execute(
                            _TRAITS_UPDATE.format(located=located),
                            [orjson.dumps(updates).decode(), *params],
                        )
                EventReindexJob.objects.filter(pk=job_id).update(done=job.done + len(rows))
            job.done += len(rows)
            cursor = (rows[-1][1], rows[-1][0])
    except Exception as error:
        logger.exception("Re-index %s failed", job_id)
        EventReindexJob.objects.filter(pk=job_id).update(
            status=EventReindexJob.Status.FAILED,
            error=str(error)[:1000],
            finished_at=timezone.now(),
        )
        raise
    EventReindexJob.objects.filter(pk=job_id).update(
        status=EventReindexJob.Status.DONE, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job
