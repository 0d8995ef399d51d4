"""Processing routed events: the worker side of the hand-off (DESIGN §6).

The database is the source of truth: a routed event stays `collected` until the transaction
that runs its workflows commits, with its WorkflowRun rows, its new status and the profile
changes. So a message delivered twice, or redelivered after a worker died mid-run, finds
nothing left to do (or redoes the rolled-back work once).

Before its workflows, each event goes through the profile steps that the tracking pipeline
also routes here: identification points (which may merge the profile into the one that already
holds an identifier: the batch then goes on with that survivor) and the event type's mapping
into the profile, with the consents of a `consent-given` event (apps.profiles.services.
consents). Workflows see the mapped profile; all of it is saved once at the end, with the
consent history of what the events and their workflows granted or revoked.

Events of one profile are processed in order (event time, then insert time) and never
concurrently: a task takes a PostgreSQL advisory lock keyed by the profile for the length
of its transaction, then processes all collected events of that profile, in one batch
(when messages queue up, a worker task takes several profiles' batches in one transaction,
each under its lock: tracking.batches). The lock does not block the tracking pipeline
(which locks the profile row only briefly); the profile changes are written at the end
with `profile_save_changes`, which re-reads the row.

The request counts visits and page views on the profile row (stats.visits, stats.views) but
does not segment; when a live segment reads those counters, their `visit-started` and
`page-view` events come here (tracking.routing), and the batch reports the change through
`profile_changed`, which re-evaluates the live segments in the worker.

One event that cannot be read back (a time outside Python's years 1-9999, stored by another
path) or processed (its outcome cannot be written) fails alone: a batch that fails on the data
runs again one event at a time, each in its own savepoint, and the event that fails is marked
`error` with the reason. It then blocks neither its profile's later events nor the sweep.

The services here send nothing: each returns a `Processed` naming the collected events it
leaves for the workers (more of the profile's events than one batch, a merge survivor's,
injected ones, those a sweep finds), and the task that called it enqueues them (tasks.py).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, Min
from django.utils import timezone

from apps.core.rows import rows_fetch
from apps.events.bulk import events_fail, events_outcome_write
from apps.events.documents import EventDataError, event_document, event_from_dict
from apps.events.models import Event
from apps.events.registry import event_type_has_mapping, mapping_apply
from apps.profiles.consents import consents_copy
from apps.profiles.documents import (
    empty_profile_document,
    profile_row_document,
    session_document_of,
)
from apps.profiles.models import ConsentChange, Profile, Session
from apps.profiles.services.changes import profile_changed
from apps.profiles.services.consent_history import ConsentHistory
from apps.profiles.services.consents import consents_give, event_type_gives_consents
from apps.profiles.services.identification import event_type_identifies, identification_apply
from apps.profiles.services.merge import MergeError, profiles_merge_by
from apps.profiles.services.segments import (
    live_segments_count,
    segments_only,
    segments_refresh_live,
)
from apps.profiles.services.writes import profile_save_changes
from apps.tracking.batch_writes import BatchWrites
from apps.tracking.effects import StoredEffects
from apps.tracking.routing import counted_fields, event_changes_live_segments
from apps.workflows.models import ParkedRun, WorkflowRun
from apps.workflows.routing import event_type_awaited
from apps.workflows.selectors import routing_table
from apps.workflows.services.answers import RequestAnswer
from apps.workflows.services.parking import (
    ResumedRun,
    parked_runs_insert,
    parked_wake,
    runs_record_resumed,
)
from apps.workflows.services.runs import (
    event_has_background_workflows,
    event_workflows_run,
    workflow_runs_insert,
)

logger = logging.getLogger(__name__)

# First key of pg_advisory_xact_lock(int, int): keeps these locks apart from other users'.
PROFILE_LOCK_NAMESPACE = 0x0CD9
# Profiles (and profile-less events) per sweep: each is one message.
REQUEUE_SWEEP_LIMIT = 5000
# Errors that can pass (a lock wait that timed out, a restarting PostgreSQL): the task retries
# them. Any other error in a batch is the data's: the batch is run again one event at a time.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
EVENT_ORDER = "ORDER BY time, inserted, id"
Via = ConsentChange.Via


def _advisory_lock_statement(key_text: str, *, budget_ms: int | None) -> tuple[str, list]:
    """The statement that waits (at most the lock timeout) for the transaction-scoped lock
    named by `key_text`. With `budget_ms` (a run in the /track request) the wait, and every
    statement of the transaction after it (`statement_timeout`), are bounded by it instead.
    The subquery in FROM runs first, so the timeouts cover the wait."""
    key = _lock_key(key_text)
    if budget_ms is None:
        return (
            "SELECT pg_advisory_xact_lock(%s, %s) "
            "FROM (SELECT set_config('lock_timeout', %s, true)) AS lock_timeout",
            [PROFILE_LOCK_NAMESPACE, key, f"{settings.CDP_WORKFLOW_LOCK_TIMEOUT_SECONDS}s"],
        )
    budget = f"{max(1, budget_ms)}ms"
    return (
        "SELECT pg_advisory_xact_lock(%s, %s) "
        "FROM (SELECT set_config('lock_timeout', %s, true), "
        "set_config('statement_timeout', %s, true)) AS budget",
        [PROFILE_LOCK_NAMESPACE, key, budget, budget],
    )


def _lock_key(key_text: str) -> int:
    digest = hashlib.blake2b(key_text.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def profile_lock_key(profile_id: str) -> int:
    """The second key of the profile's advisory lock (the first is PROFILE_LOCK_NAMESPACE):
    the resume job takes it with pg_try_advisory_xact_lock."""
    return _lock_key(f"profile:{profile_id}")


def _advisory_lock(key_text: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(*_advisory_lock_statement(key_text, budget_ms=None))


def profile_lock(profile_id: str) -> None:
    _advisory_lock(f"profile:{profile_id}")


def profile_lock_statement(profile_id: str, *, budget_ms: int) -> tuple[str, list]:
    """`profile_lock` as a statement bounded by a budget, to send with the reads that follow
    it in one round trip (the /track request's answering runs)."""
    return _advisory_lock_statement(f"profile:{profile_id}", budget_ms=budget_ms)


@dataclass
class Processed:
    """How many events a call ran (or a sweep found), and the collected events it leaves for
    the workers, to enqueue once its transaction has committed: the profiles whose events
    wait (each task takes all of a profile's) and the waiting events without a profile."""

    events: int = 0
    profile_ids: list[str] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)

    def profile_add(self, profile_id: str) -> None:
        if profile_id not in self.profile_ids:
            self.profile_ids.append(profile_id)


