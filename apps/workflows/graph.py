"""Validating a workflow graph and compiling it for the engine.

A graph is valid when it has exactly one start node, every node names a known action and has
a config its action accepts, every edge joins an existing output port to an existing input
port, and there is no cycle. Problems name the node by its name and id, so the admin can show
a message a marketer can act on.

A node that names a Tracardi plugin we map (apps.workflows.actions.tracardi_names) runs with its
config converted from Tracardi's keys and its Tracardi port names read as ours, so a Tracardi
graph that reaches the engine without going through the import still runs. A node the import
kept as a placeholder (`data.unavailable`) is reported as not available.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.workflows.actions import action_class_for
from apps.workflows.actions.base import Action
from apps.workflows.actions.flow import StartAction
from apps.workflows.actions.tracardi_names import NotConvertible, TracardiPlugin, tracardi_plugin
from apps.workflows.engine import CompiledNode, CompiledWorkflow


@dataclass(frozen=True, slots=True)
class GraphProblem:
    message: str
    node_id: str = ""
    node_name: str = ""

    def as_dict(self) -> dict:
        """The editor's shape: the node the message is drawn on (null: the whole graph)."""
        return {"node_id": self.node_id or None, "message": self.message}

    def __str__(self) -> str:
        if not self.node_id:
            return self.message
        name = f"{self.node_name!r} " if self.node_name else ""
        return f"Node {name}(id {self.node_id}): {self.message}"


