"""A Tracardi flow of eleven connector nodes (Tracardi's module paths, class names, config keys
and ports) imports and runs against a local server speaking each vendor's API, with resources
re-created here under the ids the Tracardi flow names."""

import hashlib

import pytest

from apps.destinations.models import Resource
from apps.workflows.engine import workflow_execute
from apps.workflows.graph import graph_compile, graph_problems
from apps.workflows.tracardi import tracardi_flow_import
from tests.support.vendor_server import Answer
from tests.workflows.graphs import make_flow

pytestmark = pytest.mark.django_db
C = "tracardi.process_engine.action.v1.connectors."
EMAIL = "profile@data.contact.email.main"


def _node(node_id, module, class_name, init, outputs=("response", "error")):
    return {
        "id": node_id,
        "type": "flowNode",
        "position": {"x": 0, "y": 0},
        "data": {
            "spec": {
                "className": class_name,
                "module": C + module,
                "inputs": ["payload"],
                "outputs": list(outputs),
                "init": init,
            },
            "metadata": {"name": node_id},
        },
    }


def _source(resource_id):
    return {"id": resource_id, "name": resource_id}


def _flow_graph():
    start = {
        "id": "start",
        "type": "flowNode",
        "position": {"x": 0, "y": 0},
        "data": {
            "start": True,
            "spec": {
                "className": "StartAction",
                "module": "tracardi.process_engine.action.v1.flow.start.start_action",
                "inputs": [],
                "outputs": ["payload"],
                "init": {"event_types": [{"id": "purchase", "name": "purchase"}]},
            },
            "metadata": {"name": "Start"},
        },
    }
    nodes = [
        start,
        _node(
            "slack",
            "slack.send_message.plugin",
            "SlackPoster",
            {
                "source": _source("t-slack"),
                "channel": "#sales",
                "message": "Sale {{event@properties.total}}",
            },
        ),
        _node(
            "discord",
            "discord.push.plugin",
            "DiscordWebHookAction",
            {"resource": _source("t-discord"), "timeout": 10, "message": "Sale", "username": ""},
        ),
        _node(
            "pushover",
            "pushover.push.plugin",
            "PushoverAction",
            {"source": _source("t-pushover"), "title": "Sale", "message": "Paid"},
            ("payload", "error"),
        ),
        _node(
            "sendgrid",
            "sendgrid.send_email.plugin",
            "SendgridEMailSender",
            {
                "source": _source("t-sendgrid"),
                "sender_email": "shop@example.com",
                "message": {"recipient": "{{" + EMAIL + "}}", "subject": "Thanks", "content": "Hi"},
            },
        ),
        _node(
            "hubspot_add",
            "hubspot.add_contact.plugin",
            "HubSpotContactAdder",
            {"source": _source("t-hubspot"), "properties": {"email": EMAIL}},
        ),
        _node(
            "hubspot_get",
            "hubspot.get_contact.plugin",
            "HubSpotContactGetter",
            {"source": _source("t-hubspot"), "contact_id": "payload@content.id"},
        ),
        _node(
            "mailchimp",
            "mailchimp.add_to_audience.plugin",
            "MailChimpAudienceAdder",
            {
                "source": _source("t-mailchimp"),
                "list_id": {"id": "l1", "name": "News"},
                "email": EMAIL,
                "merge_fields": {},
                "subscribed": True,
                "update": False,
            },
        ),
        _node(
            "mautic",
            "mautic.add_contact.plugin",
            "MauticContactAdder",
            {
                "source": _source("t-mautic"),
                "email": EMAIL,
                "additional_mapping": {"firstname": "profile@data.pii.firstname"},
                "overwrite_with_blank": False,
            },
        ),
        _node(
            "activecampaign",
            "active_campaign.add_contact.plugin",
            "SendToActiveCampaignAction",
            {"source": _source("t-ac"), "fields": {"email": EMAIL}},
            ("success", "error"),
        ),
        _node(
            "ga4",
            "google.analytics_v4.plugin",
            "GoogleAnalyticsV4EventTrackerAction",
            {"source": _source("t-ga4"), "name": "purchase", "params": '{"value": 42}'},
        ),
        _node(
            "matomo",
            "matomo.send_event.plugin",
            "SendEventToMatomoAction",
            {"source": _source("t-matomo"), "category": "Shop", "action": "buy"},
        ),
    ]
    chain = [
        ("start", "payload", "slack"),
        ("slack", "response", "discord"),
        ("discord", "response", "pushover"),
        ("pushover", "payload", "sendgrid"),
        ("sendgrid", "response", "hubspot_add"),
        ("hubspot_add", "response", "hubspot_get"),
        ("hubspot_get", "response", "mailchimp"),
        ("mailchimp", "response", "mautic"),
        ("mautic", "response", "activecampaign"),
        ("activecampaign", "success", "ga4"),
        ("ga4", "response", "matomo"),
    ]
    edges = [
        {"id": f"e{i}", "source": s, "sourceHandle": port, "target": t, "targetHandle": "payload"}
        for i, (s, port, t) in enumerate(chain)
    ]
    return {"flowGraph": {"nodes": nodes, "edges": edges}}


