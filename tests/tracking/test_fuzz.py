"""Property-based fuzzing of the public endpoints (issue 12, item 8).

Any JSON, strings and keys with control characters (NUL included), surrogates and astral-plane
text, nesting and sizes around the limits, and every path shape, against /track, /collect and
/redirect. For every request: no 5xx; an error is JSON with a `detail`; a 4xx stores nothing;
a success stores exactly the events it accepted (and at most one profile and one session).

Derandomized (the same examples on every run) and bounded, so it stays fast and repeatable.
The causes of the HTML 500s that issue 12 found are explicit examples, tried on every run.
"""

import json
from collections import Counter
from datetime import datetime
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.core.text import normalise_event_type
from apps.events.models import Event
from apps.profiles.models import Profile, Session
from apps.sources.services import event_source_create, redirect_link_create
from apps.tracking.limits import MAX_JSON_DEPTH
from tests.tracking.conftest import CHROME_UA

pytestmark = pytest.mark.django_db

SYSTEM_TYPES = {"profile-created", "session-opened", "visit-started"}
FUZZ = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

# Any code point: control characters (NUL included), surrogates, astral-plane text.
any_char = st.characters(codec=None)
# What can travel in a URL path, a form or a header (UTF-8 cannot encode a lone surrogate).
encodable_char = st.characters(exclude_categories=["Cs"])
# What stored text can hold: control characters and astral-plane text, no NUL.
storable_char = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
storable_text = st.text(storable_char, max_size=12)
hostile_text = st.one_of(
    st.text(any_char, max_size=12),
    st.sampled_from(["\x00", "a\x00", "İ" * 60, "😀" * 40, "\r\n", "\\u0000", " ", "a" * 70]),
)


def json_of(text, floats):
    return st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(min_value=-(2**70), max_value=2**70),
            floats,
            text,
        ),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)
        ),
        max_leaves=25,
    )


any_json = json_of(st.one_of(storable_text, hostile_text), st.floats())
storable_json = json_of(storable_text, st.floats(allow_nan=False, allow_infinity=False))
storable_objects = st.dictionaries(storable_text, storable_json, max_size=4)


def deep(depth: int) -> object:
    """Objects and arrays nested `depth` levels."""
    value: object = {}
    for level in range(depth - 1):
        value = {"n": value} if level % 2 else [value]
    return value


def is_client_type(raw: object) -> bool:
    # Storable, and not named like a system event (those could not be told apart when counting).
    if not isinstance(raw, str) or "\x00" in raw:
        return False
    normalised = normalise_event_type(raw)
    return bool(normalised) and len(normalised) <= 100 and normalised not in SYSTEM_TYPES


# --- /track: a valid body, then at most one hostile value at one place ---

datetimes = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.none() | st.timezones(),
).map(lambda moment: moment.isoformat())
valid_events = st.fixed_dictionaries(
    {"type": st.text(storable_char, min_size=1, max_size=30).filter(is_client_type)},
    optional={
        "id": st.one_of(st.none(), st.uuids().map(str)),
        "properties": storable_objects,
        "context": storable_objects,
        "tags": st.lists(storable_text, max_size=3),
        "time": st.fixed_dictionaries({}, optional={"create": datetimes, "insert": datetimes}),
    },
)
storable_ids = st.one_of(st.none(), st.uuids().map(str), st.text(storable_char, max_size=64))
valid_bodies = st.builds(
    # Unknown keys are accepted and ignored; the known ones win when a name repeats.
    lambda unknown, known: {**unknown, **known},
    st.dictionaries(storable_text, storable_json, max_size=2),
    st.fixed_dictionaries(
        {
            "source": st.fixed_dictionaries({"id": st.sampled_from(["fuzz-web", " fuzz-web "])}),
            "events": st.lists(valid_events, max_size=4),
        },
        optional={
            "session": st.fixed_dictionaries({"id": storable_ids}),
            "profile": st.fixed_dictionaries({"id": storable_ids}),
            "context": storable_objects,
            "properties": storable_objects,
            "request": storable_objects,
            "options": st.fixed_dictionaries(
                {}, optional={"saveEvents": st.booleans(), "saveProfile": st.booleans()}
            ),
        },
    ),
)
hostile_times = st.one_of(
    hostile_text,
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda moment: moment.isoformat()),
    st.sampled_from(
        [
            "2024-01-01T10:00:00",
            "2024-01-01",
            "2024-W01-1",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "2024-05-01T10:00:00Z",
        ]
    ),
)
hostile_ids = st.one_of(hostile_text, st.text("ab", min_size=60, max_size=70), any_json)
hostile_objects = st.one_of(
    st.dictionaries(hostile_text, any_json, min_size=1, max_size=3),
    # Around the nesting limit (properties sit at body > events > event > properties).
    st.integers(min_value=MAX_JSON_DEPTH - 6, max_value=MAX_JSON_DEPTH + 2).map(
        lambda depth: {"deep": deep(depth)}
    ),
    any_json,
)
# (path into the body, value)
twists = st.one_of(
    st.tuples(
        st.just(("events", 0, "type")),
        st.one_of(hostile_text, any_json, st.sampled_from(["İ" * 100, "a" * 101, "   "])),
    ),
    st.tuples(st.just(("events", 0, "id")), hostile_ids),
    st.tuples(st.just(("events", 0, "time", "create")), hostile_times),
    st.tuples(st.just(("events", 0, "time", "insert")), hostile_times),
    st.tuples(st.just(("events", 0, "tags")), st.lists(hostile_text, max_size=3)),
    st.tuples(
        st.sampled_from([("events", 0, "properties"), ("context",), ("properties",), ("request",)]),
        hostile_objects,
    ),
    st.tuples(
        st.sampled_from([("session", "id"), ("profile", "id"), ("source", "id")]), hostile_ids
    ),
    st.tuples(st.sampled_from([("session",), ("profile",), ("options",), ("events",)]), any_json),
)


