"""Events as the plain dicts (Tracardi's shape) that mappings, conditions, workflow nodes and
destinations read, and the way back from such a dict to an unsaved Event. A leaf module: it
imports only the events models and core.

The event document shares its JSON objects with the Event instance, so what a node writes to
`event@properties...` is what gets saved with the event's status.
"""

from __future__ import annotations

import copy
from datetime import datetime

from django.utils.dateparse import parse_datetime

from apps.core.ids import new_id
from apps.core.text import normalise_event_type
from apps.events.models import Event

# Fields of an unsaved event's dict (the tracking pipeline sends Event's field names).
UNSAVED_EVENT_FIELDS = ("properties", "context", "metadata", "request", "tags", "traits", "hit")


def event_document(event: Event) -> dict:
    """The event in Tracardi's shape. `metadata.time.insert` and `.create` are filled in from
    the columns when missing; the metadata is the event's own dict, so a later save keeps them."""
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    event.metadata = metadata
    return event_document_of(
        event.pk,
        event.type,
        event.time,
        event.inserted,
        event.source_id,
        event.profile_id,
        event.session_id,
        metadata,
        event.properties,
        event.traits,
        event.context,
        event.request,
        event.tags,
        event.hit,
    )


# The columns `event_document_of` takes, in its order (exports read exactly these).
DOCUMENT_COLUMNS = (
    "id",
    "type",
    "time",
    "inserted",
    "source_id",
    "profile_id",
    "session_id",
    "metadata",
    "properties",
    "traits",
    "context",
    "request",
    "tags",
    "hit",
)


def event_document_of(
    event_id,
    event_type,
    time,
    inserted,
    source_id,
    profile_id,
    session_id,
    metadata,
    properties,
    traits,
    context,
    request,
    tags,
    hit=None,
) -> dict:
    """The same document from column values (DOCUMENT_COLUMNS), sharing them: for values just
    read (exports) or an event's own (event_document)."""
    if not isinstance(metadata, dict):
        metadata = {}
    times = metadata.setdefault("time", {})
    if isinstance(times, dict):
        times.setdefault("insert", inserted.isoformat() if inserted else None)
        times.setdefault("create", time.isoformat() if time else None)
    return {
        "id": event_id,
        "type": event_type,
        "time": time.isoformat() if time else None,
        "source": {"id": source_id},
        "profile": {"id": profile_id} if profile_id else None,
        "session": {"id": session_id} if session_id else None,
        "metadata": metadata,
        "properties": properties,
        "traits": traits,
        "context": context,
        "request": request,
        "tags": tags,
        "hit": hit if isinstance(hit, dict) else {},
    }


class EventDataError(ValueError):
    """An event dict (unsaved event, test-run sample) that cannot be read as an event."""


def event_from_dict(raw: dict, *, now: datetime) -> Event:
    """An unsaved Event built from a dict with Event's field names (the pipeline's unsaved
    events) or Tracardi's nested ids (`source: {id}`, `profile: {id}`, `session: {id}`)."""
    if not isinstance(raw, dict):
        raise EventDataError("an event must be a JSON object")
    event_type = raw.get("type")
    if not isinstance(event_type, str) or not event_type.strip():
        raise EventDataError('"type" is required: a non-empty text')
    when = raw.get("time")
    moment = parse_datetime(when) if isinstance(when, str) else None
    if when is not None and moment is None:
        raise EventDataError(f'"time" must be an ISO date/time, got {when!r}')
    event = Event(
        id=str(raw.get("id") or new_id()),
        type=normalise_event_type(event_type),
        source_id=nested_id(raw, "source"),
        profile_id=nested_id(raw, "profile"),
        session_id=nested_id(raw, "session"),
        time=moment or now,
        inserted=now,
        status=Event.Status.COLLECTED,
    )
    for field in UNSAVED_EVENT_FIELDS:
        value = raw.get(field)
        if value is not None and not isinstance(value, dict):
            raise EventDataError(f'"{field}" must be a JSON object')
        setattr(event, field, copy.deepcopy(value) if value is not None else {})
    return event


def nested_id(raw: dict, name: str) -> str | None:
    """`<name>_id`, or `<name>` as an id or Tracardi's {"id": ...}; None when absent or empty."""
    value = raw.get(f"{name}_id", raw.get(name))
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or value == "":
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise EventDataError(f'"{name}" must be an id or {{"id": ...}}')
    return str(value)
