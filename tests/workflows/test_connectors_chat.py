"""Chat and push connectors against a local server speaking each vendor's documented API:
the exact request (method, path, auth, body) and each port with the vendor's own answers."""

import pytest

from tests.support.vendor_server import Answer
from tests.workflows.connectors import resource, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def vendor(vendor_server, settings):
    server = vendor_server()
    settings.CDP_CONNECTOR_API_URLS = {
        "telegram": server.url,
        "pushover": server.url,
        "twilio": server.url,
    }
    return server


# -- Slack incoming webhook ------------------------------------------------------------------


def test_slack_webhook_posts_the_text_and_answers_ok(vendor):
    hook = resource("slack_webhook", {"webhook_url": vendor.url + "/services/T000/B000/XXXX"})
    vendor.route("POST", "/services/T000/B000/XXXX", Answer(200, "ok"))

    results, _ = run(
        "slack_webhook_post", {"resource": hook.pk, "message": "Order {{event@properties.total}}"}
    )

    assert results == [("response", {"status": 200, "content": "ok", "error": None})]
    [request] = vendor.requests
    assert request.method == "POST"
    assert request.header("Content-Type") == "application/json"
    assert request.json() == {"text": "Order 42"}


def test_slack_webhook_error_code_goes_to_error(vendor):
    hook = resource("slack_webhook", {"webhook_url": vendor.url + "/services/T000/B000/XXXX"})
    vendor.route("POST", "/services/T000/B000/XXXX", Answer(404, "channel_not_found"))

    results, _ = run("slack_webhook_post", {"resource": hook.pk, "message": "m"})

    assert results == [
        (
            "error",
            {
                "status": 404,
                "content": "channel_not_found",
                "error": "Slack answered 404: channel_not_found",
            },
        )
    ]


# -- Discord -----------------------------------------------------------------------------------


def test_discord_executes_the_webhook_and_waits_for_the_message(vendor):
    hook = resource("discord", {"webhook_url": vendor.url + "/api/webhooks/123/tok"})
    message = {"id": "1102", "channel_id": "99", "content": "Hi Ada"}
    vendor.route("POST", "/api/webhooks/123/tok", Answer(200, message))

    results, _ = run(
        "discord_webhook_post",
        {"resource": hook.pk, "message": "Hi {{profile@data.pii.firstname}}", "username": "CDP"},
    )

    assert results == [("response", {"status": 200, "content": message, "error": None})]
    [request] = vendor.requests
    assert (request.method, request.query) == ("POST", {"wait": "true"})
    assert request.json() == {"content": "Hi Ada", "username": "CDP"}


def test_discord_error_message_goes_to_error(vendor):
    hook = resource("discord", {"webhook_url": vendor.url + "/api/webhooks/123/tok"})
    refused = {"message": "Cannot send an empty message", "code": 50006}
    vendor.route("POST", "/api/webhooks/123/tok", Answer(400, refused))

    results, _ = run("discord_webhook_post", {"resource": hook.pk, "message": "x"})

    assert results[0] == (
        "error",
        {
            "status": 400,
            "content": refused,
            "error": "Discord answered 400: Cannot send an empty message",
        },
    )


def test_discord_rate_limit_states_the_wait(vendor):
    hook = resource("discord", {"webhook_url": vendor.url + "/api/webhooks/123/tok"})
    limited = {"message": "You are being rate limited.", "retry_after": 64.57, "global": False}
    vendor.route("POST", "/api/webhooks/123/tok", Answer(429, limited, {"Retry-After": "65"}))

    results, _ = run("discord_webhook_post", {"resource": hook.pk, "message": "x"})

    assert results[0][1]["error"] == (
        "Discord rate limit (429): retry after 65 s; You are being rate limited."
    )


# -- Telegram ----------------------------------------------------------------------------------


def test_telegram_sends_the_message_to_the_chat(vendor):
    bot = resource("telegram", {"token": "123456:ABC-DEF"})
    sent = {"ok": True, "result": {"message_id": 7, "chat": {"id": 42}, "text": "Hi Ada"}}
    vendor.route("POST", "/bot123456:ABC-DEF/sendMessage", Answer(200, sent))

    results, _ = run(
        "telegram_send_message",
        {
            "resource": bot.pk,
            "chat_id": "{{event@properties.total}}",
            "message": "<b>Hi</b> {{profile@data.pii.firstname}}",
            "parse_mode": "HTML",
        },
    )

    assert results == [("response", {"status": 200, "content": sent, "error": None})]
    [request] = vendor.requests
    assert request.json() == {"chat_id": "42", "text": "<b>Hi</b> Ada", "parse_mode": "HTML"}


def test_telegram_description_goes_to_error(vendor):
    bot = resource("telegram", {"token": "123456:ABC-DEF"})
    refused = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    vendor.route("POST", "/bot123456:ABC-DEF/sendMessage", Answer(400, refused))

    results, _ = run("telegram_send_message", {"resource": bot.pk, "chat_id": "1", "message": "m"})

    assert results[0] == (
        "error",
        {
            "status": 400,
            "content": refused,
            "error": "Telegram answered 400: Bad Request: chat not found",
        },
    )


