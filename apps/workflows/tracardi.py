"""Tracardi flows in and out: a Tracardi flow export as our graph, and our graph as one.

What Tracardi writes (tracardi/domain/flow.py, tracardi/service/wf/domain/flow_graph_data.py):
- a Flow, what its GUI loads and saves (`GET/POST /flow/draft`): `{"id", "name", "description",
  "flowGraph": {"nodes", "edges"}, "response", "type", "lock", "wf_schema", ...}` with
  `projects` (0.8.x) or `tags`, `timestamp`, `deploy_timestamp`, `file_name` (0.9.x);
- a FlowRecord, how it stores one: the Flow under `draft` (0.9.x: an object; 0.8.x: `draft` and
  `production` as base64 text of gzipped JSON), also as an Elasticsearch hit (`_source`);
- a bare `{"nodes", "edges"}` graph.
A node is `{"id", "type", "position", "data": {"start", "debug", "spec": {"className", "module",
"inputs", "outputs", "init", "skip", "block_flow", ...}, "metadata": {"name", "desc", "icon",
...}}}`, an edge `{"id", "type", "source", "sourceHandle", "target", "targetHandle", "data"}`.

Import rewrites every node of a plugin we map to our action's spec (module, class, ports and
config in our names) and keeps any other node as it came, marked `data.unavailable`, so the
rest of the graph survives and validation refuses it until it is replaced. Export writes our
nodes under Tracardi's plugin names where one exists, so Tracardi can load the flow.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from apps.workflows.actions import action_class_for
from apps.workflows.actions.base import Action
from apps.workflows.actions.flow import StartAction
from apps.workflows.actions.tracardi_names import (
    NotConvertible,
    TracardiPlugin,
    tracardi_plugin,
    tracardi_plugin_for_action,
)

# A flow file larger than this (after gunzip) is refused: real flows are tens of kilobytes.
MAX_FLOW_BYTES = 5_000_000
TRACARDI_VERSION = "0.9.0"
SPEC_VERSION = "0.8.2"

# Tracardi's node metadata that only draws the node; an import keeps name, desc and the rest.
_PRESENTATION_METADATA = {
    "brand": "",
    "keywords": [],
    "type": "flowNode",
    "width": 300,
    "height": 100,
    "icon": "plugin",
    "documentation": None,
    "group": ["General"],
    "tags": [],
    "pro": False,
    "commercial": False,
    "remote": False,
    "frontend": False,
    "emits_event": {},
    "purpose": ["collection"],
}
# Spec switches of Tracardi's engine that ours does not have, with the values that change nothing.
_SPEC_SWITCHES = {
    "skip": False,
    "block_flow": False,
    "run_in_background": False,
    "on_error_continue": False,
    "on_connection_error_repeat": 1,
    "append_input_payload": False,
    "join_input_payload": False,
}


class TracardiFlowError(ValueError):
    """The data is not a Tracardi flow we can read; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class ImportedFlow:
    name: str
    description: str
    graph: dict
    notes: list[str] = field(default_factory=list)
    # Ids of the nodes kept as "not available" placeholders.
    placeholders: list[str] = field(default_factory=list)


# -- reading a file ------------------------------------------------------------------------


def tracardi_flow_read(content: bytes) -> dict:
    """The JSON object in an uploaded flow file: plain JSON, gzipped JSON, or base64 of gzipped
    JSON (how Tracardi 0.8 stores a flow)."""
    text = content
    if content[:2] == b"\x1f\x8b":
        text = _gunzip(content)
    elif content.lstrip()[:1] not in (b"{", b"["):
        # Not JSON as it stands: perhaps Tracardi's base64 of gzip; if not, JSON says why.
        with contextlib.suppress(binascii.Error, TracardiFlowError):
            text = _gunzip(base64.b64decode(content.strip(), validate=True))
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise TracardiFlowError(f"The file is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise TracardiFlowError(
            f"A Tracardi flow is a JSON object; this file holds a {_json_type(data)}"
        )
    return data


def _gunzip(data: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, MAX_FLOW_BYTES + 1)
    except zlib.error as exc:
        raise TracardiFlowError(f"The file is not valid gzip: {exc}") from exc
    if len(out) > MAX_FLOW_BYTES or inflater.unconsumed_tail:
        raise TracardiFlowError(f"The flow is larger than {MAX_FLOW_BYTES // 1_000_000} MB")
    if not inflater.eof:
        raise TracardiFlowError("The file is not valid gzip: it ends too early")
    return out


def _json_type(value: Any) -> str:
    names = {list: "list", str: "text", int: "number", float: "number", bool: "boolean"}
    return names.get(type(value), "null")


