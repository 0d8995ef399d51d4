"""Retention and purge: the whole life of an event ends here (DESIGN §13).

A purge is a *plan*, a list of JSON steps, each naming one kind of row and the time before
which it goes, e.g. {"step": "events", "before": "2026-09-03T03:30:00+00:00",
"types": ["page-view"], "sources": ["web"]}. The plan is fixed when the purge starts and kept
on its PurgeRecord, so a job that stops (its time is up, its worker died) resumes with the
same cut-offs. The rows of each step are index-served selections that the apps owning them
publish (events, workflows, destinations and profiles selectors); the purge takes them in
bounded batches, each in one short transaction that also adds its counts to the record, with
a pause between two, so that /track never waits on it for long:

- events: per type through the (type, -time) index; their deliveries (and those deliveries'
  attempts) cascade, their workflow runs keep the run with `event` set to null;
- workflow runs, delivery attempts: through their time indexes;
- sessions: idle since the cut-off with no event left (events keep their sessions);
- anonymous inactive profiles: through the profiles service, which deletes what follows them.

Who runs it: the nightly beat job (`retention_purge_start` with the settings' retention,
apps.tracking.tasks) and `manage.py purge` (by hand, with progress).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps as django_apps
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.destinations.models import Delivery
from apps.destinations.selectors import attempts_to_purge
from apps.events.models import Event
from apps.events.partitions import (
    Partition,
    partition_all_before,
    partition_drop,
    partition_rows,
    partitions_list,
)
from apps.events.selectors import events_to_purge
from apps.profiles.selectors import anonymous_inactive_profiles, sessions_to_purge
from apps.profiles.services.purge import profiles_purge_anonymous
from apps.sources.models import EventSource
from apps.tracking.models import PurgeRecord
from apps.workflows.models import WorkflowRun
from apps.workflows.selectors import runs_to_purge

Status = PurgeRecord.Status
BEAT_ACTOR = "beat"
# The tables a purge reports, in the order a person reads them.
COUNT_KEYS = (
    "events",
    "deliveries",
    "delivery_attempts",
    "workflow_runs",
    "sessions",
    "profiles",
)

Step = dict  # {"step": ..., "before": iso time, ...}: see the module's docstring


@dataclass(frozen=True, slots=True)
class Options:
    batch_size: int
    pause_seconds: float

    @classmethod
    def from_settings(cls) -> Options:
        return cls(
            batch_size=settings.CDP_PURGE_BATCH_SIZE,
            pause_seconds=settings.CDP_PURGE_PAUSE_MS / 1000,
        )


# --- plans ----------------------------------------------------------------------------------


def events_step(
    *, before: datetime, types: list[str] | None = None, sources: list[str] | None = None
) -> Step:
    step: Step = {"step": "events", "before": before.isoformat()}
    if types:
        step["types"] = list(types)
    if sources:
        step["sources"] = list(sources)
    return step


def retention_plan(*, now: datetime) -> list[Step]:
    """What the retention settings and the sources' `retention_days` ask for at `now`: one
    events step per distinct retention (sources with their own retention in theirs, the rest
    under CDP_EVENT_RETENTION_DAYS), then runs, delivery attempts and sessions."""
    plan: list[Step] = []
    overridden = dict(
        EventSource.objects.filter(retention_days__isnull=False).values_list("pk", "retention_days")
    )
    by_days: dict[int, list[str]] = {}
    for source_id, days in overridden.items():
        if days > 0:  # 0: this source's events are kept forever
            by_days.setdefault(days, []).append(source_id)
    global_days = settings.CDP_EVENT_RETENTION_DAYS
    if global_days:
        step = events_step(before=now - timedelta(days=global_days))
        step["days"] = global_days
        if overridden:
            step["exclude_sources"] = sorted(overridden)
        plan.append(step)
    for days, source_ids in sorted(by_days.items()):
        step = events_step(before=now - timedelta(days=days), sources=sorted(source_ids))
        step["days"] = days
        plan.append(step)
    for name, days in (
        ("workflow_runs", settings.CDP_WORKFLOW_RUN_RETENTION_DAYS),
        ("delivery_attempts", settings.CDP_DELIVERY_ATTEMPT_RETENTION_DAYS),
        ("sessions", settings.CDP_SESSION_RETENTION_DAYS),
    ):
        if days:
            plan.append({"step": name, "before": (now - timedelta(days=days)).isoformat()})
            plan[-1]["days"] = days
    return plan


def plan_text(plan: list[Step]) -> str:
    """The plan in words, for the record's `what`."""
    parts = []
    for step in plan:
        name = step["step"].replace("_", " ")
        age = (
            f"older than {step['days']} days"
            if "days" in step
            else f"from before {step['before'][:19]}"
        )
        if step["step"] == "profiles":
            name = "anonymous profiles inactive"
        extra = []
        if step.get("types"):
            extra.append("type " + ", ".join(step["types"]))
        if step.get("sources"):
            extra.append("source " + ", ".join(step["sources"]))
        if step.get("exclude_sources"):
            extra.append("other sources")
        parts.append(f"{name} {age}" + (f" ({'; '.join(extra)})" if extra else ""))
    return "; ".join(parts)[:300] or "nothing (no retention configured)"