def twisted(body: dict, twist: tuple | None) -> dict:
    if twist is None:
        return body
    path, value = twist
    if path[0] == "events" and len(path) > 1 and not body["events"]:
        body["events"] = [{"type": "page-view"}]
    node = body
    for key in path[:-1]:
        if isinstance(key, str) and not isinstance(node.get(key), dict | list):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return body


def track_accepted(body: dict):
    """The types of the events a 200 must have stored (client events only)."""
    if not isinstance(body.get("events"), list) or not all(
        isinstance(event, dict) and is_client_type(event.get("type")) for event in body["events"]
    ):
        return None  # such a body cannot be accepted; the fuzzer checks it stored nothing

    def accepted(before_ids: set[str]) -> list[str]:
        options = body.get("options") or {}
        if not options.get("saveEvents", True):
            return []
        types, seen = [], set(before_ids)
        for event in body["events"]:
            event_id = (event.get("id") or "").strip()
            if event_id in seen:
                continue  # a retry of a stored id, or a repeat in the same request
            if event_id:
                seen.add(event_id)
            types.append(normalise_event_type(event["type"]))
        return types

    return accepted


# --- paths, cookies ---

path_segments = st.one_of(
    st.text(encodable_char, min_size=1, max_size=12),
    st.sampled_from(["a\x00", "İ" * 60, "s" * 65, "t" * 101, "..", "/", " ", "%41"]),
)


def encode_segment(segment: str) -> str:
    return quote(segment, safe="")


# A Cookie header as WSGI hands it over: its bytes read as latin-1. A quoted value may spell
# any character as an octal escape ("\\000" is a NUL).
cookie_headers = st.one_of(
    st.text(encodable_char, max_size=70).map(lambda text: text.encode().decode("latin-1")),
    st.sampled_from(['"s\\000"', '"s\\377"', '"' + "s" * 70 + '"', "a=b; c", ";;"]),
)


class Fuzzer:
    def __init__(self) -> None:
        self.client = Client(HTTP_USER_AGENT=CHROME_UA)

    def counts(self) -> tuple[int, int, int]:
        return Event.objects.count(), Profile.objects.count(), Session.objects.count()

    def check(self, send, *, accepted) -> None:
        """Send one request. `accepted(before_ids)` gives the event types a success must have
        stored; None when the test cannot tell (it still checks everything else)."""
        before_ids = set(Event.objects.values_list("id", flat=True))
        before = self.counts()
        response = send(self.client)
        after = self.counts()

        assert response.status_code < 500, response.content[:500]
        if response.status_code >= 400:
            assert response["Content-Type"] == "application/json", response.content[:500]
            assert "detail" in json.loads(response.content)
            assert after == before, (response.status_code, response.content[:500])
            return
        assert after[1] - before[1] in (0, 1) and after[2] - before[2] in (0, 1)
        if accepted is None:
            return
        new_rows = Event.objects.exclude(id__in=before_ids)
        stored = Counter(row.type for row in new_rows if row.type not in SYSTEM_TYPES)
        assert stored == Counter(accepted(before_ids)), response.content[:500]


@pytest.fixture
def fuzzer(db):
    event_source_create(name="Fuzz web", source_id="fuzz-web")
    event_source_create(name="Fuzz hook", bridge="webhook", source_id="fuzz-hook")
    redirect = event_source_create(name="Fuzz mail", bridge="redirect", source_id="fuzz-mail")
    redirect_link_create(
        name="Fuzz link",
        url="https://shop.example/",
        source=redirect,
        event_type="Link Click",
        props={"q": "payload@params.q"},
        link_id="fuzz-link",
    )
    return Fuzzer()


def one_event_with(path: tuple, value: object) -> dict:
    return {"body": {"source": {"id": "fuzz-web"}, "events": []}, "twist": (path, value)}


