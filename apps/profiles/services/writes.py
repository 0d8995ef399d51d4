"""Saving changes made to a profile held in memory (workflow runs, event mapping, merges,
imports, the admin's edit page).

A writer takes `profile_document(profile)`, changes a deep copy of it as a plain dict, and
calls `profile_save_changes(profile_id=..., before=snapshot, after=changed)`. Only the leaf
paths that differ are written, onto the row as it is now (read under a row lock), so a
concurrent writer of other fields (e.g. the tracking pipeline counting a visit) loses
nothing. Each changed path gets an update time in `metadata.fields`, `metadata.time.update`
is set, and `profile_changed` runs in the same transaction.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.profiles.consents import consents_copy, consents_next_revoke
from apps.profiles.documents import DOCUMENT_FIELDS, profile_document
from apps.profiles.models import ConsentChange, Profile
from apps.profiles.services.changes import profile_changed
from apps.profiles.services.consent_history import ConsentHistory
from apps.profiles.services.segment_history import Cause, segment_transitions_record

logger = logging.getLogger(__name__)

# Kept by this module, not diffed: the bookkeeping of the change itself.
_BOOKKEEPING = {("metadata", "fields"), ("metadata", "time", "update")}
_ABSENT = object()

Path = tuple[str, ...]


def profile_changed_paths(before: dict, after: dict) -> list[Path]:
    """Leaf paths whose values differ (a removed key is one path; lists compare whole)."""
    paths: list[Path] = []
    for field in DOCUMENT_FIELDS:
        old, new = before.get(field, _ABSENT), after.get(field, _ABSENT)
        if not _same_json(old, new):
            paths.extend(_diff((field,), old, new))
    return [path for path in paths if not _is_bookkeeping(path)]


def _same_json(old: Any, new: Any) -> bool:
    """True when both encode to the same JSON text: then no leaf differs (a workflow leaves
    most fields alone, and walking them cost a tenth of an answering request). Unlike `==`,
    this tells 1 from 1.0 and from true, as `_diff` does. False when unsure (keys in another
    order, values JSON cannot say): `_diff` then decides."""
    if old is _ABSENT or new is _ABSENT:
        return old is new
    try:
        return orjson.dumps(old) == orjson.dumps(new)
    except (TypeError, orjson.JSONEncodeError):
        return False


def _diff(path: Path, old: Any, new: Any) -> Iterator[Path]:
    if isinstance(old, dict) and isinstance(new, dict) and len(path) < 32:
        for key in old.keys() | new.keys():
            yield from _diff((*path, str(key)), old.get(key, _ABSENT), new.get(key, _ABSENT))
    elif isinstance(new, dict) and new and old is _ABSENT and len(path) < 32:
        for key, value in new.items():
            yield from _diff((*path, str(key)), _ABSENT, value)
    elif old != new or type(old) is not type(new):
        yield path


def _is_bookkeeping(path: Path) -> bool:
    return any(path[: len(prefix)] == prefix for prefix in _BOOKKEEPING)


def dot_path(path: Path) -> str:
    return ".".join(key.replace(".", "\\.") for key in path)


def profile_save_changes(
    *, profile_id: str, before: dict, after: dict, now: datetime | None = None
) -> list[str]:
    """Write what differs between `before` and `after` to the profile; return the changed dot
    paths (empty when nothing changed, and then nothing is written).

    Joins the caller's transaction if there is one, and so do the subscribers of the change.
    A profile deleted meanwhile is skipped. A change of `segments` is recorded in the segment
    history with cause "workflow": workflow runs are the writers here that change segments
    (event mappings, the admin's edit page and imports may not).
    """
    paths = profile_changed_paths(before, after)
    if not paths:
        return []
    now = now or timezone.now()
    with transaction.atomic():
        profile = Profile.objects.select_for_update().filter(pk=profile_id).first()
        if profile is None:
            return []
        values, changed = _changed_values(profile, paths, after, now)
        # One UPDATE of the changed columns (no model save machinery: this runs per batch).
        Profile.objects.filter(pk=profile_id).update(**values, updated=now)
        profile_changed(profile_id=profile_id, changed_fields=changed)
    return changed


def profiles_save_changes(
    *, changes: Sequence[tuple[str, dict, dict]], now: datetime | None = None
) -> dict[str, list[str]]:
    """`profile_save_changes` for many profiles at once, (profile id, before, after) each: the
    rows are read under lock in one query and written in one statement, then each change is
    reported (`profile_changed`) as the single writer does. For writers of many profiles in
    one transaction (resumed workflow branches: apps.tracking.resume), where a round trip
    per profile would cost more than the workflows. Returns the changed paths by profile."""
    return profiles_write_changes(profiles_changes(changes), now=now)


# What differs per profile: its changed paths and the document to take them from.
ProfileChanges = dict[str, tuple[list[Path], dict]]


def profiles_changes(changes: Sequence[tuple[str, dict, dict]]) -> ProfileChanges:
    """The first half of `profiles_save_changes`: the changed paths of each (profile id,
    before, after), for the profiles that changed at all. No database work."""
    wanted = {}
    for profile_id, before, after in changes:
        paths = profile_changed_paths(before, after)
        if paths:
            wanted[profile_id] = (paths, after)
    return wanted


def profiles_write_changes(
    wanted: ProfileChanges, *, now: datetime | None = None
) -> dict[str, list[str]]:
    """The second half of `profiles_save_changes`: write and report `profiles_changes`."""
    if not wanted:
        return {}
    now = now or timezone.now()
    changed_by_profile: dict[str, list[str]] = {}
    with transaction.atomic():
        profiles = list(
            Profile.objects.select_for_update().filter(pk__in=list(wanted)).order_by("pk")
        )
        columns: set[str] = set()
        rows: list[tuple[Profile, dict]] = []
        for profile in profiles:
            paths, after = wanted[profile.pk]
            values, changed = _changed_values(profile, paths, after, now)
            changed_by_profile[profile.pk] = changed
            columns.update(values)
            rows.append((profile, values))
        _rows_update(rows, columns, now)
        for profile_id, changed in changed_by_profile.items():
            profile_changed(profile_id=profile_id, changed_fields=changed)
    return changed_by_profile


# How a column is read back from the JSON of `_rows_update` (Profile's column types).
_FROM_JSON = {
    "JSONField": "NULLIF(r.data -> '{0}', 'null'::jsonb)",
    "ArrayField": "ARRAY(SELECT jsonb_array_elements_text(r.data -> '{0}'))",
    "BooleanField": "(r.data ->> '{0}')::boolean",
    "CharField": "r.data ->> '{0}'",
    "TextField": "r.data ->> '{0}'",
    "DateTimeField": "(r.data ->> '{0}')::timestamptz",
}


def _rows_update(rows: list[tuple[Profile, dict]], columns: set[str], now: datetime) -> None:
    """One UPDATE for the batch: each row's changed columns, and its current value (read under
    the lock) for the columns only other rows changed. The rows travel as one JSON parameter;
    column names come from the model."""
    names = sorted(columns)
    fields = {name: Profile._meta.get_field(name) for name in names}
    data = []
    for profile, values in rows:
        row = {"id": profile.pk}
        for name in names:
            row[name] = values[name] if name in values else getattr(profile, name)
        data.append(row)
    assignments = ", ".join(
        f"{fields[name].column} = {_FROM_JSON[fields[name].get_internal_type()].format(name)}"
        for name in names
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Profile._meta.db_table} AS p SET {assignments}, updated = %s "
            "FROM jsonb_array_elements(%s::jsonb) AS r(data) WHERE p.id = r.data ->> 'id'",
            [now, orjson.dumps(data, default=str).decode()],
        )


def _changed_values(
    profile: Profile, paths: list[Path], after: dict, now: datetime
) -> tuple[dict[str, Any], list[str]]:
    """The column values of the locked `profile` with `paths` of `after` written on them, with
    their update stamps (and the segment transitions recorded); and the changed dot paths."""
    stamp = now.isoformat()
    changed = [dot_path(path) for path in paths]
    current = {field: getattr(profile, field) for field in DOCUMENT_FIELDS}
    for path in paths:
        value = _get(after, path)
        if value is _ABSENT:
            _remove(current, path)
        else:
            _set(current, path, _jsonable(value))
    metadata = current["metadata"] if isinstance(current["metadata"], dict) else {}
    fields = metadata.setdefault("fields", {})
    for name in changed:
        fields[name] = stamp
    metadata.setdefault("time", {})["update"] = stamp
    current["metadata"] = metadata
    columns = {path[0] for path in paths} | {"metadata"}
    if "segments" in columns:
        segment_transitions_record(
            profile_id=profile.pk,
            before=profile.segments,
            after=current["segments"],
            cause=Cause.WORKFLOW,
            at=now,
        )
    values = {column: current[column] for column in sorted(columns)}
    if "consents" in columns:
        # The auto-revoke job finds profiles by this column (models.Profile).
        values["consents_next_revoke"] = consents_next_revoke(current["consents"])
    return values, changed


def _get(document: dict, path: Path) -> Any:
    node: Any = document
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return _ABSENT
        node = node[key]
    return node


def _set(document: dict, path: Path, value: Any) -> None:
    if len(path) == 1:
        document[path[0]] = _column_value(path[0], value)
        return
    node = document.get(path[0])
    if not isinstance(node, dict):
        node = document[path[0]] = {}
    for key in path[1:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = value


def _column_value(column: str, value: Any) -> Any:
    """Values for the typed columns, coerced: a workflow may write any JSON anywhere."""
    if column in ("ids", "segments"):
        items = value if isinstance(value, list) else [] if value is None else [value]
        return [item if isinstance(item, str) else orjson.dumps(item).decode() for item in items]
    if column == "active":
        return bool(value)
    if column == "primary_id":
        return None if value is None else str(value)[:200]
    return value if isinstance(value, dict) else {}


def _remove(document: dict, path: Path) -> None:
    if len(path) == 1:
        # A column cannot be absent: a removed one is emptied (active stays as it was).
        if path[0] != "active":
            document[path[0]] = _column_value(path[0], None)
        return
    parent = _get(document, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


def _jsonable(value: Any) -> Any:
    """Plain JSON values (datetimes as ISO text), as the JSON columns store them."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))


