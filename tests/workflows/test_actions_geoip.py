"""Issue 23 item 5: the GeoIP action (found / not-found / error), its config, and Tracardi's
maxmind geoip plugin imported, run and exported as it."""

import pytest

from apps.workflows.actions import action_by_id
from apps.workflows.engine import workflow_execute
from apps.workflows.graph import graph_compile, graph_problems
from apps.workflows.tracardi import tracardi_flow_export, tracardi_flow_import
from tests.support.geoip import (
    BERLIN_GEO,
    BERLIN_IPV6,
    LONDON_GEO,
    LONDON_IP,
    city_database,
    country_database,
)
from tests.workflows.graphs import edge, graph, make_flow, node, run_action

TRACARDI_MODULE = "tracardi.process_engine.action.v1.connectors.maxmind.geoip.plugin"
EVENT = {"id": "e1", "metadata": {"ip": LONDON_IP}, "request": {"headers": {}}, "properties": {}}


@pytest.fixture
def city(tmp_path, settings):
    settings.CDP_GEOIP_DATABASE = str(city_database(tmp_path / "GeoLite2-City.mmdb"))


def test_found_answers_the_location_on_found(city):
    results, flow = run_action(
        "geoip", {}, payload={"a": 1}, event=EVENT, profile={"id": "p1", "data": {}}
    )

    assert results == [("found", LONDON_GEO)]
    assert flow.profile["data"] == {}  # add_to_profile is off by default


def test_a_template_a_forwarded_list_and_a_literal_address(city):
    from_template, _ = run_action("geoip", {"ip": "{{payload@ip}}"}, payload={"ip": BERLIN_IPV6})
    forwarded, _ = run_action(
        "geoip",
        {"ip": "event@request.headers.x-forwarded-for"},
        event={"id": "e", "request": {"headers": {"x-forwarded-for": f"{LONDON_IP}, 10.0.0.2"}}},
    )
    literal, _ = run_action("geoip", {"ip": BERLIN_IPV6})

    assert from_template == [("found", BERLIN_GEO)]
    assert forwarded == [("found", LONDON_GEO)]
    assert literal == [("found", BERLIN_GEO)]


def test_the_result_goes_to_a_target_and_to_the_profiles_last_device(city):
    results, flow = run_action(
        "geoip",
        {"ip": "payload@ip", "target": "payload@where", "add_to_profile": True},
        payload={"ip": LONDON_IP},
        profile={"id": "p1", "data": {"devices": {"push": ["t"]}}},
    )
    in_event, event_flow = run_action(
        "geoip", {"target": "event@context.geo"}, event={**EVENT, "context": {"page": "/"}}
    )

    assert results == [("found", LONDON_GEO)]
    assert flow.profile["data"] == {"devices": {"push": ["t"], "last": {"geo": LONDON_GEO}}}
    assert in_event == [("found", LONDON_GEO)]
    assert event_flow.event["context"] == {"page": "/", "geo": LONDON_GEO}


def test_a_country_database_answers_only_the_country(tmp_path, settings):
    settings.CDP_GEOIP_DATABASE = str(country_database(tmp_path / "GeoLite2-Country.mmdb"))

    results, _ = run_action("geoip", {"ip": "payload@ip"}, payload={"ip": LONDON_IP})

    assert results == [
        (
            "found",
            {
                "country": {"name": "United Kingdom", "code": "GB"},
                "city": None,
                "county": None,
                "postal": None,
                "latitude": None,
                "longitude": None,
                "location": None,
            },
        )
    ]


@pytest.mark.parametrize("ip", ["10.0.0.8", "172.16.4.4", "fe80::1", "8.8.4.4", "::1"])
def test_private_and_unknown_addresses_go_to_not_found_with_the_payload(city, ip):
    results, flow = run_action(
        "geoip",
        {"ip": "payload@ip", "target": "payload@where", "add_to_profile": True},
        payload={"ip": ip},
        profile={"id": "p1", "data": {}},
    )

    assert results == [("not-found", {"ip": ip})]
    assert flow.profile["data"] == {}


def test_errors_go_to_the_error_port_with_the_reason(city, settings):
    no_ip, _ = run_action("geoip", {"ip": "event@metadata.ip"}, event={"id": "e"})
    empty, _ = run_action("geoip", {"ip": "{{payload@nope}}"}, payload={})
    not_ip, _ = run_action("geoip", {"ip": "payload@ip"}, payload={"ip": "localhost"})
    settings.CDP_GEOIP_DATABASE = ""
    off, _ = run_action("geoip", {}, event=EVENT)

    assert no_ip == [("error", {"message": "there is no IP address at event@metadata.ip"})]
    assert empty == [("error", {"message": "there is no IP address at {{payload@nope}}"})]
    assert not_ip == [("error", {"message": "'localhost' is not an IP address"})]
    assert off == [("error", {"message": "GeoIP is off: CDP_GEOIP_DATABASE is not set"})]


def test_a_corrupt_database_is_the_error_port_with_the_warning(tmp_path, settings):
    path = tmp_path / "broken.mmdb"
    path.write_bytes(b"not a database")
    settings.CDP_GEOIP_DATABASE = str(path)

    results, _ = run_action("geoip", {}, event=EVENT)

    assert results[0][0] == "error"
    assert results[0][1]["message"].startswith(
        f"GeoIP is off: CDP_GEOIP_DATABASE={path} cannot be used, it is not a readable MaxMind"
    )


