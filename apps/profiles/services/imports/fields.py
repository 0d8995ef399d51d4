"""Which profile fields an import may set, and the type of each (Tracardi's Profile object,
DESIGN §5): a row's values are checked and converted here, before anything is written.

A field is a path of keys (("data", "contact", "email", "main")), written with dots in
headers and options (`data.contact.email.main`; `\\.` for a dot inside a key). Fields of the
schema below have a type; under the open objects (`traits`, `aux`, `data.*.other`,
`data.metrics.custom`) any key may be set and a value is kept as it comes (CSV: text), unless
`--type PATH=KIND` says otherwise. Anything else is an unknown field, and its row is skipped.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.dateparse import parse_date, parse_datetime

from apps.notation import InvalidReferenceError, parse_reference

Path = tuple[str, ...]

TEXT, EMAIL, NUMBER, INTEGER, BOOLEAN, DATE, LIST, ANY, ID = (
    "text",
    "email",
    "number",
    "integer",
    "boolean",
    "date",
    "list",
    "json",
    "id",
)
# What `--type` may name for an open field.
KINDS = (TEXT, NUMBER, INTEGER, BOOLEAN, DATE, LIST, ANY)

_SCHEMA_TEXT = {
    "id": ID,
    "primary_id": TEXT,
    "active": BOOLEAN,
    "data.pii.firstname": TEXT,
    "data.pii.lastname": TEXT,
    "data.pii.display_name": TEXT,
    "data.pii.birthday": DATE,
    "data.pii.gender": TEXT,
    "data.pii.language.native": TEXT,
    "data.pii.language.spoken": LIST,
    "data.pii.education.level": TEXT,
    "data.pii.civil.status": TEXT,
    "data.pii.attributes.height": NUMBER,
    "data.pii.attributes.weight": NUMBER,
    "data.pii.attributes.shoe_number": NUMBER,
    "data.contact.email.main": EMAIL,
    "data.contact.email.business": EMAIL,
    "data.contact.email.private": EMAIL,
    "data.contact.phone.main": TEXT,
    "data.contact.phone.business": TEXT,
    "data.contact.phone.mobile": TEXT,
    "data.contact.phone.whatsapp": TEXT,
    "data.contact.address.town": TEXT,
    "data.contact.address.county": TEXT,
    "data.contact.address.country": TEXT,
    "data.contact.address.postcode": TEXT,
    "data.contact.address.street": TEXT,
    "data.contact.address.other": TEXT,
    "data.contact.confirmations": LIST,
    "data.identifier.id": TEXT,
    "data.identifier.badge": TEXT,
    "data.identifier.passport": TEXT,
    "data.identifier.credit_card": TEXT,
    "data.identifier.token": TEXT,
    "data.identifier.coupons": LIST,
    "data.devices.push": LIST,
    "data.devices.other": LIST,
    "data.media.image": TEXT,
    "data.media.webpage": TEXT,
    "data.job.position": TEXT,
    "data.job.salary": NUMBER,
    "data.job.type": TEXT,
    "data.job.department": TEXT,
    "data.job.company.name": TEXT,
    "data.job.company.size": INTEGER,
    "data.job.company.segment": TEXT,
    "data.job.company.country": TEXT,
    "data.loyalty.codes": LIST,
    "data.loyalty.card.id": TEXT,
    "data.loyalty.card.name": TEXT,
    "data.loyalty.card.issuer": TEXT,
    "data.loyalty.card.expires": DATE,
    "data.loyalty.card.points": NUMBER,
    "data.metrics.ltv": NUMBER,
    "data.metrics.ltcosc": INTEGER,
    "data.metrics.ltcocc": NUMBER,
    "data.metrics.ltcosv": NUMBER,
    "data.metrics.ltcocv": NUMBER,
    "data.metrics.next": DATE,
}
for _app in ("whatsapp", "discord", "slack", "twitter", "telegram", "wechat", "viber", "signal"):
    _SCHEMA_TEXT[f"data.contact.app.{_app}"] = TEXT
for _site in ("twitter", "facebook", "youtube", "instagram", "tiktok", "linkedin", "reddit"):
    _SCHEMA_TEXT[f"data.media.social.{_site}"] = TEXT
for _kind in (
    "purchases",
    "colors",
    "sizes",
    "devices",
    "channels",
    "payments",
    "brands",
    "fragrances",
    "services",
    "other",
):
    _SCHEMA_TEXT[f"data.preferences.{_kind}"] = LIST

SCHEMA: dict[Path, str] = {tuple(name.split(".")): kind for name, kind in _SCHEMA_TEXT.items()}
# Open objects: any path below them, of any value (or the type --type gives).
OPEN: tuple[Path, ...] = (
    ("traits",),
    ("aux",),
    ("data", "contact", "app", "other"),
    ("data", "media", "social", "other"),
    ("data", "metrics", "custom"),
)
# interests.<name>: a number per interest (one key, no deeper).
INTERESTS = ("interests",)
KEPT_BY_THE_CDP = ("ids", "static_ids", "segments", "metadata", "stats", "consents")

MAX_ID_LENGTH = 64
MAX_PRIMARY_ID_LENGTH = 200
_INT_LIMIT = 2**63


class RowError(ValueError):
    """A row that cannot be imported; the message is the reason in the error file."""


class _Clear:
    def __repr__(self) -> str:
        return "CLEAR"


CLEAR = _Clear()
"""The value of an empty cell with --empty=clear: the field is removed."""


@functools.lru_cache(maxsize=4096)
def parse_path(text: str) -> Path:
    """`data.contact.email.main` -> ("data", "contact", "email", "main")."""
    try:
        reference = parse_reference("profile@" + text.strip())
    except InvalidReferenceError as error:
        raise RowError(f"{text!r} is not a field path: {error}") from None
    if reference is None or not reference.keys:
        raise RowError(f"{text!r} is not a field path")
    return tuple(name for name, _ in reference.keys)


@functools.lru_cache(maxsize=4096)
def dotted(path: Path) -> str:
    return ".".join(key.replace(".", "\\.") for key in path)


def field_kind(path: Path, types: Mapping[Path, str]) -> str:
    """The field's type; RowError naming the problem for a field an import may not set."""
    kind = SCHEMA.get(path)
    if kind is not None:
        return kind
    if path in types:
        return types[path]
    if len(path) == 2 and path[0] == INTERESTS[0]:
        return NUMBER
    for root in OPEN:
        if len(path) > len(root) and path[: len(root)] == root:
            return ANY
    if path[0] in KEPT_BY_THE_CDP:
        raise RowError(f"{dotted(path)}: {path[0]} is kept by the CDP and cannot be imported")
    raise RowError(
        f"{dotted(path)} is not a profile field (set data.* fields of the profile schema, "
        "traits.*, aux.*, interests.*, id, primary_id or active; map other columns with "
        "--mapping)"
    )


