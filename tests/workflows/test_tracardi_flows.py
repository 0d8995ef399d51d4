"""Tracardi flow files: they import, the ones built from actions we have run unchanged, the others
keep their unknown nodes as placeholders that block deployment; export and import round trip."""

import base64
import copy
import gzip
import json
from pathlib import Path

import pytest

from apps.workflows.actions import ACTIONS, action_class_for
from apps.workflows.actions.data import CopyDataAction
from apps.workflows.actions.tracardi_names import CONNECTOR_PLUGINS, PLUGINS
from apps.workflows.engine import workflow_execute
from apps.workflows.graph import GraphInvalid, graph_compile, graph_problems
from apps.workflows.tracardi import (
    TracardiFlowError,
    tracardi_flow_export,
    tracardi_flow_import,
    tracardi_flow_read,
)
from tests.workflows.graphs import edge, graph, make_flow, node

FLOWS = Path(__file__).parent / "tracardi_flows"
V1 = "tracardi.process_engine.action.v1."


def imported(name):
    return tracardi_flow_import(tracardi_flow_read((FLOWS / name).read_bytes()))


def compiled(graph_value):
    return graph_compile(workflow_id="w1", name="Imported", version=1, graph=graph_value)


class RecordingEffects:
    def __init__(self):
        self.merges = []

    def profile_merge_request(self, *, flow, merge_by):
        self.merges.append(merge_by)

    def inject_event(self, *, flow, event_type, properties, source_id):
        raise AssertionError("no event is injected here")


def specs(graph_value):
    return {
        n["id"]: (n["data"]["spec"]["className"], n["data"]["spec"]["init"])
        for n in graph_value["nodes"]
    }


# -- the files ---------------------------------------------------------------------------------


def test_the_09_flow_imports_with_our_actions_and_our_config_keys():
    flow = imported("tracardi-0.9-flow-pro-signups.json")

    assert (flow.name, flow.description) == (
        "Pro sign-ups",
        "Copies the plan of pro sign-ups to the profile, segments and merges them.",
    )
    assert flow.notes == []
    assert flow.placeholders == []
    assert specs(flow.graph) == {
        "b1a9e0a4-start": ("StartAction", {"event_types": ["sign-up"]}),
        "c2d3-if": ("IfAction", {"condition": 'event@properties.plan == "pro"'}),
        "d4e5-copy": (
            "CopyDataAction",
            {
                "skip_missing": False,
                "traits": {
                    "set": {
                        "profile@traits.plan": "event@properties.plan",
                        "profile@data.contact.email.main": "event@properties.email",
                    }
                },
            },
        ),
        "e6f7-segment": ("AddSegmentAction", {"segment": "Pro users"}),
        "f8a9-merge": ("MergeProfilesAction", {"merge_by": ["profile@data.contact.email.main"]}),
        "a1b2-interest": ("IncreaseInterestAction", {"value": 1.0, "interest": "pricing"}),
        "b3c4-end": ("EndAction", {}),
    }
    assert [n["type"] for n in flow.graph["nodes"]] == ["startNode"] + ["flowNode"] * 6
    copy_node = flow.graph["nodes"][2]
    assert copy_node == {
        "id": "d4e5-copy",
        "type": "flowNode",
        "position": {"x": -200, "y": 340},
        "data": {
            "start": False,
            "debug": False,
            "spec": CopyDataAction.spec(copy_node["data"]["spec"]["init"]),
            "metadata": {
                "name": "Copy data",
                "desc": "Copy event property to profile trait. This plugin copies event "
                "properties to defined destination.",
            },
        },
    }
    assert graph_problems(flow.graph) == []


def test_the_09_flow_runs_unchanged_on_a_pro_sign_up():
    flow_graph = imported("tracardi-0.9-flow-pro-signups.json").graph
    effects = RecordingEffects()
    event = {
        "id": "e1",
        "type": "sign-up",
        "properties": {"plan": "pro", "email": "ann@example.com"},
    }
    flow = make_flow(event=event, profile={"id": "p1", "traits": {}}, effects=effects)

    outcome = workflow_execute(compiled(flow_graph), flow)

    assert outcome.status == "ok"
    assert [(entry["node"], entry["port"]) for entry in outcome.log] == [
        ("b1a9e0a4-start", "payload"),
        ("c2d3-if", "true"),
        ("d4e5-copy", "payload"),
        ("e6f7-segment", "payload"),
        ("f8a9-merge", "payload"),
    ]
    assert flow.profile == {
        "id": "p1",
        "traits": {"plan": "pro"},
        "data": {"contact": {"email": {"main": "ann@example.com"}}},
        "segments": ["pro-users"],
    }
    assert effects.merges == [["data.contact.email.main"]]


