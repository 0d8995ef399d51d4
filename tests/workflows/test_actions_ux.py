"""UX actions: the exact ux items each widget appends to flow.ux, their config checks, and the
rule that only a superuser may save a workflow with the HTML/JavaScript tag."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.profiles.models import ConsentType
from apps.workflows.actions import action_by_id
from apps.workflows.actions.base import ActionError
from apps.workflows.models import Workflow
from apps.workflows.services.drafts import SuperuserOnly, workflow_deploy, workflow_draft_save
from apps.workflows.services.workflows import workflow_add, workflow_create
from tests.workflows.factories import WorkflowFactory
from tests.workflows.graphs import linear_graph, run_action

User = get_user_model()
COLOURS = {"background": "#ffffff", "text": "#1f2933", "button": "#1a56db"}


def widget(flow, index=0):
    """The widget's marker item at `index` with its data-config parsed, and the script item."""
    marker, script = flow.ux[2 * index], flow.ux[2 * index + 1]
    config = json.loads(marker["props"]["data-config"])
    return marker, config, script


def marker_props(name, config):
    return {
        "class": "cdp-widget",
        "data-widget": name,
        "data-config": json.dumps(config, ensure_ascii=False, separators=(",", ":")),
    }


# -- consent bar -----------------------------------------------------------------------------


@pytest.fixture
def consent_types(db):
    ConsentType.objects.create(
        id="necessary", name="Necessary", description="Keeps the shop working.", required=True
    )
    ConsentType.objects.create(
        id="marketing", name="Marketing", description="Offers by e-mail.", default_granted=True
    )
    ConsentType.objects.create(id="analytics", name="Analytics", description="Visit statistics.")
    ConsentType.objects.create(id="old", name="Old", enabled=False)


def test_consent_bar_offers_every_enabled_type_in_the_admins_order(consent_types):
    results, flow = run_action("ux_consent_bar", {"position": "top"}, payload={"p": 1})

    expected = {
        "title": "Your privacy",
        "text": "We use cookies and similar tools to run this shop and, with your consent, "
        "to personalise offers. Choose what you allow.",
        "labels": {
            "accept_all": "Accept all",
            "save": "Save my choices",
            "reject": "Only necessary",
        },
        "position": "top",
        "colours": COLOURS,
        "event_type": "consent-given",
        "consents": [
            {
                "id": "analytics",
                "name": "Analytics",
                "description": "Visit statistics.",
                "required": False,
                "default_granted": False,
            },
            {
                "id": "marketing",
                "name": "Marketing",
                "description": "Offers by e-mail.",
                "required": False,
                "default_granted": True,
            },
            {
                "id": "necessary",
                "name": "Necessary",
                "description": "Keeps the shop working.",
                "required": True,
                "default_granted": False,
            },
        ],
    }
    assert results == [("payload", {"p": 1})]
    assert flow.ux == [
        {"tag": "div", "props": marker_props("consent", expected), "content": None},
        {"tag": "script", "props": {"src": "/tracker/widgets/consent.js"}, "content": None},
    ]


def test_consent_bar_offers_only_the_chosen_types_that_are_enabled(consent_types):
    _, flow = run_action("ux_consent_bar", {"consent_types": ["marketing", "old", "nope"]})

    _, config, _ = widget(flow)
    assert [consent["id"] for consent in config["consents"]] == ["marketing"]


def test_consent_bar_with_nothing_to_offer_shows_nothing_and_says_so(db):
    results, flow = run_action("ux_consent_bar", {}, payload={"p": 1})

    assert results == [("payload", {"p": 1})]
    assert flow.ux == []
    assert flow.messages == [
        {
            "level": "warning",
            "message": "Consent bar: no enabled consent type to offer; nothing shown.",
        }
    ]


# -- question, rating, contact form ---------------------------------------------------------


