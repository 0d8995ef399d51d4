"""The TrackerPayload of POST /track: parsing, validation, normalisation.

One compiled JSON-schema validator checks the whole body; violations become 422 errors in the
shape Tracardi (FastAPI) answers: {"detail": [{"loc": ["body", ...], "msg": ..., "type": ...}]}.
"""

from dataclasses import dataclass, field
from datetime import datetime

import fastjsonschema
import orjson
from django.utils import timezone
from jsonschema import Draft202012Validator

from apps.core.exceptions import PayloadInvalid
from apps.core.text import normalise_event_type

MAX_EVENTS_PER_REQUEST = 1000
ID_SCHEMA = {"type": ["string", "null"], "maxLength": 64}
OBJECT = {"type": "object"}
OPTIONAL_OBJECT = {"type": ["object", "null"]}

TRACKER_PAYLOAD_SCHEMA = {
    "type": "object",
    "required": ["source"],
    "properties": {
        "source": {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 64}},
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
                    "type": {"type": "string", "minLength": 1, "maxLength": 100},
                    "id": {"type": ["string", "null"], "minLength": 1, "maxLength": 64},
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


def server_event(event_type: str, properties: dict) -> IncomingEvent:
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


def parse_json_body(body: bytes) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise PayloadInvalid(f"The body is not valid JSON: {error}.") from None


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
    events = [_parse_event(raw, index) for index, raw in enumerate(data.get("events") or [])]
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
    )


def _parse_event(raw: dict, index: int) -> IncomingEvent:
    event_type = normalise_event_type(raw["type"])
    if not event_type:
        raise_field_error(["events", index, "type"], "The event type is empty.", "value_error")
    time_block = raw.get("time") or {}
    created = None
    if time_block.get("create"):
        created = _parse_time(time_block["create"], ["events", index, "time", "create"])
    return IncomingEvent(
        type=event_type,
        id=_strip(raw.get("id")),
        time=created,
        properties=raw.get("properties") or {},
        options=raw.get("options") or {},
        context=raw.get("context") or {},
        traits=raw.get("traits") or {},
        tags=raw.get("tags") or [],
    )


def _parse_time(value: str, loc: list) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise_field_error(
            loc, f"{value!r} is not an ISO 8601 date and time.", "value_error.datetime"
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.utc)
    return parsed


def _strip(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def raise_field_error(loc: list, message: str, error_type: str):
    raise PayloadInvalid.schema([{"loc": ["body", *loc], "msg": message, "type": error_type}])


def raise_schema_violation(errors) -> None:
    details = []
    for error in errors[:20]:
        loc = ["body", *error.absolute_path]
        path = ".".join(str(part) for part in error.absolute_path) or "(body)"
        details.append(
            {
                "loc": loc,
                "msg": f"{path}: {error.message}",
                "type": f"value_error.{error.validator}",
            }
        )
    raise PayloadInvalid.schema(details)