def test_telegram_flood_limit_in_the_body_is_read(vendor):
    bot = resource("telegram", {"token": "123456:ABC-DEF"})
    limited = {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 35",
        "parameters": {"retry_after": 35},
    }
    vendor.route("POST", "/bot123456:ABC-DEF/sendMessage", Answer(429, limited))

    results, _ = run("telegram_send_message", {"resource": bot.pk, "chat_id": "1", "message": "m"})

    assert results[0][1]["error"] == (
        "Telegram rate limit (429): retry after 35 s; Too Many Requests: retry after 35"
    )
    assert len(vendor.requests) == 1


# -- Pushover ----------------------------------------------------------------------------------


def test_pushover_posts_the_form_with_token_and_user(vendor):
    app = resource(
        "pushover",
        {"token": "azGDORePK8gMaC0QOYAMyEEuzJnyUi", "user": "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"},
    )
    sent = {"status": 1, "request": "647d2300-702c-4b38-8b2f-d56326ae460b"}
    vendor.route("POST", "/1/messages.json", Answer(200, sent))

    results, _ = run(
        "pushover_push",
        {"resource": app.pk, "title": "Sale", "message": "{{profile@data.pii.firstname}} paid"},
    )

    assert results == [("response", {"status": 200, "content": sent, "error": None})]
    [request] = vendor.requests
    assert request.header("Content-Type") == "application/x-www-form-urlencoded"
    assert request.form() == {
        "token": "azGDORePK8gMaC0QOYAMyEEuzJnyUi",
        "user": "uQiRzpo4DXghDmr9QzzfQu27cmVRsG",
        "message": "Ada paid",
        "title": "Sale",
    }


def test_pushover_errors_go_to_error(vendor):
    app = resource("pushover", {"token": "azGDORePK8gMaC0QOYAMyEEuzJnyUi", "user": "bad-user-key"})
    refused = {
        "user": "invalid",
        "errors": ["user identifier is invalid"],
        "status": 0,
        "request": "5042853c",
    }
    vendor.route("POST", "/1/messages.json", Answer(400, refused))

    results, _ = run("pushover_push", {"resource": app.pk, "message": "m"})

    assert results[0] == (
        "error",
        {
            "status": 400,
            "content": refused,
            "error": "Pushover answered 400: user identifier is invalid",
        },
    )


# -- Zapier ------------------------------------------------------------------------------------


def test_zapier_sends_the_rendered_data(vendor):
    hook = resource("zapier", {"webhook_url": vendor.url + "/hooks/catch/123/abc/"})
    accepted = {"attempt": "0189", "id": "0189", "request_id": "0189", "status": "success"}
    vendor.route("POST", "/hooks/catch/123/abc/", Answer(200, accepted))

    results, _ = run(
        "zapier_webhook",
        {
            "resource": hook.pk,
            "body": {"email": "profile@data.contact.email.main", "source": "cdp"},
        },
    )

    assert results == [("response", {"status": 200, "content": accepted, "error": None})]
    assert vendor.requests[0].json() == {"email": "Ada@Example.com", "source": "cdp"}


def test_zapier_without_a_body_sends_the_payload(vendor):
    hook = resource("zapier", {"webhook_url": vendor.url + "/hooks/catch/123/abc/"})
    vendor.route("POST", "/hooks/catch/123/abc/", Answer(200, {"status": "success"}))

    run("zapier_webhook", {"resource": hook.pk}, payload={"total": 42})

    assert vendor.requests[0].json() == {"total": 42}


# -- Twilio ------------------------------------------------------------------------------------


def test_twilio_creates_the_message_with_basic_auth(vendor):
    account = resource("twilio", {"account_sid": "ACXXXX", "auth_token": "twilio-secret"})
    created = {"sid": "SM1234", "status": "queued", "to": "+447700900123", "body": "Hi Ada"}
    vendor.route("POST", "/2010-04-01/Accounts/ACXXXX/Messages.json", Answer(201, created))

    results, _ = run(
        "twilio_send_sms",
        {
            "resource": account.pk,
            "to": "{{profile@data.contact.phone.mobile}}",
            "from": "+14155550100",
            "message": "Hi {{profile@data.pii.firstname}}",
        },
    )

    assert results == [("response", {"status": 201, "content": created, "error": None})]
    [request] = vendor.requests
    assert request.header("Authorization") == "Basic QUNYWFhYOnR3aWxpby1zZWNyZXQ="
    assert request.form() == {"To": "+447700900123", "From": "+14155550100", "Body": "Hi Ada"}


def test_twilio_error_message_goes_to_error(vendor):
    account = resource("twilio", {"account_sid": "ACXXXX", "auth_token": "twilio-secret"})
    refused = {
        "code": 21211,
        "message": "The 'To' number +1555 is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }
    vendor.route("POST", "/2010-04-01/Accounts/ACXXXX/Messages.json", Answer(400, refused))

    results, _ = run(
        "twilio_send_sms",
        {"resource": account.pk, "to": "+1555", "from": "+14155550100", "message": "m"},
    )

    assert results[0][1]["error"] == (
        "Twilio answered 400: The 'To' number +1555 is not a valid phone number."
    )


def test_twilio_from_must_be_a_number():
    from apps.workflows.actions import action_by_id

    account = resource("twilio", {"account_sid": "ACXXXX", "auth_token": "twilio-secret"})
    errors = action_by_id("twilio_send_sms").config_errors(
        {"resource": account.pk, "to": "+1", "from": "shop", "message": "m"}
    )
    assert errors == ["from: write the Twilio number in E.164, e.g. +14155550100"]
