"""Admin pages for Tracardi flows: download, upload into the draft, create from a file."""

import copy
import gzip
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from apps.workflows.models import Workflow
from apps.workflows.tracardi import tracardi_flow_import
from tests.workflows.factories import WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db

FLOWS = Path(__file__).parent / "tracardi_flows"
IMPORT_URL = "/admin/workflows/workflow/import/"
MAIL = "tracardi.process_engine.action.v1.connectors.mailchimp.transactional_email.plugin"


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


def upload(name, content=None):
    data = content if content is not None else (FLOWS / name).read_bytes()
    return SimpleUploadedFile(name, data, content_type="application/json")


def test_urls():
    assert reverse("admin:workflows_workflow_tracardi_import") == IMPORT_URL
    assert reverse("admin:workflows_workflow_tracardi_export", args=["w1"]) == (
        "/admin/workflows/workflow/w1/editor/export/"
    )
    assert reverse("admin:workflows_workflow_tracardi_draft_import", args=["w1"]) == (
        "/admin/workflows/workflow/w1/editor/import/"
    )


# -- download ----------------------------------------------------------------------------------


def test_export_downloads_the_draft_as_a_tracardi_flow(staff_client):
    graph = linear_graph(("copy_data", {"traits": {"set": {"profile@traits.a": "event@id"}}}))
    workflow = WorkflowFactory(
        name="Copy the id!", description="Keeps ids", graph=linear_graph(), draft=graph
    )

    response = staff_client.get(f"/admin/workflows/workflow/{workflow.pk}/editor/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="copy-the-id.json"'
    exported = json.loads(response.content)
    assert (exported["name"], exported["description"]) == ("Copy the id!", "Keeps ids")
    assert [n["data"]["spec"]["className"] for n in exported["flowGraph"]["nodes"]] == [
        "StartAction",
        "CopyTraitAction",
    ]
    assert tracardi_flow_import(exported).graph == graph


def test_export_needs_a_staff_user_and_get(staff_client):
    workflow = WorkflowFactory()
    url = f"/admin/workflows/workflow/{workflow.pk}/editor/export/"
    missing = staff_client.get("/admin/workflows/workflow/nope/editor/export/")

    assert Client().get(url).status_code == 302
    assert staff_client.post(url).status_code == 405
    assert staff_client.post(url).json() == {"detail": "Use GET to download the flow."}
    assert missing.status_code == 404
    assert missing.json() == {"detail": "There is no workflow with id 'nope'."}


# -- upload into the draft -----------------------------------------------------------------------


def test_draft_import_from_a_file_replaces_the_draft(staff_client):
    workflow = WorkflowFactory()
    deployed = copy.deepcopy(workflow.graph)
    url = f"/admin/workflows/workflow/{workflow.pk}/editor/import/"

    response = staff_client.post(
        url, {"file": upload("tracardi-0.8-flow-record-welcome-mail.json"), "revision": "1"}
    )

    assert response.status_code == 200
    body = response.json()
    workflow.refresh_from_db()
    assert sorted(body) == ["graph", "notes", "problems", "revision"]
    assert body["graph"] == workflow.draft
    assert [n["id"] for n in workflow.draft["nodes"]] == ["s-1", "t-2", "i-3", "m-4", "l-5", "e-6"]
    assert (body["revision"], workflow.revision, workflow.graph) == (2, 2, deployed)
    assert body["notes"][0] == (
        f"Node 'Send e-mail' uses {MAIL}.TransactionalMailSender, which this CDP does not "
        "have: kept as a placeholder; replace it before deploying"
    )
    assert body["problems"] == [
        {
            "node_id": "m-4",
            "message": f"{MAIL}.TransactionalMailSender is not available (imported from "
            "Tracardi); replace this node before deploying",
        }
    ]


def test_draft_import_from_a_json_body(staff_client):
    workflow = WorkflowFactory()
    flow = json.loads((FLOWS / "tracardi-0.9-flow-pro-signups.json").read_text())

    response = staff_client.post(
        f"/admin/workflows/workflow/{workflow.pk}/editor/import/",
        {"flow": flow, "revision": 1},
        content_type="application/json",
    )

    workflow.refresh_from_db()
    assert response.status_code == 200
    assert (response.json()["problems"], response.json()["notes"]) == ([], [])
    assert len(workflow.draft["nodes"]) == 7
    assert workflow.revision == 2


def test_draft_import_based_on_an_old_revision_is_a_conflict(staff_client):
    workflow = WorkflowFactory(revision=4)
    draft = copy.deepcopy(workflow.draft)
    flow = json.loads((FLOWS / "tracardi-flow-graph-checkout.json").read_text())

    response = staff_client.post(
        f"/admin/workflows/workflow/{workflow.pk}/editor/import/",
        {"flow": flow, "revision": 3},
        content_type="application/json",
    )

    workflow.refresh_from_db()
    assert response.status_code == 409
    assert response.json()["revision"] == 4
    assert (workflow.draft, workflow.revision) == (draft, 4)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_a_body_over_the_servers_limit_is_a_json_400(staff_client):
    workflow = WorkflowFactory()

    response = staff_client.post(
        f"/admin/workflows/workflow/{workflow.pk}/editor/import/",
        {"flow": {"nodes": [], "edges": [], "description": "x" * 200}, "revision": 1},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "The upload is too large for this server"}


def test_draft_import_needs_the_change_permission(client):
    workflow = WorkflowFactory()
    user = get_user_model().objects.create_user(username="viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_workflow"))
    client.force_login(user)

    response = client.post(
        f"/admin/workflows/workflow/{workflow.pk}/editor/import/",
        {"flow": {"nodes": [], "edges": []}, "revision": 1},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "You may not change workflows: ask for the permission to."}