def type_option(text: str) -> tuple[Path, str]:
    """`--type traits.age=number` -> (("traits", "age"), "number"); only open fields."""
    name, separator, kind = text.partition("=")
    kind = kind.strip().lower()
    if not separator or kind not in KINDS:
        raise RowError(f"--type {text!r}: write PATH=KIND, KIND one of {', '.join(KINDS)}")
    path = parse_path(name)
    declared = SCHEMA.get(path)
    if declared is not None:
        raise RowError(f"--type {text!r}: {dotted(path)} is always a {declared}")
    if field_kind(path, {}) != ANY:
        raise RowError(f"--type {text!r}: only fields under traits, aux or *.other take a type")
    return path, kind


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def convert(kind: str, value: Any) -> Any:
    """`value` as a field of `kind` needs it (text from CSV, or a JSON value); ValueError
    with the reason when it cannot be."""
    return _CONVERTERS[kind](value)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_text(value)
    raise ValueError(f"expected a text, got {_shown(value)}")


def _number_text(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _email(value: Any) -> str:
    text = _text(value)
    # Django's validator, with its two patterns taken out of their lazy wrappers once: most
    # addresses pass these two matches, anything else gets the whole check.
    user, at, domain = text.rpartition("@")
    if at and len(text) <= 320 and _EMAIL_USER(user) and _EMAIL_DOMAIN(domain):
        return text
    try:
        validate_email(text)
    except ValidationError:
        raise ValueError(f"expected an e-mail address, got {_shown(value)}") from None
    return text


_EMAIL_USER = re.compile(validate_email.user_regex.pattern, validate_email.user_regex.flags).match
_EMAIL_DOMAIN = re.compile(
    validate_email.domain_regex.pattern, validate_email.domain_regex.flags
).match


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {_shown(value)}")
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"expected a number, got {_shown(value)}") from None
    if isinstance(value, int) and -_INT_LIMIT < value < _INT_LIMIT:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value) if value.is_integer() and abs(value) < _INT_LIMIT else value
    raise ValueError(f"expected a number, got {_shown(value)}")


def _integer(value: Any) -> int:
    number = _number(value)
    if not isinstance(number, int):
        raise ValueError(f"expected a whole number, got {_shown(value)}")
    return number


_TRUE = {"true", "yes", "y", "t", "1", "on"}
_FALSE = {"false", "no", "n", "f", "0", "off"}


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected true or false (yes/no, 1/0), got {_shown(value)}")


def _date(value: Any) -> str:
    """ISO 8601 date or date-time; without a zone it is UTC. Stored as ISO text."""
    if isinstance(value, str):
        text = value.strip()
        try:
            moment = parse_datetime(text)
            if moment is None:
                day = parse_date(text)
                moment = datetime.combine(day, time()) if day is not None else None
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.isoformat()
    raise ValueError(
        f"expected a date (ISO 8601, e.g. 1990-05-31 or 2024-01-31T12:00:00Z), got {_shown(value)}"
    )


