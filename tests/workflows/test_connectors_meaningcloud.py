"""MeaningCloud's sentiment analysis and text classification against a local server speaking
its documented API: the form POST with the key, the answer on `result`, its status block's
refusals and its rate limit on `error`."""

import pytest

from apps.destinations.services import resource_connection_test
from apps.workflows.actions import ACTIONS, action_by_id
from tests.support.vendor_server import Answer
from tests.workflows.connectors import resource, run

pytestmark = pytest.mark.django_db

OK_STATUS = {"code": "0", "msg": "OK", "credits": "1", "remaining_credits": "19999"}
SENTIMENT = {
    "status": OK_STATUS,
    "model": "general_en",
    "score_tag": "P+",
    "agreement": "AGREEMENT",
    "subjectivity": "SUBJECTIVE",
    "confidence": "98",
    "irony": "NONIRONIC",
    "sentence_list": [],
    "sentimented_entity_list": [],
    "sentimented_concept_list": [],
}
CATEGORIES = [
    {
        "code": "04000000",
        "label": "economy, business and finance",
        "abs_relevance": "0.41",
        "relevance": "100",
    },
    {"code": "04016000", "label": "commerce", "abs_relevance": "0.2", "relevance": "49"},
]


@pytest.fixture
def vendor(vendor_server, settings):
    server = vendor_server()
    settings.CDP_CONNECTOR_API_URLS = {"meaningcloud": server.url}
    settings.CDP_CONNECTOR_MAX_RETRY_WAIT_SECONDS = 5
    return server


@pytest.fixture
def account(vendor):
    return resource("meaningcloud", {"key": "mc-key-1"})


def _sentiment(account, **config):
    return run(
        "meaningcloud_sentiment",
        {"resource": account.pk, "text": "{{event@properties.review}}", **config},
        event={"id": "e1", "type": "review", "properties": {"review": "Lovely shop!"}},
    )


def test_sentiment_posts_the_form_with_the_key_and_sends_the_result(vendor, account):
    vendor.route("POST", "/sentiment-2.1", Answer(200, SENTIMENT))

    results, _ = _sentiment(account, language="en")

    assert results == [
        (
            "result",
            {
                "score_tag": "P+",
                "agreement": "AGREEMENT",
                "subjectivity": "SUBJECTIVE",
                "confidence": 98,
                "irony": "NONIRONIC",
            },
        )
    ]
    [request] = vendor.requests
    assert request.method == "POST"
    assert request.path == "/sentiment-2.1"
    assert request.header("Content-Type") == "application/x-www-form-urlencoded"
    assert request.form() == {"key": "mc-key-1", "txt": "Lovely shop!", "lang": "en"}


def test_sentiment_writes_the_target_too(vendor, account):
    vendor.route("POST", "/sentiment-2.1", Answer(200, SENTIMENT))

    results, flow = _sentiment(account, language="auto", target="profile@traits.mood")

    assert results[0][0] == "result"
    assert flow.profile["traits"]["mood"]["score_tag"] == "P+"
    assert vendor.requests[0].form()["lang"] == "auto"


def test_a_refusal_in_the_status_block_goes_to_error_with_the_vendors_message(vendor, account):
    denied = {"status": {"code": "100", "msg": "Operation denied", "credits": "0"}}
    vendor.route("POST", "/sentiment-2.1", Answer(200, denied))

    results, _ = _sentiment(account)

    assert results == [
        (
            "error",
            {
                "status": 200,
                "content": denied,
                "error": "MeaningCloud answered 200: Operation denied (code 100)",
            },
        )
    ]


def test_out_of_credits_goes_to_error(vendor, account):
    spent = {"status": {"code": "102", "msg": "Credits per subscription exceeded"}}
    vendor.route("POST", "/class-2.0", Answer(200, spent))

    results, _ = run("meaningcloud_classification", {"resource": account.pk, "text": "Hi"})

    assert results[0][1]["error"] == (
        "MeaningCloud answered 200: Credits per subscription exceeded (code 102)"
    )