class BudgetPassed(Exception):  # noqa: N818 (a signal to roll back, not a failure)
    """A run in the request reached its deadline: raised from the transaction so that nothing
    of the request's runs is saved. `runs` are the ones that timed out, to record; `undone`
    the ones that had finished before it and are rolled back with it (the worker runs them)."""

    def __init__(self, runs: list[WorkflowRun], undone: list[WorkflowRun]) -> None:
        super().__init__(f"{len(runs)} run(s) past the time budget")
        self.runs = runs
        self.undone = undone


@dataclass
class BatchResult:
    # The profile the batch ended with: an identification may have merged its profile away.
    profile_id: str | None
    runs: list[WorkflowRun] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    changed_fields: list[str] = field(default_factory=list)
    # What the batch leaves for the workers: injected events, a merge survivor's events.
    follow_up: Processed = field(default_factory=Processed)


def profile_events_process(*, profile_id: str, batch_size: int | None = None) -> Processed:
    """Run the workflows of every collected event of a profile, in order, at most one batch;
    when more are left, the profile is in the follow-up. An event that breaks the batch fails
    alone (`events_one_by_one`)."""
    batch_size = batch_size or settings.CDP_WORKFLOW_BATCH_SIZE
    try:
        with transaction.atomic():
            profile_lock(profile_id)
            # Profile and sessions are read next, in their own queries: joined here they
            # would be decoded once per event (measured slower). The profile row is not
            # locked until the final write, so the tracking pipeline is not held up meanwhile.
            events = rows_fetch(
                Event,
                f"profile_id = %s AND status = %s {EVENT_ORDER} LIMIT %s FOR UPDATE",
                [profile_id, Event.Status.COLLECTED, batch_size + 1],
            )
            processed = Processed()
            if events:
                batch = events_run(events[:batch_size], profile_id=profile_id, stored=True)
                processed = batch.follow_up
                processed.events = len(batch.events)
                if len(events) > batch_size:
                    processed.profile_add(batch.profile_id)
            return processed
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        logger.exception("Batch of profile %s failed; running it one event at a time", profile_id)
    with transaction.atomic():
        profile_lock(profile_id)
        # Only the ids: a row that cannot be read back must not fail this query too.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {Event._meta.db_table} WHERE profile_id = %s AND status = %s "
                f"{EVENT_ORDER} LIMIT %s FOR UPDATE",
                [profile_id, Event.Status.COLLECTED, batch_size + 1],
            )
            ids = [event_id for (event_id,) in cursor.fetchall()]
        processed, profile_id = events_one_by_one(ids[:batch_size], profile_id=profile_id)
        if len(ids) > batch_size:
            processed.profile_add(profile_id)
    return processed


