"""Text, privacy, identifiers and client agent actions."""

import hashlib
import uuid

import pytest

from apps.workflows.actions import action_by_id
from apps.workflows.actions.base import ActionError
from apps.workflows.actions.tracardi_names import tracardi_plugin
from tests.workflows.graphs import run_action

CHROME_ON_ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def test_parse_url():
    results, flow = run_action(
        "parse_url",
        {"target": "memory@url"},
        event={
            "id": "e",
            "context": {"page": {"url": "https://shop.example.com:8443/p/1?utm=a&tag=x&tag=y#top"}},
        },
    )

    expected = {
        "url": "https://shop.example.com:8443/p/1?utm=a&tag=x&tag=y#top",
        "scheme": "https",
        "hostname": "shop.example.com",
        "port": 8443,
        "path": "/p/1",
        "query": "utm=a&tag=x&tag=y",
        "params": {"utm": "a", "tag": ["x", "y"]},
        "fragment": "top",
    }
    assert results == [("payload", expected)]
    assert flow.memory == {"url": expected}


CAMPAIGN_URL = "https://shop.example.com/p?utm_source=news&tag=x&tag=y&ref=&utm_medium=email"


def test_parse_url_repeated_and_blank_parameters():
    event = {"id": "e", "context": {"page": {"url": CAMPAIGN_URL}}}

    default = run_action("parse_url", {}, event=event)[0]
    tracardi_like = {"repeated": "last", "blank_values": False}
    as_tracardi = run_action("parse_url", tracardi_like, event=event)[0]

    assert default[0][1]["params"] == {
        "utm_source": "news",
        "tag": ["x", "y"],
        "ref": "",
        "utm_medium": "email",
    }
    assert as_tracardi == [
        (
            "payload",
            {
                "url": CAMPAIGN_URL,
                "scheme": "https",
                "hostname": "shop.example.com",
                "port": None,
                "path": "/p",
                "query": "utm_source=news&tag=x&tag=y&ref=&utm_medium=email",
                "params": {"utm_source": "news", "tag": "y", "utm_medium": "email"},
                "fragment": "",
            },
        )
    ]


def test_parse_url_config_is_validated():
    action = action_by_id("parse_url")

    assert action.config_errors({"repeated": "first"}) == [
        "repeated: 'first' is not one of ['list', 'last']"
    ]
    assert action.config_errors({"blank_values": "no"}) == [
        "blank_values: 'no' is not of type 'boolean'"
    ]
    assert action.config_errors({"url": "session@context.page.url", "repeated": "last"}) == []


def test_a_tracardi_parse_url_node_behaves_as_tracardi():
    plugin = tracardi_plugin(
        "tracardi.process_engine.action.v1.strings.url_parser.plugin", "ParseURLParameters"
    )
    known = set(action_by_id("parse_url").config_schema["properties"])

    ours = plugin.config_to_ours({"url": "session@context.page.url"}, known)

    assert plugin.action_id == "parse_url"
    assert ours == {"url": "session@context.page.url", "repeated": "last", "blank_values": False}
    assert plugin.config_to_tracardi({}) == {"url": "session@context.page.url"}


def test_parse_url_needs_text():
    with pytest.raises(ActionError, match="url: event@properties.n is int, not a text"):
        run_action(
            "parse_url", {"url": "event@properties.n"}, event={"id": "e", "properties": {"n": 1}}
        )


def test_split_string():
    event = {"id": "e", "properties": {"tags": " a, b,,c "}}

    assert run_action("split_string", {"string": "event@properties.tags"}, event=event)[0] == [
        ("payload", ["a", "b", "c"])
    ]
    assert run_action(
        "split_string",
        {"string": "event@properties.tags", "strip": False, "skip_empty": False},
        event=event,
    )[0] == [("payload", [" a", " b", "", "c "])]


def test_regex_match_routes_and_returns_groups():
    config = {"pattern": r"order-(?P<year>\d{4})-(\d+)", "text": "event@properties.ref"}

    matched, _ = run_action(
        "regex_match", config, event={"id": "e", "properties": {"ref": "x order-2026-17"}}
    )
    missed, _ = run_action(
        "regex_match", config, payload="in", event={"id": "e", "properties": {"ref": "none"}}
    )

    assert matched == [
        ("matched", {"match": "order-2026-17", "groups": ["2026", "17"], "named": {"year": "2026"}})
    ]
    assert missed == [("not_matched", "in")]


def test_regex_replace():
    results, flow = run_action(
        "regex_replace",
        {
            "text": "event@properties.phone",
            "pattern": r"\D",
            "replacement": "",
            "target": "event@properties.phone",
        },
        event={"id": "e", "properties": {"phone": "+48 (600) 100-200"}},
    )

    assert results == [("payload", "48600100200")]
    assert flow.event["properties"]["phone"] == "48600100200"


@pytest.mark.parametrize(
    ("action", "config", "message"),
    [
        ("regex_match", {"pattern": "(", "text": "a"}, "pattern: not a valid regular expression"),
        ("regex_replace", {"pattern": "a", "text": "a", "replacement": r"\9"}, "replacement:"),
    ],
)
def test_regex_config_errors(action, config, message):
    assert action_by_id(action).config_errors(config)[0].startswith(message)


def test_hash_data_in_place():
    _, flow = run_action(
        "hash_data",
        {"data": ["profile@data.contact.email.main", "profile@traits.missing"], "func": "md5"},
        profile={"id": "p", "traits": {}, "data": {"contact": {"email": {"main": "a@b.c"}}}},
    )

    assert flow.profile["data"]["contact"]["email"]["main"] == hashlib.md5(b"a@b.c").hexdigest()
    assert flow.profile["traits"] == {}


def test_mask_data_keeps_the_ends_it_is_told_to():
    _, flow = run_action(
        "mask_data",
        {"data": ["profile@traits.email", "profile@traits.pin"], "keep_start": 1, "keep_end": 4},
        profile={"id": "p", "traits": {"email": "jane@example.com", "pin": 1234}},
    )

    assert flow.profile["traits"] == {"email": "j***********.com", "pin": "****"}


def test_generate_uuid():
    results, flow = run_action(
        "generate_uuid", {"target": "profile@traits.token"}, profile={"id": "p"}
    )

    value = results[0][1]
    assert uuid.UUID(value).version == 4
    assert flow.profile["traits"] == {"token": value}


def test_detect_client_agent_reads_the_request_header():
    results, _ = run_action(
        "detect_client_agent",
        {},
        event={"id": "e", "request": {"headers": {"user-agent": CHROME_ON_ANDROID}}},
    )

    [(port, agent)] = results
    assert port == "payload"
    assert agent["bot"] is False
    assert agent["device"]["type"] == "mobile"
    assert agent["device"]["brand"] == "Google"
    assert agent["os"] == {"name": "Android", "version": "13"}
    assert agent["client"]["name"] == "Chrome Mobile"


def test_detect_client_agent_spots_bots_and_missing_agents():
    results, _ = run_action(
        "detect_client_agent",
        {"agent": "event@properties.ua"},
        event={"id": "e", "properties": {"ua": GOOGLEBOT}},
    )
    assert results[0][1]["bot"] is True
    assert results[0][1]["device"]["type"] == "bot"

    with pytest.raises(ActionError, match="is not a User-Agent text"):
        run_action(
            "detect_client_agent",
            {"agent": "event@properties.ua"},
            event={"id": "e", "properties": {"ua": 5}},
        )
