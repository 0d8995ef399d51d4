"""Many profiles per worker task (issue 20): where messages queue up, a task does not process
only the profile its message names but, in the same transaction, other profiles whose events
wait too, up to CDP_WORKFLOW_BATCH_PROFILES. A task's fixed cost (the broker round trip, the
transaction and its commit, the reads of events, profiles and sessions) is then paid once per
batch instead of once per profile. At low load nothing else waits and a task is what it was:
its own profile, promptly.

The guarantees of processing.py hold:
- Per-profile order: each profile is still processed under its advisory lock, its collected
  events in order, by one task at a time. Other profiles are claimed with
  pg_try_advisory_xact_lock, so a task never waits for a profile it only offered to help with.
- Exactly once: the batch is one transaction; its runs, event statuses and profile changes
  commit together or not at all. A task never acknowledges another profile's message: a
  claimed profile's own message (or the sweep) still comes, and finds its events processed, or
  (after a crash or a rollback) processes them itself.
- A failure: the whole batch rolls back, and the task runs its own profile alone on the path
  of processing.py (which fails a bad event alone); the other profiles' events are left to
  their own messages, so none is lost or run twice.
- Merges: a profile's batch may merge profiles (identification, a merge node), which changes
  rows the batch read up front for the profiles after it. So after a profile that may have
  merged, the batch stops: the rest are handed back as follow-ups.

A task whose own profile is locked by another task (that task claimed it, or runs it) does not
wait idle: it processes a batch of other waiting profiles first, then its own.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection, transaction

from apps.core.rows import rows_columns, rows_fetch_together, rows_select
from apps.events.models import Event
from apps.profiles.models import Profile, Session
from apps.profiles.services.identification import event_type_identifies
from apps.tracking.batch_writes import BatchWrites
from apps.tracking.processing import (
    PROFILE_LOCK_NAMESPACE,
    TRANSIENT_ERRORS,
    BatchResult,
    PrefetchedRows,
    Processed,
    events_run,
    profile_events_process,
    profile_lock,
    profile_lock_key,
)

logger = logging.getLogger(__name__)

# Waiting events looked at (oldest first) to find profiles to claim. Profiles held by another
# task are among them (their events stay `collected` until it commits), so it is a few times
# the events of one batch.
CLAIM_SCAN_EVENTS = 3000

_EVENTS = Event._meta.db_table

# The profiles whose events waited longest, with how many of theirs the scan saw.
_WAITING_PROFILES = f"""
SELECT profile_id, count(*) FROM (
    SELECT profile_id, inserted FROM {_EVENTS}
    WHERE status = 'collected' AND profile_id IS NOT NULL
    ORDER BY inserted LIMIT %s
) AS waiting
GROUP BY profile_id ORDER BY min(inserted), profile_id LIMIT %s
"""

_EVENTS_WAITING = f"""
SELECT EXISTS (SELECT 1 FROM {_EVENTS} WHERE profile_id = %s AND status = 'collected')
    OR EXISTS (SELECT 1 FROM {_EVENTS} WHERE status = 'collected' AND profile_id IS NOT NULL)
