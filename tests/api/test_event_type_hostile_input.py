"""Issue 23: hostile input to the routes under an event type (NUL characters, which PostgreSQL
cannot store; wrong JSON types; oversized and over-nested values; odd ids) is refused with a
400 or 404 naming the problem, never a 500, and nothing is stored."""

import pytest

from apps.events.models import EventReshaping, EventType, IndexedProperty

pytestmark = pytest.mark.django_db

RESHAPING_URL = "/api/v1/event-types/purchase/reshaping/"
INDEXED_URL = "/api/v1/event-types/purchase/indexed-properties/"
TEMPLATE = {"a": "event@properties.a"}
NO_NUL = ("Null characters are not allowed.", "null_characters_not_allowed")


@pytest.fixture
def client(client_all):
    EventType.objects.create(type="purchase", name="Purchase")
    # A server error is an answer here, not an exception in the test.
    client_all.raise_request_exception = False
    return client_all


def nested(depth: int) -> str:
    """A rule whose properties template is `depth` objects deep, as raw JSON."""
    return '{"name": "n", "properties": ' + '{"a": ' * depth + '"x"' + "}" * (depth + 1)


@pytest.mark.parametrize(
    ("body", "field", "message", "kind"),
    [
        (
            {"properties": {"a": "x\u0000"}},
            "properties",
            "The value 'x\\x00' holds a NUL character, which cannot be stored.",
            "invalid",
        ),
        (
            {"properties": {"a\u0000": "x"}},
            "properties",
            "The key 'a\\x00' holds a NUL character, which cannot be stored.",
            "invalid",
        ),
        ({"name": "n\u0000"}, "name", *NO_NUL),
        ({"condition": "\u0000"}, "condition", *NO_NUL),
        ({"source": "a\u0000"}, "source", *NO_NUL),
        (
            {"properties": "text"},
            "properties",
            'Write an object, e.g. {"id": "event@properties.sku"}.',
            "invalid",
        ),
        ({"position": "x"}, "position", "A valid integer is required.", "invalid"),
        (
            {"position": 10**12},
            "position",
            "Ensure this value is less than or equal to 2147483647.",
            "max_value",
        ),
        ({"enabled": "maybe"}, "enabled", "Must be a valid boolean.", "invalid"),
        (
            {"name": "n" * 201},
            "name",
            "Ensure this field has no more than 200 characters.",
            "max_length",
        ),
        (
            {"condition": "x" * 10_001},
            "condition",
            "Ensure this field has no more than 10000 characters.",
            "max_length",
        ),
        (
            {"source": 5},
            "source",
            "There is no event source '5' (the list is at /api/v1/sources/).",
            "invalid",
        ),
    ],
)
def test_hostile_reshaping_fields_are_refused(client, body, field, message, kind):
    response = client.post(
        RESHAPING_URL, {"name": "n", "properties": TEMPLATE, **body}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": [{"loc": ["body", field], "msg": message, "type": kind}]}
    assert not EventReshaping.objects.exists()


def test_an_over_nested_template_is_refused_and_one_32_deep_is_kept(client):
    # 100 levels: past the template's limit, well within what the JSON parser reads at any
    # stack depth (a body nested past the recursion limit is the parser's refusal, below).
    refused = client.post(RESHAPING_URL, nested(100), content_type="application/json")

    assert refused.status_code == 400
    assert refused.json()["detail"] == [
        {
            "loc": ["body", "properties"],
            "msg": "The template is nested deeper than 32 levels.",
            "type": "invalid",
        }
    ]
    assert not EventReshaping.objects.exists()
    kept = client.post(RESHAPING_URL, nested(32), content_type="application/json")
    assert kept.status_code == 201, kept.content


@pytest.mark.parametrize("body", [[1, 2], "text", 5])
def test_a_body_that_is_not_an_object_is_refused(client, body):
    for url in (RESHAPING_URL, INDEXED_URL, f"{RESHAPING_URL}preview/"):
        response = client.post(url, body, format="json")
        assert response.status_code == 400, url
        assert response.json()["detail"][0]["loc"] == ["body"], url
    assert not EventReshaping.objects.exists()
    assert not IndexedProperty.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "message", "kind"),
    [
        ({"property": "a\u0000"}, "property", *NO_NUL),
        ({"trait": "t\u0000"}, "trait", *NO_NUL),
        (
            {"property": "x" * 301},
            "property",
            "Ensure this field has no more than 300 characters.",
            "max_length",
        ),
        ({"trait": []}, "trait", "Not a valid string.", "invalid"),
        (
            {"trait": "t" * 101},
            "trait",
            "Ensure this field has no more than 100 characters.",
            "max_length",
        ),  # fmt: skip
    ],
)
def test_hostile_indexed_property_fields_are_refused(client, body, field, message, kind):
    response = client.post(INDEXED_URL, {"property": "a", "trait": "t", **body}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": [{"loc": ["body", field], "msg": message, "type": kind}]}
    assert not IndexedProperty.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"event_id": "a\u0000"}, ["event_id"], NO_NUL[0]),
        (
            {"reshaping_id": 10**20},
            ["reshaping_id"],
            "The purchase type has no reshaping rule 100000000000000000000 (its rules are at "
            "this route's list).",
        ),
        (
            {"reshaping": {"properties": {"a": "x\u0000"}}},
            ["reshaping", "properties"],
            "The value 'x\\x00' holds a NUL character, which cannot be stored.",
        ),
        (
            {"reshaping": []},
            ["reshaping"],
            "Invalid data. Expected a dictionary, but got list.",
        ),
    ],
)
def test_a_hostile_preview_is_refused(client, body, field, message):
    response = client.post(f"{RESHAPING_URL}preview/", body, format="json")

    assert response.status_code == 400
    assert [(entry["loc"], entry["msg"]) for entry in response.json()["detail"]] == [
        (["body", *field], message)
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            f"{RESHAPING_URL}99999999999999999999999/",
            "The purchase event type has no reshaping '99999999999999999999999'.",
        ),
        (f"{RESHAPING_URL}abc/", "The purchase event type has no reshaping 'abc'."),
        (f"{INDEXED_URL}-1/", "The purchase event type has no indexed property '-1'."),
        (
            "/api/v1/event-types/purchase/reindex-jobs/%00/",
            "The purchase event type has no re-index '\\x00'.",
        ),
        (
            "/api/v1/event-types/%00/reshaping/",
            "There is no event type '\\x00' (the list is at /api/v1/event-types/).",
        ),
    ],
)
def test_odd_ids_in_the_path_are_404(client, url, message):
    for method in ("get", "delete"):
        response = getattr(client, method)(url)
        if method == "delete" and "reindex-jobs" in url:
            assert response.status_code == 405  # jobs are read-only
            continue
        assert response.status_code == 404, (method, url)
        assert response.json() == {"detail": message}


@pytest.mark.parametrize("url", [RESHAPING_URL, INDEXED_URL, "/api/v1/segments/"])
def test_a_body_nested_past_the_parsers_limit_is_400_not_500(client, url):
    body = '{"a": ' * 100_000 + "1" + "}" * 100_000

    response = client.post(url, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - the body is nested too deeply."}