def test_the_09_flow_runs_the_false_branch_and_skips_other_event_types():
    flow_graph = imported("tracardi-0.9-flow-pro-signups.json").graph
    free = make_flow(
        event={"id": "e2", "type": "sign-up", "properties": {"plan": "free"}},
        profile={"id": "p2", "interests": {"pricing": 2}},
    )
    other = make_flow(
        event={"id": "e3", "type": "page-view", "properties": {}}, profile={"id": "p3"}
    )

    free_outcome = workflow_execute(compiled(flow_graph), free)
    other_outcome = workflow_execute(compiled(flow_graph), other)

    assert [(e["node"], e["port"]) for e in free_outcome.log] == [
        ("b1a9e0a4-start", "payload"),
        ("c2d3-if", "false"),
        ("a1b2-interest", "payload"),
        ("b3c4-end", None),
    ]
    assert free.profile == {"id": "p2", "interests": {"pricing": 3.0}}
    assert [(e["node"], e["port"]) for e in other_outcome.log] == [("b1a9e0a4-start", None)]
    assert other.profile == {"id": "p3"}


def test_the_08_flow_record_keeps_the_unknown_mail_node_as_a_placeholder():
    flow = imported("tracardi-0.8-flow-record-welcome-mail.json")
    mail = "tracardi.process_engine.action.v1.connectors.mailchimp.transactional_email.plugin"

    assert flow.name == "Welcome mail"
    assert flow.placeholders == ["m-4"]
    assert flow.notes == [
        f"Node 'Send e-mail' uses {mail}.TransactionalMailSender, which this CDP does not "
        "have: kept as a placeholder; replace it before deploying",
        "The edge from 'Increment counter' on its 'error' port was left out: Increment "
        "counter here has no such port (payload; an error stops the run)",
    ]
    placeholder = flow.graph["nodes"][3]
    assert placeholder["data"]["unavailable"] is True
    assert placeholder["data"]["spec"]["className"] == "TransactionalMailSender"
    assert placeholder["data"]["spec"]["init"] == {
        "source": {"name": "Mailchimp", "id": "3c1d1c6e-mailchimp"},
        "sender_email": "shop@example.com",
        "message": {
            "recipient": "profile@data.contact.email.main",
            "content": "payload@template",
            "subject": "Welcome",
        },
    }
    assert [(e["source"], e["sourceHandle"], e["target"]) for e in flow.graph["edges"]] == [
        ("s-1", "payload", "t-2"),
        ("t-2", "payload", "i-3"),
        ("i-3", "payload", "m-4"),
        ("m-4", "response", "e-6"),
        ("m-4", "error", "l-5"),
    ]
    assert [str(problem) for problem in graph_problems(flow.graph)] == [
        f"Node 'Send e-mail' (id m-4): {mail}.TransactionalMailSender is not available "
        "(imported from Tracardi); replace this node before deploying"
    ]
    with pytest.raises(GraphInvalid):
        compiled(flow.graph)


def test_the_08_flow_runs_once_the_placeholder_is_replaced():
    flow_graph = imported("tracardi-0.8-flow-record-welcome-mail.json").graph
    flow_graph["nodes"][3] = node("m-4", "log_message", name="Mail", message="mail sent")
    flow_graph["edges"][3]["sourceHandle"] = "payload"
    flow_graph["edges"] = flow_graph["edges"][:4]
    event = {"id": "e1", "type": "visit", "properties": {"shop": "Ann's shop"}}
    flow = make_flow(event=event, profile={"id": "p1", "data": {"pii": {"firstname": "Ann"}}})

    outcome = workflow_execute(compiled(flow_graph), flow)

    assert [(e["node"], e["port"]) for e in outcome.log] == [
        ("s-1", "payload"),
        ("t-2", "payload"),
        ("i-3", "payload"),
        ("m-4", "payload"),
        ("e-6", None),
    ]
    assert outcome.log[3]["messages"] == [{"level": "info", "message": "mail sent"}]
    assert flow.profile["stats"] == {"counters": {"welcomes": 1}}