def _list(value: Any) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = orjson.loads(text)
            except orjson.JSONDecodeError:
                raise ValueError(f"expected a JSON array, got {_shown(value)}") from None
            if isinstance(parsed, list):
                return parsed
        return [item.strip() for item in text.split(";") if item.strip()]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]
    raise ValueError(f"expected a list (a JSON array, or values separated by ';'), got {value!r}")


def _any(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _json(value: Any) -> Any:
    """--type json on a CSV cell: the JSON value it spells."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            raise ValueError(f"expected a JSON value, got {_shown(value)}") from None
    return value


def _id(value: Any) -> str:
    text = _text(value)
    if len(text) > MAX_ID_LENGTH:
        raise ValueError(f"a profile id is at most {MAX_ID_LENGTH} characters")
    return text


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    TEXT: _text,
    EMAIL: _email,
    NUMBER: _number,
    INTEGER: _integer,
    BOOLEAN: _boolean,
    DATE: _date,
    LIST: _list,
    ANY: _any,
    ID: _id,
}


def typed_row(
    fields: Mapping[Path, Any],
    *,
    types: Mapping[Path, str],
    clear_empty: bool,
    from_text: bool,
    kinds: dict[Path, tuple[str, Callable[[Any], Any]]] | None = None,
) -> dict[Path, Any]:
    """The row's fields as the profile stores them: empty values dropped (or CLEAR with
    `clear_empty`); RowError with the first problem. `from_text`: the values are CSV text
    (an open field given `--type json` is parsed then). `kinds`: a memo of each field's type
    and converter, kept by the caller across the rows of one import (same `types`)."""
    typed: dict[Path, Any] = {}
    if kinds is None:
        kinds = {}
    for path, value in fields.items():
        spec = kinds.get(path)
        if spec is None:
            spec = kinds[path] = _field_spec(path, types, from_text)
        kind, converter = spec
        if type(value) is str:
            value = value.strip()
            if not value:
                if clear_empty and path != _ID:
                    typed[path] = CLEAR
                continue
            if "\x00" in value:
                raise RowError(f"{dotted(path)}: the value holds a NUL character")
            if kind is TEXT:
                typed[path] = value
                continue
        elif value is None or (isinstance(value, dict | list) and not value and kind != LIST):
            if clear_empty and path != _ID:
                typed[path] = CLEAR
            continue
        try:
            typed[path] = converter(value)
        except ValueError as error:
            raise RowError(f"{dotted(path)}: {error}") from None
    primary_id = typed.get(_PRIMARY_ID)
    if isinstance(primary_id, str) and len(primary_id) > MAX_PRIMARY_ID_LENGTH:
        raise RowError(f"primary_id: at most {MAX_PRIMARY_ID_LENGTH} characters")
    if not from_text:
        # JSON rows: nested values must be storable (no NUL, which JSONB refuses).
        try:
            encoded = orjson.dumps([value for value in typed.values() if value is not CLEAR])
        except (TypeError, orjson.JSONEncodeError) as error:
            raise RowError(f"a value cannot be stored as JSON ({error})") from None
        if b"\\u0000" in encoded:
            raise RowError("a value holds a NUL character")
    return typed


_ID: Path = ("id",)
_PRIMARY_ID: Path = ("primary_id",)


def _field_spec(path: Path, types: Mapping[Path, str], from_text: bool):
    """(kind, converter) of a field: RowError for a field an import may not set."""
    kind = field_kind(path, types)
    if kind == ANY and path in types:
        # --type json: a CSV cell is parsed, a JSON value is kept as it is.
        return kind, _json if from_text else _keep
    return kind, _CONVERTERS[kind]


def _keep(value: Any) -> Any:
    return value


def flatten(row: Mapping[str, Any], *, split_keys: bool) -> dict[Path, Any]:
    """A row as {field path: value}. Nested objects give their leaves (a JSON row shaped like
    a profile document); with `split_keys` each key is a dotted path (CSV headers, mapping
    keys), else a key is one key (a JSON object's keys are taken as they are)."""
    flat: dict[Path, Any] = {}
    _flatten((), row, flat, split_keys=split_keys, top=True)
    return flat


def _flatten(prefix: Path, node: Mapping, flat: dict, *, split_keys: bool, top: bool) -> None:
    for key, value in node.items():
        if not isinstance(key, str) or not key:
            raise RowError(f"{dotted(prefix) or 'the row'} has an empty key")
        if "\x00" in key:
            raise RowError("a key holds a NUL character")
        path = (*prefix, *parse_path(key)) if split_keys or top else (*prefix, key)
        if isinstance(value, dict) and value and not _is_typed_object(path):
            _flatten(path, value, flat, split_keys=split_keys, top=False)
        else:
            flat[path] = value


def _is_typed_object(path: Path) -> bool:
    # Objects are walked into, except where the field itself is a whole value.
    return SCHEMA.get(path) in (LIST,)
