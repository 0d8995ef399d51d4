"""Reads of events for the admin, the workers and the purge."""

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypedDict

from django.core.cache import cache
from django.db import connection
from django.db.models import F, QuerySet, Window
from django.db.models.functions import JSONObject, RowNumber
from django.utils import timezone

from apps.core.jsonpaths import JsonPath, json_paths
from apps.core.rows import values_stream
from apps.events.documents import DOCUMENT_COLUMNS, event_document_of
from apps.events.models import Event, EventType, IndexedProperty
from apps.events.reshaping import CompiledReshaping, Reshaped, event_reshape, reshaping_compile
from apps.notation import make_reference
from apps.profiles.models import Session
from apps.profiles.selectors import PROFILE_KNOWN_PATHS, profile_field_paths

MAX_EVENT_TYPES = 200
# The condition builder suggests the paths of this many most recent events (of one type).
RECENT_EVENTS_FOR_PATHS = 1_000
# The event document's parts whose paths are suggested (the rest are known fields).
EVENT_PATH_COLUMNS = ("properties", "context", "traits")
# The condition builder's suggestions are computed at most once a minute per (sources, type).
CONDITION_FIELDS_CACHE_SECONDS = 60
CONDITION_FIELDS_CACHE_KEY = "condition-fields:v1:{sources}:{event_type}"
# Paths of Tracardi's Event object that the condition builder offers even when no event has them.
EVENT_KNOWN_PATHS: tuple[tuple[str, str], ...] = (
    ("type", "string"),
    ("time", "date"),
    ("source.id", "string"),
    ("session.id", "string"),
    ("profile.id", "string"),
    ("metadata.time.insert", "date"),
    ("context.page.url", "string"),
    ("context.page.title", "string"),
    ("properties", "object"),
)

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


def event_field_paths(
    *, event_type: str = "", limit: int = RECENT_EVENTS_FOR_PATHS
) -> list[JsonPath]:
    """The paths under properties, context and traits of the `limit` most recent events of
    `event_type` (through the (type, -time) index; all types when empty, through the -inserted
    index), with their types, the most common first."""
    document = JSONObject(**{column: column for column in EVENT_PATH_COLUMNS})
    newest = "time" if event_type else "inserted"
    events = Event.objects.filter(type=event_type) if event_type else Event.objects.all()
    sample = (
        events.order_by(f"-{newest}", "id")
        .annotate(doc=document, rank=Window(RowNumber(), order_by=(F(newest).desc(), "id")))
        .values("doc", "rank")[:limit]
    )
    return json_paths(sample)


class ConditionField(TypedDict):
    path: str  # a full reference, e.g. profile@stats.visits
    type: str  # string, number, boolean, date, array, object
    count: int  # rows of the sample that have it (0: a known field no sampled row has)
    example: str  # its value in the most recent row that has it, as JSON text ("" for none)


def condition_fields(*, sources: Sequence[str], event_type: str = "") -> list[ConditionField]:
    """The fields a condition over `sources` ("event", "profile") can read: for each source, the
    paths real rows have (recent events of `event_type`, recent profiles), the most common
    first, then the well-known Tracardi fields no sampled row has. Cached for a minute."""
    key = CONDITION_FIELDS_CACHE_KEY.format(sources=",".join(sources), event_type=event_type)
    fields = cache.get(key)
    if fields is None:
        fields = []
        for source in sources:
            if source == "event":
                fields += _condition_fields("event", event_field_paths(event_type=event_type))
                fields = _with_indexed_traits(fields, event_type)
            elif source == "profile":
                fields += _condition_fields("profile", profile_field_paths())
        cache.set(key, fields, CONDITION_FIELDS_CACHE_SECONDS)
    return fields


# How the condition builder offers an indexed property's trait, by its type.
TRAIT_FIELD_TYPES = {"text": "string", "number": "number", "boolean": "boolean", "datetime": "date"}


def _with_indexed_traits(fields: list[ConditionField], event_type: str) -> list[ConditionField]:
    """The event type's indexed traits first (typed, even before any event has them), then
    the other fields."""
    if not event_type:
        return fields
    indexed = [
        ConditionField(
            path=make_reference("event", "traits", trait),
            type=TRAIT_FIELD_TYPES[kind],
            count=0,
            example="",
        )
        for trait, kind in IndexedProperty.objects.filter(event_type__type=event_type)
        .order_by("trait")
        .values_list("trait", "type")
    ]
    paths = {field["path"] for field in indexed}
    return indexed + [field for field in fields if field["path"] not in paths]


