"""Issue 23 item 8: plugins found through entry points; a broken one is reported at start (one
logged error naming the package, the entry point and the reason; /api/v1/health; the admin's
actions page) and skipped, and the rest works."""

import logging
import os
import subprocess
import sys

import pytest

from apps.core.plugins import PluginRefused, plugin_problems, plugins_report, schema_problem
from apps.destinations.senders import RESOURCE_TYPES
from apps.destinations.senders.plugin_checks import (
    plugin_resource_type_check,
    plugin_sender_check,
)
from apps.workflows.actions import action_by_id, plugin_origin
from apps.workflows.actions.base import Action, Result
from apps.workflows.actions.data import CopyDataAction
from apps.workflows.actions.plugins import plugin_action_check
from tests.support.plugins import ROOT, plugins_installed
from tests.workflows.graphs import run_action

# The built-in resource types (the senders' and the connectors'), which a plugin sender may name.
RESOURCE_TYPE_KEYS = [key for key, item in RESOURCE_TYPES.items() if item.origin is None]

SKIPPED = [
    (
        "cdp.actions",
        "bad_schema = cdp_plugin_broken.parts:BadSchemaAction",
        "BadSchemaAction.config_schema is not a valid JSON Schema: 'zero' is not of type "
        "'number' (at properties/n/minimum)",
    ),
    (
        "cdp.actions",
        "broken_import = cdp_plugin_broken.boom:BoomAction",
        "import failed: RuntimeError: the licence server is unreachable",
    ),
    (
        "cdp.actions",
        "clash = cdp_plugin_broken.parts:ClashAction",
        "action id 'copy_data' is taken by the built-in action Copy data; choose another id "
        "(prefix it with your package's name)",
    ),
    (
        "cdp.actions",
        "not_an_action = cdp_plugin_broken.parts:NotAnAction",
        "<class 'cdp_plugin_broken.parts.NotAnAction'> is not a subclass of "
        "apps.workflows.actions.base.Action",
    ),
    (
        "cdp.resource_types",
        "webhook = cdp_plugin_broken.parts:WebhookAgain",
        "resource type id 'webhook' is taken by a built-in; choose another id",
    ),
    (
        "cdp.senders",
        "orphan = cdp_plugin_broken.parts:OrphanSender",
        "OrphanSender.resource_type is 'nowhere', which is no resource type; name one of "
        f"{sorted([*RESOURCE_TYPE_KEYS, 'hello_inbox'])} or add it through cdp.resource_types",
    ),
]


def test_a_broken_plugin_is_logged_once_per_entry_point_and_skipped(plugin_site, caplog):
    caplog.set_level(logging.ERROR, logger="apps.core.plugins")
    with plugins_installed(plugin_site):
        problems = [
            (p.origin.package, p.origin.version, p.origin.group, p.origin.entry_point, p.reason)
            for p in plugin_problems()
        ]
        assert problems == [("cdp-plugin-broken", "2.0.1", *skipped) for skipped in SKIPPED]
        assert [record.getMessage() for record in caplog.records] == [
            f"Plugin skipped: package cdp-plugin-broken 2.0.1, entry point {entry_point!r} in "
            f"group {group}: {reason}"
            for group, entry_point, reason in sorted(SKIPPED, key=_load_order)
        ]
        # The rest works: the package's good action, the other package, the built-ins.
        assert run_action("broken_echo", {}, payload={"a": 1})[0] == [("payload", {"a": 1})]
        assert plugin_origin(action_by_id("broken_echo")).package == "cdp-plugin-broken"
        assert action_by_id("hello_greeting").__module__ == "cdp_plugin_hello.actions"
        assert action_by_id("copy_data") is CopyDataAction
        assert RESOURCE_TYPES["webhook"].origin is None
    assert plugin_problems() == []


def _load_order(skipped):
    # Groups load actions, then resource types, then senders; entry points by name.
    return (["cdp.actions", "cdp.resource_types", "cdp.senders"].index(skipped[0]), skipped[1])


def test_health_lists_plugins_in_use_and_skipped_without_reasons(plugin_site, client, db):
    with plugins_installed(plugin_site):
        response = client.get("/api/v1/health")
        report = plugins_report()

    assert response.json()["plugins"] == report
    assert [(item["package"], item["group"], item["entry_point"]) for item in report["loaded"]] == [
        ("cdp-plugin-broken", "cdp.actions", "broken_echo = cdp_plugin_broken.parts:EchoAction"),
        (
            "cdp-plugin-hello",
            "cdp.actions",
            "hello_greeting = cdp_plugin_hello.actions:GreetingAction",
        ),
        (
            "cdp-plugin-hello",
            "cdp.resource_types",
            "hello_inbox = cdp_plugin_hello.inbox:InboxResourceType",
        ),
        ("cdp-plugin-hello", "cdp.senders", "hello_inbox = cdp_plugin_hello.inbox:InboxSender"),
    ]
    assert [(item["group"], item["entry_point"]) for item in report["skipped"]] == [
        (group, entry_point) for group, entry_point, _ in SKIPPED
    ]
    assert all(
        set(item) == {"package", "version", "group", "entry_point"} for item in report["skipped"]
    )
    assert client.get("/api/v1/health").json()["plugins"] == {"loaded": [], "skipped": []}


