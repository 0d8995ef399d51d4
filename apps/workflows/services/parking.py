"""Parked branches (models.ParkedRun): storing them, recording their resumption on their run,
cancelling them and making them due at once (the admin's actions).

A run's WorkflowRun row is `parked` while one of its branches waits. When a branch resumes,
what it did is appended to the run's log and its duration added; the run's status becomes the
outcome (`ok` or `error`), or stays `parked` while another of its branches still waits.
The updates of a batch of resumed branches are one statement (`runs_record_resumed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.db import connection, transaction
from django.utils import timezone

from apps.workflows.engine import Flow, FlowEffects, ParkedBranch, ResumePoint, workflow_execute
from apps.workflows.graph import GraphInvalid
from apps.workflows.models import ParkedRun, WorkflowRun
from apps.workflows.selectors import workflow_compiled


def parked_branches_build(
    branches: Sequence[ParkedBranch],
    *,
    workflow_id: str,
    version: int,
    event: dict,
    event_ref: str,
    event_type: str,
    profile_id: str | None,
    session_id: str | None,
) -> list[ParkedRun]:
    return [
        ParkedRun(
            workflow_id=workflow_id,
            workflow_version=version,
            event_ref=event_ref,
            event_type=event_type,
            profile_id=profile_id,
            node_id=branch.node_id,
            node_name=branch.node_name[:200],
            due_at=branch.park.due_at,
            due_port=branch.park.port,
            waiting_for=branch.park.waiting_for,
            state={
                "payload": branch.payload,
                "memory": branch.memory,
                "event": orjson.loads(orjson.dumps(event, default=str)),
                "session_id": session_id,
            },
        )
        for branch in branches
    ]


def parked_runs_insert(rows: Sequence[ParkedRun]) -> None:
    if rows:
        ParkedRun.objects.bulk_create(rows, batch_size=1000)


@dataclass
class ResumedRun:
    """What one resumed branch adds to its run."""

    workflow_id: str
    event_ref: str
    status: str  # the branch's outcome: ok, error or parked (it waits again)
    log: list[dict]
    duration_ms: float
    error: str = ""
    error_node: str = ""


_RECORD_RESUMED = f"""
WITH branch AS (
    SELECT * FROM jsonb_to_recordset(%s::jsonb) AS r(
        workflow_id text, event_ref text, status text, log jsonb, duration_ms float8,
        error text, error_node text, ord int)
), logs AS (
    SELECT branch.workflow_id, branch.event_ref,
           jsonb_agg(e.entry ORDER BY branch.ord, e.n) AS log
    FROM branch
    CROSS JOIN LATERAL jsonb_array_elements(branch.log) WITH ORDINALITY AS e(entry, n)
    GROUP BY branch.workflow_id, branch.event_ref
), merged AS (
    SELECT branch.workflow_id, branch.event_ref,
           COALESCE(logs.log, '[]'::jsonb) AS log,
           sum(branch.duration_ms) AS duration_ms,
           bool_or(branch.status = 'parked') AS parks_again,
           (array_agg(branch.error ORDER BY branch.ord)
               FILTER (WHERE branch.status = 'error'))[1] AS error,
           (array_agg(branch.error_node ORDER BY branch.ord)
               FILTER (WHERE branch.status = 'error'))[1] AS error_node
    FROM branch LEFT JOIN logs USING (workflow_id, event_ref)
    GROUP BY branch.workflow_id, branch.event_ref, logs.log
)
UPDATE {WorkflowRun._meta.db_table} AS run
SET log = run.log || merged.log,
    duration_ms = run.duration_ms + merged.duration_ms,
    status = CASE
        WHEN merged.error IS NOT NULL THEN 'error'
        WHEN merged.parks_again OR EXISTS (
            SELECT 1 FROM {ParkedRun._meta.db_table} AS p
            WHERE p.workflow_id = run.workflow_id AND p.event_ref = run.event_ref
              AND p.status = 'parked') THEN 'parked'
        WHEN run.status = 'error' THEN 'error'
        ELSE 'ok' END,
    error = COALESCE(merged.error, run.error),
    error_node = COALESCE(merged.error_node, run.error_node)
FROM merged
WHERE run.workflow_id = merged.workflow_id AND run.event_ref = merged.event_ref
  AND run.replay = false AND run.status <> 'timeout'