def test_question_popup_with_answers():
    _, flow = run_action(
        "ux_question_popup",
        {"question": " What brings you here? ", "answers": ["A gift", " Myself "]},
    )

    marker, config, script = widget(flow)
    assert config == {
        "title": "Quick question",
        "question": "What brings you here?",
        "answers": ["A gift", "Myself"],
        "submit_label": "Send",
        "thanks": "Thank you for your answer!",
        "event_type": "question-answered",
        "position": "bottom-right",
        "colours": COLOURS,
    }
    assert marker == {"tag": "div", "props": marker_props("question", config), "content": None}
    assert script == {
        "tag": "script",
        "props": {"src": "/tracker/widgets/question.js"},
        "content": None,
    }


def test_rating_popup():
    _, flow = run_action(
        "ux_rating_popup",
        {"subject": "Checkout", "event_type": "checkout-rated", "position": "center"},
    )

    marker, config, script = widget(flow)
    assert config == {
        "title": "How did we do?",
        "subject": "Checkout",
        "thanks": "Thank you for your rating!",
        "event_type": "checkout-rated",
        "position": "center",
        "colours": COLOURS,
    }
    assert len(flow.ux) == 2
    assert script["props"] == {"src": "/tracker/widgets/rating.js"}


def test_contact_form_sends_an_identification_event():
    _, flow = run_action(
        "ux_contact_form_popup",
        {"fields": ["email", "phone"], "consent_text": " I agree to be contacted. "},
    )

    _, config, script = widget(flow)
    assert config == {
        "title": "Stay in touch",
        "text": "Leave your contact and we will let you know about new arrivals.",
        "fields": ["email", "phone"],
        "consent_text": "I agree to be contacted.",
        "submit_label": "Send",
        "thanks": "Thank you! We'll be in touch.",
        "event_type": "identification",
        "position": "bottom-right",
        "colours": COLOURS,
    }
    assert script["props"] == {"src": "/tracker/widgets/contact.js"}


# -- call to action and HTML tag -------------------------------------------------------------


def test_call_to_action_renders_its_text_and_link_from_the_profile_and_event():
    _, flow = run_action(
        "ux_call_to_action",
        {
            "text": "Hi {{profile@data.pii.firstname}}, {{event@properties.discount}}% off today",
            "link_url": "/sale?from={{event@properties.campaign}}",
            "link_label": "Shop the sale",
            "position": "bottom",
            "show_after_seconds": 2,
            "hide_after_seconds": 20,
            "background_colour": "#0B3D2E",
        },
        profile={"id": "p1", "data": {"pii": {"firstname": "Anna"}}},
        event={"id": "e1", "properties": {"discount": 15, "campaign": "summer"}},
    )

    _, config, script = widget(flow)
    assert config == {
        "text": "Hi Anna, 15% off today",
        "link": {"url": "/sale?from=summer", "label": "Shop the sale"},
        "position": "bottom",
        "show_after_seconds": 2,
        "hide_after_seconds": 20,
        "colours": {**COLOURS, "background": "#0B3D2E"},
    }
    assert script["props"] == {"src": "/tracker/widgets/message.js"}


def test_call_to_action_without_a_link_and_with_a_missing_value():
    _, flow = run_action(
        "ux_call_to_action", {"text": "Hi {{profile@data.pii.firstname}}!"}, profile={"id": "p"}
    )

    _, config, _ = widget(flow)
    assert (config["text"], config["link"]) == ("Hi !", None)


@pytest.mark.parametrize("link", ["javascript:alert(1)", "//evil.example/x", "shop.example"])
def test_call_to_action_refuses_a_link_that_is_not_a_web_address(link):
    with pytest.raises(ActionError) as raised:
        run_action("ux_call_to_action", {"text": "Hi", "link_url": link})

    assert str(raised.value) == (
        f"link_url: {link!r} is not a web address; it must start with https://, http:// or / "
        "(a path on the shop)"
    )


def test_html_tag_adds_its_html_as_a_raw_html_item():
    html = '<p class="promo">Hello</p><script>window.promo = 1;</script>'

    results, flow = run_action("ux_html_tag", {"html": html}, payload={"p": 1})

    assert results == [("payload", {"p": 1})]
    assert flow.ux == [
        {
            "tag": "div",
            "props": {"class": "cdp-html-tag", "data-cdp-html": "true"},
            "content": html,
        }
    ]


