"""Issue 12 item 11: per-source and per-client rate limits on the public endpoints (off unless
configured), 429 `{"detail": ...}` with Retry-After, counted in the real Redis."""

import socket
import time
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.management import call_command

from apps.core import ratelimit as counters
from apps.events.models import Event
from apps.sources.models import EventSource
from apps.sources.services import event_source_create, redirect_link_create
from apps.tracking import ratelimit
from tests.tracking.conftest import payload

pytestmark = pytest.mark.django_db

# A window of a day: a test never straddles two windows (it would start counting afresh).
DAY = 86_400


@pytest.fixture
def make_source():
    """Sources with fresh ids, so counters left in Redis by an earlier run never apply; their
    counters are deleted afterwards."""
    made = []
    # The Redis of the counters, read now: a test may point the limiter elsewhere meanwhile.
    redis_url = django_settings.REDIS_URL

    def make(config=None, bridge=EventSource.Bridge.REST):
        source = event_source_create(
            name="Limited", source_id=f"rl-{uuid.uuid4()}", bridge=bridge, config=config or {}
        )
        made.append(source.pk)
        return source

    yield make
    client = redis.Redis.from_url(redis_url)
    for source_id in made:
        for key in client.scan_iter(f"{ratelimit.KEY_PREFIX}:*:{source_id}:*"):
            client.delete(key)


def track(api, source, kind, ip, **extra):
    return api.track(payload(source.pk, events=[{"type": kind}]), REMOTE_ADDR=ip, **extra)


def test_nothing_is_limited_by_default_not_even_the_demo_source(api, db):
    call_command("ensure_demo_source", stdout=open("/dev/null", "w"))  # noqa: SIM115
    demo = EventSource.objects.get()
    client = counters._redis()

    statuses = {track(api, demo, "view", "203.0.113.5").status_code for _ in range(30)}

    assert statuses == {200}
    assert list(client.scan_iter(f"{ratelimit.KEY_PREFIX}:*:{demo.pk}:*")) == []


def test_a_client_over_its_limit_gets_429_with_retry_after_and_nothing_is_stored(api, make_source):
    source = make_source({"rate_limit": {"client": 2, "window_seconds": DAY}})

    answers = [track(api, source, f"try-{n}", "203.0.113.5") for n in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    refused = answers[2]
    assert refused["Content-Type"] == "application/json"
    wait = int(refused["Retry-After"])
    assert 1 <= wait <= DAY
    assert refused.json() == {
        "detail": f"Too many requests: more than 2 per {DAY} s for this client of event source "
        f"{source.pk}. Expected available in {wait} seconds."
    }
    assert not Event.objects.filter(type="try-2").exists()
    # Another client of the same source is not held back.
    assert track(api, source, "other", "203.0.113.6").status_code == 200


def test_the_source_limit_counts_every_client(api, make_source):
    source = make_source({"rate_limit": {"source": 2, "window_seconds": DAY}})

    statuses = [
        track(api, source, "view", ip).status_code
        for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3")
    ]

    assert statuses == [200, 200, 429]


def test_settings_limit_every_source_and_a_source_config_lifts_it(api, make_source, settings):
    settings.CDP_RATE_LIMIT_CLIENT = 1
    settings.CDP_RATE_LIMIT_WINDOW_SECONDS = DAY
    plain = make_source()
    unlimited = make_source({"rate_limit": {"client": 0}})

    assert [track(api, plain, "view", "203.0.113.9").status_code for _ in range(2)] == [200, 429]
    assert [track(api, unlimited, "view", "203.0.113.9").status_code for _ in range(3)] == [
        200,
        200,
        200,
    ]


def test_collect_and_redirect_are_limited_too(client, make_source):
    limit = {"rate_limit": {"client": 1, "window_seconds": DAY}}
    hook = make_source(limit, bridge=EventSource.Bridge.WEBHOOK)
    link = redirect_link_create(
        name="Mail", url="https://shop.example/", source=make_source(limit, bridge="redirect")
    )

    collects = [client.post(f"/collect/lead/{hook.pk}", data={"a": 1}) for _ in range(2)]
    redirects = [client.get(f"/redirect/{link.pk}") for _ in range(2)]

    assert [answer.status_code for answer in collects] == [200, 429]
    assert [answer.status_code for answer in redirects] == [307, 429]
    assert redirects[1].json()["detail"].startswith("Too many requests: more than 1 per")


def test_x_forwarded_for_names_the_client_only_behind_trusted_proxies(api, make_source, settings):
    source = make_source({"rate_limit": {"client": 1, "window_seconds": DAY}})
    proxy = "10.0.0.2"

    # No trusted proxy: whatever a client claims, it is counted by its own address.
    spoofed = [
        track(api, source, "view", proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
        for n in range(2)
    ]
    settings.CDP_RATE_LIMIT_PROXIES = 1
    # One trusted proxy: the address it appended is the client; what the client wrote is not.
    behind = [
        track(api, source, "view", proxy, HTTP_X_FORWARDED_FOR=forwarded).status_code
        for forwarded in ("1.1.1.1, 198.51.100.7", "2.2.2.2, 198.51.100.7", "198.51.100.8")
    ]

    assert spoofed == [200, 429]
    assert behind == [200, 429, 200]


def test_an_unreachable_redis_lets_requests_through(api, make_source, monkeypatch):
    source = make_source({"rate_limit": {"client": 1, "window_seconds": DAY}})
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The limiter's own client, as production builds it, for a Redis nobody answers at.
    monkeypatch.setattr(counters, "_client", None)
    monkeypatch.setattr(django_settings, "REDIS_URL", f"redis://127.0.0.1:{port}/0")

    started = time.monotonic()
    statuses = [track(api, source, f"down-{n}", "203.0.113.5").status_code for n in range(3)]
    elapsed = time.monotonic() - started

    assert statuses == [200, 200, 200]
    # No retries against a Redis that refuses: the three requests are not held back (redis-py's
    # default retries cost 3.3 s each).
    assert elapsed < 3
    assert Event.objects.filter(type__startswith="down-").count() == 3


@pytest.mark.parametrize(
    ("rate_limit", "message"),
    [
        (5, 'rate_limit: an object like {"source": 1000, "client": 60, "window_seconds": 60}'),
        ({"clients": 5}, "rate_limit: unknown key 'clients' (use source, client, window_seconds)"),
        ({"client": -1}, "rate_limit: client must be a whole number of at least 0"),
        ({"window_seconds": 0}, "rate_limit: window_seconds must be a whole number of at least 1"),
        ({"source": "10"}, "rate_limit: source must be a whole number of at least 0"),
    ],
)
def test_a_source_config_with_a_bad_rate_limit_is_refused(db, rate_limit, message):
    with pytest.raises(ValidationError) as refused:
        event_source_create(name="Bad", config={"rate_limit": rate_limit})

    assert refused.value.message_dict == {"config": [message]}