def test_the_rate_limit_code_is_retried_once_then_passes(vendor, account):
    limited = {"status": {"code": "104", "msg": "Request rate limit exceeded"}}
    vendor.route("POST", "/sentiment-2.1", Answer(200, limited), Answer(200, SENTIMENT))

    results, _ = _sentiment(account)

    assert results[0][0] == "result"
    assert len(vendor.requests) == 2


def test_a_429_that_asks_too_long_a_wait_goes_to_error(vendor, account):
    limited = {"status": {"code": "104", "msg": "Request rate limit exceeded"}}
    vendor.route("POST", "/sentiment-2.1", Answer(429, limited, {"Retry-After": "60"}))

    results, _ = _sentiment(account)

    assert results[0][1]["error"] == (
        "MeaningCloud rate limit (429): retry after 60 s; Request rate limit exceeded (code 104)"
    )
    assert len(vendor.requests) == 1


def test_the_key_never_reaches_the_error(vendor, account):
    echoed = {"status": {"code": "100", "msg": "Operation denied for key mc-key-1"}}
    vendor.route("POST", "/sentiment-2.1", Answer(200, echoed))

    results, _ = _sentiment(account)

    assert "mc-key-1" not in str(results)


def test_classification_posts_the_model_and_title_and_sends_the_categories(vendor, account):
    vendor.route(
        "POST", "/class-2.0", Answer(200, {"status": OK_STATUS, "category_list": CATEGORIES})
    )

    results, _ = run(
        "meaningcloud_classification",
        {
            "resource": account.pk,
            "text": "{{event@properties.body}}",
            "title": "{{event@properties.subject}}",
            "model": "IPTC_en",
        },
        event={"id": "e1", "type": "mail", "properties": {"subject": "Prices", "body": "Sale"}},
    )

    assert results == [("result", {"categories": CATEGORIES})]
    [request] = vendor.requests
    assert request.path == "/class-2.0"
    assert request.form() == {
        "key": "mc-key-1",
        "txt": "Sale",
        "model": "IPTC_en",
        "title": "Prices",
    }


def test_an_empty_text_is_not_sent(vendor, account):
    results, _ = run(
        "meaningcloud_sentiment", {"resource": account.pk, "text": "{{event@properties.none}}"}
    )

    assert results[0][1]["error"] == (
        "text: '{{event@properties.none}}' rendered empty; nothing was sent"
    )
    assert vendor.requests == []


def test_config_validation(account):
    sentiment = action_by_id("meaningcloud_sentiment")
    slack = resource("slack", {"token": "xoxb-1"}, name="slack")

    assert sentiment.config_errors({"text": "t"}) == ["'resource' is a required property"]
    assert sentiment.config_errors({"resource": slack.pk, "text": "t"}) == [
        f"resource: {slack.pk!r} is a Slack (bot token) resource; pick a MeaningCloud one"
    ]
    assert sentiment.config_errors({"resource": account.pk, "text": "t", "language": "xx"}) == [
        "language: 'xx' is not one of ['auto', 'en', 'es', 'fr', 'it', 'pt', 'ca', 'de']"
    ]
    assert sentiment.config_errors({"resource": account.pk, "text": " "}) == ["text: fill it in"]


def test_connection_check_is_one_small_sentiment_call(vendor, account):
    vendor.route("POST", "/sentiment-2.1", Answer(200, SENTIMENT))

    checked = resource_connection_test(resource=account)

    assert checked.message == (
        "Production credentials: MeaningCloud accepted the key (19999 credits left)."
    )
    assert vendor.requests[0].form() == {"key": "mc-key-1", "txt": "Good", "lang": "en"}


def test_the_text_analysis_family_is_contiguous_and_holds_both_actions():
    groups = [action.group for action in ACTIONS]
    start = groups.index("Text analysis")
    family = [action.id for action in ACTIONS if action.group == "Text analysis"]

    assert family == ["detect_language", "meaningcloud_sentiment", "meaningcloud_classification"]
    assert groups[start : start + len(family)] == ["Text analysis"] * len(family)