# -- config checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action_id", "config", "errors"),
    [
        (
            "ux_rating_popup",
            {"subject": "Shoes", "button_colour": "blue"},
            ["button_colour: 'blue' is not a colour; write it as #rrggbb, e.g. #1a56db"],
        ),
        ("ux_rating_popup", {"subject": "   "}, ["subject: write what is rated, e.g. Checkout"]),
        ("ux_rating_popup", {}, ["'subject' is a required property"]),
        (
            "ux_rating_popup",
            {"subject": "Shoes", "event_type": "rated!"},
            [
                "event_type: 'rated!' is not an event type; use letters, digits and - _ . : "
                "(e.g. rating-given), at most 100 characters"
            ],
        ),
        (
            "ux_question_popup",
            {"question": "Why?", "answers": ["Yes", ""]},
            ["answers: an answer is empty; remove the empty row"],
        ),
        (
            "ux_question_popup",
            {"question": "Why?", "answers": ["Yes", "Yes"]},
            ["answers: the same answer is listed twice"],
        ),
        (
            "ux_question_popup",
            {"question": "Why?", "position": "middle"},
            ["position: 'middle' is not one of ['bottom-right', 'bottom-left', 'center']"],
        ),
        (
            "ux_contact_form_popup",
            {"fields": []},
            ["fields: [] should be non-empty"],
        ),
        (
            "ux_contact_form_popup",
            {"fields": ["email", "fax"]},
            ["fields.1: 'fax' is not one of ['email', 'phone']"],
        ),
        (
            "ux_consent_bar",
            {"consent_types": ["marketing", "no spaces"]},
            [
                "consent_types: 'no spaces' is not a consent type id (letters, digits, - and _, "
                "e.g. marketing)"
            ],
        ),
        (
            "ux_call_to_action",
            {"text": "Hi {{profile@data..name}}"},
            [
                "text: the placeholder at character 4: Reference 'profile@data..name' has an "
                "empty key at offset 5"
            ],
        ),
        (
            "ux_call_to_action",
            {"text": "Hi", "hide_after_seconds": -1},
            ["hide_after_seconds: -1 is less than the minimum of 0"],
        ),
        ("ux_html_tag", {"html": "  "}, ["html: write the HTML to add to the page"]),
    ],
)
def test_config_errors_a_marketer_can_act_on(action_id, config, errors):
    assert action_by_id(action_id).config_errors(config) == errors


@pytest.mark.parametrize(
    "action_id",
    ["ux_consent_bar", "ux_contact_form_popup"],
)
def test_the_defaults_are_a_valid_config(action_id):
    assert action_by_id(action_id).config_errors({}) == []


# -- only a superuser may save the HTML/JavaScript tag ---------------------------------------

HTML_GRAPH = linear_graph(("ux_html_tag", {"html": "<script>1</script>"}))
RATING_GRAPH = linear_graph(("ux_rating_popup", {"subject": "Shoes"}))
REFUSAL = (
    "Only an admin (superuser) may save or deploy a workflow with the node 'n1': its code runs "
    "in visitors' browsers. Remove it, or ask an admin to make this change."
)


@pytest.fixture
def editor(db):
    """A staff member who may change workflows, but is no superuser."""
    user = User.objects.create_user(username="marketer", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_workflow", "change_workflow"])
    )
    return user


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser(username="admin")


def test_a_superuser_may_save_and_deploy_the_html_tag(admin_user):
    workflow = WorkflowFactory()

    saved = workflow_draft_save(workflow=workflow, graph=HTML_GRAPH, revision=1, user=admin_user)
    deployed = workflow_deploy(workflow=workflow, revision=saved.revision, user=admin_user)

    workflow.refresh_from_db()
    assert workflow.graph == HTML_GRAPH
    assert deployed.version == workflow.version


def test_others_may_not_save_it_and_nothing_is_stored(editor):
    workflow = WorkflowFactory()
    before = workflow.draft

    with pytest.raises(SuperuserOnly) as raised:
        workflow_draft_save(workflow=workflow, graph=HTML_GRAPH, revision=1, user=editor)

    assert str(raised.value) == REFUSAL
    workflow.refresh_from_db()
    assert (workflow.draft, workflow.revision) == (before, 1)


