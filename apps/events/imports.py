"""Importing historic events (`manage.py import_events`, issue 14): JSON Lines or a JSON array
of events in Tracardi's export shape ({"id", "type", "metadata": {"time": {"create",
"insert"}}, "source": {"id"}, "profile": {"id"}, "session": {"id"}, "properties", "context",
"traits", "tags", "request"}) or with the columns' names (`time`, `source_id`, `profile_id`).

- Each event keeps its id (one derived from its content when it has none), so a re-import
  stores nothing twice (the insert's id claim skips stored ids: apps.events.partitions), and
  its original time (`time`, else `metadata.time.create`, else `metadata.time.insert`;
  without a zone, UTC).
- It is attached to its profile by the profile id it names (or an id merged into a profile),
  or with `match` by identifier: pairs of profile field and event path, as identification
  points write them (data.contact.email.main=properties.email); the oldest holder wins.
- An event whose profile is not stored is skipped with that reason, not given a new profile:
  import the profiles first (import_profiles), then the events; the re-run stores only what
  was skipped. An event without any profile is stored profile-less.
- A session id that is not stored is dropped (kept as metadata.imported.session_id).
- The source is the event's own, else `source_id`; an unknown source skips the event.
- Events are stored `processed`: no workflow runs for history. With `needs_processing` (the
  tracking floor's routing) the events it routes are stored `collected` and handed to the
  workers through `hand_off` (one call per profile, after the batch commits), as ingestion
  does. Events that break their type's schema are stored `invalid`, as ingestion does.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.text import normalise_event_type
from apps.events.documents import EventDataError, nested_id
from apps.events.models import EARLIEST_TIME, LATEST_TIME, Event
from apps.events.registry import event_traits, event_validation_error
from apps.notation import MISSING
from apps.notation.dot import lookup
from apps.notation.paths import EventPathError, event_reference_parse
from apps.profiles.models import Session
from apps.profiles.services.imports.errors import ErrorFile
from apps.profiles.services.imports.fields import RowError
from apps.profiles.services.imports.matching import Match, holders_find, ids_resolve, match_option
from apps.profiles.services.imports.readers import ImportFileError, InputFile, open_records
from apps.sources.models import EventSource

BATCH_SIZE = 1_000
MAX_ID_LENGTH = 64
MAX_TYPE_LENGTH = 100
_ID_NAMESPACE = uuid.UUID("6f1c3c1e-9f0e-4d0c-9a57-14e5a1f0e514")
_FIELDS = ("properties", "context", "traits", "request", "tags")

_INSERT = f"""
INSERT INTO {Event._meta.db_table}
    (id, type, source_id, profile_id, session_id, time, inserted, status, status_message,
     is_bot, properties, context, traits, metadata, request, tags)
SELECT v.id, v.type, v.source_id, v.profile_id, v.session_id, v.time, %(now)s, v.status,
       v.status_message, false, v.properties, v.context, v.traits, v.metadata, v.request, v.tags
FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(
    id text, type text, source_id text, profile_id text, session_id text, time timestamptz,
    status text, status_message text, properties jsonb, context jsonb, traits jsonb,
    metadata jsonb, request jsonb, tags jsonb)