def test_a_tracardi_flow_of_connectors_imports_and_calls_every_vendor(vendor_server, settings):
    vendor = vendor_server()
    settings.CDP_CONNECTOR_API_URLS = {
        "slack": vendor.url + "/slack",
        "pushover": vendor.url,
        "sendgrid": vendor.url,
        "hubspot": vendor.url,
        "mailchimp": vendor.url + "/{dc}/3.0",
        "ga4": vendor.url,
    }
    for resource_id, kind, credentials in [
        ("t-slack", "slack", {"token": "xoxb-1"}),
        ("t-discord", "discord", {"webhook_url": vendor.url + "/api/webhooks/1/x"}),
        ("t-pushover", "pushover", {"token": "app-token", "user": "user-key"}),
        ("t-sendgrid", "sendgrid", {"api_key": "SG.key"}),
        ("t-hubspot", "hubspot", {"token": "pat-1"}),
        ("t-mailchimp", "mailchimp", {"api_key": "abc-us9"}),
        ("t-mautic", "mautic", {"url": vendor.url, "username": "u", "password": "pw-123"}),
        ("t-ac", "activecampaign", {"url": vendor.url, "api_key": "ac-1"}),
        ("t-ga4", "ga4", {"measurement_id": "G-ABC1", "api_secret": "s3cret"}),
        ("t-matomo", "matomo", {"url": vendor.url, "site_id": 1}),
    ]:
        Resource.objects.create(
            id=resource_id, name=resource_id, type=kind, credentials=credentials
        )
    ada_hash = hashlib.md5(b"ada@example.com").hexdigest()
    for method, path, answer in [
        ("POST", "/slack/chat.postMessage", Answer(200, {"ok": True, "ts": "1.2"})),
        ("POST", "/api/webhooks/1/x", Answer(200, {"id": "9"})),
        ("POST", "/1/messages.json", Answer(200, {"status": 1, "request": "r"})),
        ("POST", "/v3/mail/send", Answer(202, None)),
        ("POST", "/crm/v3/objects/contacts", Answer(201, {"id": "512"})),
        ("GET", "/crm/v3/objects/contacts/512", Answer(200, {"id": "512"})),
        ("PUT", f"/us9/3.0/lists/l1/members/{ada_hash}", Answer(200, {"id": ada_hash})),
        ("POST", "/api/contacts/new", Answer(201, {"contact": {"id": 47}})),
        ("POST", "/api/3/contact/sync", Answer(201, {"contact": {"id": "113"}})),
        ("POST", "/mp/collect", Answer(204, None)),
        ("POST", "/matomo.php", Answer(204, None)),
    ]:
        vendor.route(method, path, answer)

    imported = tracardi_flow_import(_flow_graph())

    assert imported.placeholders == []
    assert graph_problems(imported.graph) == []
    compiled = graph_compile(workflow_id="w1", name="Tracardi", version=1, graph=imported.graph)
    flow = make_flow(
        event={"id": "e1", "type": "purchase", "properties": {"total": 42}},
        profile={
            "id": "p1",
            "data": {
                "pii": {"firstname": "Ada"},
                "contact": {"email": {"main": "ada@example.com"}},
            },
        },
    )
    outcome = workflow_execute(compiled, flow)

    assert outcome.status == "ok", outcome.error
    assert [(entry["node"], entry["port"]) for entry in outcome.log] == [
        ("start", "payload"),
        ("slack", "response"),
        ("discord", "response"),
        ("pushover", "response"),
        ("sendgrid", "response"),
        ("hubspot_add", "response"),
        ("hubspot_get", "response"),
        ("mailchimp", "response"),
        ("mautic", "response"),
        ("activecampaign", "response"),
        ("ga4", "response"),
        ("matomo", "response"),
    ]
    assert [(r.method, r.path) for r in vendor.requests] == [
        ("POST", "/slack/chat.postMessage"),
        ("POST", "/api/webhooks/1/x"),
        ("POST", "/1/messages.json"),
        ("POST", "/v3/mail/send"),
        ("POST", "/crm/v3/objects/contacts"),
        ("GET", "/crm/v3/objects/contacts/512"),
        ("PUT", f"/us9/3.0/lists/l1/members/{ada_hash}"),
        ("POST", "/api/contacts/new"),
        ("POST", "/api/3/contact/sync"),
        ("POST", "/mp/collect"),
        ("POST", "/matomo.php"),
    ]
    by_path = {r.path: r for r in vendor.requests}
    assert by_path["/slack/chat.postMessage"].json() == {"channel": "#sales", "text": "Sale 42"}
    assert by_path["/v3/mail/send"].json()["personalizations"] == [
        {"to": [{"email": "ada@example.com"}]}
    ]
    assert by_path["/crm/v3/objects/contacts"].json() == {
        "properties": {"email": "ada@example.com"}
    }
    assert by_path[f"/us9/3.0/lists/l1/members/{ada_hash}"].json() == {
        "email_address": "ada@example.com",
        "status_if_new": "subscribed",
    }
    assert by_path["/api/contacts/new"].json() == {"email": "ada@example.com", "firstname": "Ada"}
    assert by_path["/api/3/contact/sync"].json() == {"contact": {"email": "ada@example.com"}}
    assert by_path["/mp/collect"].json() == {
        "client_id": "p1",
        "events": [{"name": "purchase", "params": {"value": 42}}],
    }
