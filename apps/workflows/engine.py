"""Running one workflow graph on one event (DESIGN §8).

Semantics:
- the run starts at the start node with the event as its input;
- a node's result on port P travels along the edges that leave P, and only those;
- a node runs once per value that reaches it (two branches joining run it twice);
- a None value ends its branch; the run ends when no value is left to deliver;
- an error stops the whole run and is recorded with the node and the message;
- with a deadline (a time.monotonic() value: runs inside the /track request have a time
  budget), the engine checks it before each node and stops the run as `timeout` once it has
  passed; a node that failed after the deadline (a remote call cut at the remaining time) is
  a timeout too, not an error. Actions that wait on I/O cap their wait at `flow.remaining()`.

Values are delivered first-in first-out, so nodes run breadth-first from the start node.
The engine knows nothing about the database: profile, event and session are plain dicts in
Tracardi's shape, changed in place by the nodes; the caller saves what changed.
"""

from __future__ import annotations

import copy
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson
from django.db import DatabaseError

from apps import notation
from apps.workflows.actions.base import Action, ActionError, Result

# A workflow whose branches fan out beyond this many node runs is stopped: it is a mistake,
# not a real workload (a 50-node graph runs ~50 times per event).
MAX_NODE_RUNS = 1000
# Payloads kept in a run log are cut to this many characters of JSON.
LOG_VALUE_MAX_CHARS = 20_000


class FlowEffects(Protocol):
    """Side effects that need the database, provided by the caller of the engine."""

    def inject_event(
        self, *, flow: Flow, event_type: str, properties: dict, source_id: str | None
    ) -> dict: ...

    def profile_merge_request(self, *, flow: Flow, merge_by: list[str]) -> None: ...


@dataclass
class Flow:
    """The state the nodes of one run share: the data dot paths read and write."""

    event: dict
    profile: dict | None
    session: dict | None
    workflow: dict
    now: datetime
    effects: FlowEffects | None = None
    memory: dict = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)
    # What this run adds to the /track answer when its rule answers in the request: `response`
    # is deep-merged into the answer's `response`, `ux` items are appended to its `ux`
    # (each {"tag", "props", "content"}, the shape the tracker renders). Worker runs drop them.
    response: dict = field(default_factory=dict)
    ux: list[dict] = field(default_factory=list)
    # The node running now, and how many times it has run in this run (1 on its first value):
    # with the event and workflow ids, what names a side effect stably (idempotency keys).
    node_id: str = ""
    node_visit: int = 0
    # time.monotonic() value past which the run stops (runs in the request); None: no limit.
    deadline: float | None = None
    # A test run from the editor: connector actions use their resources' test credentials.
    test_run: bool = False

    def remaining(self, wanted: float) -> float:
        """Seconds an action may wait for I/O: `wanted`, capped at the time left before the
        deadline (at least a millisecond, so that a library given it still fails fast)."""
        if self.deadline is None:
            return wanted
        return max(0.001, min(wanted, self.deadline - time.monotonic()))

    def data(self, payload: Any) -> dict:
        return {
            "profile": self.profile,
            "event": self.event,
            "session": self.session,
            "payload": payload,
            "flow": self.workflow,
            "memory": self.memory,
        }

    def read(self, reference: Any, payload: Any) -> Any:
        return notation.resolve(reference, self.data(payload))

    def writable_data(self, payload: Any, targets: list[str]) -> dict:
        """Data for writing to `targets`; the payload is copied first when a target is in it,
        because the same payload object may travel down other branches too."""
        if any(target.startswith("payload@") for target in targets):
            payload = copy.deepcopy(payload)
        return self.data(payload)

    def assign(self, reference: str, value: Any, data: dict) -> None:
        if reference.startswith("profile@") and self.profile is None:
            raise ActionError(f"cannot write {reference}: this event has no profile")
        notation.assign(reference, value, data)

    def require_profile(self, action: str) -> dict:
        if self.profile is None:
            raise ActionError(f"{action} needs a profile, and this event has none")
        return self.profile

    def log(self, level: str, message: str) -> None:
        self.messages.append({"level": level, "message": message})


@dataclass(frozen=True, slots=True)
class CompiledNode:
    id: str
    name: str
    action: Action
    debug: bool

    @property
    def label(self) -> str:
        return f"{self.name!r} ({self.id})" if self.name else self.id


@dataclass(frozen=True, slots=True)
class CompiledWorkflow:
    id: str
    name: str
    version: int
    start: str
    nodes: dict[str, CompiledNode]
    # (node id, output port) -> [(target node id, target input port)]
    edges: dict[tuple[str, str], list[tuple[str, str]]]