def profileless_events_process(*, event_ids: Sequence[str]) -> Processed:
    """Run the workflows of stored events without a profile. Events that do have a profile
    are left to their profile's task: their profiles are in the follow-up. An event that
    breaks the batch fails alone (`events_one_by_one`)."""
    waiting = Event.objects.filter(pk__in=list(event_ids), status=Event.Status.COLLECTED)
    owners = sorted(set(waiting.filter(profile__isnull=False).values_list("profile_id", flat=True)))
    # A duplicate message running at the same time skips the rows this one holds.
    mine = (
        waiting.filter(profile__isnull=True)
        .select_for_update(skip_locked=True)
        .order_by("time", "inserted", "id")
    )
    processed = Processed()
    try:
        with transaction.atomic():
            events = list(mine)
            if events:
                processed = events_run(events, profile_id=None, stored=True).follow_up
                processed.events = len(events)
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        logger.exception("Batch of %d profile-less events failed; one at a time", len(event_ids))
        with transaction.atomic():
            ids = list(mine.values_list("id", flat=True))
            processed, _ = events_one_by_one(ids, profile_id=None)
    for owner in owners:
        processed.profile_add(owner)
    return processed


def events_one_by_one(
    ids: Sequence[str], *, profile_id: str | None, replay: bool = False
) -> tuple[Processed, str | None]:
    """The slow path of a batch that failed: each event read and run in its own savepoint;
    one that fails is marked `error` with the reason and the others go on, so it blocks
    neither its profile nor the sweep (a replay only skips it: replays keep the statuses).
    Call inside a transaction holding the rows (and the profile's lock). Returns what is left
    for the workers and the profile the run ended with (an identification may have merged
    it away)."""
    processed = Processed()
    for event_id in ids:
        try:
            with transaction.atomic():
                events = rows_fetch(Event, "id = %s", [event_id])
                batch = events_run(events, profile_id=profile_id, stored=True, replay=replay)
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            logger.warning("Event %s failed alone: %s", event_id, reason)
            if not replay:
                events_fail(event_ids=[event_id], reason=reason)
            continue
        profile_id = batch.profile_id
        processed.events += len(batch.events)
        for waiting in batch.follow_up.profile_ids:
            processed.profile_add(waiting)
        processed.event_ids.extend(batch.follow_up.event_ids)
    return processed, profile_id