# --- running a purge ------------------------------------------------------------------------


def purge_start(
    *, plan: list[Step], actor: str, dry_run: bool = False, filters: dict | None = None
) -> PurgeRecord:
    """The PurgeRecord of a new purge (status `running`); `purge_proceed` does the work."""
    return PurgeRecord.objects.create(
        what=plan_text(plan),
        filters={**(filters or {}), "plan": plan},
        deleted=dict.fromkeys(COUNT_KEYS, 0),
        actor=actor,
        dry_run=dry_run,
        status=Status.RUNNING,
        started_at=timezone.now(),
    )


def retention_purge_start(*, now: datetime | None = None) -> PurgeRecord | None:
    """The nightly job's purge: the one still running from an earlier night (its job died or
    its message was lost: it goes on with its own cut-offs), else a new one with the
    configured retention; None when no retention is configured."""
    running = (
        PurgeRecord.objects.filter(actor=BEAT_ACTOR, status=Status.RUNNING)
        .order_by("started_at")
        .first()
    )
    if running is not None:
        return running
    plan = retention_plan(now=now or timezone.now())
    if not plan:
        return None
    return purge_start(plan=plan, actor=BEAT_ACTOR, filters={"retention": True})


def purge_proceed(
    *,
    record_id: str,
    seconds: float | None = None,
    options: Options | None = None,
    on_batch: Callable[[str, int], None] | None = None,
) -> bool:
    """Purge batches of the record's plan for about `seconds` (None: until done), and finish
    the record when nothing is left; True when it is done. `on_batch(step, rows)` after each
    batch (progress). A dry run counts each step's rows instead, deleting nothing. Safe to run
    again, also concurrently (batches serialise on the record's row)."""
    options = options or Options.from_settings()
    record = PurgeRecord.objects.filter(pk=record_id).first()
    if record is None or record.status != Status.RUNNING:
        return True
    deadline = None if seconds is None else time.monotonic() + seconds
    clock = _Clock()
    try:
        if record.dry_run:
            _dry_run(record, on_batch)
            return True
        for step in record.filters.get("plan", []):
            for partition in _partitions_past(step):
                rows = _partition_purge(
                    record_id=record_id, step=step, partition=partition, clock=clock
                )
                if rows and on_batch is not None:
                    on_batch(step["step"], rows)
            for selection in _selections(step):
                position = _Position()
                while _batch_purge(
                    record_id=record_id,
                    step=step,
                    rows=selection,
                    position=position,
                    options=options,
                    clock=clock,
                    on_batch=on_batch,
                ):
                    if deadline is not None and time.monotonic() > deadline:
                        return False
                    if options.pause_seconds:
                        time.sleep(options.pause_seconds)
    except (OperationalError, InterfaceError):
        # The database may come back: the record stays running, and the task's retry (or the
        # next night) goes on from what is left.
        raise
    except Exception as error:
        _fail(record_id, error)
        raise
    _finish(record_id)
    return True


