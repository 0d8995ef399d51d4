"""Writing one batch of rows: find the profiles, merge what is one person, apply the rows,
insert and update with one statement each, and report the changes (profile_changed).

Runs inside the caller's transaction (one per batch): a batch is written whole or not at all.
Updates travel to PostgreSQL as one JSON array parameter read by `jsonb_to_recordset` (as
apps.workflows.services.runs does), new profiles as one COPY: no per-row statements and no
ORM work per value.

Only what differs is written: a value equal to the stored one changes nothing, so a re-run of
the same file updates no row and stamps no field. Each changed field gets its update time in
`metadata.fields`, like every other writer of profiles (apps.profiles.services.writes).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from django.db import connection

from apps.core.ids import new_id
from apps.profiles.documents import new_profile_metadata
from apps.profiles.models import empty_profile_data
from apps.profiles.services.changes import profile_changed
from apps.profiles.services.imports.fields import CLEAR, Path, RowError, dotted
from apps.profiles.services.imports.matching import (
    ID_PATH,
    Key,
    Match,
    holders_find,
    holders_merge,
    ids_forgotten,
    ids_resolve,
)

# The columns an import reads and writes (besides id); `ids`, `segments`, `stats` and the
# visit bookkeeping are kept as they are.
_JSON_COLUMNS = ("metadata", "traits", "interests", "consents", "aux", "data")
_SELECT = (
    "SELECT id, primary_id, active, static_ids, created, metadata, traits, interests, "
    "consents, aux, data FROM profiles_profile WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
)
_UPDATE = """
UPDATE profiles_profile AS p SET
    primary_id = v.primary_id, active = v.active, metadata = v.metadata, traits = v.traits,
    interests = v.interests, aux = v.aux, data = v.data, updated = %(now)s
FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(
    id text, primary_id text, active bool, metadata jsonb, traits jsonb, interests jsonb,
    aux jsonb, data jsonb)
WHERE p.id = v.id
"""
_INSERT = """
INSERT INTO profiles_profile (
    id, primary_id, ids, static_ids, active, segments, created, updated, visit_count,
    metadata, stats, traits, interests, consents, aux, data)
SELECT v.id, v.primary_id, '{}', v.static_ids, v.active, '{}', %(now)s, %(now)s, 0,
       v.metadata, '{}', v.traits, v.interests, '{}', v.aux, v.data
FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(
    id text, primary_id text, static_ids text[], active bool, metadata jsonb, traits jsonb,
    interests jsonb, aux jsonb, data jsonb)
