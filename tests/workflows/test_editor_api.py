"""The workflow editor's JSON endpoints (EDITOR_CONTRACT.md): load, validate, save with the
version check, deploy, revert, test runs of the draft, events, past runs, rules, notation."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from apps.events.models import EventType
from apps.tracking.processing import profile_events_process
from apps.workflows.actions import ACTIONS, actions_by_group
from apps.workflows.models import Rule, Workflow, WorkflowRun, WorkflowVersion
from apps.workflows.selectors import routing_table
from apps.workflows.services.drafts import DraftConflict, workflow_deploy, workflow_draft_save
from apps.workflows.services.workflows import workflow_add
from tests.sources.factories import EventSourceFactory
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import edge, graph, linear_graph, node

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def ann(db):
    return User.objects.create_superuser(username="ann", first_name="Ann", last_name="Lee")


@pytest.fixture
def staff_client(client, ann):
    client.force_login(ann)
    return client


@pytest.fixture
def viewer_client(client):
    viewer = User.objects.create_user(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_workflow"))
    client.force_login(viewer)
    return client


def url(name, *args):
    return reverse(f"admin:workflows_workflow_editor_{name}", args=args)


def post(client, address, body):
    return client.post(address, json.dumps(body), content_type="application/json")


def log_graph(message):
    return linear_graph(("log_message", {"message": message}))


def if_graph(condition):
    return graph(
        [node("start", "start"), node("pro", "if", name="Is pro?", condition=condition)],
        [edge("start", "pro")],
    )


# -- catalogue and notation ------------------------------------------------------------------


def test_catalogue_lists_every_action_by_family_with_colours_schemas_and_specs(staff_client):
    response = staff_client.get(url("catalogue"))

    assert response.status_code == 200
    families = response.json()["families"]
    assert [(family["name"], family["colour"]) for family in families][:3] == [
        ("Flow", "#4a6fa5"),
        ("Data", "#2e8b57"),
        ("Segments", "#d35400"),
    ]
    actions = [action for family in families for action in family["actions"]]
    grouped = [action.id for group in actions_by_group().values() for action in group]
    assert [action["id"] for action in actions] == grouped
    assert sorted(grouped) == sorted(action.id for action in ACTIONS)
    if_action = next(action for action in actions if action["id"] == "if")
    assert if_action["inputs"] == ["payload"]
    assert if_action["outputs"] == ["true", "false"]
    assert if_action["spec"] == {
        "className": "IfAction",
        "module": "apps.workflows.actions.flow",
        "inputs": ["payload"],
        "outputs": ["true", "false"],
        "init": {},
    }
    assert if_action["schema"]["properties"]["condition"]["x-notation"] == "condition"
    assert if_action["docs_html"].startswith("<p>Evaluates <code>condition</code>")


@pytest.mark.parametrize(
    ("kind", "text", "answer"),
    [
        (
            "condition",
            "event@properties.price >> 100",
            {
                "ok": False,
                "error": "Unexpected '>' at column 25; expected a value (number, string, "
                "field reference, function call)",
                "line": 1,
                "column": 25,
            },
        ),
        ("condition", "event@properties.price > 100", {"ok": True}),
        (
            "condition",
            " ",
            {
                "ok": False,
                "error": 'Write a condition, e.g. event@properties.plan == "pro"',
                "line": None,
                "column": None,
            },
        ),
        ("path", "event@properties.price", {"ok": True}),
        (
            "path",
            "profile@a..b",
            {
                "ok": False,
                "error": "Reference 'profile@a..b' has an empty key at offset 2",
                "line": None,
                "column": None,
            },
        ),
        (
            "path",
            "price",
            {
                "ok": False,
                "error": "'price' is not a dot path; write e.g. event@properties.price "
                "(sources: event@, flow@, memory@, payload@, profile@, session@)",
                "line": None,
                "column": None,
            },
        ),
        ("writable_path", "profile@traits.plan", {"ok": True}),
        (
            "writable_path",
            "session@context.x",
            {
                "ok": False,
                "error": "session@ is read-only in workflows; write to one of event@, memory@, "
                "payload@, profile@",
                "line": None,
                "column": None,
            },
        ),
        ("value", "42", {"ok": True}),
        ("value", "event@properties.price", {"ok": True}),
        (
            "value",
            "event@",
            {
                "ok": False,
                "error": "Reference 'event@' has no path; use event@... for the whole object",
                "line": None,
                "column": None,
            },
        ),
        ("template", "Hi {{profile@data.pii.firstname}}!", {"ok": True}),
        (
            "template",
            "Hi {{profile@data.pii.firstname}},\nyou bought {{event@properties..sku}}",
            {
                "ok": False,
                "error": "{{event@properties..sku}}: Reference 'event@properties..sku' has an "
                "empty key at offset 11",
                "line": 2,
                "column": 12,
            },
        ),
        (
            "template",
            "Hi {{firstname}}",
            {
                "ok": False,
                "error": "{{firstname}} is not a dot path (it would stay as written); write "
                "e.g. {{profile@data.pii.firstname}}",
                "line": 1,
                "column": 4,
            },
        ),
        (
            "template",
            "Hi {{profile@id",
            {
                "ok": False,
                "error": "This {{ is not closed with }}",
                "line": 1,
                "column": 4,
            },
        ),
    ],
)
def test_notation_check_for_the_five_kinds(viewer_client, kind, text, answer):
    response = post(viewer_client, url("notation"), {"kind": kind, "text": text})

    assert response.status_code == 200
    assert response.json() == answer


def test_notation_check_refuses_an_unknown_kind(staff_client):
    response = post(staff_client, url("notation"), {"kind": "regex", "text": "a"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Unknown notation kind 'regex'; one of: condition, path, writable_path, "
        "value, template"
    }


# -- load and validate ---------------------------------------------------------------------


def test_load_gives_draft_deployed_graph_rules_sources_types_and_versions(staff_client, ann):
    workflow = WorkflowFactory(name="Plans", graph=log_graph("v1"))
    workflow_draft_save(workflow=workflow, graph=if_graph("event@x =="), revision=1, user=ann)
    source = EventSourceFactory(name="Shop")
    rule = RuleFactory(name="Buys", workflow=workflow, event_type="purchase", source=source)
    EventType.objects.create(type="signup", name="Sign-up")
    RuleFactory(event_type="page-view")

    response = staff_client.get(url("load", workflow.pk))

    assert response.status_code == 200
    state = response.json()
    workflow.refresh_from_db()
    assert state == {
        "workflow": {"id": workflow.pk, "name": "Plans", "enabled": True},
        "draft": if_graph("event@x =="),
        "revision": 2,
        "draft_saved": workflow.draft_saved.isoformat(),
        "draft_saved_by": "Ann Lee",
        "deployed": log_graph("v1"),
        "deployed_version": 1,
        "deployed_at": workflow.deployed_at.isoformat(),
        "draft_differs": True,
        "problems": [
            {
                "node_id": "pro",
                "message": "If: condition: Unexpected end of the condition at column 11; "
                "expected a value (number, string, field reference, function call)",
            }
        ],
        "rules": [
            {
                "id": rule.pk,
                "name": "Buys",
                "event_type": "purchase",
                "source_id": source.pk,
                "source_name": "Shop",
                "enabled": True,
                "admin_url": reverse("admin:workflows_rule_change", args=[rule.pk]),
            }
        ],
        "sources": [{"id": source.pk, "name": "Shop"}],
        "event_types": sorted(
            {*EventType.objects.values_list("type", flat=True), "page-view", "purchase"}
        ),
        "versions": [
            {"version": 1, "deployed_at": workflow.deployed_at.isoformat(), "deployed_by": None}
        ],
    }


def test_load_reads_rules_and_versions_without_a_query_per_row(
    staff_client, ann, django_assert_num_queries
):
    workflow = WorkflowFactory()
    for index in range(5):
        RuleFactory(workflow=workflow, source=EventSourceFactory(), event_type=f"t{index}")
    for revision in (1, 2, 3):
        workflow_draft_save(
            workflow=workflow, graph=log_graph(str(revision)), revision=revision, user=ann
        )
        workflow_deploy(workflow=workflow, revision=revision + 1, user=ann)

    # session, user, workflow, draft_saved_by, rules+sources, sources, rule types, event
    # types, stored types, versions+deployed_by
    with django_assert_num_queries(10):
        response = staff_client.get(url("load", workflow.pk))

    assert len(response.json()["rules"]) == 5
    assert [row["deployed_by"] for row in response.json()["versions"]] == [
        "Ann Lee",
        "Ann Lee",
        "Ann Lee",
        None,
    ]


def test_load_of_a_workflow_never_deployed(staff_client, ann):
    workflow = workflow_add(workflow=Workflow(name="New"), user=ann)

    state = staff_client.get(url("load", workflow.pk)).json()

    assert (state["deployed"], state["deployed_version"], state["deployed_at"]) == (
        None,
        None,
        None,
    )
    assert state["draft_differs"] is True
    assert state["problems"] == []
    assert state["versions"] == []


def test_load_of_an_unknown_workflow_is_a_json_404(staff_client):
    response = staff_client.get(url("load", "nope"))

    assert response.status_code == 404
    assert response.json() == {"detail": "There is no workflow with id 'nope'."}


def test_validate_names_the_nodes_and_saves_nothing(viewer_client):
    workflow = WorkflowFactory()
    broken = graph(
        [node("start", "start"), node("n1", "copy_data", traits={"set": {}})],
        [edge("start", "n1"), edge("n1", "ghost")],
    )

    response = post(viewer_client, url("validate", workflow.pk), {"graph": broken})

    assert response.status_code == 200
    assert response.json() == {
        "problems": [
            {"node_id": "n1", "message": "Copy data: traits.set: {} should be non-empty"},
            {
                "node_id": None,
                "message": "Edge 'n1:payload->ghost:payload' points at node 'ghost', "
                "which does not exist",
            },
        ]
    }
    workflow.refresh_from_db()
    assert workflow.revision == 1


# -- save and the version check -------------------------------------------------------------


def test_save_stores_a_draft_with_problems_and_returns_them(staff_client, ann):
    workflow = WorkflowFactory(graph=log_graph("v1"))

    response = post(
        staff_client,
        url("save", workflow.pk),
        {"graph": if_graph("event@x =="), "revision": 1},
    )

    assert response.status_code == 200
    assert response.json() == {
        "revision": 2,
        "problems": [
            {
                "node_id": "pro",
                "message": "If: condition: Unexpected end of the condition at column 11; "
                "expected a value (number, string, field reference, function call)",
            }
        ],
        "deployable": False,
        "draft_differs": True,
    }
    workflow.refresh_from_db()
    assert (workflow.draft, workflow.revision, workflow.draft_saved_by) == (
        if_graph("event@x =="),
        2,
        ann,
    )
    assert (workflow.graph, workflow.version) == (log_graph("v1"), 1)


def test_save_of_the_deployed_graph_says_the_draft_does_not_differ(staff_client):
    workflow = WorkflowFactory(graph=log_graph("v1"))

    response = post(
        staff_client, url("save", workflow.pk), {"graph": log_graph("v1"), "revision": 1}
    )

    assert response.json() == {
        "revision": 2,
        "problems": [],
        "deployable": True,
        "draft_differs": False,
    }


def test_a_conflict_with_a_save_of_another_day_names_the_day(staff_client, ann):
    workflow = WorkflowFactory()
    workflow_draft_save(workflow=workflow, graph=log_graph("Ann's"), revision=1, user=ann)
    Workflow.objects.filter(pk=workflow.pk).update(
        draft_saved=datetime(2026, 3, 4, 14, 2, tzinfo=UTC)
    )

    response = post(
        staff_client, url("save", workflow.pk), {"graph": log_graph("x"), "revision": 1}
    )

    assert response.json()["detail"].startswith(
        "Ann Lee saved this workflow on 2026-03-04 at 14:02, after you opened it."
    )


def test_save_on_an_old_revision_is_a_conflict_naming_who_saved_and_when(staff_client, ann):
    workflow = WorkflowFactory()
    workflow_draft_save(workflow=workflow, graph=log_graph("Ann's"), revision=1, user=ann)
    today = timezone.localdate()
    Workflow.objects.filter(pk=workflow.pk).update(
        draft_saved=timezone.make_aware(datetime(today.year, today.month, today.day, 14, 2))
    )

    response = post(
        staff_client, url("save", workflow.pk), {"graph": log_graph("mine"), "revision": 1}
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Ann Lee saved this workflow at 14:02, after you opened it. Your changes are "
        "still in this page: copy what you need, then reload.",
        "revision": 2,
    }
    workflow.refresh_from_db()
    assert (workflow.draft, workflow.revision) == (log_graph("Ann's"), 2)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"graph": [], "revision": 1},
            '"graph" must be an object {"nodes": [...], "edges": [...]} with two lists',
        ),
        (
            {"graph": {"nodes": {}, "edges": []}, "revision": 1},
            '"graph" must be an object {"nodes": [...], "edges": [...]} with two lists',
        ),
        ({"graph": {"nodes": []}}, '"revision" must be the revision number the editor loaded.'),
        (
            {"graph": {"nodes": []}, "revision": "1"},
            '"revision" must be the revision number the editor loaded.',
        ),
    ],
)
def test_save_refuses_a_malformed_body_and_stores_nothing(staff_client, body, detail):
    workflow = WorkflowFactory()

    response = post(staff_client, url("save", workflow.pk), body)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}
    workflow.refresh_from_db()
    assert (workflow.revision, workflow.draft) == (1, workflow.graph)


def test_save_of_a_body_that_is_not_json_is_a_json_400(staff_client):
    workflow = WorkflowFactory()

    response = staff_client.post(url("save", workflow.pk), "{nope", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("The body is not valid JSON: ")


def test_save_needs_the_change_permission(viewer_client):
    workflow = WorkflowFactory()

    response = post(
        viewer_client, url("save", workflow.pk), {"graph": log_graph("x"), "revision": 1}
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "You may not change workflows: ask for the permission to."}
    workflow.refresh_from_db()
    assert workflow.revision == 1


@pytest.mark.parametrize("name", ["deploy", "revert", "rules"])
def test_every_write_needs_the_change_permission(viewer_client, name):
    workflow = WorkflowFactory()

    response = post(viewer_client, url(name, workflow.pk), {"revision": 1, "event_type": "x"})

    assert response.status_code == 403
    assert response.json() == {"detail": "You may not change workflows: ask for the permission to."}


def test_a_get_on_a_post_endpoint_is_a_json_405(staff_client):
    workflow = WorkflowFactory()

    response = staff_client.get(url("save", workflow.pk))

    assert response.status_code == 405
    assert response.json() == {"detail": "Use POST for this address."}
    assert response["Allow"] == "POST"


def test_reads_need_the_view_permission(client):
    client.force_login(User.objects.create_user(username="nobody", is_staff=True))
    workflow = WorkflowFactory()

    answers = [
        client.get(url("catalogue")),
        client.get(url("load", workflow.pk)),
        post(client, url("notation"), {"kind": "path", "text": "event@id"}),
        post(client, url("test_run", workflow.pk), {"sample": {"type": "x"}}),
    ]

    assert [(answer.status_code, answer.json()) for answer in answers] == [
        (403, {"detail": "You may not view workflows: ask for the permission to."})
    ] * 4


def test_non_staff_are_sent_to_the_login_page(client):
    workflow = WorkflowFactory()

    response = client.get(url("load", workflow.pk))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db(transaction=True)
def test_two_saves_at_once_on_the_same_revision_exactly_one_wins():
    """The first save holds its row lock (its transaction still open) while the second
    arrives: the second must wait, then find the revision moved on. A check-then-write would
    read revision 1 in both and let the second overwrite the first."""
    workflow = WorkflowFactory()
    first_wrote = threading.Event()
    outcomes: dict[str, object] = {}

    def first():
        try:
            with transaction.atomic():
                row = Workflow.objects.get(pk=workflow.pk)
                outcomes["first"] = workflow_draft_save(
                    workflow=row, graph=log_graph("first"), revision=1, user=None
                ).revision
                first_wrote.set()
                time.sleep(0.5)
        finally:
            connection.close()

    def second():
        try:
            first_wrote.wait(5)
            row = Workflow.objects.get(pk=workflow.pk)
            try:
                workflow_draft_save(workflow=row, graph=log_graph("second"), revision=1, user=None)
                outcomes["second"] = "saved"
            except DraftConflict as exc:
                outcomes["second"] = exc.revision
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert outcomes == {"first": 2, "second": 2}
    workflow.refresh_from_db()
    assert (workflow.draft, workflow.revision) == (log_graph("first"), 2)


# -- deploy, routing and revert -------------------------------------------------------------


def test_deploy_refuses_a_draft_with_problems_listing_them(staff_client, ann):
    workflow = WorkflowFactory(graph=log_graph("v1"))
    broken = graph(
        [
            node("start", "start"),
            node("a", "if", condition="event@x =="),
            node("b", "if", condition=""),
        ],
        [edge("start", "a"), edge("start", "b")],
    )
    workflow_draft_save(workflow=workflow, graph=broken, revision=1, user=ann)

    response = post(staff_client, url("deploy", workflow.pk), {"revision": 2})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The draft has 2 problems; fix them before deploying.",
        "problems": [
            {
                "node_id": "a",
                "message": "If: condition: Unexpected end of the condition at column 11; "
                "expected a value (number, string, field reference, function call)",
            },
            {"node_id": "b", "message": "If: condition: '' should be non-empty"},
        ],
    }
    workflow.refresh_from_db()
    assert (workflow.version, workflow.graph) == (1, log_graph("v1"))
    assert WorkflowVersion.objects.filter(workflow=workflow).count() == 1


def test_deploy_on_an_old_revision_is_a_conflict(staff_client, ann):
    workflow = WorkflowFactory()
    workflow_draft_save(workflow=workflow, graph=log_graph("x"), revision=1, user=ann)

    response = post(staff_client, url("deploy", workflow.pk), {"revision": 1})

    assert response.status_code == 409
    assert response.json()["revision"] == 2
    assert response.json()["detail"].startswith("Ann Lee saved this workflow at ")


def test_deploy_makes_a_version_and_the_worker_runs_the_deployed_graph_not_the_draft(
    staff_client, ann
):
    workflow = WorkflowFactory(graph=log_graph("deployed"))
    RuleFactory(workflow=workflow, event_type="purchase")
    workflow_draft_save(workflow=workflow, graph=log_graph("draft"), revision=1, user=ann)

    first = EventFactory(type="purchase")
    profile_events_process(profile_id=first.profile_id)
    run = WorkflowRun.objects.get(event=first)
    assert (run.workflow_version, run.log[1]["messages"][0]["message"]) == (1, "deployed")

    response = post(staff_client, url("deploy", workflow.pk), {"revision": 2})

    assert response.status_code == 200
    version = WorkflowVersion.objects.get(workflow=workflow, version=2)
    assert response.json() == {"version": 2, "deployed_at": version.deployed_at.isoformat()}
    assert (version.graph, version.deployed_by) == (log_graph("draft"), ann)
    workflow.refresh_from_db()
    assert (workflow.graph, workflow.version, workflow.revision) == (log_graph("draft"), 2, 2)
    assert workflow.draft_differs is False

    second = EventFactory(type="purchase")
    profile_events_process(profile_id=second.profile_id)
    run = WorkflowRun.objects.get(event=second)
    assert (run.workflow_version, run.log[1]["messages"][0]["message"]) == (2, "draft")


def test_a_workflow_never_deployed_is_not_routed_until_its_first_deploy(ann):
    source = EventSourceFactory()
    workflow = workflow_add(workflow=Workflow(name="New"), user=ann)
    Rule.objects.create(name="Buys", event_type="purchase", source=source, workflow=workflow)

    assert routing_table().routes(source.pk, "purchase") is False

    version = workflow_deploy(workflow=workflow, revision=1, user=ann)

    assert version.version == 1
    assert routing_table().routes(source.pk, "purchase") is True
    assert routing_table().rules_for(source.pk, "purchase")[0].workflow_version == 1


def test_revert_puts_the_deployed_graph_back_in_the_draft(staff_client, ann):
    workflow = WorkflowFactory(graph=log_graph("deployed"))
    workflow_draft_save(workflow=workflow, graph=log_graph("draft"), revision=1, user=ann)

    response = post(staff_client, url("revert", workflow.pk), {"revision": 2})

    assert response.status_code == 200
    assert response.json() == {"graph": log_graph("deployed"), "revision": 3, "problems": []}
    workflow.refresh_from_db()
    assert (workflow.draft, workflow.revision) == (log_graph("deployed"), 3)


def test_revert_of_a_workflow_never_deployed_is_refused(staff_client, ann):
    workflow = workflow_add(workflow=Workflow(name="New"), user=ann)

    response = post(staff_client, url("revert", workflow.pk), {"revision": 1})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "This workflow was never deployed: there is no version to revert to."
    }
    workflow.refresh_from_db()
    assert workflow.revision == 1


def test_revert_on_an_old_revision_is_a_conflict(staff_client, ann):
    workflow = WorkflowFactory()
    workflow_draft_save(workflow=workflow, graph=log_graph("x"), revision=1, user=ann)

    response = post(staff_client, url("revert", workflow.pk), {"revision": 1})

    assert response.status_code == 409
    workflow.refresh_from_db()
    assert (workflow.draft, workflow.revision) == (log_graph("x"), 2)


# -- test runs ------------------------------------------------------------------------------


def test_test_run_runs_the_saved_draft_with_a_log_per_node(viewer_client, ann):
    workflow = WorkflowFactory(graph=log_graph("deployed"))
    plan = graph(
        [
            node("start", "start"),
            node("pro", "if", name="Is pro?", condition='event@properties.plan == "pro"'),
            node(
                "copy",
                "copy_data",
                name="Keep plan",
                traits={"set": {"profile@traits.plan": "event@properties.plan"}},
            ),
        ],
        [edge("start", "pro"), edge("pro", "copy", "true")],
    )
    workflow_draft_save(workflow=workflow, graph=plan, revision=1, user=ann)

    response = post(
        viewer_client,
        url("test_run", workflow.pk),
        {"sample": {"type": "purchase", "properties": {"plan": "pro"}}},
    )

    assert response.status_code == 200
    result = response.json()
    assert (result["status"], result["error"], result["error_node"]) == ("ok", "", "")
    assert result["changed_fields"] == ["traits.plan"]
    assert result["injected"] == []
    assert result["profile_note"] == "A new, empty profile (the sample names none)."
    log = result["log"]
    assert [
        (entry["node"], entry["name"], entry["action"], entry["in_port"], entry["port"])
        for entry in log
    ] == [
        ("start", "start", "start", None, "payload"),
        ("pro", "Is pro?", "if", "payload", "true"),
        ("copy", "Keep plan", "copy_data", "payload", "payload"),
    ]
    assert all(isinstance(entry["duration_ms"], float) for entry in log)
    assert [entry["error"] for entry in log] == [None, None, None]
    assert log[1]["input"]["properties"] == {"plan": "pro"}
    assert log[1]["output"]["true"]["properties"] == {"plan": "pro"}
    assert isinstance(result["duration_ms"], float)
    assert not WorkflowRun.objects.exists()


def test_test_run_on_a_stored_event_shows_the_failing_node(staff_client, ann):
    profile = ProfileFactory()
    event = EventFactory(profile=profile, type="purchase")
    workflow = WorkflowFactory()
    failing = linear_graph(("throw_error", {"message": "nope", "name": "Stop here"}))
    workflow_draft_save(workflow=workflow, graph=failing, revision=1, user=ann)

    response = post(staff_client, url("test_run", workflow.pk), {"event_id": f" {event.pk} "})

    result = response.json()
    assert (result["status"], result["error"], result["error_node"]) == (
        "error",
        "Node 'Stop here' (n1): nope",
        "n1",
    )
    assert result["log"][-1]["error"] == "nope"
    assert result["profile_note"] == f"Stored profile {profile.pk}."


def test_test_run_of_a_draft_with_problems_is_refused_with_them(staff_client, ann):
    workflow = WorkflowFactory()
    workflow_draft_save(workflow=workflow, graph=if_graph("event@x =="), revision=1, user=ann)

    response = post(staff_client, url("test_run", workflow.pk), {"sample": {"type": "x"}})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The draft has 1 problem; fix them before a test run.",
        "problems": [
            {
                "node_id": "pro",
                "message": "If: condition: Unexpected end of the condition at column 11; "
                "expected a value (number, string, field reference, function call)",
            }
        ],
    }


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"event_id": "missing"}, "There is no stored event with id 'missing'."),
        ({}, "Give a stored event id or write a sample event."),
        ({"event_id": 5}, '"event_id" must be the id of a stored event.'),
        ({"sample": "purchase"}, "The sample event is not usable: an event must be a JSON object."),
        ({"sample": {"type": "x"}, "profile_less": "yes"}, '"profile_less" must be true or false.'),
    ],
)
def test_test_run_with_an_unusable_event_is_a_400(staff_client, body, detail):
    workflow = WorkflowFactory()

    response = post(staff_client, url("test_run", workflow.pk), body)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}


# -- events, past runs, rules ---------------------------------------------------------------


def test_events_search_by_id_profile_or_type_prefix_newest_first(viewer_client):
    now = timezone.now()
    profile = ProfileFactory()
    old = EventFactory(profile=profile, type="purchase", time=now - timedelta(hours=2))
    new = EventFactory(
        profile=profile, type="page-view", time=now - timedelta(hours=1), properties={"a": 1}
    )
    other = EventFactory(type="purchase-refund", time=now)

    def ids(q):
        response = viewer_client.get(url("events"), {"q": q})
        assert response.status_code == 200
        return [event["id"] for event in response.json()["events"]]

    assert ids(old.pk) == [old.pk]
    assert ids(profile.pk) == [new.pk, old.pk]
    assert ids("Purch") == [other.pk, old.pk]
    assert ids("nothing") == []
    [found] = viewer_client.get(url("events"), {"q": new.pk}).json()["events"]
    assert found == {
        "id": new.pk,
        "type": "page-view",
        "time": new.time.isoformat(),
        "profile_id": profile.pk,
        "source_id": new.source_id,
        "summary": '{"a": 1}',
    }


def test_events_search_without_text_gives_the_latest_stored(viewer_client):
    now = timezone.now()
    first = EventFactory(inserted=now - timedelta(minutes=1))
    second = EventFactory(inserted=now)

    response = viewer_client.get(url("events"))

    assert [event["id"] for event in response.json()["events"]] == [second.pk, first.pk]


def test_events_search_gives_at_most_twenty(viewer_client):
    profile = ProfileFactory()
    now = timezone.now()
    events = [EventFactory(profile=profile, time=now - timedelta(minutes=i)) for i in range(22)]

    response = viewer_client.get(url("events"), {"q": profile.pk})

    assert [event["id"] for event in response.json()["events"]] == [e.pk for e in events[:20]]


def test_a_past_run_comes_with_the_graph_of_its_version(viewer_client, ann):
    workflow = WorkflowFactory(graph=log_graph("v1"))
    RuleFactory(workflow=workflow, event_type="purchase")
    event = EventFactory(type="purchase")
    profile_events_process(profile_id=event.profile_id)
    workflow_draft_save(workflow=workflow, graph=log_graph("v2"), revision=1, user=ann)
    workflow_deploy(workflow=workflow, revision=2, user=ann)
    run = WorkflowRun.objects.get()

    response = viewer_client.get(url("run", run.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["graph"] == log_graph("v1")
    assert body["note"] == ""
    assert body["run"] == {
        "id": run.pk,
        "workflow_id": workflow.pk,
        "workflow_version": 1,
        "status": "ok",
        "error": "",
        "error_node": "",
        "started": run.started.isoformat(),
        "duration_ms": run.duration_ms,
        "event_ref": event.pk,
        "event_type": "purchase",
        "profile_id": event.profile_id,
        "log": run.log,
    }


def test_a_past_run_whose_version_was_not_kept_shows_the_deployed_graph_with_a_note(
    viewer_client,
):
    workflow = WorkflowFactory(graph=log_graph("now"), version=4)
    RuleFactory(workflow=workflow, event_type="purchase")
    event = EventFactory(type="purchase")
    profile_events_process(profile_id=event.profile_id)
    WorkflowRun.objects.update(workflow_version=3)
    run = WorkflowRun.objects.get()

    body = viewer_client.get(url("run", run.pk)).json()

    assert body["graph"] == log_graph("now")
    assert body["note"] == (
        "Version 3 of this workflow was not kept; showing the deployed version 4, which may differ."
    )


def test_an_unknown_run_is_a_json_404(viewer_client):
    response = viewer_client.get(url("run", 999999))

    assert response.status_code == 404
    assert response.json() == {"detail": "There is no workflow run with id 999999."}


def test_rules_add_normalises_the_event_type(staff_client):
    workflow = WorkflowFactory(name="Plans")
    source = EventSourceFactory(name="Shop")

    response = post(
        staff_client,
        url("rules", workflow.pk),
        {"event_type": "  Purchase  Made ", "source_id": source.pk},
    )

    assert response.status_code == 201
    rule = Rule.objects.get()
    assert response.json() == {
        "rule": {
            "id": rule.pk,
            "name": "purchase-made from Shop to Plans",
            "event_type": "purchase-made",
            "source_id": source.pk,
            "source_name": "Shop",
            "enabled": True,
            "admin_url": reverse("admin:workflows_rule_change", args=[rule.pk]),
        }
    }
    assert (rule.workflow_id, rule.source_id) == (workflow.pk, source.pk)


def test_rules_add_with_a_name_and_any_source(staff_client):
    workflow = WorkflowFactory()

    response = post(
        staff_client,
        url("rules", workflow.pk),
        {"event_type": "signup", "source_id": None, "name": "Sign-ups"},
    )

    assert response.status_code == 201
    assert Rule.objects.values_list("name", "event_type", "source_id").get() == (
        "Sign-ups",
        "signup",
        None,
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"event_type": "purchase", "source_id": "nope"},
            "There is no event source with id 'nope'.",
        ),
        ({"event_type": "  "}, "Write the event type, e.g. page-view."),
        ({"event_type": 5}, "Write the event type, e.g. page-view."),
        ({"event_type": "x" * 101}, "The event type is 101 characters long; at most 100."),
        (
            {"event_type": "x", "source_id": 3},
            "source_id must be the id of an event source, or null.",
        ),
    ],
)
def test_rules_add_refuses_a_bad_type_or_source_and_stores_nothing(staff_client, body, detail):
    workflow = WorkflowFactory()

    response = post(staff_client, url("rules", workflow.pk), body)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}
    assert not Rule.objects.exists()
