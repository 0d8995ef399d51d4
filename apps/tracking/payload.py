"""The TrackerPayload of POST /track: parsing, validation, normalisation.

One compiled JSON-schema validator checks the whole body; violations become 422 errors in the
shape Tracardi (FastAPI) answers: {"detail": [{"loc": ["body", ...], "msg": ..., "type": ...}]}.
"""

import reprlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import fastjsonschema
import orjson
from jsonschema import Draft202012Validator

from apps.core.exceptions import PayloadInvalid
from apps.tracking.limits import (
    MAX_EVENT_TYPE_LENGTH,
    MAX_ID_LENGTH,
    event_type_clean,
    json_body_check,
)

MAX_EVENTS_PER_REQUEST = 1000
ID_SCHEMA = {"type": ["string", "null"], "maxLength": MAX_ID_LENGTH}
OBJECT = {"type": "object"}
OPTIONAL_OBJECT = {"type": ["object", "null"]}

TRACKER_PAYLOAD_SCHEMA = {
    "type": "object",
    "required": ["source"],
    "properties": {
        "source": {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH}},
        },
        "session": {"type": ["object", "null"], "properties": {"id": ID_SCHEMA}},
        "profile": {"type": ["object", "null"], "properties": {"id": ID_SCHEMA}},
        "context": OPTIONAL_OBJECT,
        "properties": OPTIONAL_OBJECT,
        "request": OPTIONAL_OBJECT,
        "options": {
            "type": ["object", "null"],
            "properties": {
                "saveSession": {"type": "boolean"},
                "saveEvents": {"type": "boolean"},
                "saveEvent": {"type": "boolean"},
                "saveProfile": {"type": "boolean"},
            },
        },
        "events": {
            "type": ["array", "null"],
            "maxItems": MAX_EVENTS_PER_REQUEST,
            "items": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_EVENT_TYPE_LENGTH,
                    },
                    "id": {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_ID_LENGTH},
                    "properties": OPTIONAL_OBJECT,
                    "options": OPTIONAL_OBJECT,
                    "context": OPTIONAL_OBJECT,
                    "traits": OPTIONAL_OBJECT,
                    "tags": {"type": ["array", "null"], "items": {"type": "string"}},
                    "time": {
                        "type": ["object", "null"],
                        "properties": {
                            "create": {"type": ["string", "null"]},
                            "insert": {"type": ["string", "null"]},
                        },
                    },
                },
            },
        },
    },
}

_validator = Draft202012Validator(TRACKER_PAYLOAD_SCHEMA)
# Generated Python code: about 4x cheaper than jsonschema on valid bodies (bench/track_profile.py).
# The schema uses only keywords that mean the same in draft-07.
_fast_check = fastjsonschema.compile(
    {"$schema": "http://json-schema.org/draft-07/schema#", **TRACKER_PAYLOAD_SCHEMA}
)


@dataclass(slots=True)
class IncomingEvent:
    type: str
    id: str | None
    time: datetime | None
    properties: dict
    options: dict
    context: dict
    traits: dict
    tags: list[str]
    # The client's `time.insert` (Tracardi keeps it as the event's metadata.time.insert).
    inserted: datetime | None = None
    # Added to the event's metadata by the server (e.g. the redirect link followed).
    metadata: dict | None = None


def server_event(event_type: str, properties: dict, metadata: dict | None = None) -> IncomingEvent:
    """An event the server makes itself (system events, webhooks, redirects)."""
    return IncomingEvent(
        type=event_type,
        id=None,
        time=None,
        properties=properties,
        options={},
        context={},
        traits={},
        tags=[],
        metadata=metadata,
    )


@dataclass(slots=True)
class TrackRequest:
    """A normalised tracking request; /track, /collect and /redirect all produce one."""

    source_id: str
    events: list[IncomingEvent]
    session_id: str | None = None
    profile_id: str | None = None
    context: dict = field(default_factory=dict)
    properties: dict = field(default_factory=dict)
    request: dict = field(default_factory=dict)
    save_session: bool = True
    save_events: bool = True
    save_profile: bool = True
    profile_less: bool = False
    # /collect with replace_profile_id: the body names the profile, so it is trusted.
    trust_profile_id: bool = False
    # Said back in the answer's `warnings` (e.g. a time without a zone, read as UTC).
    warnings: list[str] = field(default_factory=list)