"""


def runs_record_resumed(resumed: Sequence[ResumedRun]) -> None:
    """Append the resumed branches to their runs (one statement for the batch). Call after the
    resumed rows are marked and the branches that park again are inserted."""
    if not resumed:
        return
    rows = [
        {
            "workflow_id": item.workflow_id,
            "event_ref": item.event_ref,
            "status": item.status,
            "log": item.log or [],
            "duration_ms": item.duration_ms,
            "error": item.error or None,
            "error_node": item.error_node or None,
            "ord": position,
        }
        for position, item in enumerate(resumed)
    ]
    data = orjson.dumps(rows, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    with connection.cursor() as cursor:
        cursor.execute(_RECORD_RESUMED, [data])


def parked_branch_run(
    parked: ParkedRun,
    *,
    port: str,
    payload: object,
    profile: dict | None,
    session: dict | None,
    effects: FlowEffects,
    now: datetime,
) -> tuple[ResumedRun, list[ParkedRun]]:
    """Go on with a parked branch from its node's `port` with `payload`, on the run's event
    and memory as they were when it parked and on `profile` (changed in place; the caller
    saves it). Returns what to add to its run and the branches that park again."""
    compiled = workflow_compiled(workflow_id=parked.workflow_id, version=parked.workflow_version)
    if isinstance(compiled, GraphInvalid):
        message = f"The workflow cannot run: {compiled or 'it was deleted'}"
        return ResumedRun(
            parked.workflow_id, parked.event_ref, "error", [], 0.0, message, parked.node_id
        ), []
    state = parked.state or {}
    flow = Flow(
        event=state.get("event") or {},
        profile=profile,
        session=session,
        workflow={"id": compiled.id, "name": compiled.name, "version": compiled.version},
        now=now,
        effects=effects,
        memory=state.get("memory") or {},
    )
    outcome = workflow_execute(
        compiled, flow, resume=ResumePoint(node_id=parked.node_id, port=port, payload=payload)
    )
    again: list[ParkedRun] = []
    status = outcome.status
    if outcome.ok and outcome.parked:
        status = WorkflowRun.Status.PARKED
        again = parked_branches_build(
            outcome.parked,
            workflow_id=parked.workflow_id,
            version=compiled.version,
            event=flow.event,
            event_ref=parked.event_ref,
            event_type=parked.event_type,
            profile_id=parked.profile_id,
            session_id=state.get("session_id"),
        )
    resumed = ResumedRun(
        workflow_id=parked.workflow_id,
        event_ref=parked.event_ref,
        status=status,
        log=outcome.log,
        duration_ms=outcome.duration_ms,
        error=outcome.error,
        error_node=outcome.error_node,
    )
    return resumed, again


PARKED_COLUMNS = (
    "id, workflow_id, workflow_version, event_ref, event_type, profile_id, node_id, "
    "node_name, due_at, due_port, waiting_for, state"
)
# The profile's branches waiting for an event type and not yet due (those past due time out),
# except the run's own event's; SKIP LOCKED: the resume job may hold one, it is its to resume.
_CLAIM_WAITING = f"""
UPDATE {ParkedRun._meta.db_table} SET status = 'resumed', finished = %(now)s, outcome = 'event'
WHERE id IN (
    SELECT id FROM {ParkedRun._meta.db_table}
    WHERE profile_id = %(profile)s AND waiting_for = %(type)s AND status = 'parked'
      AND due_at > %(now)s AND event_ref <> %(event)s
    ORDER BY due_at FOR UPDATE SKIP LOCKED)
RETURNING {PARKED_COLUMNS}
"""


def parked_rows_read(cursor) -> list[ParkedRun]:
    """The rows a `RETURNING PARKED_COLUMNS` statement gave, as (unsaved) instances."""
    names = [column.name for column in cursor.description]
    rows = []
    for values in cursor.fetchall():
        data = dict(zip(names, values, strict=True))
        if isinstance(data["state"], str | bytes):
            data["state"] = orjson.loads(data["state"])
        rows.append(ParkedRun(status=ParkedRun.Status.RESUMED, **data))
    return rows


def parked_wake(
    *,
    profile_id: str,
    event_id: str,
    event_type: str,
    document: dict,
    profile: dict | None,
    session: dict | None,
    effects: FlowEffects,
    now: datetime,
) -> tuple[list[ResumedRun], list[ParkedRun]]:
    """Resume the profile's branches waiting for `event_type` (not yet due) from their `event`
    port with the event `document` as the payload. Call under the profile's lock, inside the
    batch's transaction; `profile` is the batch's document (saved by the batch). Returns what
    to add to their runs (once the batch's runs are inserted) and the branches that park
    again (the caller inserts them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_WAITING,
            {"now": now, "profile": profile_id, "type": event_type, "event": event_id},
        )
        rows = parked_rows_read(cursor)
    resumed: list[ResumedRun] = []
    again: list[ParkedRun] = []
    for row in rows:
        outcome, parked_again = parked_branch_run(
            row,
            port="event",
            payload=document,
            profile=profile,
            session=session,
            effects=effects,
            now=now,
        )
        resumed.append(outcome)
        again.extend(parked_again)
    return resumed, again


def parked_runs_cancel(*, ids: Sequence[int], by: str) -> int:
    """Cancel waiting branches (the admin's "Cancel"); their runs end `ok` when nothing else of
    them waits. Returns how many were waiting."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            ParkedRun.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(ids), status=ParkedRun.Status.PARKED)
            .only("id", "workflow_id", "event_ref", "node_id", "node_name")
        )
        if not rows:
            return 0
        ParkedRun.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=ParkedRun.Status.CANCELLED, finished=now, outcome=f"cancelled by {by}"[:200]
        )
        runs_record_resumed(
            [
                ResumedRun(
                    workflow_id=row.workflow_id,
                    event_ref=row.event_ref,
                    status="ok",
                    log=[_cancelled_entry(row, by)],
                    duration_ms=0.0,
                )
                for row in rows
            ]
        )
    return len(rows)


def parked_runs_due_now(*, ids: Sequence[int], now: datetime | None = None) -> int:
    """Make waiting branches due now (the admin's "Resume now"): the next resume job takes
    them, on the port they would take when due (`payload`, or `timeout` when waiting for an
    event). Returns how many were waiting."""
    return ParkedRun.objects.filter(pk__in=list(ids), status=ParkedRun.Status.PARKED).update(
        due_at=now or timezone.now()
    )


def _cancelled_entry(row: ParkedRun, by: str) -> dict:
    return {
        "node": row.node_id,
        "name": row.node_name,
        "action": "wait",
        "in_port": None,
        "port": None,
        "duration_ms": 0.0,
        "error": None,
        "messages": [{"level": "warning", "message": f"cancelled by {by}"}],
    }