def test_the_bare_graph_imports_and_runs():
    flow = imported("tracardi-flow-graph-checkout.json")
    event = {
        "id": "e1",
        "type": "checkout",
        "properties": {"total": 30, "prices": [5, 20, 10], "last_visit": "2026-03-04T10:00:00Z"},
    }
    run = make_flow(event=event, profile={"id": "p1", "stats": {"counters": {"spent": 12}}})

    outcome = workflow_execute(compiled(flow.graph), run, keep_payloads=True)

    assert (flow.name, flow.notes, flow.placeholders) == ("Imported workflow", [], [])
    assert [(e["node"], e["port"]) for e in outcome.log] == [
        ("start", "payload"),
        ("calc", "payload"),
        ("sort", "payload"),
        ("diff", "payload"),
    ]
    assert run.profile["stats"] == {"counters": {"spent": 42}}
    assert outcome.log[2]["output"] == {"payload": [20, 10, 5]}
    assert outcome.log[3]["output"] == {
        "payload": {
            "seconds": 7200.0,
            "minutes": 120.0,
            "hours": 2.0,
            "days": 7200.0 / 86400,
            "weeks": 7200.0 / 604800,
        }
    }


# -- names and keys ------------------------------------------------------------------------------


def test_tracardi_copy_data_class_resolves_and_unknown_tracardi_classes_do_not():
    copy_spec = {"module": V1 + "traits.copy_trait_action", "className": "CopyTraitAction"}
    stranger = {"module": V1 + "somewhere.else", "className": "CopyDataAction"}

    assert action_class_for(copy_spec) is CopyDataAction
    assert action_class_for(stranger) is None
    assert action_class_for({"module": "anything", "className": "CopyDataAction"}) is CopyDataAction
    # How graphs saved before the table named it.
    legacy = {"module": V1 + "traits.copy_trait_action", "className": "CopyDataAction"}
    assert action_class_for(legacy) is CopyDataAction


def test_the_table_maps_tracardi_plugins_to_our_actions():
    ours = {action.id for action in ACTIONS}

    # 31 first, 5 of entities and memory, 1 of reports and 1 of GeoIP (issue 23), 45 of the
    # pure-logic plugins (issue 19 item 3), and the connectors (issue 19 items 1-2).
    assert len(CONNECTOR_PLUGINS) == 25
    assert len(PLUGINS) == 31 + 5 + 1 + 1 + 45 + len(CONNECTOR_PLUGINS)
    assert {plugin.action_id for plugin in PLUGINS} <= ours
    assert sorted(ours - {plugin.action_id for plugin in PLUGINS}) == [
        "add_consent",
        "add_segment_if",
        "brevo_send_email",
        "create_response",
        "detect_language",
        "inject_event",
        "json_schema_validator",
        "kafka_publish",
        "mailchimp_send_email",
        "memory_collector",
        "reduce_list",
        "reset_interest",
        "set_data",
        "slack_webhook_post",
        "twilio_send_sms",
        "ux_call_to_action",
        "ux_consent_bar",
        "ux_contact_form_popup",
        "ux_html_tag",
        "ux_question_popup",
        "ux_rating_popup",
        "wait",
        "wait_for_event",
        "weekday",
    ]


def tracardi_node(node_id, module, class_name, init, outputs=("payload",)):
    return {
        "id": node_id,
        "type": "flowNode",
        "position": {"x": 0, "y": 0},
        "data": {
            "spec": {
                "className": class_name,
                "module": V1 + module,
                "inputs": ["payload"],
                "outputs": list(outputs),
                "init": init,
            },
            "metadata": {"name": node_id},
        },
    }


def test_the_engine_takes_tracardi_keys_and_ports_in_a_graph_that_was_not_imported():
    value = {
        "nodes": [
            node("s", "start"),
            tracardi_node(
                "merge",
                "operations.merge_profiles_action",
                "MergeProfilesAction",
                {"mergeBy": ["profile@data.contact.email.main"]},
            ),
            tracardi_node(
                "tpl",
                "template_action",
                "TemplateAction",
                {"template": "Hi {{profile@id}}"},
                ("template",),
            ),
            node("log", "log_message", message="{{payload@template}}"),
        ],
        "edges": [edge("s", "merge"), edge("merge", "tpl"), edge("tpl", "log", "template")],
    }
    effects = RecordingEffects()
    flow = make_flow(profile={"id": "p1"}, effects=effects)

    outcome = workflow_execute(compiled(value), flow)

    assert graph_problems(value) == []
    assert [(e["node"], e["port"]) for e in outcome.log] == [
        ("s", "payload"),
        ("merge", "payload"),
        ("tpl", "payload"),
        ("log", "payload"),
    ]
    assert outcome.log[3]["messages"] == [{"level": "info", "message": "Hi p1"}]
    assert effects.merges == [["data.contact.email.main"]]