@dataclass
class RunOutcome:
    status: str  # "ok", "error" or "timeout" (past the flow's deadline)
    log: list[dict]
    duration_ms: float
    error: str = ""
    error_node: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def workflow_execute(
    workflow: CompiledWorkflow,
    flow: Flow,
    *,
    keep_payloads: bool = False,
    clock: Callable[[], float] = time.perf_counter,
    deadline: float | None = None,
) -> RunOutcome:
    """Run `workflow` on `flow.event`. `keep_payloads` logs every node's input and output (test
    runs); otherwise only nodes with `debug` on keep them, since runs are stored at volume.
    `deadline` (time.monotonic()) stops the run as `timeout` before a node that would start
    after it."""
    flow.deadline = deadline
    started = clock()
    pending: deque[tuple[str, str | None, Any]] = deque([(workflow.start, None, flow.event)])
    log: list[dict] = []
    node_runs = 0
    visits: Counter[str] = Counter()
    while pending:
        node_id, in_port, payload = pending.popleft()
        node = workflow.nodes[node_id]
        if _past(deadline):
            return _timed_out(started, clock, log, node, "before it started")
        node_runs += 1
        if node_runs > MAX_NODE_RUNS:
            message = f"stopped after {MAX_NODE_RUNS} node runs: the graph fans out too much"
            return _failed(started, clock, log, node, message)
        keep = keep_payloads or node.debug
        entry: dict[str, Any] = {
            "node": node.id,
            "name": node.name,
            "action": node.action.id,
            "in_port": in_port,
            "port": None,
            "duration_ms": 0.0,
            "error": None,
        }
        if keep:
            entry["input"] = loggable(payload)
        flow.messages = []
        visits[node.id] += 1
        flow.node_id, flow.node_visit = node.id, visits[node.id]
        node_started = clock()
        try:
            results = _as_results(node.action.run(payload, flow))
            _check_ports(node, results)
        except DatabaseError:
            raise  # infrastructure, not the workflow: the task fails and the message is retried
        except (ActionError, notation.NotationError) as exc:
            if _past(deadline):
                return _timed_out(started, clock, log, node, str(exc), entry, node_started)
            return _failed(started, clock, log, node, str(exc), entry, node_started)
        except Exception as exc:  # an action bug must fail this run, not the whole batch
            message = f"{type(exc).__name__}: {exc}"
            if _past(deadline):
                return _timed_out(started, clock, log, node, message, entry, node_started)
            return _failed(started, clock, log, node, message, entry, node_started)
        if _past(deadline) and any(result.port == "error" for result in results):
            # A remote call cut at the deadline answers on its error port: not the remote's
            # fault, the budget's.
            message = "its answer came after the deadline"
            return _timed_out(started, clock, log, node, message, entry, node_started)
        entry["duration_ms"] = _ms(clock() - node_started)
        live = [result for result in results if result.value is not None]
        entry["port"] = ",".join(result.port for result in live) or None
        if flow.messages:
            entry["messages"] = flow.messages
        if keep:
            entry["output"] = {result.port: loggable(result.value) for result in live}
        log.append(entry)
        for result in live:
            for target, target_port in workflow.edges.get((node.id, result.port), ()):
                pending.append((target, target_port, result.value))
    return RunOutcome(status="ok", log=log, duration_ms=_ms(clock() - started))


def _as_results(returned: Result | list[Result] | None) -> list[Result]:
    if returned is None:
        return []
    if isinstance(returned, Result):
        return [returned]
    return list(returned)


def _check_ports(node: CompiledNode, results: list[Result]) -> None:
    for result in results:
        if result.port not in node.action.outputs:
            raise ActionError(
                f"action {node.action.id} answered on port {result.port!r}, "
                f"which it does not have (ports: {', '.join(node.action.outputs) or 'none'})"
            )


def _failed(
    started: float,
    clock: Callable[[], float],
    log: list[dict],
    node: CompiledNode,
    message: str,
    entry: dict | None = None,
    node_started: float | None = None,
) -> RunOutcome:
    if entry is not None:
        entry["duration_ms"] = _ms(clock() - node_started) if node_started is not None else 0.0
        entry["error"] = message
        log.append(entry)
    return RunOutcome(
        status="error",
        log=log,
        duration_ms=_ms(clock() - started),
        error=f"Node {node.label}: {message}",
        error_node=node.id,
    )


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _timed_out(
    started: float,
    clock: Callable[[], float],
    log: list[dict],
    node: CompiledNode,
    message: str,
    entry: dict | None = None,
    node_started: float | None = None,
) -> RunOutcome:
    outcome = _failed(
        started, clock, log, node, f"stopped at the time budget ({message})", entry, node_started
    )
    outcome.status = "timeout"
    return outcome


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def loggable(value: Any) -> Any:
    """A JSON-safe copy of `value` (datetimes as ISO text), cut when very large."""
    encoded = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)
    if len(encoded) > LOG_VALUE_MAX_CHARS:
        return {"truncated": encoded[:LOG_VALUE_MAX_CHARS].decode(errors="replace")}
    return orjson.loads(encoded)
