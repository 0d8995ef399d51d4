"""Saving changes made to a profile held in memory (workflow runs, event mapping, merges,
imports).

A writer takes `profile_snapshot(profile)`, changes a deep copy of it as a plain dict, and
calls `profile_save_changes(profile_id=..., before=snapshot, after=changed)`. Only the leaf
paths that differ are written, onto the row as it is now (read under a row lock), so a
concurrent writer of other fields (e.g. the tracking pipeline counting a visit) loses
nothing. Each changed path gets an update time in `metadata.fields`, `metadata.time.update`
is set, and `profile_changed` runs after the transaction commits.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
from django.db import transaction
from django.utils import timezone

from apps.profiles.changes import profile_changed
from apps.profiles.models import Profile, empty_profile_data

# Profile columns a writer may change, by their name in the profile dict (Tracardi's shape).
WRITABLE_FIELDS = (
    "primary_id",
    "ids",
    "active",
    "segments",
    "metadata",
    "stats",
    "traits",
    "interests",
    "consents",
    "aux",
    "data",
)
# Kept by this module, not diffed: the bookkeeping of the change itself.
_BOOKKEEPING = {("metadata", "fields"), ("metadata", "time", "update")}
_ABSENT = object()

Path = tuple[str, ...]


def profile_snapshot(profile: Profile) -> dict:
    """The profile as a plain dict in Tracardi's shape; a deep copy, safe to change."""
    return copy.deepcopy(
        {
            "id": profile.id,
            "primary_id": profile.primary_id,
            "ids": list(profile.ids or []),
            "active": profile.active,
            "segments": list(profile.segments or []),
            "metadata": profile.metadata or {},
            "stats": profile.stats or {},
            "traits": profile.traits or {},
            "interests": profile.interests or {},
            "consents": profile.consents or {},
            "aux": profile.aux or {},
            "data": profile.data or {},
        }
    )


def empty_profile_document(profile_id: str) -> dict:
    """A profile that is not stored, in the same shape (e.g. for an unsaved profile)."""
    return {
        "id": profile_id,
        "primary_id": None,
        "ids": [],
        "active": True,
        "segments": [],
        "metadata": {},
        "stats": {},
        "traits": {},
        "interests": {},
        "consents": {},
        "aux": {},
        "data": empty_profile_data(),
    }


def profile_changed_paths(before: dict, after: dict) -> list[Path]:
    """Leaf paths whose values differ (a removed key is one path; lists compare whole)."""
    paths: list[Path] = []
    for field in WRITABLE_FIELDS:
        paths.extend(_diff((field,), before.get(field, _ABSENT), after.get(field, _ABSENT)))
    return [path for path in paths if not _is_bookkeeping(path)]


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

    Joins the caller's transaction if there is one. A profile deleted meanwhile is skipped.
    """
    paths = profile_changed_paths(before, after)
    if not paths:
        return []
    now = now or timezone.now()
    stamp = now.isoformat()
    changed = [dot_path(path) for path in paths]
    with transaction.atomic():
        profile = Profile.objects.select_for_update().filter(pk=profile_id).first()
        if profile is None:
            return []
        current = {field: getattr(profile, field) for field in WRITABLE_FIELDS}
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
        # One UPDATE of the changed columns (no model save machinery: this runs per batch).
        Profile.objects.filter(pk=profile_id).update(
            **{column: current[column] for column in sorted(columns)}, updated=now
        )
        transaction.on_commit(
            lambda: profile_changed(profile_id=profile_id, changed_fields=changed)
        )
    return changed


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
