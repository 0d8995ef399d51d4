"""Connector resources in the admin: test credentials beside production ones (write-only), the
"Test connection" button against a local server speaking the vendor's API, and destinations
that only take resources with a sender."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.destinations.models import Resource
from apps.destinations.services import resource_connection_test, resource_create
from tests.support.vendor_server import Answer

PROD = "xoxb-prod-1234"
TEST = "xoxb-test-5678"


@pytest.fixture
def staff_client(client, db):
    user = get_user_model().objects.create_superuser(username="marketer", password="pw")
    client.force_login(user)
    return client


@pytest.fixture
def slack(vendor_server, settings):
    server = vendor_server()
    settings.CDP_CONNECTOR_API_URLS = {"slack": server.url + "/api"}
    return server


def form(**fields):
    return {"name": "Sales Slack", "type": "slack", "description": "", **fields}


@pytest.mark.django_db
def test_production_and_test_credentials_are_stored_apart_and_never_shown(staff_client):
    added = staff_client.post(
        reverse("admin:destinations_resource_add"),
        form(credentials__slack__token=PROD, test_credentials__slack__token=TEST),
    )
    assert added.status_code == 302
    resource = Resource.objects.get()
    assert (resource.credentials, resource.test_credentials) == ({"token": PROD}, {"token": TEST})

    url = reverse("admin:destinations_resource_change", args=[resource.pk])
    html = staff_client.get(url).content.decode()
    assert PROD not in html and TEST not in html
    assert 'data-type-fields="credentials test_credentials"' in html
    assert "with chat:write. Required if test credentials are given." in html

    # A field left empty keeps its value; the box removes the test credentials.
    staff_client.post(url, form())
    resource.refresh_from_db()
    assert resource.test_credentials == {"token": TEST}
    staff_client.post(url, form(clear_test_credentials="on"))
    resource.refresh_from_db()
    assert (resource.credentials, resource.test_credentials) == ({"token": PROD}, {})


@pytest.mark.django_db
def test_a_resource_without_its_required_credential_is_refused(staff_client):
    response = staff_client.post(reverse("admin:destinations_resource_add"), form())

    assert response.context["adminform"].form.errors["credentials__slack__token"] == [
        "Required for this resource type."
    ]
    assert Resource.objects.count() == 0


@pytest.mark.django_db
def test_test_credentials_of_the_wrong_shape_are_refused():
    with pytest.raises(Exception) as refused:
        resource_create(
            name="Hook",
            type="discord",
            credentials={"webhook_url": "https://discord.com/api/webhooks/1/x"},
            test_credentials={"webhook_url": "not a url"},
        )
    assert refused.value.message_dict == {
        "test_credentials": [
            "test_credentials.webhook_url: must satisfy pattern '^https?://[^\\\\s]+$'"
        ]
    }


@pytest.mark.django_db
def test_the_connection_test_calls_the_vendor_with_the_chosen_credentials(staff_client, slack):
    slack.route(
        "POST",
        "/api/auth.test",
        Answer(200, {"ok": True, "team": "Acme", "user": "cdp-bot", "team_id": "T1"}),
        Answer(200, {"ok": False, "error": "invalid_auth"}),
    )
    resource = resource_create(
        name="Sales Slack",
        type="slack",
        credentials={"token": PROD},
        test_credentials={"token": TEST},
    )
    url = reverse("admin:destinations_resource_connection_test", args=[resource.pk])

    ok = staff_client.post(url)
    failed = staff_client.post(url + "?test=1")

    assert ok.status_code == failed.status_code == 302
    assert [str(m) for m in get_messages(ok.wsgi_request)] == [
        "Production credentials: Slack accepted the token: team 'Acme', user 'cdp-bot'."
    ]
    # (The first message is still in the session: no page showed it.)
    assert [str(m) for m in get_messages(failed.wsgi_request)][-1] == (
        "Test credentials: Slack answered 200: invalid_auth"
    )
    assert [r.header("Authorization") for r in slack.requests] == [
        f"Bearer {PROD}",
        f"Bearer {TEST}",
    ]


@pytest.mark.django_db
def test_the_connection_test_needs_a_post(staff_client):
    resource = resource_create(name="S", type="slack", credentials={"token": PROD})
    url = reverse("admin:destinations_resource_connection_test", args=[resource.pk])
    assert staff_client.get(url).status_code == 405


@pytest.mark.django_db
def test_no_test_credentials_and_no_check_are_said_plainly(slack):
    bot = resource_create(name="S", type="slack", credentials={"token": PROD})
    hook = resource_create(
        name="Z", type="zapier", credentials={"webhook_url": "https://hooks.zapier.com/x"}
    )

    assert resource_connection_test(resource=bot, test=True).message == (
        "No test credentials are stored."
    )
    assert resource_connection_test(resource=hook).message == (
        "Zapier webhook has no call to test a connection with."
    )
    assert slack.requests == []


@pytest.mark.parametrize(
    ("kind", "credentials", "path", "answer", "said"),
    [
        (
            "telegram",
            {"token": "123:ABC"},
            "/bot123:ABC/getMe",
            {"ok": True, "result": {"id": 1, "is_bot": True, "username": "cdp_bot"}},
            "Telegram knows the bot @cdp_bot",
        ),
        (
            "pushover",
            {"token": "app-token", "user": "user-key"},
            "/1/users/validate.json",
            {"status": 1, "devices": ["phone"], "request": "r1"},
            "Pushover knows the user key; devices: ['phone']",
        ),
        (
            "twilio",
            {"account_sid": "AC1", "auth_token": "tw-secret"},
            "/2010-04-01/Accounts/AC1.json",
            {"friendly_name": "Shop", "status": "active"},
            "Twilio knows the account 'Shop' (active)",
        ),
        (
            "sendgrid",
            {"api_key": "SG.key"},
            "/v3/scopes",
            {"scopes": ["mail.send", "marketing.read"]},
            "SendGrid accepted the key (2 scopes)",
        ),
        (
            "brevo",
            {"api_key": "xkeysib-key"},
            "/v3/account",
            {"email": "owner@shop.example", "companyName": "Shop"},
            "Brevo knows the account 'owner@shop.example'",
        ),
        (
            "hubspot",
            {"token": "pat-key"},
            "/crm/v3/objects/contacts",
            {"results": []},
            "HubSpot accepted the token (contacts can be read)",
        ),
        (
            "mailchimp",
            {"api_key": "abc-us21"},
            "/us21/3.0/ping",
            {"health_status": "Everything's Chimpy!"},
            "Mailchimp answered: Everything's Chimpy!",
        ),
        (
            "mandrill",
            {"api_key": "md-key"},
            "/api/1.0/users/ping2",
            {"PING": "PONG!"},
            "Mailchimp Transactional answered: PONG!",
        ),
    ],
)
@pytest.mark.django_db
def test_each_vendors_connection_check(
    vendor_server, settings, kind, credentials, path, answer, said
):
    server = vendor_server()
    settings.CDP_CONNECTOR_API_URLS = {
        "mailchimp": server.url + "/{dc}/3.0",
        "mandrill": server.url + "/api/1.0",
        **dict.fromkeys(
            ("telegram", "pushover", "twilio", "sendgrid", "brevo", "hubspot"), server.url
        ),
    }
    method = "GET" if kind in ("twilio", "sendgrid", "brevo", "hubspot", "mailchimp") else "POST"
    server.route(method, path, Answer(200, answer))
    resource = resource_create(name="R", type=kind, credentials=credentials)

    outcome = resource_connection_test(resource=resource)

    assert (outcome.ok, outcome.message) == (True, f"Production credentials: {said}.")
    assert [(r.method, r.path) for r in server.requests] == [(method, path)]


@pytest.mark.django_db
def test_a_discord_webhook_is_checked_by_reading_it(vendor_server):
    server = vendor_server()
    server.route("GET", "/api/webhooks/1/tok", Answer(200, {"name": "CDP", "channel_id": "9"}))
    resource = resource_create(
        name="D", type="discord", credentials={"webhook_url": server.url + "/api/webhooks/1/tok"}
    )

    outcome = resource_connection_test(resource=resource)

    assert outcome.message == "Production credentials: Discord knows the webhook 'CDP'."


@pytest.mark.django_db
def test_destinations_only_offer_resources_with_a_sender(staff_client):
    resource_create(name="Hook", type="webhook", credentials={})
    resource_create(name="Bot", type="slack", credentials={"token": PROD})

    response = staff_client.get(reverse("admin:destinations_destination_add"))

    choices = [label for _, label in response.context["adminform"].form.fields["resource"].choices]
    assert choices == ["---------", "Hook (webhook)"]
