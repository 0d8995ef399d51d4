"""A server-rendered picture of a workflow graph (SVG), for the admin's change page.

Nodes are drawn at their saved positions (Tracardi's editor lays graphs out top to bottom:
input ports on top of a node, output ports below it). A graph whose nodes have no distinct
positions (written by hand) is laid out in layers from the start node. Every text is escaped.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.workflows.actions import action_class_for
from apps.workflows.graph import node_name

NODE_WIDTH = 190
NODE_HEIGHT = 58
MARGIN = 30
LAYER_GAP = 110
COLUMN_GAP = 230


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _positions(nodes: list[dict], edges: list[dict]) -> dict[str, tuple[float, float]]:
    saved = {}
    for node in nodes:
        position = node.get("position") if isinstance(node.get("position"), dict) else {}
        x, y = _number(position.get("x")), _number(position.get("y"))
        if x is not None and y is not None:
            saved[node["id"]] = (x, y)
    if len(saved) == len(nodes) and len(set(saved.values())) == len(nodes):
        return saved
    return _layered(nodes, edges)


def _layered(nodes: list[dict], edges: list[dict]) -> dict[str, tuple[float, float]]:
    """Layer = longest path from a node without incoming edges (the graph has no cycles)."""
    ids = [node["id"] for node in nodes]
    incoming: dict[str, list[str]] = {node_id: [] for node_id in ids}
    for edge in edges:
        if edge.get("source") in incoming and edge.get("target") in incoming:
            incoming[edge["target"]].append(edge["source"])
    layer: dict[str, int] = {}

    def depth(node_id: str, seen: frozenset = frozenset()) -> int:
        if node_id in layer:
            return layer[node_id]
        if node_id in seen:  # a cycle in an unsaved graph: stop rather than recurse forever
            return 0
        parents = incoming[node_id]
        value = 1 + max((depth(p, seen | {node_id}) for p in parents), default=-1)
        layer[node_id] = value
        return value

    columns: dict[int, int] = {}
    positions = {}
    for node_id in ids:
        row = depth(node_id)
        column = columns.get(row, 0)
        columns[row] = column + 1
        positions[node_id] = (float(column * COLUMN_GAP), float(row * LAYER_GAP))
    return positions


def _ports(node: dict, key: str) -> list[str]:
    spec = (node.get("data") or {}).get("spec") or {}
    action = action_class_for(spec) if isinstance(spec, dict) else None
    if action is not None:
        return list(action.inputs if key == "inputs" else action.outputs)
    ports = spec.get(key) if isinstance(spec, dict) else None
    return [str(port) for port in ports] if isinstance(ports, list) else []


def _port_x(x: float, ports: list[str], port: Any) -> float:
    if port not in ports:
        return x + NODE_WIDTH / 2
    step = NODE_WIDTH / (len(ports) + 1)
    return x + step * (ports.index(port) + 1)


def graph_svg(graph: Any, *, highlight: str | None = None) -> SafeString:
    if not isinstance(graph, dict):
        return mark_safe("")
    nodes = [
        node
        for node in graph.get("nodes") or []
        if isinstance(node, dict) and isinstance(node.get("id"), str)
    ]
    edges = [edge for edge in graph.get("edges") or [] if isinstance(edge, dict)]
    if not nodes:
        return mark_safe('<p class="help">The graph has no nodes yet.</p>')
    positions = _positions(nodes, edges)
    min_x = min(x for x, _ in positions.values())
    min_y = min(y for _, y in positions.values())
    shifted = {
        node_id: (x - min_x + MARGIN, y - min_y + MARGIN + 14)
        for node_id, (x, y) in positions.items()
    }
    width = max(x for x, _ in shifted.values()) + NODE_WIDTH + MARGIN
    height = max(y for _, y in shifted.values()) + NODE_HEIGHT + MARGIN + 14
    by_id = {node["id"]: node for node in nodes}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cdp-workflow-graph" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="Workflow graph" font-family="sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#667"/></marker>'
        "</defs>",
    ]
    for edge in edges:
        source, target = by_id.get(edge.get("source")), by_id.get(edge.get("target"))
        if source is None or target is None:
            continue
        sx, sy = shifted[source["id"]]
        tx, ty = shifted[target["id"]]
        x1 = _port_x(sx, _ports(source, "outputs"), edge.get("sourceHandle"))
        y1 = sy + NODE_HEIGHT
        x2 = _port_x(tx, _ports(target, "inputs"), edge.get("targetHandle"))
        y2 = ty
        bend = max(40.0, abs(y2 - y1) / 2)
        parts.append(
            f'<path d="M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} '
            f'{x2:.1f},{y2 - 2:.1f}" fill="none" stroke="#667" stroke-width="1.5" '
            f'marker-end="url(#arrow)"/>'
        )
    for node in nodes:
        parts.append(_node_svg(node, *shifted[node["id"]], highlighted=node["id"] == highlight))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every text above went through escape())


def _node_svg(node: dict, x: float, y: float, *, highlighted: bool) -> str:
    spec = (node.get("data") or {}).get("spec") or {}
    action = action_class_for(spec) if isinstance(spec, dict) else None
    name = node_name(node) or node["id"]
    action_label = action.name if action else f"unknown: {spec.get('className', '?')}"
    fill = "#e8f1fb" if action and action.id == "start" else "#ffffff"
    stroke = "#ba2121" if highlighted or action is None else "#417690"
    parts = [
        f'<g class="node" data-node-id="{escape(node["id"])}">',
        f"<title>{escape(name)} (id {escape(node['id'])})</title>",
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{3 if highlighted else 1.5}"/>',
        f'<text x="{x + 10:.1f}" y="{y + 22:.1f}" font-weight="bold">{escape(_cut(name))}</text>',
        f'<text x="{x + 10:.1f}" y="{y + 40:.1f}" fill="#555">{escape(_cut(action_label))}</text>',
    ]
    inputs, outputs = _ports(node, "inputs"), _ports(node, "outputs")
    for port in inputs:
        px = _port_x(x, inputs, port)
        parts.append(f'<circle cx="{px:.1f}" cy="{y:.1f}" r="4" fill="#417690"/>')
    for port in outputs:
        px = _port_x(x, outputs, port)
        parts.append(
            f'<circle cx="{px:.1f}" cy="{y + NODE_HEIGHT:.1f}" r="4" fill="#79aec8"/>'
            f'<text x="{px + 6:.1f}" y="{y + NODE_HEIGHT + 14:.1f}" fill="#417690" '
            f'font-size="10">{escape(port)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _cut(text: str, length: int = 26) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
