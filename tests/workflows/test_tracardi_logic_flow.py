"""A Tracardi 0.9 flow that uses twelve of the pure-logic plugins (issue 19) imports with no
placeholder and runs: Join waits for its five branches, Has segment's True/False ports, a
Tracardi JSON-text reshape, a radius typed as text."""

import copy
import json

from apps.workflows.engine import workflow_execute
from apps.workflows.graph import graph_problems
from apps.workflows.tracardi import tracardi_flow_export, tracardi_flow_import
from tests.workflows.graphs import edge, graph, make_flow, node
from tests.workflows.test_tracardi_flows import V1, compiled, imported

FILE = "tracardi-0.9-flow-checkout-logic.json"

BERLIN = {"latitude": 52.52, "longitude": 13.405}


def checkout_event(**changes):
    event = {
        "id": "e1",
        "type": "purchase",
        "properties": {
            "email": "Jo@Example.COM",
            "country": "pl",
            "coupon": "SPRING-10",
            "tags": ["shoes", "sale"],
            "cart": '{"items": [{"sku": "A"}, {"sku": "B"}]}',
        },
        "context": {
            "page": {"url": "https://shop.example.com/checkout/pay"},
            "location": BERLIN,
        },
    }
    event.update(changes)
    return event


def test_the_flow_imports_every_node_as_our_action():
    flow = imported(FILE)

    assert flow.name == "Checkout enrichment"
    assert flow.placeholders == []
    assert flow.notes == []
    actions = {node["id"]: node["data"]["spec"]["className"] for node in flow.graph["nodes"]}
    assert actions == {
        "start": "StartAction",
        "props": "StringPropertiesAction",
        "country": "ValueMappingAction",
        "fence": "CircularGeoFenceAction",
        "code": "Base64EncodeAction",
        "checkout": "ContainsStringAction",
        "cart": "JsonToDataAction",
        "tags": "KeyCounterAction",
        "vip": "HasSegmentAction",
        "move": "MoveSegmentAction",
        "join": "JoinPayloadsAction",
        "valid": "StringValidatorAction",
        "flags": "ResolveConditionsAction",
        "copy": "CopyDataAction",
        "end": "EndAction",
    }
    inits = {node["id"]: node["data"]["spec"]["init"] for node in flow.graph["nodes"]}
    assert inits["fence"]["radius"] == 600
    assert inits["join"]["reshape"] == {
        "email": "payload@email.lower",
        "country": "payload@country.value",
        "near_warsaw": "payload@fence.inside",
        "coupon": "payload@code.base64",
        "items": "payload@cart.value.items",
    }
    vip_edges = [edge for edge in flow.graph["edges"] if edge["source"] == "vip"]
    assert [edge["sourceHandle"] for edge in vip_edges] == ["false"]
    join_keys = [edge["data"]["name"] for edge in flow.graph["edges"] if edge["target"] == "join"]
    assert join_keys == ["email", "country", "fence", "code", "cart"]
    assert graph_problems(flow.graph) == []


def test_the_flow_runs_and_joins_all_five_branches():
    flow = make_flow(
        event=checkout_event(),
        profile={"id": "p1", "segments": ["trial"], "traits": {}, "aux": {"tags": {"sale": 2}}},
    )

    outcome = workflow_execute(compiled(imported(FILE).graph), flow, keep_payloads=True)

    assert outcome.status == "ok", outcome.error
    runs = [(entry["node"], entry["port"]) for entry in outcome.log]
    assert runs == [
        ("start", "payload"),
        ("props", "payload"),
        ("country", "result"),
        ("fence", "payload"),
        ("code", "payload"),
        ("checkout", "true"),
        ("tags", "payload"),
        ("cart", "payload"),
        ("vip", "false"),
        ("move", "payload"),
        ("join", "payload"),
        ("valid", "valid"),
        ("flags", "payload"),
        ("copy", "payload"),
        ("end", None),
    ]
    join = next(entry for entry in outcome.log if entry["node"] == "join")
    assert join["output"] == {
        "payload": {
            "email": "jo@example.com",
            "country": "poland",
            "near_warsaw": True,
            "coupon": "U1BSSU5HLTEw",
            "items": [{"sku": "A"}, {"sku": "B"}],
        }
    }
    assert sorted(join["input"]) == ["cart", "code", "country", "email", "fence"]
    assert flow.profile == {
        "id": "p1",
        "segments": ["customer"],
        "traits": {"near_warsaw": True, "big_cart": True, "country": "poland"},
        "aux": {"tags": {"sale": 3, "shoes": 1}, "coupon": "U1BSSU5HLTEw"},
        "data": {"contact": {"email": {"main": "jo@example.com"}}},
    }