def test_a_tracardi_config_our_action_cannot_take_becomes_a_placeholder():
    data = {
        "name": "Consents",
        "flowGraph": {
            "nodes": [
                tracardi_node(
                    "c",
                    "consents.require_consents_action.plugin",
                    "RequireConsentsAction",
                    {
                        "consent_ids": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}],
                        "require_all": True,
                    },
                    ("true", "false"),
                )
            ],
            "edges": [],
        },
    }

    flow = tracardi_flow_import(data)

    assert flow.placeholders == ["c"]
    assert flow.notes == [
        f"Node 'c' uses {V1}consents.require_consents_action.plugin.RequireConsentsAction, "
        "whose config Has consent cannot take (it requires 2 consents; Has consent checks "
        "exactly one): kept as a placeholder; replace it before deploying"
    ]


def test_an_edge_from_a_port_we_do_not_have_is_left_out_with_a_note():
    replace = tracardi_node(
        "re",
        "strings.regex_replace.plugin",
        "RegexReplacer",
        {"string": "event@id", "find_regex": "-", "replace_with": "_"},
        ("replaced", "not_found"),
    )
    data = {
        "nodes": [replace, node("a", "end"), node("b", "end")],
        "edges": [edge("re", "a", "replaced"), edge("re", "b", "not_found")],
    }

    flow = tracardi_flow_import(data)

    assert [(e["source"], e["sourceHandle"], e["target"]) for e in flow.graph["edges"]] == [
        ("re", "payload", "a")
    ]
    assert flow.graph["nodes"][0]["data"]["spec"]["init"] == {
        "target": None,
        "text": "event@id",
        "pattern": "-",
        "replacement": "_",
    }
    assert flow.notes == [
        "The edge from 're' on its 'not_found' port was left out: Regex replace here has no "
        "such port (payload)"
    ]


def test_tracardi_engine_switches_are_noted():
    raw = tracardi_node("log", "log_action", "LogAction", {"type": "info", "message": "x"})
    raw["data"]["spec"].update({"run_in_background": True, "on_error_continue": True})

    flow = tracardi_flow_import({"nodes": [raw], "edges": []})

    assert flow.notes == [
        "Node 'log': Tracardi's run_in_background, on_error_continue is not supported here and "
        "was left out"
    ]


# -- export ------------------------------------------------------------------------------------


def full_graph():
    return graph(
        [
            node("s", "start", event_types=["purchase"]),
            node("if", "if", condition="event@properties.total > 10"),
            node("cs", "condition_set", conditions={"big": "event@properties.total > 100"}),
            node("tpl", "string_template", template="Order {{event@id}}"),
            node("copy", "copy_data", traits={"set": {"profile@traits.last": "event@id"}}),
            node("merge", "merge_profiles", merge_by=["profile@data.contact.email.main"]),
            node("call", "remote_call", url="https://crm.example.com/x", timeout=5, body={"a": 1}),
            node("consent", "has_consent", consent="marketing"),
            node("match", "regex_match", pattern="(\\d+)", text="event@properties.code"),
            node("replace", "regex_replace", text="event@id", pattern="-", replacement="_"),
            node("split", "split_string", string="event@properties.tags", strip=False),
            node("hash", "hash_data", data=["profile@data.contact.email.main"]),
            node("uuid", "generate_uuid", target="memory@id"),
            node("interest", "increase_interest", interest="shoes", value=2),
            node("set", "set_data", target="profile@traits", template={"a": "event@id"}),
            node("end", "end"),
        ],
        [
            edge("s", "if"),
            edge("if", "cs", "true"),
            edge("cs", "tpl"),
            edge("tpl", "copy"),
            edge("copy", "merge"),
            edge("merge", "call"),
            edge("call", "consent", "response"),
            edge("consent", "match", "true"),
            edge("match", "replace", "matched"),
            edge("match", "split", "not_matched"),
            edge("replace", "hash"),
            edge("hash", "uuid"),
            edge("uuid", "interest"),
            edge("interest", "set"),
            edge("set", "end"),
        ],
    )


def test_export_then_import_gives_the_same_graph():
    original = full_graph()

    exported = tracardi_flow_export(
        workflow_id="W1", name="Orders", description="All of it", graph=copy.deepcopy(original)
    )
    back = tracardi_flow_import(json.loads(json.dumps(exported)))

    assert graph_problems(original) == []
    assert (back.name, back.description, back.notes, back.placeholders) == (
        "Orders",
        "All of it",
        [],
        [],
    )
    assert back.graph == original