def _condition_fields(source: str, paths: list[JsonPath]) -> list[ConditionField]:
    known = EVENT_KNOWN_PATHS if source == "event" else PROFILE_KNOWN_PATHS
    fields = [
        ConditionField(
            path=make_reference(source, *path.keys),
            type=path.type,
            count=path.count,
            example=path.example,
        )
        for path in paths
    ]
    seen = {field["path"] for field in fields}
    for dotted, type_ in known:
        path = make_reference(source, *dotted.split("."))
        if path not in seen:
            fields.append(ConditionField(path=path, type=type_, count=0, example=""))
    return fields


# ---- the admin's event list ----------------------------------------------------------------

KEY_PROPERTIES = 3
KEY_PROPERTIES_SAMPLE = 500
KEY_PROPERTIES_SECONDS = 600
TREND_DAYS = 30
TREND_SECONDS = 300

# The most common scalar keys of a type's newest events (by the (type, -time) index), most
# common first. Table name: a constant of this code.
_COMMON_KEYS_SQL = f"""
SELECT item.key FROM (
    SELECT properties FROM {Event._meta.db_table} WHERE type = %s ORDER BY time DESC LIMIT %s
) recent, jsonb_each(recent.properties) AS item
WHERE jsonb_typeof(recent.properties) = 'object'
  AND jsonb_typeof(item.value) NOT IN ('object', 'array')
GROUP BY item.key ORDER BY count(*) DESC, item.key LIMIT %s
"""

# Events of a type per local day, over the (type, -time) index (an index-only range scan).
_TREND_SQL = f"""
SELECT (time AT TIME ZONE %s)::date AS day, count(*) FROM {Event._meta.db_table}
WHERE type = %s AND time >= %s AND time < %s GROUP BY day
"""


def _cache_key(kind: str, event_type: str) -> str:
    return f"events:{kind}:{hashlib.sha256(event_type.encode()).hexdigest()[:32]}"


def event_type_key_properties(event_type: str, *, limit: int = KEY_PROPERTIES) -> list[str]:
    """Up to `limit` property keys that tell a type's events apart in a list: the ones its
    schema declares (required first, then in jsonb's key order: shorter names first), else the
    commonest scalar keys of its newest 500 events. Cached for 10 minutes (one index range read
    when not)."""
    key = _cache_key("key-properties", event_type)
    keys = cache.get(key)
    if keys is None:
        keys = _key_properties(event_type, limit)
        cache.set(key, keys, KEY_PROPERTIES_SECONDS)
    return keys


def _key_properties(event_type: str, limit: int) -> list[str]:
    schema = EventType.objects.filter(type=event_type).values_list("json_schema", flat=True).first()
    declared = schema.get("properties") if isinstance(schema, dict) else None
    if isinstance(declared, dict) and declared:
        required = [name for name in schema.get("required") or [] if name in declared]
        return list(dict.fromkeys([*required, *declared]))[:limit]
    with connection.cursor() as cursor:
        cursor.execute(_COMMON_KEYS_SQL, [event_type, KEY_PROPERTIES_SAMPLE, limit])
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class TrendDay:
    day: date
    count: int


def event_type_trend(event_type: str, *, days: int = TREND_DAYS) -> list[TrendDay]:
    """Events of the type per day (by event time, in TIME_ZONE) over the last `days` days,
    today included, oldest first, days without events as 0. Cached for 5 minutes."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    key = f"{_cache_key('trend', event_type)}:{today.isoformat()}:{days}:{tz}"
    trend = cache.get(key)
    if trend is None:
        first = today - timedelta(days=days - 1)
        start = datetime.combine(first, time.min, tzinfo=tz)
        end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
        with connection.cursor() as cursor:
            cursor.execute(_TREND_SQL, [str(tz), event_type, start, end])
            counts = dict(cursor.fetchall())
        trend = [
            TrendDay(day, counts.get(day, 0))
            for day in (first + timedelta(days=n) for n in range(days))
        ]
        cache.set(key, trend, TREND_SECONDS)
    return trend


def event_type_caches_clear(event_type: str) -> None:
    """Forget the cached key properties and today's trend of a type (tests, schema edits)."""
    today = timezone.localdate().isoformat()
    tz = timezone.get_current_timezone()
    cache.delete_many(
        [
            _cache_key("key-properties", event_type),
            f"{_cache_key('trend', event_type)}:{today}:{TREND_DAYS}:{tz}",
        ]
    )