@settings(FUZZ, max_examples=100)
@given(
    body=valid_bodies,
    twist=st.one_of(st.none(), twists),
    query=st.sampled_from(["", "?profile_less=true", "?profile_less=%00"]),
)
@example(**one_event_with(("events", 0, "type"), "a\x00"), query="")
@example(**one_event_with(("events", 0, "properties"), {"k\x00": 1}), query="")
@example(**one_event_with(("events", 0, "time", "create"), "2024-01-01T10:00:00"), query="")
@example(**one_event_with(("events", 0, "time", "create"), "2024-W01-1"), query="")
@example(**one_event_with(("events", 0, "time", "create"), "0001-01-01T00:00:00+14:00"), query="")
@example(**one_event_with(("events", 0, "properties"), {"deep": deep(300)}), query="")
@example(**one_event_with(("events", 0, "type"), "İ" * 100), query="")
def test_track_survives_one_hostile_value_in_a_valid_body(fuzzer, body, twist, query):
    body = twisted(body, twist)
    raw = json.dumps(body)
    fuzzer.check(
        lambda client: client.post(f"/track{query}", raw, content_type="application/json"),
        accepted=track_accepted(body),
    )


@FUZZ
@given(body=any_json)
def test_track_survives_any_json(fuzzer, body):
    raw = json.dumps(body)
    fuzzer.check(
        lambda client: client.post("/track", raw, content_type="application/json"),
        accepted=None,
    )


@FUZZ
@given(
    raw=st.one_of(
        st.binary(max_size=200),
        st.text(any_char, max_size=50).map(lambda text: text.encode("utf-8", "surrogatepass")),
    )
)
def test_track_survives_any_bytes(fuzzer, raw):
    fuzzer.check(
        lambda client: client.post("/track", raw, content_type="application/json"),
        accepted=None,
    )


@FUZZ
@given(
    event_type=st.one_of(path_segments, st.just("order paid")),
    source_id=st.one_of(st.just("fuzz-hook"), path_segments),
    session_id=st.one_of(st.none(), st.just("fuzz-session"), path_segments),
    kind=st.sampled_from(["json", "form", "query"]),
    data=st.one_of(storable_objects, hostile_objects),
    flat=st.dictionaries(
        st.text(encodable_char, max_size=8), st.text(encodable_char, max_size=8), max_size=4
    ),
)
@example(event_type="a\x00", source_id="fuzz-hook", session_id=None, kind="json", data={}, flat={})
@example(
    event_type="t" * 101, source_id="fuzz-hook", session_id=None, kind="json", data={}, flat={}
)
@example(event_type="a", source_id="fuzz-hook", session_id="s" * 65, kind="json", data={}, flat={})
@example(
    event_type="a", source_id="fuzz-hook", session_id="s", kind="form", data={}, flat={"a": "\x00"}
)
@example(
    event_type="a", source_id="fuzz-hook", session_id="s", kind="query", data={}, flat={"\x00": "1"}
)
def test_collect_survives_any_path_and_body(
    fuzzer, event_type, source_id, session_id, kind, data, flat
):
    path = f"/collect/{encode_segment(event_type)}/{encode_segment(source_id)}"
    if session_id is not None:
        path += f"/{encode_segment(session_id)}"

    def send(client):
        if kind == "json":
            return client.post(path, json.dumps(data), content_type="application/json")
        if kind == "form":
            return client.post(path, flat)
        return client.get(path, flat)

    fuzzer.check(send, accepted=lambda before_ids: [normalise_event_type(event_type)])


@FUZZ
@given(
    link_id=st.one_of(st.just("fuzz-link"), path_segments),
    session_id=st.one_of(st.none(), path_segments),
    cookie=st.one_of(st.none(), cookie_headers),
    query=st.dictionaries(st.sampled_from(["q", "x"]), st.text(encodable_char, max_size=8)),
)
@example(link_id="fuzz-link", session_id="s" * 65, cookie=None, query={})
@example(link_id="fuzz-link", session_id=None, cookie='"s\\000"', query={})
@example(link_id="fuzz-link", session_id=None, cookie="s" * 65, query={})
def test_redirect_survives_any_path_cookie_and_query(fuzzer, link_id, session_id, cookie, query):
    path = f"/redirect/{encode_segment(link_id)}"
    if session_id is not None:
        path += f"/{encode_segment(session_id)}"
    headers = {} if cookie is None else {"HTTP_COOKIE": f"tracardi-session-id={cookie}"}
    fuzzer.check(
        lambda client: client.get(path, query, **headers),
        accepted=lambda before_ids: ["link-click"],
    )


@FUZZ
@given(
    prefix=st.sampled_from(["/track", "/collect", "/redirect"]),
    segments=st.lists(path_segments, max_size=5),
    trailing=st.booleans(),
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
)
def test_every_path_shape_answers_json(fuzzer, prefix, segments, trailing, method):
    path = prefix + "".join(f"/{encode_segment(segment)}" for segment in segments)
    path += "/" if trailing else ""

    def send(client):
        return client.generic(method, path, b"{}", content_type="application/json")

    # What a success stores is checked by the tests above; here: no 5xx, JSON errors.
    fuzzer.check(send, accepted=None)
