"""What every connector action shares (apps.workflows.actions.connectors.base and the client in
apps.destinations.connectors.http), shown through Slack's chat.postMessage against a real local
server: the resource and its test credentials, the vendor's errors, 429 and Retry-After, the
timeout, redaction, and the config checks."""

import socket

import pytest

from apps.destinations.redaction import MASK
from apps.workflows.actions import action_by_id
from apps.workflows.actions.http import remote_call_idempotency_key
from tests.support.vendor_server import Answer
from tests.workflows.connectors import resource, run

pytestmark = pytest.mark.django_db

POST = "/api/chat.postMessage"
OK = {"ok": True, "channel": "C024BE91L", "ts": "1503435956.000247", "message": {"text": "Hi"}}
KEY = remote_call_idempotency_key(event_id="e1", workflow_id="w1", node_id="", visit=0)


@pytest.fixture
def slack(vendor_server, settings):
    server = vendor_server()
    settings.CDP_CONNECTOR_API_URLS = {"slack": server.url + "/api"}
    settings.CDP_CONNECTOR_MAX_RETRY_WAIT_SECONDS = 5
    return server


def _config(resource_id, **extra):
    return {
        "resource": resource_id,
        "channel": "#sales",
        "message": "Hi {{profile@data.pii.firstname}}",
        **extra,
    }


def test_the_call_carries_the_resource_credentials_and_answers_on_response(slack):
    bot = resource("slack", {"token": "xoxb-prod-token"})
    slack.route("POST", POST, Answer(200, OK))

    results, _ = run("slack_post_message", _config(bot.pk))

    assert results == [("response", {"status": 200, "content": OK, "error": None})]
    [request] = slack.requests
    assert (request.method, request.path) == ("POST", POST)
    assert request.header("Authorization") == "Bearer xoxb-prod-token"
    assert request.header("Content-Type") == "application/json; charset=utf-8"
    assert request.header("Idempotency-Key") == KEY
    assert request.json() == {"channel": "#sales", "text": "Hi Ada"}


def test_a_test_run_uses_the_test_credentials_and_says_so(slack):
    bot = resource(
        "slack", {"token": "xoxb-prod-token"}, test_credentials={"token": "xoxb-test-token"}
    )
    slack.route("POST", POST, Answer(200, OK))

    results, flow = run("slack_post_message", _config(bot.pk), test_run=True)

    assert results[0][0] == "response"
    assert slack.requests[0].header("Authorization") == "Bearer xoxb-test-token"
    assert flow.messages == [
        {"level": "info", "message": "test run: used the test credentials of 'slack resource'"}
    ]


def test_a_test_run_without_test_credentials_uses_the_production_ones(slack):
    bot = resource("slack", {"token": "xoxb-prod-token"})
    slack.route("POST", POST, Answer(200, OK))

    _, flow = run("slack_post_message", _config(bot.pk), test_run=True)

    assert slack.requests[0].header("Authorization") == "Bearer xoxb-prod-token"
    assert flow.messages == [
        {"level": "info", "message": "test run: 'slack resource' has no test credentials"}
    ]


def test_a_production_run_never_uses_the_test_credentials(slack):
    bot = resource("slack", {"token": "xoxb-prod-token"}, test_credentials={"token": "xoxb-t"})
    slack.route("POST", POST, Answer(200, OK))

    _, flow = run("slack_post_message", _config(bot.pk))

    assert slack.requests[0].header("Authorization") == "Bearer xoxb-prod-token"
    assert flow.messages == []


def test_the_vendors_error_goes_to_the_error_port_with_its_message(slack):
    bot = resource("slack", {"token": "xoxb-prod-token"})
    refused = {"ok": False, "error": "channel_not_found"}
    slack.route("POST", POST, Answer(200, refused))

    results, _ = run("slack_post_message", _config(bot.pk))

    assert results == [
        (
            "error",
            {"status": 200, "content": refused, "error": "Slack answered 200: channel_not_found"},
        )
    ]