def purge_counts(record: PurgeRecord) -> list[tuple[str, int]]:
    """The record's counts in reading order (the JSON object keeps none)."""
    extra = sorted(key for key in record.deleted if key not in COUNT_KEYS)
    return [(key, record.deleted[key]) for key in [*COUNT_KEYS, *extra] if key in record.deleted]


def purge_counts_text(record: PurgeRecord) -> str:
    """The non-zero counts: "events: 1200, deliveries: 30"."""
    counts = [f"{key.replace('_', ' ')}: {n:,}" for key, n in purge_counts(record) if n]
    return ", ".join(counts) or "nothing"


def plan_count(plan: list[Step]) -> int:
    """How many rows the plan's steps select now (the total of a progress bar)."""
    return sum(selection.count() for step in plan for selection in _selections(step))


def _selections(step: Step) -> Iterable[models.QuerySet]:
    before = parse_datetime(step["before"])
    kind = step["step"]
    if kind == "events":
        return events_to_purge(
            before=before,
            types=step.get("types"),
            source_ids=step.get("sources"),
            exclude_source_ids=step.get("exclude_sources"),
        )
    if kind == "workflow_runs":
        return [runs_to_purge(before=before)]
    if kind == "delivery_attempts":
        return [attempts_to_purge(before=before)]
    if kind == "sessions":
        return [sessions_to_purge(before=before)]
    if kind == "profiles":
        return [anonymous_inactive_profiles(before=before)]
    raise ValueError(f"unknown purge step {kind!r}")


class _Clock:
    """Seconds spent since the last batch was recorded (batches and the pauses between)."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def lap(self) -> float:
        now = time.monotonic()
        elapsed, self.last = now - self.last, now
        return elapsed


class _Position:
    """Where the last batch of a selection ended, on the selection's (time) ordering: the next
    batch starts its index scan there instead of at the start of the range, so rows that stay
    (sessions that still have events, identified profiles, the dead index entries of rows just
    deleted) are not read again by every batch."""

    def __init__(self) -> None:
        self.after = None


def _batch_purge(
    *,
    record_id: str,
    step: Step,
    rows: models.QuerySet,
    position: _Position,
    options: Options,
    clock: _Clock,
    on_batch: Callable[[str, int], None] | None,
) -> bool:
    """Delete one batch of `rows` (and their cascades) and count it on the record, in one
    transaction. False when nothing is left (or the purge is no longer running, or every row
    of the batch was locked by a writer: they are left for the next purge)."""
    with transaction.atomic():
        record = PurgeRecord.objects.select_for_update().only(
            "status", "deleted", "duration_seconds"
        )
        record = record.get(pk=record_id)
        if record.status != Status.RUNNING:
            return False
        if step["step"] == "sessions":
            # A visitor coming back touches the session row: locked ones are left for later,
            # and /track waits for this short transaction on the others, then starts anew.
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        order = rows.query.order_by[0]
        if position.after is not None:
            # >=, not >: rows at the same time as the last one may remain; any that stay are
            # read again once, and a batch that deletes nothing ends the selection.
            rows = rows.filter(**{f"{order}__gte": position.after})
        found = list(rows.values_list("pk", order)[: options.batch_size])
        if not found:
            return False
        pks = [pk for pk, _ in found]
        position.after = found[-1][1]
        if step["step"] == "profiles":
            per_model = profiles_purge_anonymous(
                profile_ids=pks, before=parse_datetime(step["before"])
            )
        else:
            _, per_model = rows.model.objects.filter(pk__in=pks).only("pk").delete()
        if not any(per_model.values()):
            return False
        deleted = record.deleted
        for label, count in per_model.items():
            key = _count_key(label)
            deleted[key] = deleted.get(key, 0) + count
        PurgeRecord.objects.filter(pk=record_id).update(
            deleted=deleted, duration_seconds=record.duration_seconds + clock.lap()
        )
    if on_batch is not None:
        on_batch(step["step"], len(pks))
    return True


def _partitions_past(step: Step) -> list[Partition]:
    """The month partitions of events that an events step (of every type and source) takes
    whole: ended before the cut-off and before now, every event's time before the cut-off
    and none from a source with a retention of its own. The partition straddling the cut-off
    (and any other one) is purged row-wise by the step's selections."""
    if step["step"] != "events" or step.get("types") or step.get("sources"):
        return []
    before = parse_datetime(step["before"])
    limit = min(before, timezone.now())
    return [
        partition
        for partition in partitions_list()
        if partition.end <= limit
        and partition_all_before(
            partition, before=before, exclude_sources=step.get("exclude_sources") or ()
        )
    ]