def unsaved_events_process(*, events: Sequence[dict], profile_id: str | None) -> Processed:
    """Run the workflows of events that were not stored, from the message's copies. A run
    already recorded for (workflow, event id) is not repeated."""
    now = timezone.now()
    parsed: list[Event] = []
    for raw in events:
        try:
            event = event_from_dict(raw, now=now)
        except EventDataError as exc:
            logger.warning(
                "Unsaved event skipped: %s (%r)",
                exc,
                raw.get("id") if isinstance(raw, dict) else raw,
            )
            continue
        event.profile_id = profile_id
        parsed.append(event)
    if not parsed:
        return Processed()
    parsed.sort(key=lambda event: (event.time, event.id))
    with transaction.atomic():
        if profile_id:
            profile_lock(profile_id)
        else:
            for event_id in sorted({event.id for event in parsed}):
                _advisory_lock(f"event:{event_id}")
        done = set(
            WorkflowRun.objects.filter(
                event_ref__in=[event.id for event in parsed], replay=False
            ).values_list("workflow_id", "event_ref")
        )
        processed = events_run(parsed, profile_id=profile_id, stored=False, skip=done).follow_up
    processed.events = len(parsed)
    return processed


def collected_events_requeue(*, older_than_seconds: int | None = None) -> Processed:
    """The events still `collected` after the threshold, for the workers again: their
    message was lost (broker restart, worker killed). A message that was only slow gets a
    duplicate, which finds no work.

    Bounded per sweep, the oldest first; the next sweep takes the rest. The bound counts
    profiles, not events: one task runs all of a profile's events, and a profile with
    thousands waiting must not fill the sweep and hide the others (an event that fails is
    marked `error` by its task, so it does not come back)."""
    threshold = older_than_seconds
    if threshold is None:
        threshold = settings.CDP_WORKFLOW_REQUEUE_AFTER_SECONDS
    cutoff = timezone.now() - timedelta(seconds=threshold)
    old = Event.objects.filter(status=Event.Status.COLLECTED, inserted__lt=cutoff)
    profiles = list(
        old.filter(profile__isnull=False)
        .values("profile_id")
        .annotate(oldest=Min("inserted"), waiting=Count("id"))
        .order_by("oldest", "profile_id")
        .values_list("profile_id", "waiting")[:REQUEUE_SWEEP_LIMIT]
    )
    loose = list(
        old.filter(profile__isnull=True)
        .order_by("inserted", "id")
        .values_list("id", flat=True)[:REQUEUE_SWEEP_LIMIT]
    )
    found = Processed(
        events=sum(waiting for _, waiting in profiles) + len(loose),
        profile_ids=[profile_id for profile_id, _ in profiles],
        event_ids=loose,
    )
    if found.events:
        logger.info(
            "Re-enqueueing %d collected events (%d profiles, %d profile-less)",
            found.events,
            len(found.profile_ids),
            len(found.event_ids),
        )
    return found


@dataclass(frozen=True, slots=True)
class PrefetchedRows:
    """The profile (none or one) and the sessions of a batch, read by its caller."""

    profiles: list[Profile]
    sessions: list[Session]


@dataclass
class _ProfileState:
    """The profile a batch works on: its id, whether it is stored, the snapshot taken after
    the lock and the document the nodes change."""

    id: str | None
    stored: bool
    before: dict | None
    document: dict | None


def _profile_state(profile_id: str | None, rows: list[Profile] | None = None) -> _ProfileState:
    if rows is None and profile_id:
        rows = rows_fetch(Profile, "id = %s", [profile_id])
    row = next(iter(rows), None) if profile_id and rows else None
    if row is not None:
        # The row was just read and nothing else holds it: the snapshot shares its values
        # (a deep copy cost about a quarter of an answering request), the nodes change a copy.
        before = profile_row_document(row)
        return _ProfileState(profile_id, True, before, orjson.loads(orjson.dumps(before)))
    if profile_id:
        # Not stored (ephemeral source, saveProfile=false): nodes work on an empty profile
        # with its id, and what they change is not saved.
        return _ProfileState(profile_id, False, None, empty_profile_document(profile_id))
    return _ProfileState(None, False, None, None)