def test_a_429_within_the_bound_is_retried_once_after_the_wait_asked(slack):
    bot = resource("slack", {"token": "xoxb-prod-token"})
    slack.route(
        "POST",
        POST,
        Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}),
        Answer(200, OK),
    )

    results, _ = run("slack_post_message", _config(bot.pk))

    assert results == [("response", {"status": 200, "content": OK, "error": None})]
    assert [request.path for request in slack.requests] == [POST, POST]
    # The retry is the same call: a vendor that keys on it drops a duplicate.
    assert slack.requests[1].header("Idempotency-Key") == KEY


def test_a_429_asking_for_longer_than_the_bound_goes_to_error_with_the_wait(slack):
    bot = resource("slack", {"token": "xoxb-prod-token"})
    limited = {"ok": False, "error": "ratelimited"}
    slack.route("POST", POST, Answer(429, limited, {"Retry-After": "120"}))

    results, _ = run("slack_post_message", _config(bot.pk))

    assert results == [
        (
            "error",
            {
                "status": 429,
                "content": limited,
                "error": "Slack rate limit (429): retry after 120 s; ratelimited",
            },
        )
    ]
    assert len(slack.requests) == 1


def test_a_second_429_is_not_retried_again(slack):
    bot = resource("slack", {"token": "xoxb-prod-token"})
    limited = {"ok": False, "error": "ratelimited"}
    slack.route("POST", POST, Answer(429, limited, {"Retry-After": "0"}))

    results, _ = run("slack_post_message", _config(bot.pk))

    assert results[0][1]["error"] == (
        "Slack rate limit (429): retry after 0 s; ratelimited (after one retry)"
    )
    assert len(slack.requests) == 2


def test_a_vendor_that_does_not_answer_in_time_goes_to_error(settings):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    try:
        settings.CDP_CONNECTOR_API_URLS = {"slack": f"http://127.0.0.1:{silent.getsockname()[1]}"}
        bot = resource("slack", {"token": "xoxb-prod-token"})

        results, _ = run("slack_post_message", _config(bot.pk, timeout=0.3))
    finally:
        silent.close()

    assert results == [
        ("error", {"status": None, "content": None, "error": "Slack did not answer within 0.3 s"})
    ]


def test_a_refused_connection_goes_to_error(settings):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    settings.CDP_CONNECTOR_API_URLS = {"slack": f"http://127.0.0.1:{port}"}
    bot = resource("slack", {"token": "xoxb-prod-token"})

    results, _ = run("slack_post_message", _config(bot.pk))

    assert results[0] == (
        "error",
        {"status": None, "content": None, "error": "Slack could not be reached: ConnectionError"},
    )


def test_a_credential_the_vendor_echoes_is_masked_in_the_message_and_the_content(slack):
    bot = resource("slack", {"token": "xoxb-prod-token"})
    slack.route("POST", POST, Answer(200, {"ok": False, "error": "invalid_auth xoxb-prod-token"}))

    results, _ = run("slack_post_message", _config(bot.pk))

    assert results == [
        (
            "error",
            {
                "status": 200,
                "content": {"ok": False, "error": f"invalid_auth {MASK}"},
                "error": f"Slack answered 200: invalid_auth {MASK}",
            },
        )
    ]


def test_a_resource_deleted_after_the_save_goes_to_error(slack):
    bot = resource("slack", {"token": "xoxb-prod-token"})
    gone = bot.pk
    config = _config(gone)
    bot.delete()

    results, _ = run("slack_post_message", config)

    assert results == [
        (
            "error",
            {
                "status": None,
                "content": None,
                "error": f"resource: there is no resource with id {gone!r}; pick a "
                "Slack (bot token) one",
            },
        )
    ]
    assert slack.requests == []


def test_a_message_that_renders_empty_is_not_sent(slack):
    bot = resource("slack", {"token": "xoxb-prod-token"})

    results, _ = run("slack_post_message", _config(bot.pk, message="{{profile@traits.missing}}"))

    assert results[0][1]["error"] == (
        "message: '{{profile@traits.missing}}' rendered empty; nothing was sent"
    )
    assert slack.requests == []


# -- config validation (when a graph is saved) -----------------------------------------------