def _flow_of(data: dict) -> tuple[dict, dict]:
    """(the Flow object, the graph {nodes, edges}) from any of the accepted shapes."""
    if isinstance(data.get("_source"), dict):
        data = data["_source"]
    if "flowGraph" in data:
        graph = data["flowGraph"]
        if not isinstance(graph, dict):
            raise TracardiFlowError("flowGraph must be an object with nodes and edges")
        return data, graph
    for key in ("draft", "production"):
        value = data.get(key)
        if isinstance(value, str) and value:
            try:
                value = json.loads(_gunzip(base64.b64decode(value, validate=True)))
            except (binascii.Error, ValueError) as exc:
                raise TracardiFlowError(f"{key} is not a Tracardi encoded flow: {exc}") from exc
        if isinstance(value, dict) and value:
            flow, graph = _flow_of(value)
            return {**{k: data[k] for k in ("name", "description") if k in data}, **flow}, graph
    if "nodes" in data:
        return {}, data
    raise TracardiFlowError(
        "This JSON is not a Tracardi flow: it has no flowGraph (nor draft, nor nodes and edges)"
    )


# -- import ----------------------------------------------------------------------------------


def tracardi_flow_import(data: dict) -> ImportedFlow:
    """Our graph for a Tracardi flow export (see the module docstring for the shapes)."""
    if not isinstance(data, dict):
        raise TracardiFlowError(f"A Tracardi flow is a JSON object; this is a {_json_type(data)}")
    flow, graph = _flow_of(data)
    raw_nodes, raw_edges = graph.get("nodes"), graph.get("edges", [])
    if not isinstance(raw_nodes, list) or not isinstance(raw_edges, list):
        raise TracardiFlowError("flowGraph.nodes and flowGraph.edges must be lists")
    notes: list[str] = []
    placeholders: list[str] = []
    nodes: list[dict] = []
    resolved: dict[str, tuple[type[Action] | None, TracardiPlugin | None]] = {}
    for position, raw in enumerate(raw_nodes, start=1):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
            raise TracardiFlowError(f"Node #{position} has no id")
        node, action, plugin = _import_node(raw, notes)
        if action is None:
            placeholders.append(node["id"])
        resolved[node["id"]] = (action, plugin)
        nodes.append(node)
    edges = []
    for position, raw in enumerate(raw_edges, start=1):
        if not isinstance(raw, dict):
            raise TracardiFlowError(f"Edge #{position} is not an object")
        edge = _import_edge(raw, resolved, nodes, notes)
        if edge is not None:
            edges.append(edge)
    name = flow.get("name") if isinstance(flow.get("name"), str) else ""
    description = flow.get("description") if isinstance(flow.get("description"), str) else ""
    return ImportedFlow(
        name=name.strip() or "Imported workflow",
        description=description,
        graph={"nodes": nodes, "edges": edges},
        notes=notes,
        placeholders=placeholders,
    )


def _import_node(
    raw: dict, notes: list[str]
) -> tuple[dict, type[Action] | None, TracardiPlugin | None]:
    data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
    spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    metadata = {
        key: value
        for key, value in metadata.items()
        if key not in _PRESENTATION_METADATA and not (key == "desc" and not value)
    }
    label = metadata.get("name") or raw["id"]
    node = {
        "id": raw["id"],
        "type": "flowNode",
        "position": raw.get("position")
        if isinstance(raw.get("position"), dict)
        else {"x": 0, "y": 0},
        "data": {
            "start": bool(data.get("start")),
            "debug": bool(data.get("debug")),
            "spec": spec,
            "metadata": metadata,
        },
    }
    plugin = tracardi_plugin(spec.get("module"), spec.get("className"))
    action = action_class_for(spec)
    if action is not None:
        config = spec.get("init") if spec.get("init") is not None else {}
        if plugin is not None:
            try:
                config = plugin.config_to_ours(config, set(action.config_schema["properties"]))
            except NotConvertible as exc:
                notes.append(
                    f"Node {label!r} uses {spec.get('module')}.{spec.get('className')}, whose "
                    f"config {action.name} cannot take ({exc}): kept as a placeholder; replace "
                    "it before deploying"
                )
                action = None
        if action is not None:
            node["data"]["spec"] = action.spec(config if isinstance(config, dict) else {})
            # Tracardi also draws nodes as condNode (If) or, for End, startNode; ours are two.
            node["type"] = "startNode" if action is StartAction else "flowNode"
            switched = [key for key, off in _SPEC_SWITCHES.items() if spec.get(key, off) != off]
            if switched:
                notes.append(
                    f"Node {label!r}: Tracardi's {', '.join(switched)} is not supported here "
                    "and was left out"
                )
            return node, action, plugin
    else:
        notes.append(
            f"Node {label!r} uses {spec.get('module')}.{spec.get('className')}, which this CDP "
            "does not have: kept as a placeholder; replace it before deploying"
        )
    node["data"]["unavailable"] = True
    return node, None, None