def _profile_switch(
    state: _ProfileState, survivor_id: str, runs: list[WorkflowRun], now: datetime
) -> _ProfileState:
    """The batch's profile was merged into `survivor_id` (its row is gone; its events,
    sessions and runs point there now). What the batch changed so far is written onto the
    survivor, under the survivor's lock, and the batch goes on with the survivor."""
    profile_lock(survivor_id)
    if state.before is not None:
        profile_save_changes(
            profile_id=survivor_id, before=state.before, after=state.document, now=now
        )
    for run in runs:
        if run.profile_id == state.id:
            run.profile_id = survivor_id
    return _profile_state(survivor_id)


def _profile_merge(
    state: _ProfileState, merge_by: list[str], now: datetime, follow_up: Processed
) -> _ProfileState:
    """A node asked to merge profiles by `merge_by`. As in Tracardi this happens after the
    event's workflows: the batch's changes are saved first (the merge reads the rows), then
    others with the same values are merged into this profile, and the batch goes on with it.
    Their events now belong to this profile: a follow-up task runs those still waiting."""
    profile_save_changes(profile_id=state.id, before=state.before, after=state.document, now=now)
    try:
        survivor = profiles_merge_by(profile_id=state.id, merge_by=merge_by)
    except MergeError as exc:
        logger.warning("Merge of profile %s by %s skipped: %s", state.id, merge_by, exc)
        survivor = None
    if survivor is not None:
        follow_up.profile_add(survivor.pk)
    return _profile_state(state.id)