"""

# The two scans of waiting events above read the partial index of `collected` events, whose
# entries outlive their rows' `processed` status until a vacuum (every processed event leaves
# one). A plain index scan marks the entries it finds dead (kill_prior_tuple) and the next scan
# skips them; a bitmap scan, which the planner prefers when it expects a few hundred rows,
# never does, and re-read all of them on every claim: 70,940 dead entries cost 12 ms per scan
# in bench/workflows.py (with autovacuum off; with it on, a month's partition reaches 20% dead
# before it runs). So these statements run with bitmap scans off, for themselves only: set
# in the same round trip, and reset after them (SET LOCAL would otherwise last to the end of
# the caller's transaction, or of the implicit one of the multi-statement string).
_BITMAP_SCANS_OFF = "SET LOCAL enable_bitmapscan = off"
_BITMAP_SCANS_RESET = "SET LOCAL enable_bitmapscan TO DEFAULT"

# Try the profiles' locks in order and keep the first `limit` taken. No ORDER BY: the scan
# yields the array's order, and LIMIT stops it, so no lock is taken beyond the limit.
_TRY_LOCKS = """
SELECT c.id FROM unnest(%s::text[], %s::int[]) AS c(id, key)
WHERE pg_try_advisory_xact_lock(%s, c.key) LIMIT %s
"""

# Each profile's first `limit` collected events, in order, locked; profiles in the given order.
_PROFILES_EVENTS = f"""
SELECT {rows_columns(Event, "e")}
FROM unnest(%s::text[]) WITH ORDINALITY AS p(id, position)
CROSS JOIN LATERAL (
    SELECT * FROM {_EVENTS}
    WHERE profile_id = p.id AND status = %s
    ORDER BY time, inserted, id LIMIT %s FOR UPDATE
) AS e
ORDER BY p.position, e.time, e.inserted, e.id
"""


def profiles_events_process(
    *,
    profile_id: str,
    batch_size: int | None = None,
    max_profiles: int | None = None,
    max_events: int | None = None,
) -> Processed:
    """Run the collected events of `profile_id` (at most `batch_size`, as
    `profile_events_process`) and, in the same transaction, those of up to `max_profiles` - 1
    other profiles whose events wait, as long as the batch stays within about `max_events`.
    Returns what is left for the workers."""
    batch_size = batch_size or settings.CDP_WORKFLOW_BATCH_SIZE
    max_profiles = max_profiles or settings.CDP_WORKFLOW_BATCH_PROFILES
    max_events = max_events or settings.CDP_WORKFLOW_BATCH_EVENTS
    if max_profiles <= 1:
        return profile_events_process(profile_id=profile_id, batch_size=batch_size)
    processed = Processed()
    if not _events_waiting(profile_id):
        return processed
    try:
        own_done = False
        while not own_done:
            with transaction.atomic():
                batch, own_done = _batch_run(
                    own=profile_id,
                    batch_size=batch_size,
                    max_profiles=max_profiles,
                    max_events=max_events,
                )
            _absorb(processed, batch)
        return processed
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        logger.exception("Batch with profile %s failed; running that profile alone", profile_id)
    _absorb(processed, profile_events_process(profile_id=profile_id, batch_size=batch_size))
    return processed


def _events_waiting(own: str) -> bool:
    """Whether the own profile or another has collected events: one round trip outside a
    transaction. When messages queue up, most find their profile done by an earlier batch;
    they then cost this round trip, not a transaction of four. Events a running batch holds
    count as waiting (they are `collected` until it commits): the full path handles those."""
    with connection.cursor() as cursor:
        cursor.execute(f"{_BITMAP_SCANS_OFF}; {_EVENTS_WAITING}; {_BITMAP_SCANS_RESET}", [own])
        cursor.nextset()
        (waiting,) = cursor.fetchone()
    return waiting


def _batch_run(
    *, own: str, batch_size: int, max_profiles: int, max_events: int
) -> tuple[Processed, bool]:
    """One batch in the caller's transaction; and whether it included the own profile."""
    own_locked, waiting = _own_try_lock_and_candidates(own, max_profiles)
    candidates = _within_budget(waiting, own=own, own_locked=own_locked, max_events=max_events)
    claimed = _try_locks(candidates, limit=max_profiles - own_locked)
    if not own_locked and not claimed:
        profile_lock(own)  # nothing else to do: wait for the own profile
        own_locked = True
    ids = [own, *claimed] if own_locked else claimed
    processed = Processed()
    events = rows_select(Event, _PROFILES_EVENTS, [ids, Event.Status.COLLECTED, batch_size + 1])
    if not events:
        return processed, own_locked
    by_profile: dict[str, list[Event]] = {}
    for event in events:
        by_profile.setdefault(event.profile_id, []).append(event)
    session_ids = sorted({event.session_id for event in events if event.session_id})
    profile_rows, session_rows = rows_fetch_together(
        [
            (Profile, "id = ANY(%s)", [list(by_profile)]),
            (Session, "id = ANY(%s)", [session_ids]),
        ]
    )
    profiles = {row.pk: row for row in profile_rows}
    sessions = {row.pk: row for row in session_rows}
    writes = BatchWrites()
    stopped = False
    for profile_id, waiting in by_profile.items():
        if stopped:
            # Rows read up front may be stale after a merge: a task of its own runs these.
            processed.profile_add(profile_id)
            continue
        chunk = waiting[:batch_size]
        wanted = {event.session_id for event in chunk if event.session_id}
        rows = PrefetchedRows(
            profiles=[profiles[profile_id]] if profile_id in profiles else [],
            sessions=[sessions[pk] for pk in wanted if pk in sessions],
        )
        result = events_run(chunk, profile_id=profile_id, stored=True, rows=rows, writes=writes)
        _absorb(processed, result.follow_up)
        processed.events += len(chunk)
        if len(waiting) > batch_size:
            processed.profile_add(result.profile_id)
        stopped = _may_have_merged(profile_id, chunk, result)
    writes.flush()
    return processed, own_locked


