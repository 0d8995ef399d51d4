"""Resuming parked branches (issue 18): the beat job for those that are due, and the wake-up of
"Wait for an event" branches by the worker that processes the awaited event.

Due branches: one transaction per batch. One statement claims the batch (`UPDATE ... SET
status = 'resumed' WHERE id IN (SELECT ... ORDER BY due_at LIMIT n FOR UPDATE SKIP LOCKED)
RETURNING ...`), so two jobs at once take different rows; then the job takes each profile's
processing lock (processing.profile_lock's key) without waiting: a profile whose events a
worker is processing right now is put back to wait for the next tick (it never blocks, so it
cannot deadlock with that worker, which may be waiting for these rows). The branches run from
their Wait node, the profiles are saved together (`profiles_save_changes`: one locking read and
one write for the batch; segments and destination syncs follow as for any run), the runs'
logs are extended in one statement and the branches that wait again are inserted, all in the
same transaction. A worker killed mid-batch rolls it all back: the rows are waiting again,
none ran twice.

Wake-up: `parked_wake` (workflows.services.parking) runs inside processing.events_run, under
the profile's lock, for an event whose type some "Wait for an event" node waits for. It takes
the profile's branches waiting for that type that are not yet due (those past due are the
job's: they time out) with SKIP LOCKED, runs them from their `event` port with the new event
as the payload, on the batch's profile document (saved with the batch).

Follow-ups: the services return what their branches left for the workers (injected events),
the task enqueues them. A merge asked for by a resumed branch is not done (logged on the node).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.core.rows import rows_fetch
from apps.profiles.documents import DOCUMENT_FIELDS, profile_document_of, session_document
from apps.profiles.models import Profile, Session
from apps.profiles.services.writes import profiles_save_changes
from apps.tracking.effects import StoredEffects
from apps.tracking.processing import PROFILE_LOCK_NAMESPACE, Processed, profile_lock_key
from apps.workflows.models import ParkedRun
from apps.workflows.services.parking import (
    PARKED_COLUMNS,
    ResumedRun,
    parked_branch_run,
    parked_rows_read,
    parked_runs_insert,
    runs_record_resumed,
)

logger = logging.getLogger(__name__)

_TABLE = ParkedRun._meta.db_table
_CLAIM_DUE = f"""
UPDATE {_TABLE} SET status = 'resumed', finished = %(now)s, outcome = due_port
WHERE id IN (
    SELECT id FROM {_TABLE} WHERE status = 'parked' AND due_at <= %(now)s
    ORDER BY due_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
RETURNING {PARKED_COLUMNS}
"""
# The profiles whose processing lock is free, taken for this transaction (try: never waits).
_LOCK_FREE = (
    "SELECT id FROM unnest(%s::text[], %s::int[]) AS p(id, k) "
    "WHERE pg_try_advisory_xact_lock(%s, p.k)"
)
_PUT_BACK = (
    f"UPDATE {_TABLE} SET status = 'parked', finished = NULL, outcome = '' WHERE id = ANY(%s)"
)


@dataclass
class Resumed:
    """How many branches a batch claimed, ran, and put back (their profile was busy)."""

    claimed: int = 0
    resumed: int = 0
    put_back: int = 0
    follow_up: Processed = field(default_factory=Processed)


def parked_runs_resume_due(*, limit: int | None = None, now: datetime | None = None) -> Resumed:
    """Resume one batch of the branches due by `now`, oldest first (see the module doc)."""
    limit = limit or settings.CDP_WORKFLOW_RESUME_BATCH_SIZE
    now = now or timezone.now()
    result = Resumed()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_DUE, {"now": now, "limit": limit})
            claimed = parked_rows_read(cursor)
            result.claimed = len(claimed)
            if not claimed:
                return result
            profile_ids = sorted({row.profile_id for row in claimed if row.profile_id})
            free: set[str] = set()
            if profile_ids:
                keys = [profile_lock_key(profile_id) for profile_id in profile_ids]
                cursor.execute(_LOCK_FREE, [profile_ids, keys, PROFILE_LOCK_NAMESPACE])
                free = {profile_id for (profile_id,) in cursor.fetchall()}
            busy = [row for row in claimed if row.profile_id and row.profile_id not in free]
            if busy:
                cursor.execute(_PUT_BACK, [[row.pk for row in busy]])
                result.put_back = len(busy)
        runnable = [row for row in claimed if not row.profile_id or row.profile_id in free]
        _branches_run(runnable, now=now, follow_up=result.follow_up)
        result.resumed = len(runnable)
    return result


def _branches_run(rows: list[ParkedRun], *, now: datetime, follow_up: Processed) -> None:
    profiles = {
        profile.pk: profile
        for profile in rows_fetch(
            Profile, "id = ANY(%s)", [sorted({r.profile_id for r in rows if r.profile_id})]
        )
    }
    session_ids = sorted({r.state.get("session_id") for r in rows if r.state.get("session_id")})
    sessions = (
        {s.pk: session_document(s) for s in rows_fetch(Session, "id = ANY(%s)", [session_ids])}
        if session_ids
        else {}
    )
    by_profile: dict[str | None, list[ParkedRun]] = defaultdict(list)
    for row in rows:
        by_profile[row.profile_id if row.profile_id in profiles else None].append(row)
    resumed: list[ResumedRun] = []
    again: list[ParkedRun] = []
    effects = StoredEffects(now=now, profile_stored=True)
    changes: list[tuple[str, dict, dict]] = []
    for profile_id, branches in by_profile.items():
        # The row was just read and nothing else holds it: its document shares its values
        # (no deep copy); the nodes change a copy.
        row = profiles.get(profile_id) if profile_id else None
        before = (
            profile_document_of(row.pk, *(getattr(row, name) for name in DOCUMENT_FIELDS))
            if row is not None
            else None
        )
        document = orjson.loads(orjson.dumps(before)) if before is not None else None
        effects.profile_stored = document is not None
        for row in sorted(branches, key=lambda r: (r.due_at, r.pk)):
            outcome, parked_again = parked_branch_run(
                row,
                port=row.due_port,
                payload=row.state.get("payload"),
                profile=document,
                session=sessions.get(row.state.get("session_id")),
                effects=effects,
                now=now,
            )
            resumed.append(outcome)
            again.extend(parked_again)
            _merge_ignored(effects, row)
        if before is not None:
            changes.append((profile_id, before, document))
    profiles_save_changes(changes=changes, now=now)
    parked_runs_insert(again)
    runs_record_resumed(resumed)
    _follow_up(effects, follow_up)


def _merge_ignored(effects: StoredEffects, row: ParkedRun) -> None:
    if effects.merge_requested():
        logger.warning("Merge asked by resumed branch %s ignored: not done in resumed runs", row)


def _follow_up(effects: StoredEffects, follow_up: Processed) -> None:
    for injected in effects.collected:
        if injected.profile_id:
            follow_up.profile_add(injected.profile_id)
        else:
            follow_up.event_ids.append(injected.pk)