def events_run(
    events: list[Event],
    *,
    profile_id: str | None,
    stored: bool,
    replay: bool = False,
    skip: set[tuple[str, str]] | frozenset = frozenset(),
    answer: RequestAnswer | None = None,
    deadline: float | None = None,
    rows: PrefetchedRows | None = None,
    writes: BatchWrites | None = None,
) -> BatchResult:
    """Run `events` (one profile, in order) through identification, mapping and their routed
    workflows, and write the outcome: WorkflowRun rows, event statuses (stored, non-replay
    events), the profile changes. Call inside a transaction holding the profile's lock.

    With `answer`, this is the /track request (apps.tracking.answers): the same steps, but
    only the workflows of rules that answer in the request run, each stopped at `deadline`
    (BudgetPassed is raised at the first that is); an event that also has workflows for the
    worker stays `collected`. The worker then skips what the request did: the profile steps
    of those events and the workflows that ran (`_request_runs`). `rows`: the profile and
    session rows, when the caller read them already (under the lock). `writes`: the writes of
    several profiles' batches, made together by the caller (tracking.batch_writes); it is
    flushed here before an identification or a merge, which read other profiles' rows."""
    now = timezone.now()
    state = _profile_state(profile_id, rows.profiles if rows is not None else None)
    sessions = _sessions(events, rows.sessions if rows is not None else None)
    effects = StoredEffects(now=now, profile_stored=state.stored)
    result = BatchResult(profile_id=profile_id, events=events)
    # Grants and revokes by the events (consent-given, mappings) and by their workflows.
    history = ConsentHistory()
    in_request = answer is not None
    earlier: dict[str, list[WorkflowRun]] = {}
    if stored and not replay and not in_request:
        earlier = _request_runs(events)
        skip = {
            *skip,
            *((run.workflow_id, run.event_ref) for runs in earlier.values() for run in runs),
        }
    # Branches that events of this batch woke up: recorded on their runs after the insert.
    resumed: list[ResumedRun] = []
    for event in events:
        document = event_document(event)
        session = sessions.get(event.session_id) if event.session_id else None
        # The request that ran this event's answering workflows applied its profile steps.
        profile_steps = not replay and event.pk not in earlier
        if state.stored and profile_steps and event_type_identifies(event.type):
            if writes is not None:
                writes.flush()
            survivor_id = identification_apply(event=document, profile_id=state.id)
            if survivor_id != state.id:
                state = _profile_switch(state, survivor_id, result.runs, now)
                effects.profile_stored = state.stored
                document["profile"] = {"id": survivor_id}
        consents_before = consents_copy(state.document)
        if state.document is not None and profile_steps and event_type_has_mapping(event.type):
            mapping_apply(profile=state.document, event=document, session=session)
        if state.document is not None and profile_steps and event_type_gives_consents(event.type):
            notes = consents_give(profile=state.document, event=document, at=event.time)
            if notes:
                document.setdefault("metadata", {}).setdefault("warnings", []).extend(notes)
        history.note(
            before=consents_before, after=state.document, via=Via.EVENT, by=event.pk, at=event.time
        )
        consents_before = consents_copy(state.document)
        parked: list[ParkedRun] = []
        runs = event_workflows_run(
            event=event,
            document=document,
            profile=state.document,
            profile_stored=state.stored,
            session=session,
            effects=effects,
            now=now,
            stored=stored,
            replay=replay,
            skip=skip,
            answer=answer,
            deadline=deadline,
            parked=parked,
        )
        if state.stored and not replay and event_type_awaited(event.type):
            woken, again = parked_wake(
                profile_id=state.id,
                event_id=event.pk,
                event_type=event.type,
                document=document,
                profile=state.document,
                session=session,
                effects=effects,
                now=now,
            )
            resumed.extend(woken)
            parked.extend(again)
        # Stored at once: a later event of this batch may be the one they wait for.
        parked_runs_insert(parked)
        timed_out = [run for run in runs if run.status == WorkflowRun.Status.TIMEOUT]
        if timed_out:
            undone = [*result.runs, *(run for run in runs if run not in timed_out)]
            raise BudgetPassed(timed_out, undone)
        history.note(
            before=consents_before, after=state.document, via=Via.WORKFLOW, by=event.pk, at=now
        )
        result.runs.extend(runs)
        if stored and not replay:
            if in_request and event_has_background_workflows(event.source_id, event.type):
                _event_keep(event, document)
            else:
                _event_mark(event, document, [*earlier.get(event.pk, ()), *runs])
        merge_by = effects.merge_requested()
        if merge_by and state.stored:
            if writes is not None:
                writes.flush()
            state = _profile_merge(state, merge_by, now, result.follow_up)
    outcome = events if stored and not replay else []
    if writes is None:
        workflow_runs_insert(result.runs)
        runs_record_resumed(resumed)
        events_outcome_write(outcome)
    else:
        writes.add(runs=result.runs, resumed=resumed, events=outcome)
    if state.before is not None:
        saved_id = state.id
        new_events = [] if replay else [e for e in events if e.pk not in earlier]

        def saved(changed_fields: list[str]) -> None:
            result.changed_fields = changed_fields
            _profile_change_report(saved_id, changed_fields, new_events)
            history.save(profile_id=saved_id)

        if writes is None:
            saved(
                profile_save_changes(
                    profile_id=saved_id, before=state.before, after=state.document, now=now
                )
            )
        else:
            writes.profile_save(
                profile_id=saved_id,
                before=state.before,
                after=state.document,
                now=now,
                saved=saved,
            )
    for injected in effects.collected:
        # Injected for the batch's profile, or for one merged into it since: its events now.
        if injected.profile_id:
            result.follow_up.profile_add(state.id)
        else:
            result.follow_up.event_ids.append(injected.pk)
    result.profile_id = state.id
    return result