ON CONFLICT (id) DO NOTHING
RETURNING id
"""
# New profiles with ids made here (fresh UUIDs, no conflict possible) go in with COPY: faster
# than the statement above in a side-by-side run (45 against 51-93 ms per 1,000 profiles on
# the loaded machine), and it needs no JSON parsing in the server.
_COPY = (
    "COPY profiles_profile (id, primary_id, ids, static_ids, active, segments, created, "
    "updated, visit_count, metadata, stats, traits, interests, consents, aux, data) FROM STDIN"
)


@dataclass(slots=True)
class Row:
    line: int
    fields: dict[Path, Any]
    raw: Any = None


@dataclass(slots=True)
class BatchOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    merged: int = 0
    errors: list[tuple[Row, str]] = field(default_factory=list)


@dataclass(slots=True)
class _Target:
    profile_id: str
    document: dict
    new: bool
    rows: list[Row] = field(default_factory=list)
    changed: dict[str, None] = field(default_factory=dict)


def batch_write(rows: list[Row], *, match: Match, now: datetime, sync: bool) -> BatchOutcome:
    """Import `rows` (typed already) into the profiles; call inside a transaction."""
    outcome = BatchOutcome()
    groups = _group(rows, match, outcome)
    existing_ids = sorted({key for key, new in groups if not new})
    documents = _locked_documents(existing_ids)
    targets: list[_Target] = []
    stamp = now.isoformat()
    for (key, new), group_rows in groups.items():
        if new:
            profile_id = key if isinstance(key, str) else new_id()
            explicit_id = key if isinstance(key, str) else _row_id(group_rows)
            if explicit_id:
                profile_id = explicit_id
            target = _Target(profile_id, _new_document(profile_id, explicit_id, now), new=True)
        else:
            document = documents.get(key)
            if document is None:
                for row in group_rows:
                    outcome.errors.append(
                        (row, "the profile was merged or erased meanwhile; run the import again")
                    )
                continue
            target = _Target(key, document, new=False)
        for row in group_rows:
            try:
                _apply(target, row.fields)
            except RowError as error:
                outcome.errors.append((row, str(error)))
                continue
            target.rows.append(row)
        if target.rows:
            if target.changed:
                _stamp(target, stamp)
            targets.append(target)
    _write(targets, now, outcome)
    if sync:
        for target in targets:
            if target.new or target.changed:
                profile_changed(profile_id=target.profile_id, changed_fields=list(target.changed))
    return outcome


def _row_id(rows: list[Row]) -> str | None:
    for row in rows:
        value = row.fields.get(ID_PATH)
        if isinstance(value, str) and value:
            return value
    return None


def _group(
    rows: list[Row], match: Match, outcome: BatchOutcome
) -> dict[tuple[Any, bool], list[Row]]:
    """Rows by the profile they write: (existing profile id, False) or (new-profile key,
    True), in the order of the rows."""
    keyed: list[tuple[Row, Key | None]] = []
    for row in rows:
        key = match.row_key(row.fields)
        if key is None and not match.by_id:
            outcome.errors.append(
                (row, f"no value to match by: {', '.join(match.names)} is empty or missing")
            )
            continue
        keyed.append((row, key))
    row_ids = [row.fields[ID_PATH] for row, _ in keyed if isinstance(row.fields.get(ID_PATH), str)]
    by_id = ids_resolve(row_ids)
    forgotten = ids_forgotten(row_id for row_id in row_ids if row_id not in by_id)
    found: dict[Key, str] = {}
    if not match.by_id:
        holders = holders_find(match, [key for _, key in keyed if key is not None])
        for key, profile_ids in holders.items():
            if len(profile_ids) > 1:
                found[key] = holders_merge(profile_ids, match=match)
                outcome.merged += len(profile_ids) - 1
            else:
                found[key] = profile_ids[0]
    groups: dict[tuple[Any, bool], list[Row]] = {}
    for row, key in keyed:
        row_id = row.fields.get(ID_PATH)
        if row_id in forgotten:
            # As in identity resolution: an erased person's ids never name a profile again.
            outcome.errors.append(
                (row, f"the id {row_id!r} belonged to an erased person and is never used again")
            )
            continue
        if match.by_id:
            if key is None:
                group = (object(), True)  # no id: a new person
            elif key[0] in by_id:
                group = (by_id[key[0]], False)
            else:
                group = (key[0], True)
        elif key in found:
            group = (found[key], False)
        elif isinstance(row_id, str) and row_id in by_id:
            # Nobody holds the identifiers yet, but the row names a stored profile: it takes them.
            group = (by_id[row_id], False)
        else:
            group = (("key", key), True)
        groups.setdefault(group, []).append(row)
    return groups


def _locked_documents(profile_ids: list[str]) -> dict[str, dict]:
    if not profile_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_SELECT, [profile_ids])
        rows = cursor.fetchall()
    documents = {}
    for profile_id, primary_id, active, static_ids, _created, *json_values in rows:
        document = {
            "primary_id": primary_id,
            "active": active,
            "static_ids": static_ids,
        }
        for name, value in zip(_JSON_COLUMNS, json_values, strict=True):
            document[name] = orjson.loads(value) if isinstance(value, str | bytes) else value
        documents[profile_id] = document
    return documents


def _new_document(profile_id: str, explicit_id: str | None, now: datetime) -> dict:
    document = orjson.loads(_new_template(now))
    # An id from a file was chosen outside the CDP: it is no secret (identity rules).
    document["static_ids"] = [profile_id] if explicit_id else []
    return document


@functools.lru_cache(maxsize=4)
def _new_template(now: datetime) -> bytes:
    """A new profile's document as JSON, per batch time: decoding it with orjson is a cheap
    deep copy, with no Python code per key."""
    return orjson.dumps(
        {
            "primary_id": None,
            "active": True,
            "static_ids": [],
            "metadata": new_profile_metadata(now),
            "traits": {},
            "interests": {},
            "consents": {},
            "aux": {},
            "data": empty_profile_data(),
        }
    )


_ABSENT = object()


def _apply(target: _Target, fields: dict[Path, Any]) -> None:
    """Apply one row to the target's document, all its fields or (RowError) none; the changed
    paths are collected in `target.changed` (stamped once per profile, `_stamp`)."""
    document = target.document
    # A new profile holds only objects on the way to any field: only a row whose own fields
    # overlap (traits.a and traits.a.b) can cross a value there.
    if not (target.new and _prefix_free(tuple(fields))):
        for path in fields:
            if len(path) > 1:
                _check_path(document, path)
    changed = target.changed
    for path, value in fields.items():
        if len(path) == 1:
            name = path[0]
            if name == "id":
                continue
            new = None if value is CLEAR else value
            if name == "active" and new is None:
                continue
            if document[name] != new:
                document[name] = new
                changed[dotted(path)] = None
            continue
        node = document[path[0]]
        if value is CLEAR:
            for key in path[1:-1]:
                node = node.get(key)
                if not isinstance(node, dict):
                    break
            else:
                if path[-1] in node:
                    del node[path[-1]]
                    changed[dotted(path)] = None
            continue
        for key in path[1:-1]:
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            node = child
        current = node.get(path[-1], _ABSENT)
        if current is _ABSENT or current != value or type(current) is not type(value):
            node[path[-1]] = value
            changed[dotted(path)] = None


@functools.lru_cache(maxsize=256)
def _prefix_free(paths: tuple[Path, ...]) -> bool:
    """No path is a proper prefix of another (a CSV header's columns, typically)."""
    prefixes = {path[:depth] for path in paths for depth in range(1, len(path))}
    return not any(path in prefixes for path in paths)


def _check_path(document: dict, path: Path) -> None:
    node = document.get(path[0])
    for depth, key in enumerate(path[1:-1], start=2):
        if not isinstance(node, dict):
            break
        node = node.get(key)
        if node is not None and not isinstance(node, dict):
            raise RowError(
                f"{dotted(path)}: the profile holds a {type(node).__name__} at "
                f"{dotted(path[:depth])}, not an object"
            )


def _stamp(target: _Target, stamp: str) -> None:
    """Each changed path's update time in metadata.fields, and metadata.time.update."""
    metadata = target.document["metadata"]
    if not isinstance(metadata, dict):
        metadata = target.document["metadata"] = {}
    fields = metadata.get("fields")
    if not isinstance(fields, dict):
        fields = metadata["fields"] = {}
    fields.update(dict.fromkeys(target.changed, stamp))
    times = metadata.get("time")
    if not isinstance(times, dict):
        times = metadata["time"] = {}
    times["update"] = stamp


def _write(targets: list[_Target], now: datetime, outcome: BatchOutcome) -> None:
    inserts = [target for target in targets if target.new]
    updates = [target for target in targets if not target.new and target.changed]
    outcome.unchanged += sum(1 for target in targets if not target.new and not target.changed)
    with connection.cursor() as cursor:
        if updates:
            cursor.execute(_UPDATE, {"now": now, "rows": _rows_json(updates)})
            outcome.updated.extend(target.profile_id for target in updates)
        generated = [target for target in inserts if not target.document["static_ids"]]
        if generated:
            _copy(cursor, generated, now)
            outcome.created.extend(target.profile_id for target in generated)
        chosen = [target for target in inserts if target.document["static_ids"]]
        if chosen:
            cursor.execute(_INSERT, {"now": now, "rows": _rows_json(chosen)})
            stored = {row[0] for row in cursor.fetchall()}
            for target in chosen:
                if target.profile_id in stored:
                    outcome.created.append(target.profile_id)
                    continue
                # A profile with this id was created since the lookup (a tracked visit with a
                # static id): the next run finds and updates it.
                for row in target.rows:
                    outcome.errors.append(
                        (
                            row,
                            f"profile {target.profile_id} was created meanwhile; run the "
                            "import again to update it",
                        )
                    )
            targets[:] = [t for t in targets if t not in chosen or t.profile_id in stored]


def _copy(cursor, targets: list[_Target], now: datetime) -> None:
    """The rows as COPY text lines, built here: psycopg's per-value dumpers (the three empty
    arrays and two times of each row) were a tenth of the import's CPU in a profile."""
    dumps = orjson.dumps
    fixed_now = now.isoformat()
    lines = []
    for target in targets:
        document = target.document
        primary_id = document["primary_id"]
        lines.append(
            "\t".join(
                (
                    _copy_text(target.profile_id),
                    "\\N" if primary_id is None else _copy_text(primary_id),
                    "{}",
                    "{}",
                    "t" if document["active"] else "f",
                    "{}",
                    fixed_now,
                    fixed_now,
                    "0",
                    _copy_text(dumps(document["metadata"]).decode()),
                    "{}",
                    _copy_text(dumps(document["traits"]).decode()),
                    _copy_text(dumps(document["interests"]).decode()),
                    "{}",
                    _copy_text(dumps(document["aux"]).decode()),
                    _copy_text(dumps(document["data"]).decode()),
                )
            )
        )
    with cursor.cursor.copy(_COPY) as copy:
        copy.write("\n".join(lines) + "\n")


def _copy_text(text: str) -> str:
    """A value in COPY's text format: backslash, tab, newline and carriage return escaped."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _rows_json(targets: list[_Target]) -> str:
    rows = []
    for target in targets:
        document = target.document
        rows.append(
            {
                "id": target.profile_id,
                "primary_id": document["primary_id"],
                "active": document["active"],
                "static_ids": document["static_ids"],
                "metadata": document["metadata"],
                "traits": document["traits"],
                "interests": document["interests"],
                "aux": document["aux"],
                "data": document["data"],
            }
        )
    return orjson.dumps(rows).decode()