def test_a_config_without_a_resource_names_it():
    errors = action_by_id("slack_post_message").config_errors({"channel": "#a", "message": "m"})
    assert errors == ["'resource' is a required property"]


def test_an_unknown_resource_is_refused_with_the_type_to_pick():
    errors = action_by_id("slack_post_message").config_errors(_config("nope"))
    assert errors == ["resource: there is no resource with id 'nope'; pick a Slack (bot token) one"]


def test_a_resource_of_another_type_is_refused():
    hook = resource("slack_webhook", {"webhook_url": "https://hooks.slack.com/services/T/B/x"})
    errors = action_by_id("slack_post_message").config_errors(_config(hook.pk))
    assert errors == [
        f"resource: {hook.pk!r} is a Slack incoming webhook resource; pick a Slack (bot token) one"
    ]


def test_a_config_with_a_resource_of_the_right_type_is_accepted():
    bot = resource("slack", {"token": "xoxb-prod-token"})
    assert action_by_id("slack_post_message").config_errors(_config(bot.pk)) == []


def test_an_empty_channel_is_refused():
    bot = resource("slack", {"token": "xoxb-prod-token"})
    errors = action_by_id("slack_post_message").config_errors(_config(bot.pk, channel=" "))
    assert errors == ["channel: fill it in"]


# -- every connector action: the resource picker is checked ---------------------------------

# The smallest valid config of each connector action, without its resource.
MINIMAL = {
    "slack_webhook_post": {"message": "m"},
    "slack_post_message": {"channel": "#a", "message": "m"},
    "discord_webhook_post": {"message": "m"},
    "telegram_send_message": {"chat_id": "1", "message": "m"},
    "pushover_push": {"message": "m"},
    "zapier_webhook": {},
    "twilio_send_sms": {"to": "+1", "from": "+2", "message": "m"},
    "sendgrid_send_email": {"from": "a@b.c", "to": "d@e.f", "subject": "s", "message": "m"},
    "sendgrid_add_contact": {"email": "a@b.c"},
    "brevo_send_email": {"from": "a@b.c", "to": "d@e.f", "subject": "s", "message": "m"},
    "mailchimp_send_email": {"from": "a@b.c", "to": "d@e.f", "subject": "s", "message": "m"},
    "mailchimp_upsert_member": {"list_id": "l", "email": "a@b.c"},
    "mailchimp_remove_member": {"list_id": "l", "email": "a@b.c"},
    "mailchimp_tag_member": {"list_id": "l", "email": "a@b.c", "tags": ["t"]},
    "hubspot_create_contact": {"properties": {"email": "a@b.c"}},
    "hubspot_update_contact": {"contact": "a@b.c", "properties": {"x": "y"}},
    "hubspot_get_contact": {"contact": "a@b.c"},
    "postgresql_query": {"query": "SELECT 1"},
    "mysql_query": {"query": "SELECT 1"},
    "smtp_send_email": {"from": "a@b.c", "to": "d@e.f", "subject": "s", "message": "m"},
    "rabbitmq_publish": {"routing_key": "q"},
    "kafka_publish": {"topic": "events"},
    "ga4_send_event": {"event_name": "purchase"},
    "mautic_add_contact": {"fields": {"email": "a@b.c"}},
    "mautic_segment": {"contact_id": "1", "segment_id": 2},
    "mautic_points": {"contact_id": "1", "points": 5},
    "activecampaign_sync_contact": {"email": "a@b.c"},
    "matomo_track_event": {"category": "Shop", "action": "buy"},
    "meaningcloud_sentiment": {"text": "Great shop"},
    "meaningcloud_classification": {"text": "Great shop"},
}
SAMPLE_CREDENTIALS = {
    "slack": {"token": "xoxb-1"},
    "slack_webhook": {"webhook_url": "https://hooks.slack.com/services/x"},
    "discord": {"webhook_url": "https://discord.com/api/webhooks/1/x"},
    "telegram": {"token": "1:x"},
    "pushover": {"token": "tok1", "user": "usr1"},
    "zapier": {"webhook_url": "https://hooks.zapier.com/hooks/catch/1/x/"},
    "twilio": {"account_sid": "AC1", "auth_token": "tok1"},
    "sendgrid": {"api_key": "SG.1"},
    "brevo": {"api_key": "xkeysib-1"},
    "mandrill": {"api_key": "md-1"},
    "mailchimp": {"api_key": "abc-us1"},
    "hubspot": {"token": "pat-1"},
    "postgresql": {"host": "db", "database": "crm", "username": "cdp"},
    "mysql": {"host": "db", "database": "crm", "username": "cdp"},
    "smtp": {"host": "mail.example.com"},
    "rabbitmq": {"url": "amqp://guest:guest@127.0.0.1:5672//"},
    "mautic": {"url": "https://m.example.com", "username": "u", "password": "pw12"},
    "activecampaign": {"url": "https://acct.api-us1.com", "api_key": "key1"},
    "kafka": {"bootstrap_servers": "127.0.0.1:9092"},
    "ga4": {"measurement_id": "G-ABC123", "api_secret": "secret1"},
    "matomo": {"url": "https://matomo.example.com", "site_id": 1},
    "meaningcloud": {"key": "mc-key-1"},
}