def _profile_change_report(
    profile_id: str, changed_fields: list[str], new_events: list[Event]
) -> None:
    """After the profile's write: what its subscribers hear besides the write's own report."""
    counted = _counted(new_events)
    unreported = not changed_fields or segments_only(changed_fields)
    if counted and unreported:
        # The request counted a visit or page views on the row without segmentation (it
        # stays cheap); the profile's change is reported here, once per batch. A batch
        # whose workflows changed the profile has reported its change already.
        profile_changed(profile_id=profile_id, changed_fields=counted)
    elif unreported and any(live_segments_count(event.type) for event in new_events):
        # A live segment counts these events (`count(events type "purchase" ...)`): the
        # profile's fields did not change, so only its live segments are evaluated again
        # (they report a change of the segments, if any; nothing else is woken).
        segments_refresh_live(profile_id=profile_id, changed_fields=[])


def _counted(events: list[Event]) -> list[str]:
    """What the request counted for these events, where a live segment reads it (the other
    subscribers, destination syncs, are not woken by every page view)."""
    fields: dict[str, None] = {}
    for event in events:
        if event_changes_live_segments(event.type):
            fields.update(dict.fromkeys(counted_fields(event.type)))
    return list(fields)


def _sessions(events: list[Event], rows: list[Session] | None = None) -> dict[str, dict]:
    wanted = {event.session_id for event in events if event.session_id}
    if not wanted:
        return {}
    sessions = rows if rows is not None else rows_fetch(Session, "id = ANY(%s)", [list(wanted)])
    # Rows just read, held by nothing else: the documents share their values.
    return {session.pk: session_document_of(session) for session in sessions}


def _request_runs(events: list[Event]) -> dict[str, list[WorkflowRun]]:
    """The runs the /track request recorded (ok or error) for these events, by event id: the
    worker does not run those workflows again. One query, and only when a rule answers in the
    request for one of the events (none do in most installations)."""
    table = routing_table()
    if not table.answering:
        return {}
    ids = [event.pk for event in events if table.answers(event.source_id, event.type)]
    if not ids:
        return {}
    found: dict[str, list[WorkflowRun]] = {}
    runs = (
        WorkflowRun.objects.filter(event_ref__in=ids, replay=False, in_request=True)
        .exclude(status=WorkflowRun.Status.TIMEOUT)
        .only("workflow_id", "event_ref", "rule_ids", "status", "error", "duration_ms")
    )
    for run in runs:
        found.setdefault(run.event_ref, []).append(run)
    return found


def _event_keep(event: Event, document: dict) -> None:
    """An event the request ran in part: what its nodes changed is kept, it stays
    `collected` for the worker's workflows."""
    for name in ("metadata", "properties", "traits", "context", "tags"):
        if isinstance(document.get(name), dict):
            setattr(event, name, document[name])


def _event_mark(event: Event, document: dict, runs: list[WorkflowRun]) -> None:
    """Status, processed_by and what the nodes changed in the event (its JSON fields)."""
    for name in ("metadata", "properties", "traits", "context", "tags"):
        if isinstance(document.get(name), dict):
            setattr(event, name, document[name])
    failed = [run for run in runs if run.status == WorkflowRun.Status.ERROR]
    event.status = Event.Status.ERROR if failed else Event.Status.PROCESSED
    # A processed event says what its profile steps ignored (e.g. an unknown consent type).
    notes = (document.get("metadata") or {}).get("warnings") or []
    event.status_message = (failed[0].error if failed else " ".join(map(str, notes)))[:2000]
    metadata = event.metadata
    metadata["processed_by"] = {
        "rules": [rule_id for run in runs for rule_id in run.rule_ids],
        "workflows": [run.workflow_id for run in runs],
    }
    times = metadata.setdefault("time", {})
    if isinstance(times, dict):
        times["process_time"] = round(sum(run.duration_ms for run in runs) / 1000, 6)