@pytest.mark.parametrize(
    ("kwargs", "detail"),
    [
        ({"data": "nope", "content_type": "application/json"}, "The body is not JSON: "),
        (
            {"data": {"graph": {}}, "content_type": "application/json"},
            'Send {"flow": <the Tracardi flow>, "revision": <draft revision>}',
        ),
        (
            {"data": {"flow": {"name": "x"}, "revision": 1}, "content_type": "application/json"},
            "This JSON is not a Tracardi flow: it has no flowGraph (nor draft, nor nodes and "
            "edges)",
        ),
        (
            {
                "data": {"flow": {"nodes": [], "edges": []}, "revision": "x"},
                "content_type": "application/json",
            },
            '"revision" must be the revision number the editor loaded.',
        ),
        ({"data": {"other": "1"}}, "Send the flow file in the field 'file'"),
    ],
)
def test_draft_import_refuses_what_is_not_a_flow(staff_client, kwargs, detail):
    workflow = WorkflowFactory()

    response = staff_client.post(
        f"/admin/workflows/workflow/{workflow.pk}/editor/import/", **kwargs
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)


# -- the import page -----------------------------------------------------------------------------


def test_the_changelist_links_the_import_page(staff_client):
    response = staff_client.get("/admin/workflows/workflow/")

    assert f'href="{IMPORT_URL}"' in response.content.decode()


def test_the_import_page_shows_an_upload_form(staff_client):
    response = staff_client.get(IMPORT_URL)

    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.content.decode()
    assert 'name="file"' in response.content.decode()


