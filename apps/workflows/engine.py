"""Running one workflow graph on one event (DESIGN §8).

Semantics:
- the run starts at the start node with the event as its input;
- a node's result on port P travels along the edges that leave P, and only those;
- a node runs once per value that reaches it (two branches joining run it twice), except a
  node whose action joins its inputs (`Action.joins_inputs`, the Join action): it waits until
  no value is left on the way to it, then runs once on `{edge name or id: value}` of the
  values that reached it (Tracardi's join: a branch that ended early gives no key);
- a None value ends its branch; the run ends when no value is left to deliver;
- an error stops the whole run and is recorded with the node and the message;
- with a deadline (a time.monotonic() value: runs inside the /track request have a time
  budget), the engine checks it before each node and stops the run as `timeout` once it has
  passed; a node that failed after the deadline (a remote call cut at the remaining time) is
  a timeout too, not an error. Actions that wait on I/O cap their wait at `flow.remaining()`.

A Wait node answers `Park` instead of a value: its branch stops there, and the outcome lists
it (`RunOutcome.parked`, with a copy of the payload and of the memory at that moment) for the
caller to store. `resume` starts a run at such a node instead of the start node: the value
leaves that node's port (the run's memory and event restored by the caller in `flow`).

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
from apps.workflows.actions.base import Action, ActionError, Park, Result

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
    # The name (or id) of the edge the value that runs the current node came by ("" for the
    # start node and a joining node): Payload collector keys what it collects by it.
    in_edge: str = ""
    # Answers the conditions' aggregates over the profile's stored events (`count(events
    # ...)`); None: such a condition raises, and the node fails with the notation's message.
    history: notation.HistoryProvider | None = None
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
    # (node id, output port, target node id) -> the edge's name (Tracardi's `data.name`) or id:
    # the keys of what a joining node receives.
    edge_names: dict[tuple[str, str, str], str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParkedBranch:
    """A branch that stopped at a Wait node: what it needs to go on later."""

    node_id: str
    node_name: str
    park: Park
    payload: Any
    memory: dict


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where a parked branch goes on: the value leaves `node_id` on `port`."""

    node_id: str
    port: str
    payload: Any


@dataclass
class RunOutcome:
    status: str  # "ok", "error" or "timeout" (past the flow's deadline)
    log: list[dict]
    duration_ms: float
    error: str = ""
    error_node: str = ""
    parked: list[ParkedBranch] = field(default_factory=list)

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
    resume: ResumePoint | None = None,
) -> RunOutcome:
    """Run `workflow` on `flow.event`. `keep_payloads` logs every node's input and output (test
    runs); otherwise only nodes with `debug` on keep them, since runs are stored at volume.
    `deadline` (time.monotonic()) stops the run as `timeout` before a node that would start
    after it. `resume`: go on from a parked branch's Wait node instead of the start node."""
    flow.deadline = deadline
    started = clock()
    pending: deque[tuple[str, str | None, Any, str]] = deque()
    # Joining node id -> {edge name: value}, held until nothing else is on the way to it.
    joining: dict[str, dict[str, Any]] = {}
    log: list[dict] = []
    parked: list[ParkedBranch] = []
    if resume is None:
        pending.append((workflow.start, None, flow.event, ""))
    else:
        node = workflow.nodes.get(resume.node_id)
        if node is None:
            return RunOutcome(
                status="error",
                log=log,
                duration_ms=0.0,
                error=f"Node {resume.node_id} to resume at is no longer in the workflow",
                error_node=resume.node_id,
            )
        log.append(_resumed_entry(node, resume.port))
        for target, target_port in workflow.edges.get((node.id, resume.port), ()):
            name = workflow.edge_names.get((node.id, resume.port, target), "")
            pending.append((target, target_port, resume.payload, name))
    node_runs = 0
    visits: Counter[str] = Counter()
    while pending or joining:
        if pending:
            node_id, in_port, payload, edge_name = pending.popleft()
            node = workflow.nodes[node_id]
            if node.action.joins_inputs:
                joining.setdefault(node_id, {})[edge_name] = payload
                continue
        else:
            node_id = _next_join(workflow, joining)
            node, in_port, payload = workflow.nodes[node_id], "payload", joining.pop(node_id)
            edge_name = ""
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
        flow.in_edge = edge_name
        node_started = clock()
        try:
            returned = node.action.run(payload, flow)
            if isinstance(returned, Park):
                branch = ParkedBranch(
                    node.id, node.name, returned, json_copy(payload), json_copy(flow.memory)
                )
                parked.append(branch)
                flow.log("info", f"waits until {returned.due_at.isoformat()}")
                returned = None
            results = _as_results(returned)
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
                name = workflow.edge_names.get((node.id, result.port, target), "")
                pending.append((target, target_port, result.value, name))
    return RunOutcome(status="ok", log=log, duration_ms=_ms(clock() - started), parked=parked)


def _resumed_entry(node: CompiledNode, port: str) -> dict:
    return {
        "node": node.id,
        "name": node.name,
        "action": node.action.id,
        "in_port": None,
        "port": port,
        "duration_ms": 0.0,
        "error": None,
        "messages": [{"level": "info", "message": f"resumed on {port}"}],
    }


def _next_join(workflow: CompiledWorkflow, joining: dict[str, dict[str, Any]]) -> str:
    """A joining node that no other waiting joining node leads to (so it has all it will get)."""
    for candidate in joining:
        if not any(
            other != candidate and _leads_to(workflow, other, candidate) for other in joining
        ):
            return candidate
    return next(iter(joining))  # unreachable in an acyclic graph


def _leads_to(workflow: CompiledWorkflow, source: str, target: str) -> bool:
    seen, stack = {source}, [source]
    while stack:
        current = stack.pop()
        for (node_id, _), targets in workflow.edges.items():
            if node_id != current:
                continue
            for child, _ in targets:
                if child == target:
                    return True
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
    return False


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


def json_copy(value: Any) -> Any:
    """A JSON-safe copy of `value`, whole (datetimes as ISO text): the state a branch keeps."""
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))


def loggable(value: Any) -> Any:
    """A JSON-safe copy of `value` (datetimes as ISO text), cut when very large."""
    encoded = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)
    if len(encoded) > LOG_VALUE_MAX_CHARS:
        return {"truncated": encoded[:LOG_VALUE_MAX_CHARS].decode(errors="replace")}
    return orjson.loads(encoded)
