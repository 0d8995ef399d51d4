"""Merging profiles that belong to one person (undone by apps.profiles.services.merge_undo).

Semantics (Tracardi's, DESIGN §4.2):
- The survivor is the profile of the *first* id given and keeps its id; callers put first the
  profile that should survive (identification: the profile that already held the identifier;
  `profiles_merge_by`: the current profile; the admin action: the most recently updated one).
- `ids` becomes the union of every id involved, so a client holding an old id still finds the
  survivor (profile lookups match `ids`).
- traits, data, aux, stats and interests are deep-merged, each merged profile applied onto the
  survivor in the order given: objects merge key by key, numbers add, lists append the values
  they lack, anything else (strings, booleans) is overridden by the merged profile's value
  unless that is null. Segments are unioned, consents updated key by key, visit counts summed
  (`stats.visits` is set to the sum; `stats.views`, page views, add up as numbers do).
- The rows that follow a profile (apps.profiles.hooks: sessions, consent history, events,
  workflow runs, deliveries) are re-pointed to the survivor with one UPDATE per table, after
  each follower's `before_merge`, and the merged rows are deleted. Their segment history moves
  too, and the segments the survivor gains are recorded in its history (cause "merge").
  `profile_changed` runs in the merge's transaction.

Concurrency: all involved rows are locked with SELECT ... FOR UPDATE in id order, and the ids
are resolved again after locking (a merge that committed meanwhile may have moved them into
another profile), so two merges of the same people end in one survivor.

Beyond Tracardi: every merge writes a MergeRecord with snapshots of all profiles before it and
the ids of every row it re-pointed (by follower key); `merge_undo` restores them exactly.
"""

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import OperationalError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.profiles.consents import consents_next_revoke
from apps.profiles.documents import DOCUMENT_FIELDS, profile_document
from apps.profiles.hooks import profile_followers
from apps.profiles.models import MergeRecord, Profile
from apps.profiles.selectors import profile_find
from apps.profiles.services.changes import profile_changed
from apps.profiles.services.identifiers import (
    identifier_holders,
    identifier_lock,
    identifier_values,
)
from apps.profiles.services.segment_history import (
    MERGE_KEY,
    Cause,
    segment_transitions_move,
    segment_transitions_record,
)

# Deep-merged: numbers add, lists union, strings override.
_DEEP_MERGED = ("traits", "data", "aux", "stats", "interests")
_LOCK_ATTEMPTS = 5
DEADLOCK_DETECTED = "40P01"


class MergeError(Exception):
    """A merge or an undo that cannot be done; the message says why and what to do."""


def profiles_merge(*, profile_ids: Sequence[str], reason: str, actor: str) -> Profile:
    """Merge the profiles of `profile_ids` into the profile of the first id (see module doc).

    Ids may be profile ids or ids merged earlier; unknown ids are ignored. Returns the survivor
    (unchanged, and no MergeRecord written, when the ids name fewer than two profiles)."""
    requested = list(dict.fromkeys(pid for pid in profile_ids if pid))
    if not requested:
        raise MergeError("Give at least one profile id to merge.")
    for _ in range(_LOCK_ATTEMPTS):
        try:
            # A savepoint per attempt: giving up an attempt releases the row locks it took.
            with transaction.atomic():
                return _merge_locked(requested, reason=reason, actor=actor)
        except _Moved:
            continue
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != DEADLOCK_DETECTED:
                raise
            # Chosen as the victim of a deadlock with a writer outside this module (or a
            # caller's earlier lock): the attempt was rolled back, try again.
            continue
    raise MergeError("The profiles kept changing while merging them; try again.")


class _Moved(Exception):
    """The ids moved to other profiles between resolving and locking them."""


def _merge_locked(requested: list[str], *, reason: str, actor: str) -> Profile:
    by_id = _lock_resolved(requested)
    if requested[0] not in by_id:
        raise MergeError(f"No profile has the id {requested[0]!r} (nor merged it earlier).")
    survivor = by_id[requested[0]]
    others: list[Profile] = []
    for pid in requested[1:]:
        profile = by_id.get(pid)
        if profile is not None and profile.pk != survivor.pk and profile not in others:
            others.append(profile)
    if others:
        _merge(survivor, others, reason=reason, actor=actor)
    return survivor