# Top-level profile objects a person may replace by hand (the admin's edit page), and their
# expected types. The rest (ids, segments, metadata, stats) is kept by the CDP itself.
EDITABLE_FIELDS: dict[str, type] = {
    "active": bool,
    "traits": dict,
    "interests": dict,
    "consents": dict,
    "aux": dict,
    "data": dict,
}


def profile_edit(*, profile_id: str, changes: dict, actor: str) -> list[str]:
    """Replace some of a profile's top-level objects (see EDITABLE_FIELDS) by hand; return the
    changed dot paths (empty when nothing changed).

    Saved through profile_save_changes, like every other writer, so the changed paths are
    stamped in metadata.fields and `profile_changed` (live segments, destination syncs) runs
    in the same transaction. Raises ValidationError naming the field for a value of the wrong
    type, and Profile.DoesNotExist for an unknown id; nothing is written then. Consents
    granted or removed here are recorded in the consent history as the actor's.
    """
    errors = {}
    for field, value in changes.items():
        expected = EDITABLE_FIELDS.get(field)
        if expected is None:
            errors[field] = [
                f"'{field}' cannot be edited; editable fields: {', '.join(EDITABLE_FIELDS)}."
            ]
        elif not isinstance(value, expected):
            kind = "true or false" if expected is bool else "a JSON object ({...})"
            errors[field] = [f"'{field}' must be {kind}, not {type(value).__name__}."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        try:
            profile = Profile.objects.select_for_update().get(pk=profile_id)
        except Profile.DoesNotExist:
            raise Profile.DoesNotExist(f"No profile with id {profile_id!r}.") from None
        before = profile_document(profile)
        after = {**profile_document(profile), **copy.deepcopy(changes)}
        now = timezone.now()
        changed = profile_save_changes(profile_id=profile_id, before=before, after=after, now=now)
        history = ConsentHistory()
        history.note(
            before=consents_copy(before),
            after=after,
            via=ConsentChange.Via.ADMIN,
            by=actor,
            at=now,
        )
        history.save(profile_id=profile_id)
    if changed:
        logger.info("Profile %s edited by %s: %s", profile_id, actor, ", ".join(changed))
    return changed