@pytest.mark.parametrize(
    ("config", "errors"),
    [
        ({}, []),
        ({"ip": "{{event@metadata.ip}}", "target": "profile@traits.geo"}, []),
        ({"ip": " "}, ["ip: write a dot path to the IP, e.g. event@metadata.ip"]),
        ({"ip": ""}, ["ip: '' should be non-empty"]),
        ({"add_to_profile": "yes"}, ["add_to_profile: 'yes' is not of type 'boolean'"]),
        ({"ip": "event@a..b"}, None),
        ({"target": "nowhere"}, None),
    ],
)
def test_config_validation(config, errors):
    found = action_by_id("geoip").config_errors(config)

    if errors is None:  # a notation message: only that there is exactly one, on its field
        assert len(found) == 1 and found[0].split(":")[0] in ("ip", "target")
    else:
        assert found == errors


def test_the_form_has_the_ip_path_target_and_profile_switch():
    schema = action_by_id("geoip").config_schema

    assert list(schema["properties"]) == ["ip", "target", "add_to_profile"]
    assert schema["properties"]["ip"]["default"] == "event@metadata.ip"
    assert schema["properties"]["add_to_profile"]["type"] == "boolean"
    assert action_by_id("geoip").outputs == ("found", "not-found", "error")


def _tracardi_geoip_flow():
    return {
        "id": "f1",
        "name": "Locate",
        "flowGraph": {
            "nodes": [
                node("s", "start"),
                {
                    "id": "geo",
                    "type": "flowNode",
                    "position": {"x": 0, "y": 0},
                    "data": {
                        "spec": {
                            "module": TRACARDI_MODULE,
                            "className": "GeoIPAction",
                            "inputs": ["payload"],
                            "outputs": ["location", "error"],
                            "init": {
                                "source": {"id": "r1", "name": "MaxMind"},
                                "ip": "event@metadata.ip",
                                "add_to_profile": True,
                            },
                        },
                        "metadata": {"name": "GeoIp service"},
                    },
                },
                node(
                    "copy",
                    "copy_data",
                    traits={"set": {"profile@traits.country": "payload@country.code"}},
                ),
            ],
            "edges": [edge("s", "geo"), edge("geo", "copy", "location")],
        },
    }


def test_tracardis_geoip_plugin_imports_runs_and_exports_as_it(city):
    imported = tracardi_flow_import(_tracardi_geoip_flow())
    value = imported.graph
    spec = {n["id"]: n["data"]["spec"] for n in value["nodes"]}["geo"]
    flow = make_flow(event=EVENT, profile={"id": "p1", "traits": {}, "data": {}})

    outcome = workflow_execute(
        graph_compile(workflow_id="w1", name="Locate", version=1, graph=value), flow
    )
    exported = tracardi_flow_export(workflow_id="w1", name="Locate", description="", graph=value)
    exported_geo = {n["id"]: n for n in exported["flowGraph"]["nodes"]}["geo"]["data"]["spec"]
    exported_ports = {e["source"]: e["sourceHandle"] for e in exported["flowGraph"]["edges"]}

    assert graph_problems(value) == []
    assert (spec["module"], spec["className"]) == ("apps.workflows.actions.geoip", "GeoIpAction")
    assert spec["init"] == {"ip": "event@metadata.ip", "target": None, "add_to_profile": True}
    assert [(entry["node"], entry["port"]) for entry in outcome.log] == [
        ("s", "payload"),
        ("geo", "found"),
        ("copy", "payload"),
    ]
    assert flow.profile["data"] == {"devices": {"last": {"geo": LONDON_GEO}}}
    assert flow.profile["traits"] == {"country": "GB"}
    assert (exported_geo["module"], exported_geo["className"]) == (TRACARDI_MODULE, "GeoIPAction")
    assert exported_geo["outputs"] == ["location", "error"]
    assert exported_geo["init"]["source"] == {"id": None, "name": None}
    assert exported_geo["init"]["ip"] == "event@metadata.ip"
    assert exported_ports["geo"] == "location"


def test_one_graph_routes_each_port(city):
    value = graph(
        [
            node("s", "start"),
            node("geo", "geoip", ip="event@properties.ip"),
            node("yes", "log_message", message="at {{payload@city}}"),
            node("no", "log_message", message="unknown"),
            node("bad", "log_message", message="failed"),
        ],
        [
            edge("s", "geo"),
            edge("geo", "yes", "found"),
            edge("geo", "no", "not-found"),
            edge("geo", "bad", "error"),
        ],
    )
    compiled = graph_compile(workflow_id="w1", name="g", version=1, graph=value)

    def ran(ip):
        event = {"id": "e", "properties": {"ip": ip}}
        outcome = workflow_execute(compiled, make_flow(event=event))
        return [(entry["node"], entry["port"]) for entry in outcome.log][1:]

    assert ran(LONDON_IP) == [("geo", "found"), ("yes", "payload")]
    assert ran("192.168.1.1") == [("geo", "not-found"), ("no", "payload")]
    assert ran("nope") == [("geo", "error"), ("bad", "payload")]