def parse_json_body(body: bytes) -> object:
    """Decode a JSON body that stored JSON can hold (apps.tracking.limits)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise PayloadInvalid(f"The body is not valid JSON: {error}.") from None
    json_body_check(data, raw=body)
    return data


def tracker_payload_parse(data: object, *, profile_less: bool = False) -> TrackRequest:
    """Validate a decoded /track body and turn it into a TrackRequest (raises SchemaViolation)."""
    try:
        _fast_check(data)
    except fastjsonschema.JsonSchemaException:
        errors = sorted(_validator.iter_errors(data), key=lambda error: list(error.absolute_path))
        raise_schema_violation(errors)
    assert isinstance(data, dict)
    options = data.get("options") or {}
    save_events = options.get("saveEvents", options.get("saveEvent", True))
    warnings: list[str] = []
    events = [
        _parse_event(raw, index, warnings) for index, raw in enumerate(data.get("events") or [])
    ]
    source_id = data["source"]["id"].strip()
    if not source_id:
        raise_field_error(["source", "id"], "The source id is empty.", "value_error.missing")
    return TrackRequest(
        source_id=source_id,
        events=events,
        session_id=_strip((data.get("session") or {}).get("id")),
        profile_id=_strip((data.get("profile") or {}).get("id")),
        context=data.get("context") or {},
        properties=data.get("properties") or {},
        request=data.get("request") or {},
        save_session=options.get("saveSession", True),
        save_events=save_events,
        save_profile=options.get("saveProfile", True),
        profile_less=profile_less,
        warnings=warnings,
    )


def _parse_event(raw: dict, index: int, warnings: list[str]) -> IncomingEvent:
    event_type = event_type_clean(raw["type"], loc=["body", "events", index, "type"])
    time_block = raw.get("time") or {}
    times = {
        name: _parse_time(time_block[name], ["events", index, "time", name], warnings)
        for name in ("create", "insert")
        if time_block.get(name)
    }
    # A client's `insert` is kept in metadata.time.insert, as Tracardi does; the `inserted`
    # column stays the server's time (the requeue sweep and retention read it).
    return IncomingEvent(
        type=event_type,
        id=_strip(raw.get("id")),
        time=times.get("create"),
        inserted=times.get("insert"),
        properties=raw.get("properties") or {},
        options=raw.get("options") or {},
        context=raw.get("context") or {},
        traits=raw.get("traits") or {},
        tags=raw.get("tags") or [],
    )


def _parse_time(value: str, loc: list, warnings: list[str]) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise_field_error(
            loc, f"{value!r} is not an ISO 8601 date and time.", "value_error.datetime"
        )
    if parsed.tzinfo is None:
        # As Tracardi does: clients sending datetime.now().isoformat() mean their server's UTC.
        path = ".".join(str(part) for part in loc)
        warnings.append(f"{path}: {value!r} has no time zone; it is read as UTC.")
        return parsed.replace(tzinfo=UTC)
    try:
        # Python reads back only years 1-9999 (PostgreSQL would store more), so a row outside
        # them could never be loaded again.
        parsed.astimezone(UTC)
    except OverflowError:
        raise_field_error(
            loc,
            f"{value!r} is outside the years 1 to 9999 once converted to UTC.",
            "value_error.datetime",
        )
    return parsed


def _strip(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def raise_field_error(loc: list, message: str, error_type: str):
    raise PayloadInvalid.schema([{"loc": ["body", *loc], "msg": message, "type": error_type}])


# Values quoted in an error message are cut short: the answer never echoes a large input.
_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60
_short.maxlist = _short.maxdict = 4
_short.maxlevel = 2


def raise_schema_violation(errors) -> None:
    details = []
    for error in errors[:20]:
        path = ".".join(str(part) for part in error.absolute_path) or "(body)"
        details.append(
            {
                "loc": ["body", *error.absolute_path],
                "msg": f"{path}: {_schema_message(error)}",
                "type": f"value_error.{error.validator}",
            }
        )
    raise PayloadInvalid.schema(details)


def _schema_message(error) -> str:
    if error.validator in ("maxItems", "maxLength"):
        unit = "items" if error.validator == "maxItems" else "characters"
        return f"{len(error.instance)} {unit}; the limit is {error.validator_value}."
    if len(error.message) <= 200:
        return error.message
    return (
        f"{_short.repr(error.instance)} breaks the rule {error.validator}={error.validator_value!r}"
    )