def _within_budget(
    waiting: list[tuple[str, int]], *, own: str, own_locked: bool, max_events: int
) -> list[str]:
    """The other profiles to try, in order, while the batch's waiting events (as the scan
    counted them) stay within `max_events`: a long batch would hold up the messages behind
    it (the latency at moderate load). One profile at least when the own one is held."""
    total = dict(waiting).get(own, 0) if own_locked else 0
    chosen: list[str] = []
    for profile_id, count in waiting:
        if profile_id == own:
            continue
        if total + count > max_events and (chosen or own_locked):
            break
        chosen.append(profile_id)
        total += count
    return chosen


def _own_try_lock_and_candidates(own: str, max_profiles: int) -> tuple[bool, list[tuple[str, int]]]:
    """One round trip: try the own profile's lock, and find the profiles whose events wait
    longest, with their count (twice as many as a batch takes: some are held by other
    tasks)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pg_try_advisory_xact_lock(%s, %s); {_BITMAP_SCANS_OFF}; "
            f"{_WAITING_PROFILES}; {_BITMAP_SCANS_RESET}",
            [
                PROFILE_LOCK_NAMESPACE,
                profile_lock_key(own),
                CLAIM_SCAN_EVENTS,
                2 * max_profiles + 1,
            ],
        )
        (own_locked,) = cursor.fetchone()
        cursor.nextset()
        cursor.nextset()
        waiting = [(profile_id, count) for profile_id, count in cursor.fetchall()]
    return own_locked, waiting


def _try_locks(profile_ids: list[str], *, limit: int) -> list[str]:
    """The first `limit` of `profile_ids` whose lock this transaction could take at once."""
    if not profile_ids or limit <= 0:
        return []
    keys = [profile_lock_key(profile_id) for profile_id in profile_ids]
    with connection.cursor() as cursor:
        cursor.execute(_TRY_LOCKS, [profile_ids, keys, PROFILE_LOCK_NAMESPACE, limit])
        return [profile_id for (profile_id,) in cursor.fetchall()]


def _may_have_merged(profile_id: str, events: list[Event], result: BatchResult) -> bool:
    """Whether the profile's batch may have merged profiles: it identified (an identification
    point may merge others into it, or it into another), ended on another profile, or merged
    by a node (the survivor is then a follow-up)."""
    return (
        result.profile_id != profile_id
        or bool(result.follow_up.profile_ids)
        or any(event_type_identifies(event.type) for event in events)
    )


def _absorb(into: Processed, other: Processed) -> None:
    into.events += other.events
    for profile_id in other.profile_ids:
        into.profile_add(profile_id)
    into.event_ids.extend(other.event_ids)
