"""Issue 23 item 8: workflow actions from other packages (entry-point group `cdp.actions`).

The example package (examples/cdp-plugin-hello) and a broken one are installed for real with
pip (tests/support/plugins.py); the registry is loaded again as at start."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.core.plugins import plugin_problems
from apps.tracking.processing import profile_events_process
from apps.workflows.actions import ACTIONS, action_by_id, actions_by_group, plugin_origin
from apps.workflows.graph import graph_problems
from apps.workflows.models import WorkflowRun
from apps.workflows.services.workflows import workflow_create
from tests.support.plugins import plugins_installed
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory
from tests.workflows.graphs import edge, graph, node, run_action

GREETING = {"name": "event@properties.first_name", "target": "profile@traits.greeting"}


def greeting_node(node_id: str, config: dict) -> dict:
    """A Say hello node (its `name` config key is also node()'s node-name argument)."""
    item = node(node_id, "hello_greeting", name="Say hello")
    item["data"]["spec"]["init"] = action_by_id("hello_greeting").with_defaults(config)
    return item


@pytest.fixture
def staff_client(client, db):
    client.force_login(get_user_model().objects.create_superuser(username="ann"))
    return client


def test_the_example_action_joins_the_registry_with_its_package(with_plugins):
    action = action_by_id("hello_greeting")

    assert (action.__module__, action.__name__) == ("cdp_plugin_hello.actions", "GreetingAction")
    origin = plugin_origin(action)
    assert (origin.package, origin.version, origin.entry_point) == (
        "cdp-plugin-hello",
        "0.1.0",
        "hello_greeting = cdp_plugin_hello.actions:GreetingAction",
    )
    assert [a.id for a in actions_by_group()["Hello plugin"]] == ["hello_greeting"]
    assert plugin_origin(action_by_id("copy_data")) is None
    # The built-in tuple stays the built-ins.
    assert "hello_greeting" not in {a.id for a in ACTIONS}


def test_the_plugin_action_greets_on_greeted_and_passes_on_anonymous(with_plugins):
    results, flow = run_action(
        "hello_greeting",
        {**GREETING, "greeting": "Hi"},
        payload={"p": 1},
        event={"id": "e", "properties": {"first_name": " Ada "}},
        profile={"id": "p", "traits": {}},
    )
    assert results == [("greeted", "Hi, Ada!")]
    assert flow.profile["traits"] == {"greeting": "Hi, Ada!"}

    for properties in ({}, {"first_name": "  "}, {"first_name": 7}):
        results, flow = run_action(
            "hello_greeting",
            GREETING,
            payload={"p": 1},
            event={"id": "e", "properties": properties},
            profile={"id": "p", "traits": {}},
        )
        assert results == [("anonymous", {"p": 1})]
        assert flow.profile["traits"] == {}

    results, _ = run_action("hello_greeting", {"name": "Grace"})
    assert results == [("greeted", "Hello, Grace!")]


@pytest.mark.parametrize(
    ("config", "errors"),
    [
        ({}, ["'name' is a required property"]),
        ({"name": "x", "greeting": ""}, ["greeting: '' should be non-empty"]),
        ({"name": "x", "greeting": "   "}, ["greeting: write a word, e.g. Hello"]),
        (
            {"name": "x", "colour": "red"},
            ["Additional properties are not allowed ('colour' was unexpected)"],
        ),
        (
            {"name": "x", "target": "session@x"},
            [
                "target: session@ is read-only in workflows; write to one of event@, memory@, "
                "payload@, profile@"
            ],
        ),
    ],
)
def test_the_plugin_action_config_is_validated_like_a_built_in(with_plugins, config, errors):
    assert action_by_id("hello_greeting").config_errors(config) == errors


def test_a_workflow_with_the_plugin_action_runs_on_an_event(with_plugins, db):
    workflow = workflow_create(
        name="Greet",
        graph=graph(
            [
                node("start", "start"),
                greeting_node("hello", GREETING),
                node("log", "log_message", message="no name"),
            ],
            [edge("start", "hello"), edge("hello", "log", "anonymous")],
        ),
    )
    RuleFactory(event_type="signup", workflow=workflow)
    profile = ProfileFactory(traits={"plan": "free"})
    event = EventFactory(type="signup", profile=profile, properties={"first_name": "Ada"})

    profile_events_process(profile_id=profile.pk)

    profile.refresh_from_db()
    assert profile.traits == {"plan": "free", "greeting": "Hello, Ada!"}
    run = WorkflowRun.objects.get(event=event)
    assert run.status == "ok"
    assert [
        (entry["node"], entry["action"], entry["port"], entry["error"]) for entry in run.log
    ] == [
        ("start", "start", "payload", None),
        ("hello", "hello_greeting", "greeted", None),
    ]


def test_a_graph_saved_with_the_plugin_fails_validation_once_it_is_uninstalled(plugin_site):
    with plugins_installed(plugin_site):
        greet = graph(
            [node("start", "start"), greeting_node("hello", GREETING)], [edge("start", "hello")]
        )
        assert graph_problems(greet) == []

    assert [str(problem) for problem in graph_problems(greet)] == [
        "Node 'Say hello' (id hello): unknown action cdp_plugin_hello.actions.GreetingAction; "
        "see the action catalogue for the available ones"
    ]


def test_the_editor_catalogue_names_the_package_of_plugin_actions(with_plugins, staff_client):
    response = staff_client.get(reverse("admin:workflows_workflow_editor_catalogue"))

    assert response.status_code == 200
    families = {family["name"]: family["actions"] for family in response.json()["families"]}
    [hello] = families["Hello plugin"]
    assert (hello["id"], hello["name"], hello["outputs"], hello["plugin"]) == (
        "hello_greeting",
        "Say hello",
        ["greeted", "anonymous"],
        {"package": "cdp-plugin-hello", "version": "0.1.0"},
    )
    assert hello["spec"]["module"] == "cdp_plugin_hello.actions"
    [copy_data] = [a for a in families["Data"] if a["id"] == "copy_data"]
    assert copy_data["plugin"] is None


def test_the_actions_page_lists_plugins_and_the_skipped_ones_with_reasons(
    with_plugins, staff_client
):
    response = staff_client.get(reverse("admin:workflows_workflow_actions"))

    assert response.status_code == 200
    page = response.content.decode()
    assert (
        '<h3>Say hello <small>(hello_greeting)</small> <small class="plugin-origin">plugin '
        "cdp-plugin-hello 0.1.0</small></h3>" in page
    )
    assert (
        "<li><strong>cdp-plugin-hello 0.1.0</strong>: <code>hello_greeting = "
        "cdp_plugin_hello.actions:GreetingAction</code> in <code>cdp.actions</code></li>" in page
    )
    assert (
        "Skipped: <strong>cdp-plugin-broken 2.0.1</strong>, entry point <code>broken_import = "
        "cdp_plugin_broken.boom:BoomAction</code> in <code>cdp.actions</code>: import failed: "
        "RuntimeError: the licence server is unreachable</li>" in page
    )
    assert page.count("Skipped: ") == 6


def test_without_plugins_the_page_says_every_action_is_built_in(staff_client):
    page = staff_client.get(reverse("admin:workflows_workflow_actions")).content.decode()

    assert "No plugin is installed: every action below is built in." in page
    assert "Skipped: " not in page
    assert plugin_problems() == []
    for action_id in ("hello_greeting", "broken_echo"):
        with pytest.raises(KeyError):
            action_by_id(action_id)