def _partition_purge(*, record_id: str, step: Step, partition: Partition, clock: _Clock) -> int:
    """Drop one whole month of events, with the ORM's cascades done first: its events'
    deliveries (and their attempts) go, its workflow runs keep the run with `event` null. A
    partition whose lock is not granted soon (a long query reads it) is left to the row-wise
    batches, which take nothing /track waits for. The events dropped (0: left)."""
    events = Event.objects.filter(inserted__gte=partition.start, inserted__lt=partition.end)
    with transaction.atomic():
        record = PurgeRecord.objects.select_for_update().only(
            "status", "deleted", "duration_seconds"
        )
        record = record.get(pk=record_id)
        if record.status != Status.RUNNING:
            return 0
        rows = partition_rows(partition)
        _, per_model = Delivery.objects.filter(event_id__in=events.values("pk")).delete()
        WorkflowRun.objects.filter(event_id__in=events.values("pk")).update(event=None)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '5s'")
                partition_drop(partition)
        except OperationalError:
            transaction.set_rollback(True)
            return 0
        deleted = record.deleted
        for label, count in {**per_model, Event._meta.label: rows}.items():
            key = _count_key(label)
            deleted[key] = deleted.get(key, 0) + count
        PurgeRecord.objects.filter(pk=record_id).update(
            deleted=deleted, duration_seconds=record.duration_seconds + clock.lap()
        )
    return rows


def _dry_run(record: PurgeRecord, on_batch: Callable[[str, int], None] | None) -> None:
    started = time.monotonic()
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for step in record.filters.get("plan", []):
        for selection in _selections(step):
            count = selection.count()
            counts[_count_key(selection.model._meta.label)] += count
            if on_batch is not None and count:
                on_batch(step["step"], count)
    now = timezone.now()
    PurgeRecord.objects.filter(pk=record.pk).update(
        deleted=counts,
        status=Status.DONE,
        finished_at=now,
        duration_seconds=time.monotonic() - started,
    )


def _finish(record_id: str) -> None:
    PurgeRecord.objects.filter(pk=record_id, status=Status.RUNNING).update(
        status=Status.DONE, finished_at=timezone.now()
    )


def _fail(record_id: str, error: Exception) -> None:
    PurgeRecord.objects.filter(pk=record_id, status=Status.RUNNING).update(
        status=Status.FAILED, finished_at=timezone.now(), error=f"{type(error).__name__}: {error}"
    )


def _count_key(label: str) -> str:
    """ "events.Event" -> "events", "workflows.WorkflowRun" -> "workflow_runs"."""
    model = django_apps.get_model(label)
    return str(model._meta.verbose_name_plural).replace(" ", "_")