def profiles_merge_by(*, profile_id: str, merge_by: Sequence[str]) -> Profile | None:
    """The `merge profiles` workflow action: merge into the profile of `profile_id` every other
    profile with the same values at the `merge_by` profile fields (e.g. data.contact.email.main).

    Returns the survivor, or None when the profile lacks a value or nobody else shares them."""
    paths = [path.removeprefix("profile@") for path in merge_by if path.strip()]
    if not paths:
        raise MergeError(
            "Name at least one profile field to merge by, e.g. data.contact.email.main"
        )
    with transaction.atomic():
        profile = profile_find(profile_id=profile_id)
        if profile is None:
            return None
        values = identifier_values(profile_document(profile), paths)
        if values is None:
            return None
        identifier_lock(paths, values)
        holders = list(
            identifier_holders(paths, values)
            .exclude(pk=profile.pk)
            .order_by("created", "pk")
            .values_list("pk", flat=True)
        )
        if not holders:
            return None
        return profiles_merge(
            profile_ids=[profile.pk, *holders],
            reason=f"Same {', '.join(paths)}",
            actor="workflow: merge profiles",
        )


def _lock_resolved(ids: list[str]) -> dict[str, Profile]:
    """Lock the profiles that hold `ids` (as their id or a merged id) in id order, and map each
    requested id to its locked profile.

    A merge that committed while this one waited for a lock may have moved ids into a profile
    not locked here: then the ids are resolved and locked again from scratch (`_Moved` rolls
    back the attempt), never by locking one more row out of order, which could deadlock."""
    holders = _holders_of(ids)
    locked = list(Profile.objects.select_for_update().filter(pk__in=sorted(holders)).order_by("pk"))
    # Locked rows are as the last committed merge left them; rows it deleted are not returned.
    if not _holders_of(ids) <= {profile.pk for profile in locked}:
        raise _Moved
    return _map_ids(ids, locked)


def _holders_of(ids: list[str]) -> set[str]:
    return set(
        Profile.objects.filter(Q(pk__in=ids) | Q(ids__overlap=ids)).values_list("pk", flat=True)
    )


def _map_ids(ids: list[str], profiles: Iterable[Profile]) -> dict[str, Profile]:
    profiles = list(profiles)
    by_id: dict[str, Profile] = {}
    for profile in profiles:
        if profile.pk in ids:
            by_id[profile.pk] = profile
    for profile in profiles:
        for merged_id in profile.ids:
            if merged_id in ids:
                by_id.setdefault(merged_id, profile)
    return by_id


def _merge(survivor: Profile, others: list[Profile], *, reason: str, actor: str) -> MergeRecord:
    now = timezone.now()
    survivor_before = profile_row_snapshot(survivor)
    merged_snapshots = [profile_row_snapshot(profile) for profile in others]
    merged_ids = [profile.pk for profile in others]

    document = profile_document(survivor)
    for profile in others:
        _merge_documents(document, profile_document(profile))
    all_ids = [*survivor.ids]
    for profile in others:
        all_ids.extend([profile.pk, *profile.ids])
    document["ids"] = [pid for pid in dict.fromkeys(all_ids) if pid != survivor.pk]
    document["metadata"].setdefault("time", {})["update"] = now.isoformat()
    visit_count = sum(profile.visit_count for profile in [survivor, *others])
    # Tracardi's stats.visits is the visit count (a profile from before it was kept, or
    # imported without it, would make the deep merge's sum fall short); stats.views add up.
    if visit_count or "visits" in document["stats"]:
        document["stats"]["visits"] = visit_count

    repointed = _repoint(merged_ids, survivor.pk)
    # Their segment history goes with them, or the delete below would cascade to it.
    moved_history = segment_transitions_move(from_ids=merged_ids, to_id=survivor.pk)
    if moved_history:
        repointed[MERGE_KEY] = moved_history
    Profile.objects.filter(pk__in=merged_ids).delete()
    segment_transitions_record(
        profile_id=survivor.pk,
        before=survivor.segments,
        after=document["segments"],
        cause=Cause.MERGE,
        at=now,
    )

    changed = [name for name in DOCUMENT_FIELDS if document[name] != getattr(survivor, name)]
    for name in DOCUMENT_FIELDS:
        setattr(survivor, name, document[name])
    # A merged static id stays static: it resolves to the survivor only where static ids do.
    survivor.static_ids = list(
        dict.fromkeys(pid for profile in [survivor, *others] for pid in profile.static_ids)
    )
    survivor.visit_count = visit_count
    survivor.consents_next_revoke = consents_next_revoke(survivor.consents)
    survivor.created = min(profile.created for profile in [survivor, *others])
    survivor.updated = now
    survivor.save()
    record = MergeRecord.objects.create(
        survivor_id=survivor.pk,
        merged_ids=merged_ids,
        reason=reason,
        actor=actor,
        created=now,
        survivor_before=survivor_before,
        merged_profiles=merged_snapshots,
        repointed=repointed,
    )
    profile_changed(profile_id=survivor.pk, changed_fields=changed)
    return record