def test_others_may_not_deploy_a_draft_an_admin_saved_with_it(editor, admin_user):
    workflow = WorkflowFactory()
    saved = workflow_draft_save(workflow=workflow, graph=HTML_GRAPH, revision=1, user=admin_user)

    with pytest.raises(SuperuserOnly):
        workflow_deploy(workflow=workflow, revision=saved.revision, user=editor)

    workflow.refresh_from_db()
    assert workflow.graph != HTML_GRAPH


def test_others_may_save_every_other_widget(editor):
    workflow = WorkflowFactory()

    saved = workflow_draft_save(workflow=workflow, graph=RATING_GRAPH, revision=1, user=editor)

    assert saved.problems == []


def test_others_may_not_create_a_workflow_with_it(editor):
    two_tags = linear_graph(
        ("ux_html_tag", {"html": "<b>1</b>"}), ("ux_html_tag", {"html": "<b>2</b>"})
    )

    with pytest.raises(SuperuserOnly) as raised:
        workflow_add(workflow=Workflow(name="Imported"), user=editor, draft=two_tags)

    assert str(raised.value).startswith(
        "Only an admin (superuser) may save or deploy a workflow with the nodes 'n1', 'n2': "
    )
    assert not Workflow.objects.filter(name="Imported").exists()


def test_others_may_not_upload_it_into_a_draft_nor_import_it(client, editor):
    workflow = WorkflowFactory()
    editor.user_permissions.add(Permission.objects.get(codename="add_workflow"))
    client.force_login(editor)

    upload = client.post(
        reverse("admin:workflows_workflow_tracardi_draft_import", args=[workflow.pk]),
        json.dumps({"flow": HTML_GRAPH, "revision": 1}),
        content_type="application/json",
    )
    imported = client.post(
        reverse("admin:workflows_workflow_tracardi_import"),
        {"file": SimpleUploadedFile("flow.json", json.dumps(HTML_GRAPH).encode())},
    )

    assert upload.status_code == 403
    assert upload.json() == {"detail": REFUSAL}
    workflow.refresh_from_db()
    assert workflow.revision == 1
    assert imported.status_code == 400
    assert REFUSAL.replace("'", "&#x27;") in imported.content.decode()
    assert Workflow.objects.count() == 1


def test_code_without_a_user_is_trusted_and_a_non_superuser_is_not(editor):
    assert workflow_create(name="By code", graph=HTML_GRAPH).graph == HTML_GRAPH
    with pytest.raises(SuperuserOnly):
        workflow_create(name="By a marketer", graph=HTML_GRAPH, user=editor)


def test_the_editor_answers_403_with_the_reason(client, editor):
    workflow = WorkflowFactory()
    client.force_login(editor)

    response = client.post(
        reverse("admin:workflows_workflow_editor_save", args=[workflow.pk]),
        json.dumps({"graph": HTML_GRAPH, "revision": 1}),
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response.json() == {"detail": REFUSAL}
    workflow.refresh_from_db()
    assert workflow.revision == 1


def test_the_palette_marks_it_admins_only(client, admin_user):
    client.force_login(admin_user)

    response = client.get(reverse("admin:workflows_workflow_editor_catalogue"))

    [family] = [family for family in response.json()["families"] if family["name"] == "UX"]
    html_tag = next(action for action in family["actions"] if action["id"] == "ux_html_tag")
    assert (html_tag["name"], html_tag["superuser_only"]) == (
        "HTML/JavaScript tag (admins only)",
        True,
    )
    assert html_tag["description"].startswith("Admins only: ")
    assert html_tag["docs_html"].startswith("<p>Admins only: only a superuser may save")
    assert [action["id"] for action in family["actions"]] == [
        "ux_consent_bar",
        "ux_question_popup",
        "ux_rating_popup",
        "ux_contact_form_popup",
        "ux_call_to_action",
        "ux_html_tag",
    ]
    assert family["colour"] == "#ad1457"