# ---- a schema from recent events -----------------------------------------------------------

SCHEMA_SAMPLE = 500
_SCHEMA_TYPES = {"string": "string", "date": "string", "number": "number"}


def event_type_schema_suggestion(event_type: str, *, limit: int = SCHEMA_SAMPLE) -> dict:
    """A JSON schema for the properties of the `limit` most recent events of `event_type`:
    every property seen with its most common type (objects walked into), a top-level one
    `required` when every sampled event has it. {"sampled": n, "schema": {...}}."""
    events = Event.objects.filter(type=event_type)
    sampled = events.order_by("-time")[:limit].count()
    sample = (
        events.order_by("-time", "id")
        .annotate(
            doc=JSONObject(properties="properties"),
            rank=Window(RowNumber(), order_by=(F("time").desc(), "id")),
        )
        .values("doc", "rank")[:limit]
    )
    schema: dict = {"type": "object", "properties": {}}
    required = []
    for found in json_paths(sample):
        keys = found.keys[1:]  # under "properties"
        if not keys:
            continue
        node = schema
        for key in keys[:-1]:
            node = node["properties"].setdefault(key, {"type": "object", "properties": {}})
            if "properties" not in node:  # a leaf seen before under this name
                break
        else:
            node["properties"].setdefault(
                keys[-1], {"type": _SCHEMA_TYPES.get(found.type, found.type)}
            )
            if len(keys) == 1 and found.count == sampled:
                required.append(keys[-1])
    if required:
        schema["required"] = sorted(required)
    return {"sampled": sampled, "schema": schema}


def event_previous(
    *, profile_id: str | None, event_type: str, before: datetime, current_id: str, offset: int
) -> Event | None:
    """The `offset`-th event of `event_type` before the current one (1: the one just before),
    by event time, of the profile (any profile's when `profile_id` is None, as Tracardi does for
    profile-less events). Reads through event_profile_time / event_type_time."""
    events = Event.objects.filter(type=event_type, time__lte=before).exclude(pk=current_id)
    if profile_id is not None:
        events = events.filter(profile_id=profile_id)
    return events.order_by("-time", "-id")[offset - 1 : offset].first()


@dataclass(frozen=True, slots=True)
class ReshapingPreview:
    """A stored event and what reshaping would make of it: `reshaped` is None when there was
    no reshaping to try (`tried` is 0) or no event of the type is stored (`event` is None)."""

    event: Event | None
    reshaped: Reshaped | None
    tried: int


def reshaping_preview(
    *,
    event_type: EventType,
    reshapings: tuple[CompiledReshaping, ...] | None = None,
    event: Event | None = None,
) -> ReshapingPreview:
    """`event` (the type's newest stored event when None) as `reshapings` (the type's enabled
    saved ones when None) would rewrite it now, with its session's context as the request's:
    the admin's preview on the event type's page and the API's preview route."""
    if reshapings is None:
        reshapings = tuple(
            reshaping_compile(row)
            for row in event_type.reshapings.filter(enabled=True).order_by("position", "id")
        )
    if event is None:
        # The newest by time, through event_type_time.
        event = Event.objects.filter(type=event_type.type).order_by("-time").first()
    if not reshapings or event is None:
        return ReshapingPreview(event=event, reshaped=None, tried=len(reshapings))
    session_context = (
        Session.objects.filter(pk=event.session_id).values_list("context", flat=True).first()
    )
    reshaped = event_reshape(
        reshapings,
        event_type=event.type,
        source_id=event.source_id,
        properties=event.properties,
        context=event.context,
        traits=event.traits,
        session_context=session_context or {},
    )
    return ReshapingPreview(event=event, reshaped=reshaped, tried=len(reshapings))