def test_export_writes_tracardi_names_keys_and_ports():
    exported = tracardi_flow_export(
        workflow_id="W1", name="Orders", description="", graph=full_graph()
    )
    nodes = {n["id"]: n for n in exported["flowGraph"]["nodes"]}
    ports = {(e["source"], e["target"]): e["sourceHandle"] for e in exported["flowGraph"]["edges"]}

    assert {key: exported[key] for key in ("id", "name", "type", "lock", "projects", "tags")} == {
        "id": "w1",
        "name": "Orders",
        "type": "collection",
        "lock": False,
        "projects": ["General"],
        "tags": ["General"],
    }
    assert exported["wf_schema"]["uri"] == "http://www.tracardi.com/2021/WFSchema"
    copy_spec = nodes["copy"]["data"]["spec"]
    assert (copy_spec["module"], copy_spec["className"], copy_spec["outputs"]) == (
        V1 + "traits.copy_trait_action",
        "CopyTraitAction",
        ["payload", "error"],
    )
    assert nodes["merge"]["data"]["spec"]["init"] == {
        "mergeBy": ["profile@data.contact.email.main"]
    }
    assert nodes["s"]["data"]["spec"]["init"]["event_types"] == [
        {"id": "purchase", "name": "purchase"}
    ]
    assert nodes["call"]["data"]["spec"]["init"] == {
        "source": {"name": None, "id": None},
        "set_default_null": True,
        "cookies": {},
        "ssl_check": True,
        "log": False,
        "method": "post",
        "endpoint": "https://crm.example.com/x",
        "headers": {},
        "body": {"type": "application/json", "content": '{"a": 1}'},
        "timeout": 5,
    }
    assert nodes["set"]["data"]["spec"]["module"] == "apps.workflows.actions.data"
    assert nodes["tpl"]["data"]["metadata"]["icon"] == "plugin"
    assert (ports[("cs", "tpl")], ports[("tpl", "copy")], ports[("match", "replace")]) == (
        "result",
        "template",
        "payload",
    )


def test_a_placeholder_exports_as_it_came():
    flow = imported("tracardi-0.8-flow-record-welcome-mail.json")

    exported = tracardi_flow_export(
        workflow_id="w", name=flow.name, description="", graph=flow.graph
    )
    again = tracardi_flow_import(exported)

    mail = next(n for n in exported["flowGraph"]["nodes"] if n["id"] == "m-4")
    assert mail["data"]["spec"]["className"] == "TransactionalMailSender"
    assert "unavailable" not in mail["data"]
    assert again.placeholders == ["m-4"]
    assert again.graph == flow.graph


# -- reading files -----------------------------------------------------------------------------


def test_gzipped_and_base64_files_read_like_plain_json():
    plain = (FLOWS / "tracardi-flow-graph-checkout.json").read_bytes()

    assert tracardi_flow_read(gzip.compress(plain)) == json.loads(plain)
    assert tracardi_flow_read(base64.b64encode(gzip.compress(plain))) == json.loads(plain)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "The file is not JSON: Expecting value: line 1 column 1 (char 0)"),
        (b"[1, 2]", "A Tracardi flow is a JSON object; this file holds a list"),
        (
            b"\x1f\x8bnope",
            "The file is not valid gzip: Error -3 while decompressing data: "
            "unknown compression method",
        ),
    ],
)
def test_unreadable_files(content, message):
    with pytest.raises(TracardiFlowError) as caught:
        tracardi_flow_read(content)

    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"name": "x"},
            "This JSON is not a Tracardi flow: it has no flowGraph "
            "(nor draft, nor nodes and edges)",
        ),
        ({"flowGraph": []}, "flowGraph must be an object with nodes and edges"),
        (
            {"flowGraph": {"nodes": {}, "edges": []}},
            "flowGraph.nodes and flowGraph.edges must be lists",
        ),
        ({"nodes": [{"data": {}}], "edges": []}, "Node #1 has no id"),
        ({"draft": "!!"}, "draft is not a Tracardi encoded flow: Only base64 data is allowed"),
    ],
)
def test_data_that_is_not_a_flow(data, message):
    with pytest.raises(TracardiFlowError) as caught:
        tracardi_flow_import(data)

    assert str(caught.value) == message