def _import_edge(
    raw: dict,
    resolved: dict[str, tuple[type[Action] | None, TracardiPlugin | None]],
    nodes: list[dict],
    notes: list[str],
) -> dict | None:
    source_port = raw.get("sourceHandle")
    action, plugin = resolved.get(raw.get("source"), (None, None))
    if plugin is not None:
        source_port = plugin.our_port(source_port)
    if action is not None and source_port not in action.outputs:
        name = next(
            (n["data"]["metadata"].get("name") for n in nodes if n["id"] == raw.get("source")),
            None,
        )
        why = "; an error stops the run" if source_port == "error" else ""
        notes.append(
            f"The edge from {name or raw.get('source')!r} on its {source_port!r} port was left "
            f"out: {action.name} here has no such port "
            f"({', '.join(action.outputs) or 'no outputs'}{why})"
        )
        return None
    edge = {
        "id": raw.get("id") or f"{raw.get('source')}-{raw.get('target')}",
        "source": raw.get("source"),
        "sourceHandle": source_port,
        "target": raw.get("target"),
        "targetHandle": raw.get("targetHandle"),
    }
    data = raw.get("data")
    if isinstance(data, dict) and isinstance(data.get("name"), str) and data["name"].strip():
        # A Join node keys the values it joins by the edge's name.
        edge["data"] = {"name": data["name"]}
    return edge


# -- export ------------------------------------------------------------------------------------


def tracardi_flow_export(*, workflow_id: str, name: str, description: str, graph: dict) -> dict:
    """A Tracardi Flow (what its GUI saves and `POST /flow/draft` takes) for our graph."""
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    edges = graph.get("edges") if isinstance(graph, dict) else None
    plugins: dict[str, TracardiPlugin | None] = {}
    exported_nodes = []
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, dict):
            continue
        exported, plugin = _export_node(node)
        plugins[node.get("id")] = plugin
        exported_nodes.append(exported)
    exported_edges = []
    for edge in edges if isinstance(edges, list) else []:
        if not isinstance(edge, dict):
            continue
        plugin = plugins.get(edge.get("source"))
        port = edge.get("sourceHandle")
        exported_edges.append(
            {
                "id": edge.get("id"),
                "type": "default",
                "source": edge.get("source"),
                "sourceHandle": plugin.tracardi_port(port) if plugin else port,
                "target": edge.get("target"),
                "targetHandle": edge.get("targetHandle"),
                "data": {"name": _edge_name(edge)},
            }
        )
    return {
        "id": str(workflow_id).lower(),
        "name": name,
        "description": description,
        "flowGraph": {"nodes": exported_nodes, "edges": exported_edges},
        "response": {},
        "type": "collection",
        "lock": False,
        "projects": ["General"],
        "tags": ["General"],
        "wf_schema": {
            "version": TRACARDI_VERSION,
            "uri": "http://www.tracardi.com/2021/WFSchema",
            "server_version": TRACARDI_VERSION,
        },
    }


def _edge_name(edge: dict) -> str:
    data = edge.get("data")
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else ""


def _export_node(node: dict) -> tuple[dict, TracardiPlugin | None]:
    data = node.get("data") if isinstance(node.get("data"), dict) else {}
    spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
    action = None if data.get("unavailable") else action_class_for(spec)
    plugin = tracardi_plugin_for_action(action.id) if action is not None else None
    init = spec.get("init") if isinstance(spec.get("init"), dict) else {}
    if plugin is not None:
        tracardi_spec = {
            "className": plugin.class_name,
            "module": plugin.module,
            "inputs": list(plugin.inputs),
            "outputs": list(plugin.outputs),
            "init": plugin.config_to_tracardi(init),
        }
    elif action is not None:
        tracardi_spec = action.spec(init)
    else:
        tracardi_spec = dict(spec)
    tracardi_spec = {
        **_SPEC_SWITCHES,
        "version": SPEC_VERSION,
        **tracardi_spec,
        "id": _spec_id(tracardi_spec, SPEC_VERSION),
    }
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    exported_metadata = {
        **_PRESENTATION_METADATA,
        "desc": "",
        **metadata,
        "name": metadata.get("name") or (action.name if action else node.get("id")),
    }
    exported = {
        "id": node.get("id"),
        "type": node.get("type") or "flowNode",
        "position": node.get("position") or {"x": 0, "y": 0},
        "data": {
            "start": bool(data.get("start")),
            "debug": bool(data.get("debug")),
            "spec": tracardi_spec,
            "metadata": exported_metadata,
        },
    }
    return exported, plugin


def _spec_id(spec: dict, version: str) -> str:
    """Tracardi's id of a plugin spec: md5 of module + class name + version."""
    key = f"{spec.get('module')}{spec.get('className')}{spec.get('version') or version}"
    return hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