def test_importing_a_file_creates_a_disabled_workflow_and_lists_placeholders(staff_client):
    response = staff_client.post(
        IMPORT_URL, {"file": upload("tracardi-0.8-flow-record-welcome-mail.json")}
    )

    workflow = Workflow.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/workflows/workflow/{workflow.pk}/change/"
    assert (workflow.name, workflow.deployed_at, workflow.revision) == ("Welcome mail", None, 1)
    assert workflow.description == "Greets a new visitor, counts visits and mails the welcome text."
    assert workflow.graph == {"nodes": [], "edges": []}
    assert [n["id"] for n in workflow.draft["nodes"]] == ["s-1", "t-2", "i-3", "m-4", "l-5", "e-6"]
    assert workflow.draft["nodes"][3]["data"]["unavailable"] is True
    assert workflow.draft_saved_by.username == "marketer"
    assert [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)] == [
        (
            "success",
            "Imported “Welcome mail” from Tracardi (6 nodes). Its draft is not deployed yet: "
            "check it in the editor, then deploy it.",
        ),
        (
            "warning",
            "Not available here, kept as placeholders: “Send e-mail” (id m-4). Replace them "
            "before deploying; the draft cannot be deployed until then.",
        ),
        (
            "warning",
            f"Node 'Send e-mail' uses {MAIL}.TransactionalMailSender, which this CDP does not "
            "have: kept as a placeholder; replace it before deploying",
        ),
        (
            "warning",
            "The edge from 'Increment counter' on its 'error' port was left out: Increment "
            "counter here has no such port (payload; an error stops the run)",
        ),
    ]
    change_page = staff_client.get(response["Location"])
    assert change_page.status_code == 200


def test_an_imported_workflow_with_a_placeholder_cannot_be_deployed(staff_client):
    staff_client.post(IMPORT_URL, {"file": upload("tracardi-0.8-flow-record-welcome-mail.json")})
    workflow = Workflow.objects.get()

    response = staff_client.post(
        f"/admin/workflows/workflow/{workflow.pk}/editor/deploy/",
        {"revision": 1},
        content_type="application/json",
    )

    workflow.refresh_from_db()
    assert response.status_code == 400
    assert response.json()["problems"] == [
        {
            "node_id": "m-4",
            "message": f"{MAIL}.TransactionalMailSender is not available (imported from "
            "Tracardi); replace this node before deploying",
        }
    ]
    assert (workflow.deployed_at, workflow.graph) == (None, {"nodes": [], "edges": []})


def test_an_imported_flow_of_our_actions_deploys(staff_client):
    staff_client.post(IMPORT_URL, {"file": upload("tracardi-0.9-flow-pro-signups.json")})
    workflow = Workflow.objects.get()

    response = staff_client.post(
        f"/admin/workflows/workflow/{workflow.pk}/editor/deploy/",
        {"revision": 1},
        content_type="application/json",
    )

    workflow.refresh_from_db()
    assert response.status_code == 200
    assert workflow.graph == workflow.draft
    assert workflow.version == 1


def test_importing_a_gzipped_file_that_runs_creates_it_without_warnings(staff_client):
    content = gzip.compress((FLOWS / "tracardi-0.9-flow-pro-signups.json").read_bytes())

    response = staff_client.post(IMPORT_URL, {"file": upload("flow.json.gz", content)})

    workflow = Workflow.objects.get()
    assert response.status_code == 302
    assert workflow.name == "Pro sign-ups"
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["success"]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"hello", "The file is not JSON: Expecting value: line 1 column 1 (char 0)"),
        (b"[]", "A Tracardi flow is a JSON object; this file holds a list"),
        (
            b'{"name": "x"}',
            "This JSON is not a Tracardi flow: it has no flowGraph (nor draft, "
            "nor nodes and edges)",
        ),
        (b'{"flowGraph": {"nodes": 1}}', "flowGraph.nodes and flowGraph.edges must be lists"),
        (b"\x1f\x8b\x08\x00garbage", "The file is not valid gzip: it ends too early"),
    ],
)
def test_a_bad_file_creates_nothing_and_says_why(staff_client, content, error):
    response = staff_client.post(IMPORT_URL, {"file": upload("flow.json", content)})

    assert response.status_code == 400
    assert response.context["form"].errors["file"][0].startswith(error)
    assert Workflow.objects.count() == 0


def test_an_empty_upload_is_a_form_error(staff_client):
    response = staff_client.post(IMPORT_URL, {})

    assert response.status_code == 400
    assert response.context["form"].errors == {"file": ["This field is required."]}
    assert Workflow.objects.count() == 0