def test_a_branch_that_ends_early_leaves_its_key_out_and_reshape_makes_it_null():
    event = checkout_event(
        context={"page": {"url": "https://shop.example.com/basket"}, "location": BERLIN}
    )
    flow = make_flow(event=event, profile={"id": "p1", "segments": ["vip"], "traits": {}})

    outcome = workflow_execute(compiled(imported(FILE).graph), flow, keep_payloads=True)

    assert outcome.status == "ok", outcome.error
    join = next(entry for entry in outcome.log if entry["node"] == "join")
    assert sorted(join["input"]) == ["code", "country", "email", "fence"]
    assert join["output"]["payload"]["items"] is None
    assert ("vip", "true") in [(entry["node"], entry["port"]) for entry in outcome.log]
    assert flow.profile["segments"] == ["vip"]
    assert flow.profile["traits"] == {
        "near_warsaw": True,
        "big_cart": False,
        "country": "poland",
    }


def logic_graph():
    join_edge = edge("props", "join")
    join_edge["data"] = {"name": "props"}
    return graph(
        [
            node("start", "start"),
            node("props", "string_properties", string="event@properties.name"),
            node("vip", "has_segment", segment="vip"),
            node("prev", "previous_event", event_type="purchase", offset=-2),
            node("who", "load_profile_by_field", field="profile@traits.customer_no"),
            node("shape", "reshape_payload", value={"a": "payload@id"}),
            node("join", "join", reshape={"name": "payload@props.upper"}),
            node("end", "end"),
        ],
        [
            edge("start", "props"),
            edge("start", "vip"),
            edge("vip", "prev", "false"),
            edge("prev", "who", "found"),
            edge("who", "shape", "profile"),
            join_edge,
            edge("join", "end"),
        ],
    )


def test_logic_nodes_export_under_tracardi_names_and_come_back_unchanged():
    original = logic_graph()

    exported = tracardi_flow_export(
        workflow_id="W1", name="Logic", description="", graph=copy.deepcopy(original)
    )
    back = tracardi_flow_import(json.loads(json.dumps(exported)))

    nodes = {n["id"]: n["data"]["spec"] for n in exported["flowGraph"]["nodes"]}
    assert (nodes["vip"]["module"], nodes["vip"]["className"], nodes["vip"]["outputs"]) == (
        V1 + "segmentation.has.plugin",
        "HasSegmentAction",
        ["True", "False"],
    )
    assert nodes["prev"]["init"] == {
        "event_type": {"id": "purchase", "name": "purchase"},
        "offset": -2,
    }
    assert nodes["who"]["init"]["field"] == "traits.customer_no"
    assert nodes["shape"]["init"]["value"] == '{"a": "payload@id"}'
    assert nodes["join"]["init"]["reshape"] == '{"name": "payload@props.upper"}'
    edges = {(e["source"], e["target"]): e for e in exported["flowGraph"]["edges"]}
    assert edges[("vip", "prev")]["sourceHandle"] == "False"
    assert edges[("props", "join")]["data"] == {"name": "props"}
    assert (back.notes, back.placeholders) == ([], [])
    assert back.graph == original