def test_a_process_started_with_the_plugins_reports_each_broken_one_once(plugin_site):
    """As `run.py start` does: a fresh process (here `manage.py check`) with the packages
    installed logs one error per refused entry point and carries on."""
    env = {**os.environ, "PYTHONPATH": str(plugin_site)}
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "System check identified no issues (0 silenced)."
    logged = [
        line.split(" ERROR apps.core.plugins ", 1)[1]
        for line in done.stderr.splitlines()
        if " ERROR apps.core.plugins " in line
    ]
    assert sorted(logged) == sorted(
        f"Plugin skipped: package cdp-plugin-broken 2.0.1, entry point {entry_point!r} in group "
        f"{group}: {reason}"
        for group, entry_point, reason in SKIPPED
    )


# -- the checks, one mistake at a time ---------------------------------------------------------


class Good(Action):
    id = "acme_good"
    name = "Good"
    group = "Acme"
    description = "Sends the payload on."

    def run(self, payload, flow):
        return Result("payload", payload)


def check_action(cls):
    return plugin_action_check(
        cls,
        taken_ids={"copy_data": "the built-in action Copy data"},
        taken_class_names={"CopyDataAction": "the built-in action Copy data"},
    )


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        (
            {"id": "Acme-Good"},
            "action id 'Acme-Good' must be lower-case letters, digits and _ "
            "(at most 64), starting with a letter",
        ),
        ({"name": " "}, "Bad.name must be a non-empty string"),
        ({"outputs": "payload"}, "Bad.outputs must be a tuple of port names"),
        ({"inputs": ("payload", "")}, "Bad.inputs must be a tuple of port names"),
        (
            {"config_schema": {"type": "array"}},
            'Bad.config_schema must describe an object ("type": "object")',
        ),
        (
            {"config_schema": []},
            "Bad.config_schema must be a JSON Schema object (a dict), not list",
        ),
        (
            {"config_schema": {"type": "object", "required": "name"}},
            "Bad.config_schema is not a valid JSON Schema: 'name' is not of type 'array' "
            "(at required)",
        ),
        ({"run": Action.run}, "Bad does not implement run(payload, flow)"),
    ],
)
def test_an_action_that_breaks_a_rule_is_refused_with_the_reason(attributes, reason):
    bad = type("Bad", (Good,), attributes)

    with pytest.raises(PluginRefused) as refused:
        check_action(bad)

    assert str(refused.value) == reason


def test_an_action_class_name_taken_is_refused_and_a_good_one_passes():
    with pytest.raises(PluginRefused) as refused:
        check_action(type("CopyDataAction", (Good,), {"id": "acme_copy"}))
    assert str(refused.value) == (
        "class name CopyDataAction is taken by the built-in action Copy data; graphs find "
        "actions by class name, so rename the class"
    )
    assert check_action(Good) is Good


class Inbox:
    id = "acme_inbox"
    name = "Acme inbox"
    credentials_schema = {"type": "object", "properties": {"token": {"type": "string"}}}


class InboxSender:
    resource_type = "acme_inbox"
    settings_schema = {"type": "object"}

    def send(self, **kwargs):
        raise AssertionError("not called")


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        (
            {"id": "acme__inbox"},
            "resource type id 'acme__inbox' must be lower-case letters and "
            "digits joined by single underscores, at most 32 characters",
        ),
        (
            {"id": "a" * 33},
            f"resource type id {'a' * 33!r} must be lower-case letters and "
            "digits joined by single underscores, at most 32 characters",
        ),
        (
            {"name": ""},
            "<class 'tests.core.test_plugins.Bad'> must have a string `id` and a "
            "non-empty string `name` (its label)",
        ),
        (
            {"credentials_schema": {"type": "object", "properties": {"token": {"type": "text"}}}},
            "acme_inbox credentials_schema is not a valid JSON Schema: 'text' is not valid under "
            "any of the given schemas (at properties/token/type)",
        ),
    ],
)
def test_a_resource_type_that_breaks_a_rule_is_refused(attributes, reason):
    bad = type("Bad", (Inbox,), {"__module__": __name__, **attributes})

    with pytest.raises(PluginRefused) as refused:
        plugin_resource_type_check(bad, taken={"webhook": "a built-in"})

    assert str(refused.value) == reason


@pytest.mark.parametrize(
    ("attributes", "taken", "reason"),
    [
        (
            {},
            {"acme_inbox": "package acme-one"},
            "resource type 'acme_inbox' already has a "
            "sender (package acme-one); a resource type has one sender",
        ),
        ({"send": None}, {}, "Bad has no send(...) method"),
        (
            {"settings_schema": None},
            {},
            "Bad.settings_schema must be a JSON Schema object (a dict), not NoneType",
        ),
        ({"__init__": lambda self: 1 / 0}, {}, "Bad() failed: ZeroDivisionError: division by zero"),
    ],
)
def test_a_sender_that_breaks_a_rule_is_refused(attributes, taken, reason):
    bad = type("Bad", (InboxSender,), attributes)

    with pytest.raises(PluginRefused) as refused:
        plugin_sender_check(bad, resource_types={"acme_inbox": "package acme"}, taken=taken)

    assert str(refused.value) == reason


def test_schema_problem_accepts_an_object_schema():
    assert schema_problem({"type": "object", "properties": {}}, what="x") is None