def _merge_documents(target: dict, source: dict) -> None:
    for name in _DEEP_MERGED:
        target[name] = _deep_merge(target.get(name) or {}, source.get(name) or {})
    target["segments"] = list(dict.fromkeys([*target["segments"], *source["segments"]]))
    target["consents"] = {**(target.get("consents") or {}), **(source.get("consents") or {})}
    target["active"] = bool(target.get("active") or source.get("active"))
    target["primary_id"] = target.get("primary_id") or source.get("primary_id")
    target["metadata"] = _merge_metadata(target.get("metadata") or {}, source.get("metadata") or {})


def _deep_merge(target, source):
    if source is None:
        return target
    if isinstance(target, dict) and isinstance(source, dict):
        merged = dict(target)
        for key, value in source.items():
            merged[key] = _deep_merge(target[key], value) if key in target else copy.deepcopy(value)
        return merged
    if _is_number(target) and _is_number(source):
        return target + source
    if isinstance(target, list) and isinstance(source, list):
        merged_list = list(target)
        for item in source:
            if item not in merged_list:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(source)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _merge_metadata(target: dict, source: dict) -> dict:
    merged = copy.deepcopy(target)
    time_target = merged.setdefault("time", {})
    time_source = source.get("time") or {}
    for key in ("insert", "create"):
        time_target[key] = _earliest(time_target.get(key), time_source.get(key))
    visit_target = time_target.get("visit") or {}
    visit_source = time_source.get("visit") or {}
    if visit_target or visit_source:
        times = sorted(
            t
            for t in (
                visit_target.get("last"),
                visit_target.get("current"),
                visit_source.get("last"),
                visit_source.get("current"),
            )
            if t
        )
        time_target["visit"] = {
            **visit_source,
            **visit_target,
            "count": int(visit_target.get("count") or 0) + int(visit_source.get("count") or 0),
            "current": times[-1] if times else None,
            "last": times[-2] if len(times) > 1 else None,
        }
    fields = merged.setdefault("fields", {})
    for path, stamp in (source.get("fields") or {}).items():
        fields[path] = max(fields.get(path) or "", stamp or "") or stamp
    for key, value in source.items():
        if key not in ("time", "fields") and key not in merged:
            merged[key] = copy.deepcopy(value)
    return merged


def _earliest(first: str | None, second: str | None) -> str | None:
    parsed = [(parse_datetime(text), text) for text in (first, second) if text]
    parsed = [(moment, text) for moment, text in parsed if moment is not None]
    return min(parsed)[1] if parsed else first or second


def _repoint(from_ids: list[str], to_id: str) -> dict[str, dict[str, list[str]]]:
    """Move the rows of every follower from the merged profiles to the survivor; return
    {follower key: {old profile id: [row ids]}} for the merge record."""
    repointed: dict[str, dict[str, list[str]]] = {}
    for follower in profile_followers():
        if follower.before_merge is not None:
            follower.before_merge(from_ids, to_id)
        repointed[follower.key] = _repoint_table(follower.model, from_ids, to_id)
    return repointed


def _repoint_table(
    model: type[models.Model], from_ids: list[str], to_id: str
) -> dict[str, list[str]]:
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.get_field("profile").column)
    pk = connection.ops.quote_name(model._meta.pk.column)
    # One statement that moves the rows and reports which profile each came from. Names are
    # this code's constants (quoted); values are parameters.
    sql = (
        f"WITH moved AS (SELECT {pk} AS row_id, {column} AS old_profile FROM {table} "
        f"WHERE {column} = ANY(%s) FOR UPDATE) "
        f"UPDATE {table} SET {column} = %s FROM moved WHERE {table}.{pk} = moved.row_id "
        f"RETURNING moved.row_id, moved.old_profile"
    )
    moved: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(from_ids), to_id])
        for row_id, old_profile in cursor.fetchall():
            moved.setdefault(old_profile, []).append(str(row_id))
    for ids in moved.values():
        ids.sort()
    return moved


def profile_row_snapshot(profile: Profile) -> dict:
    """Every column of the profile as JSON (datetimes as ISO text): restorable exactly."""
    snapshot = {}
    for field in Profile._meta.concrete_fields:
        value = getattr(profile, field.attname)
        if isinstance(value, datetime):
            value = value.isoformat()
        snapshot[field.attname] = copy.deepcopy(value)
    return snapshot