def _connector_actions():
    from apps.workflows.actions import ACTIONS
    from apps.workflows.actions.connectors.base import ConnectorAction

    return [action for action in ACTIONS if issubclass(action, ConnectorAction)]


def test_every_connector_action_has_a_minimal_config_here():
    assert sorted(action.id for action in _connector_actions()) == sorted(MINIMAL)


@pytest.mark.parametrize("action_id", sorted(MINIMAL))
def test_each_connector_checks_its_resource(action_id):
    action = action_by_id(action_id)
    [kind] = action.resource_types
    right = resource(kind, SAMPLE_CREDENTIALS[kind], name="right")
    other_kind = "zapier" if kind != "zapier" else "slack"
    wrong = resource(other_kind, SAMPLE_CREDENTIALS[other_kind], name="wrong")
    from apps.destinations.senders import RESOURCE_TYPES

    assert action.config_errors(MINIMAL[action_id]) == ["'resource' is a required property"]
    assert action.config_errors({**MINIMAL[action_id], "resource": right.pk}) == []
    assert action.config_errors({**MINIMAL[action_id], "resource": wrong.pk}) == [
        f"resource: {wrong.pk!r} is a {RESOURCE_TYPES[other_kind].label} resource; pick a "
        f"{RESOURCE_TYPES[kind].label} one"
    ]


# -- the editor's test run flags the flow: the resource's test credentials are used ---------


def test_a_workflow_test_run_uses_the_test_credentials(slack):
    from apps.workflows.services.test_run import workflow_test_run
    from tests.workflows.factories import WorkflowFactory
    from tests.workflows.graphs import linear_graph

    bot = resource(
        "slack", {"token": "xoxb-prod-token"}, test_credentials={"token": "xoxb-test-token"}
    )
    slack.route("POST", POST, Answer(200, OK))
    draft = linear_graph(("slack_post_message", _config(bot.pk)))
    workflow = WorkflowFactory(graph=draft)

    result = workflow_test_run(workflow=workflow, graph=draft, sample={"type": "purchase"})

    assert result.outcome.status == "ok"
    assert [request.header("Authorization") for request in slack.requests] == [
        "Bearer xoxb-test-token"
    ]
    [node_entry] = [
        entry for entry in result.outcome.log if entry["action"] == "slack_post_message"
    ]
    assert node_entry["messages"] == [
        {"level": "info", "message": "test run: used the test credentials of 'slack resource'"}
    ]
    # The run log shows what the vendor answered, never the token.
    assert "xoxb" not in str(result.outcome.log)


def test_credentials_stored_without_a_required_key_go_to_error(slack):
    from apps.destinations.models import Resource

    # As stored before the type's schema required the key (saving now refuses it).
    bot = Resource.objects.create(name="old", type="slack", credentials={})

    results, _ = run("slack_post_message", _config(bot.pk))

    assert results == [
        (
            "error",
            {
                "status": None,
                "content": None,
                "error": "the resource's credentials lack 'token'; save them again",
            },
        )
    ]
    assert slack.requests == []