class GraphInvalid(Exception):
    def __init__(self, problems: list[GraphProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class _Node:
    id: str
    name: str
    action: type[Action] | None
    config: dict
    debug: bool
    plugin: TracardiPlugin | None = None


def node_name(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    metadata = (node.get("data") or {}).get("metadata") or {}
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else ""


def graph_problems(graph: Any) -> list[GraphProblem]:
    problems, _, _, _ = _analyse(graph)
    return problems


def graph_compile(*, workflow_id: str, name: str, version: int, graph: Any) -> CompiledWorkflow:
    problems, nodes, edges, edge_names = _analyse(graph)
    if problems:
        raise GraphInvalid(problems)
    compiled_nodes = {
        node.id: CompiledNode(
            id=node.id, name=node.name, action=node.action(node.config), debug=node.debug
        )
        for node in nodes.values()
    }
    start = next(node.id for node in nodes.values() if node.action is StartAction)
    return CompiledWorkflow(
        id=workflow_id,
        name=name,
        version=version,
        start=start,
        nodes=compiled_nodes,
        edges=edges,
        edge_names=edge_names,
    )


EdgeNames = dict[tuple[str, str, str], str]


def _analyse(
    graph: Any,
) -> tuple[
    list[GraphProblem], dict[str, _Node], dict[tuple[str, str], list[tuple[str, str]]], EdgeNames
]:
    problems: list[GraphProblem] = []
    if not isinstance(graph, dict):
        message = 'The graph must be an object {"nodes": [...], "edges": [...]}'
        return [GraphProblem(message)], {}, {}, {}
    raw_nodes, raw_edges = graph.get("nodes"), graph.get("edges", [])
    if not isinstance(raw_nodes, list) or not isinstance(raw_edges, list):
        return [GraphProblem('"nodes" and "edges" must be lists')], {}, {}, {}
    nodes = _read_nodes(raw_nodes, problems)
    starts = [node for node in nodes.values() if node.action is StartAction]
    if not starts:
        problems.append(GraphProblem("The workflow needs one start node; it has none"))
    elif len(starts) > 1:
        names = ", ".join(f"{node.name!r} (id {node.id})" for node in starts)
        problems.append(GraphProblem(f"The workflow needs exactly one start node; it has {names}"))
    edge_names: EdgeNames = {}
    edges = _read_edges(raw_edges, nodes, problems, edge_names)
    if not problems:
        cycle = _find_cycle(nodes, edges)
        if cycle:
            path = " -> ".join(f"{nodes[i].name!r} ({i})" for i in cycle)
            problems.append(GraphProblem(f"The graph has a cycle: {path}"))
    return problems, nodes, edges, edge_names


def _read_nodes(raw_nodes: list, problems: list[GraphProblem]) -> dict[str, _Node]:
    nodes: dict[str, _Node] = {}
    for position, raw in enumerate(raw_nodes):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
            problems.append(GraphProblem(f"Node #{position + 1} has no string id"))
            continue
        node_id, name = raw["id"], node_name(raw)

        def problem(message: str, node_id: str = node_id, name: str = name) -> None:
            problems.append(GraphProblem(message, node_id, name))

        if node_id in nodes:
            problem("another node has the same id")
            continue
        data = raw.get("data")
        spec = data.get("spec") if isinstance(data, dict) else None
        if not isinstance(spec, dict):
            problem("data.spec is missing (it names the action: className and module)")
            nodes[node_id] = _Node(node_id, name, None, {}, False)
            continue
        action = action_class_for(spec)
        if action is None:
            if data.get("unavailable"):
                problem(
                    f"{spec.get('module')}.{spec.get('className')} is not available (imported "
                    "from Tracardi); replace this node before deploying"
                )
            else:
                problem(
                    f"unknown action {spec.get('module')}.{spec.get('className')}; "
                    "see the action catalogue for the available ones"
                )
            nodes[node_id] = _Node(node_id, name, None, {}, False)
            continue
        config = spec.get("init")
        config = {} if config is None else config
        plugin = tracardi_plugin(spec.get("module"), spec.get("className"))
        if plugin is not None:
            try:
                config = plugin.config_to_ours(config, set(action.config_schema["properties"]))
            except NotConvertible as exc:
                problem(f"{action.name}: the Tracardi config cannot be used: {exc}")
                nodes[node_id] = _Node(node_id, name, None, {}, False)
                continue
        for message in action.config_errors(config):
            problem(f"{action.name}: {message}")
        debug = bool(data.get("debug"))
        config = config if isinstance(config, dict) else {}
        nodes[node_id] = _Node(node_id, name, action, config, debug, plugin)
    return nodes


def _read_edges(
    raw_edges: list, nodes: dict[str, _Node], problems: list[GraphProblem], names: EdgeNames
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    edges: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for position, raw in enumerate(raw_edges):
        label = (
            f"Edge {raw.get('id')!r}"
            if isinstance(raw, dict) and raw.get("id")
            else (f"Edge #{position + 1}")
        )
        if not isinstance(raw, dict):
            problems.append(GraphProblem(f"{label} must be an object"))
            continue
        source, target = nodes.get(raw.get("source")), nodes.get(raw.get("target"))
        if source is None or target is None:
            missing = raw.get("source") if source is None else raw.get("target")
            message = f"{label} points at node {missing!r}, which does not exist"
            problems.append(GraphProblem(message))
            continue
        source_port, target_port = raw.get("sourceHandle"), raw.get("targetHandle")
        if source.plugin is not None:
            source_port = source.plugin.our_port(source_port)
        if source.action is not None and source_port not in source.action.outputs:
            problems.append(
                GraphProblem(
                    f"{label} leaves from port {source_port!r}, which this node does not have "
                    f"(output ports: {', '.join(source.action.outputs) or 'none'})",
                    source.id,
                    source.name,
                )
            )
            continue
        if target.action is not None and target_port not in target.action.inputs:
            problems.append(
                GraphProblem(
                    f"{label} arrives at port {target_port!r}, which this node does not have "
                    f"(input ports: {', '.join(target.action.inputs) or 'none'})",
                    target.id,
                    target.name,
                )
            )
            continue
        edges.setdefault((source.id, source_port), []).append((target.id, target_port))
        names[(source.id, source_port, target.id)] = _edge_name(raw)
    return edges


def _edge_name(raw: dict) -> str:
    """Tracardi keys joined values by the edge's name (`data.name`), else by its id."""
    data = raw.get("data")
    name = data.get("name") if isinstance(data, dict) else None
    if isinstance(name, str) and name.strip():
        return name.strip()
    return str(raw.get("id") or f"{raw.get('source')}.{raw.get('sourceHandle')}")


def _find_cycle(
    nodes: dict[str, _Node], edges: dict[tuple[str, str], list[tuple[str, str]]]
) -> list[str]:
    """A list of node ids forming a cycle (first id repeated at the end), or []."""
    successors: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    for (source, _), targets in edges.items():
        successors[source].extend(target for target, _ in targets)
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(nodes, white)
    for root in nodes:
        if colour[root] != white:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        colour[root] = grey
        while stack:
            current, index = stack[-1]
            if index < len(successors[current]):
                stack[-1] = (current, index + 1)
                child = successors[current][index]
                if colour[child] == grey:
                    return [*path[path.index(child) :], child]
                if colour[child] == white:
                    colour[child] = grey
                    stack.append((child, 0))
                    path.append(child)
            else:
                colour[current] = black
                stack.pop()
                path.pop()
    return []