ON CONFLICT DO NOTHING
RETURNING id
"""


@dataclass(frozen=True, slots=True)
class EventMatch:
    """Profiles found by id (no pairs), or by identifier pairs (profile field, event path)."""

    profile_match: Match = field(default_factory=Match)
    event_paths: tuple = ()

    @property
    def by_id(self) -> bool:
        return self.profile_match.by_id


def event_match_option(values: Sequence[str] | None) -> EventMatch:
    """`--match` values: `PROFILE_FIELD=EVENT_PATH`, e.g.
    data.contact.email.main=properties.email (several: all must match)."""
    if not values:
        return EventMatch()
    profile_paths, event_refs = [], []
    for text in values:
        profile_path, separator, event_path = text.partition("=")
        if not separator or not profile_path.strip() or not event_path.strip():
            raise RowError(
                f"--match {text!r}: write PROFILE_FIELD=EVENT_PATH, e.g. "
                "data.contact.email.main=properties.email"
            )
        profile_paths.append(profile_path.strip())
        try:
            event_refs.append(event_reference_parse(event_path.strip()))
        except EventPathError as error:
            raise RowError(f"--match {text!r}: {error}") from None
    return EventMatch(match_option(profile_paths), tuple(event_refs))


@dataclass(slots=True)
class EventImportOptions:
    match: EventMatch = field(default_factory=EventMatch)
    source_id: str | None = None
    dry_run: bool = False
    format: str | None = None
    batch_size: int = BATCH_SIZE


@dataclass(slots=True)
class EventImportSummary:
    rows: int = 0
    stored: int = 0
    already_stored: int = 0
    queued: int = 0
    skipped: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    format: str = ""


NeedsProcessing = Callable[..., bool]
HandOff = Callable[..., None]


@dataclass(slots=True)
class _Row:
    line: int
    raw: dict
    document: dict
    profile_id: str | None = None
    key: tuple | None = None


def events_import(
    *,
    input_file: InputFile,
    options: EventImportOptions,
    errors: Callable[[list[str] | None, str], ErrorFile],
    summary: EventImportSummary | None = None,
    progress: Callable[[EventImportSummary], None] | None = None,
    needs_processing: NeedsProcessing | None = None,
    hand_off: HandOff | None = None,
) -> EventImportSummary:
    """Store the file's events (see the module doc); returns the counts. Each batch is one
    transaction; `summary` is updated after each, for an interrupted caller."""
    summary = summary if summary is not None else EventImportSummary()
    started = time.monotonic()
    fmt = input_file.format(options.format)
    if fmt == "csv":
        raise ImportFileError(
            "Events are imported from JSON Lines (one event per line) or a JSON array; "
            f"{input_file.name} reads as CSV (pass --format jsonl if it is JSON Lines)."
        )
    summary.format, summary.dry_run = fmt, options.dry_run
    _, records = open_records(input_file, fmt)
    error_file = errors(None, fmt)
    sources = set(EventSource.objects.values_list("pk", flat=True))
    if options.source_id and options.source_id not in sources:
        raise ImportFileError(
            f"No event source has the id {options.source_id!r} (--source); create it in the "
            "admin or with manage.py create_event_source."
        )
    context = _Context(options, sources, needs_processing, hand_off, error_file, summary)
    try:
        with transaction.atomic() if options.dry_run else _nothing():
            batch: list[_Row] = []
            for record in records:
                summary.rows += 1
                if record.error is not None:
                    context.skip(record.line, record.error, record.raw)
                    continue
                try:
                    batch.append(_row(record.line, record.values, options, sources))
                except RowError as error:
                    context.skip(record.line, str(error), record.raw or record.values)
                    continue
                if len(batch) >= options.batch_size:
                    context.write(batch)
                    batch = []
                    summary.seconds = time.monotonic() - started
                    if progress is not None:
                        progress(summary)
            if batch:
                context.write(batch)
            if options.dry_run:
                transaction.set_rollback(True)
    finally:
        summary.seconds = time.monotonic() - started
        error_file.close()
    if progress is not None:
        progress(summary)
    return summary


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _row(line: int, raw: dict, options: EventImportOptions, sources: set[str]) -> _Row:
    event_type = raw.get("type")
    if not isinstance(event_type, str) or not normalise_event_type(event_type):
        raise RowError('"type" is required: a non-empty text')
    event_type = normalise_event_type(event_type)
    if len(event_type) > MAX_TYPE_LENGTH:
        raise RowError(f'"type" is at most {MAX_TYPE_LENGTH} characters')
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    times = metadata.get("time") if isinstance(metadata.get("time"), dict) else {}
    moment = _time(raw.get("time") or times.get("create") or times.get("insert"))
    event_id = raw.get("id")
    if event_id in (None, ""):
        # The same event in a re-run gets the same id: derived from its content.
        try:
            content = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS).decode()
        except orjson.JSONEncodeError as error:
            raise RowError(f"the event cannot be stored as JSON ({error})") from None
        event_id = str(uuid.uuid5(_ID_NAMESPACE, content))
    if not isinstance(event_id, str | int) or isinstance(event_id, bool):
        raise RowError('"id" must be a text')
    event_id = str(event_id)
    if len(event_id) > MAX_ID_LENGTH:
        raise RowError(f'"id" is at most {MAX_ID_LENGTH} characters')
    source_id = _nested_id(raw, "source") or options.source_id
    if source_id not in sources:
        raise RowError(
            f"unknown event source {source_id!r}: create it (admin, manage.py "
            "create_event_source) or pass --source ID"
            if source_id
            else "the event names no source: pass --source ID"
        )
    document = {
        "id": event_id,
        "type": event_type,
        "time": moment.isoformat(),
        "source_id": source_id,
        "profile_id": _nested_id(raw, "profile"),
        "session_id": _nested_id(raw, "session"),
        "metadata": metadata,
    }
    for name in _FIELDS:
        value = raw.get(name)
        if value is not None and not isinstance(value, dict):
            if name == "tags" and isinstance(value, list):
                value = {"values": value, "count": len(value)}
            else:
                raise RowError(f'"{name}" must be a JSON object')
        document[name] = value or {}
    # The type's indexed properties, as for events stored by /track.
    document["traits"] = event_traits(
        event_type=event_type, properties=document["properties"], traits=document["traits"]
    )
    try:
        encoded = orjson.dumps(document)
    except orjson.JSONEncodeError as error:
        raise RowError(f"the event cannot be stored as JSON ({error})") from None
    if b"\\u0000" in encoded:
        raise RowError("the event holds a NUL character")
    row = _Row(line=line, raw=raw, document=document)
    if not options.match.by_id:
        data = {"event": {**raw, "type": event_type}}
        values = [lookup(data, reference) for reference in options.match.event_paths]
        values = [None if value is MISSING else value for value in values]
        key = options.match.profile_match.row_key(
            dict(zip(options.match.profile_match.paths, values, strict=True))
        )
        if key is None:
            names = ", ".join(str(reference) for reference in options.match.event_paths)
            raise RowError(f"no value to match the profile by: {names} is empty or missing")
        row.key = key
    return row


def _time(value) -> datetime:
    moment = None
    if isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
    if moment is None:
        raise RowError(
            f'the event\'s time ("time" or metadata.time.create) must be an ISO date-time, '
            f"got {value!r}"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not EARLIEST_TIME <= moment <= LATEST_TIME:
        raise RowError(f"the event's time {value!r} is out of range")
    return moment


def _nested_id(raw: dict, name: str) -> str | None:
    try:
        return nested_id(raw, name)
    except EventDataError as error:
        raise RowError(str(error)) from None


class _Context:
    def __init__(self, options, sources, needs_processing, hand_off, error_file, summary):
        self.options = options
        self.sources = sources
        self.needs_processing = needs_processing
        self.hand_off = hand_off
        self.error_file = error_file
        self.summary = summary

    def skip(self, line: int, reason: str, raw) -> None:
        self.summary.skipped += 1
        self.error_file.write(line, reason, raw)

    def write(self, batch: list[_Row]) -> None:
        now = timezone.now()
        with transaction.atomic():
            kept = self._attach_profiles(batch)
            stored_sessions = set(
                Session.objects.filter(
                    pk__in={row.document["session_id"] for row in kept} - {None}
                ).values_list("pk", flat=True)
            )
            rows = [self._stored_row(row, stored_sessions, now) for row in kept]
            stored: set[str] = set()
            if rows:
                with connection.cursor() as cursor:
                    cursor.execute(_INSERT, {"now": now, "rows": orjson.dumps(rows).decode()})
                    stored = {row[0] for row in cursor.fetchall()}
            queued: dict[str | None, list[str]] = {}
            for row in rows:
                if row["id"] in stored and row["status"] == Event.Status.COLLECTED:
                    queued.setdefault(row["profile_id"], []).append(row["id"])
            if self.hand_off is not None:
                for profile_id, event_ids in queued.items():
                    self.hand_off(event_ids=event_ids, profile_id=profile_id)
        self.summary.stored += len(stored)
        self.summary.already_stored += len(rows) - len(stored)
        self.summary.queued += sum(len(ids) for ids in queued.values())
        self.error_file.flush()

    def _attach_profiles(self, batch: list[_Row]) -> list[_Row]:
        match = self.options.match
        kept = []
        if match.by_id:
            found = ids_resolve(
                row.document["profile_id"] for row in batch if row.document["profile_id"]
            )
            for row in batch:
                named = row.document["profile_id"]
                if named and named not in found:
                    self.skip(row.line, _unknown_profile(f"profile {named!r}"), row.raw)
                    continue
                row.profile_id = found.get(named) if named else None
                kept.append(row)
            return kept
        holders = holders_find(match.profile_match, [row.key for row in batch])
        for row in batch:
            profile_ids = holders.get(row.key)
            if not profile_ids:
                self.skip(
                    row.line,
                    _unknown_profile(
                        f"the profile with {', '.join(match.profile_match.names)} = "
                        f"{', '.join(row.key)}"
                    ),
                    row.raw,
                )
                continue
            row.profile_id = profile_ids[0]
            kept.append(row)
        return kept

    def _stored_row(self, row: _Row, sessions: set[str], now: datetime) -> dict:
        document = row.document
        metadata = dict(document["metadata"])
        times = metadata.get("time") if isinstance(metadata.get("time"), dict) else {}
        metadata["time"] = {**times, "create": document["time"]}
        metadata.setdefault("time", {}).setdefault("insert", now.isoformat())
        metadata["profile_id"] = row.profile_id
        imported = {"at": now.isoformat()}
        session_id = document["session_id"]
        if session_id and session_id not in sessions:
            imported["session_id"] = session_id
            session_id = None
        metadata["imported"] = imported
        invalid = event_validation_error(
            event_type=document["type"], properties=document["properties"]
        )
        if invalid:
            status = Event.Status.INVALID
        elif self.needs_processing is not None and self.needs_processing(
            source_id=document["source_id"], event_type=document["type"]
        ):
            status = Event.Status.COLLECTED
        else:
            status = Event.Status.PROCESSED
        return {
            **document,
            "profile_id": row.profile_id,
            "session_id": session_id,
            "metadata": metadata,
            "status": status.value,
            "status_message": invalid or "",
        }


def _unknown_profile(what: str) -> str:
    return (
        f"{what} is not stored: import the profiles first (manage.py import_profiles), then "
        "run this import again (stored events are not stored twice)"
    )
