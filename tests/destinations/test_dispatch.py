"""Claim, condition, mapping, send, record, retry and recovery, run in the test process against
a real local HTTP server (the Celery worker versions are in test_worker.py)."""

import base64
import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from kombu import Connection, Exchange, Queue

from apps.destinations.models import Delivery, DeliveryAttempt
from apps.destinations.redaction import redact
from apps.destinations.senders import SENDERS
from apps.destinations.services import (
    claimed_delivery_send,
    deliveries_recover_stale,
    deliveries_retry,
    delivery_claim_next,
    delivery_process_next,
    destination_deliveries_send,
    event_deliveries_schedule,
    profile_deliveries_schedule,
    retry_delay_seconds,
)
from apps.destinations.tasks import deliveries_dispatch
from apps.profiles.documents import profile_document
from cdp.celery import app
from tests.destinations.factories import (
    DestinationFactory,
    EventFactory,
    ProfileFactory,
    ResourceFactory,
)
from tests.destinations.servers import Reply
from tests.destinations.test_senders import AMQP_URL, read_one


def schedule_now(profile, changed_fields=("traits.plan",)):
    profile_deliveries_schedule(
        profile_id=profile.pk,
        changed_fields=list(changed_fields),
        now=timezone.now() - timedelta(seconds=1),
    )


def dispatch_until_settled(destination, timeout=5.0):
    """Run the destination's send loop until no delivery is pending or sending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        destination_deliveries_send(destination_id=destination.pk)
        if not Delivery.objects.filter(
            destination=destination, status__in=["pending", "sending"]
        ).exists():
            return
        time.sleep(0.01)
    raise AssertionError("deliveries did not settle")


def attempts_of(delivery):
    return list(
        DeliveryAttempt.objects.filter(delivery=delivery)
        .order_by("started", "id")
        .values_list("number", "outcome", "status_code")
    )


@pytest.mark.django_db
def test_condition_false_skips_without_sending(http_server):
    server = http_server([200])
    destination = DestinationFactory(url=server.url, condition='profile@traits.plan == "pro"')
    profile = ProfileFactory(traits={"plan": "free"})
    schedule_now(profile)

    dispatch_until_settled(destination)

    delivery = Delivery.objects.get()
    assert delivery.status == "skipped"
    assert delivery.last_error == 'Condition is false: profile@traits.plan == "pro"'
    assert delivery.attempts == 0
    assert delivery.finished_at is not None
    assert attempts_of(delivery) == []
    assert server.requests == []


@pytest.mark.django_db
def test_condition_true_sends_and_the_mapping_output_is_exact(http_server):
    server = http_server([Reply(200, body="thanks")])
    destination = DestinationFactory(
        url=server.url,
        condition='profile@traits.plan == "pro" AND profile@data.contact.email.main EXISTS',
        mapping={
            "email": "profile@data.contact.email.main",
            "name": "profile@data.pii.firstname",
            "visits": "profile@stats.visits",
            "company": "profile@data.job.company",
            "segment?": "profile@traits.segment",
            "tags": ["profile@traits.plan", "crm"],
            "source": "cdp",
        },
    )
    profile = ProfileFactory(traits={"plan": "pro"}, stats={"visits": 7})
    schedule_now(profile, ["traits.plan", "stats.visits"])

    dispatch_until_settled(destination)

    expected = {
        "email": "ada@example.com",
        "name": "Ada",
        "visits": 7,
        "company": None,
        "tags": ["pro", "crm"],
        "source": "cdp",
    }
    [request] = server.requests
    assert request.json() == {"data": expected, "changes": ["traits.plan", "stats.visits"]}
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.payload) == ("sent", 1, expected)
    assert request.headers["idempotency-key"] == f"{delivery.pk}-1"
    [attempt] = DeliveryAttempt.objects.filter(delivery=delivery)
    assert (attempt.number, attempt.outcome, attempt.status_code) == (1, "sent", 200)
    assert attempt.response_excerpt == "thanks"
    assert attempt.duration_ms is not None


@pytest.mark.django_db
def test_empty_mapping_sends_the_whole_profile_document(http_server):
    server = http_server([200])
    destination = DestinationFactory(url=server.url, mapping={})
    profile = ProfileFactory()
    schedule_now(profile)

    dispatch_until_settled(destination)

    assert server.requests[0].json()["data"] == {"profile": profile_document(profile)}


@pytest.mark.django_db
def test_event_destination_renders_event_and_profile(http_server):
    server = http_server([200])
    destination = DestinationFactory(
        url=server.url,
        kind="event",
        event_type="purchase",
        mapping={
            "type": "event@type",
            "total": "event@properties.total",
            "email": "profile@data.contact.email.main",
        },
    )
    event = EventFactory(type="purchase")
    event_deliveries_schedule(
        event_ids=[event.pk],
        source_id=event.source_id,
        event_types={"purchase"},
        now=timezone.now() - timedelta(seconds=1),
    )

    dispatch_until_settled(destination)

    assert server.requests[0].json() == {
        "data": {"type": "purchase", "total": 42.5, "email": "ada@example.com"},
        "changes": [],
    }
    assert Delivery.objects.get().status == "sent"


@pytest.mark.django_db
def test_500_500_200_is_sent_on_the_third_attempt(http_server):
    server = http_server([500, 500, 200])
    destination = DestinationFactory(url=server.url)
    schedule_now(ProfileFactory())

    dispatch_until_settled(destination)

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, "")
    assert attempts_of(delivery) == [(1, "retry", 500), (2, "retry", 500), (3, "sent", 200)]
    keys = [request.headers["idempotency-key"] for request in server.requests]
    assert keys == [f"{delivery.pk}-1", f"{delivery.pk}-2", f"{delivery.pk}-3"]


@pytest.mark.django_db
def test_400_fails_at_once(http_server):
    server = http_server([400, 200])
    destination = DestinationFactory(url=server.url)
    schedule_now(ProfileFactory())

    dispatch_until_settled(destination)

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == "HTTP 400 Bad Request"
    assert attempts_of(delivery) == [(1, "failed", 400)]
    assert len(server.requests) == 1


@pytest.mark.django_db
def test_429_is_retried_after_the_remotes_retry_after(http_server, settings):
    settings.CDP_DELIVERY_RETRY_MAX_MS = 10_000
    server = http_server([Reply(429, headers={"Retry-After": "1"}), 200])
    destination = DestinationFactory(url=server.url)
    schedule_now(ProfileFactory())

    destination_deliveries_send(destination_id=destination.pk)
    delivery = Delivery.objects.get()
    first = DeliveryAttempt.objects.get(delivery=delivery)
    assert delivery.status == "pending"
    assert delivery.last_error == "HTTP 429 Too Many Requests; attempt 1 failed, retrying."
    wait = (delivery.due_at - first.started).total_seconds()
    assert 1.0 <= wait < 1.5

    dispatch_until_settled(destination)

    assert server.requests[1].received_at - server.requests[0].received_at >= 1.0
    assert attempts_of(delivery) == [(1, "retry", 429), (2, "sent", 200)]


@pytest.mark.django_db
def test_retryable_failures_give_up_after_max_attempts_and_an_admin_retry_sends(http_server):
    server = http_server([503, 503, 503, 503, 200])
    destination = DestinationFactory(url=server.url)
    schedule_now(ProfileFactory())

    dispatch_until_settled(destination)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 4)
    assert delivery.last_error == "HTTP 503 Service Unavailable (gave up after 4 attempts)"

    summary = deliveries_retry(delivery_ids=[delivery.pk])
    assert (summary.requeued, summary.merged, summary.not_failed) == (1, 0, 0)
    dispatch_until_settled(destination)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.round_start_attempts) == ("sent", 5, 4)
    assert server.requests[-1].headers["idempotency-key"] == f"{delivery.pk}-5"
    assert len(server.requests) == 5


def test_backoff_is_exponential_with_jitter_and_capped(settings):
    settings.CDP_DELIVERY_RETRY_BASE_MS = 1000
    settings.CDP_DELIVERY_RETRY_MAX_MS = 5000

    for _ in range(50):
        assert 0.5 <= retry_delay_seconds(attempt_in_round=1, retry_after=None) <= 1.0
        assert 2.0 <= retry_delay_seconds(attempt_in_round=3, retry_after=None) <= 4.0
        assert 2.5 <= retry_delay_seconds(attempt_in_round=10, retry_after=None) <= 5.0
    assert len({retry_delay_seconds(attempt_in_round=2, retry_after=None) for _ in range(20)}) > 1
    assert retry_delay_seconds(attempt_in_round=1, retry_after=3) == 3
    assert retry_delay_seconds(attempt_in_round=1, retry_after=3600) == 5


@pytest.mark.django_db
def test_a_failed_retry_folds_into_a_newer_pending_sync(http_server):
    server = http_server([500, 200])
    destination = DestinationFactory(url=server.url, delay_seconds=0)
    profile = ProfileFactory()
    schedule_now(profile, ["traits.a"])
    found, claimed = delivery_claim_next(destination_id=destination.pk)
    # While the first sync is on the wire, the profile changes again.
    profile_deliveries_schedule(profile_id=profile.pk, changed_fields=["traits.b"])

    claimed_delivery_send(claimed)  # answered 500: retryable

    first = Delivery.objects.get(pk=claimed.delivery.pk)
    newer = Delivery.objects.get(status="pending")
    assert first.status == "skipped"
    assert first.last_error.endswith(
        f"Superseded by the newer pending delivery {newer.pk}, which sends the current profile."
    )
    assert newer.changed_fields == ["traits.a", "traits.b"]
    dispatch_until_settled(destination)
    assert server.requests[-1].json()["changes"] == ["traits.a", "traits.b"]
    assert Delivery.objects.get(pk=newer.pk).status == "sent"


@pytest.mark.django_db
def test_a_lost_send_is_resent_with_the_same_idempotency_key(http_server, settings):
    server = http_server([200])
    destination = DestinationFactory(url=server.url)
    schedule_now(ProfileFactory())
    # The worker claims and commits the attempt, then dies before recording anything.
    found, claimed = delivery_claim_next(destination_id=destination.pk)
    delivery = claimed.delivery

    assert deliveries_recover_stale() == 0  # the lease has not expired
    later = timezone.now() + timedelta(seconds=settings.CDP_DELIVERY_LEASE_SECONDS + 1)
    assert deliveries_recover_stale(now=later) == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.in_flight_attempt, delivery.recoveries) == ("pending", 1, 1)
    dispatch_until_settled(destination)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.in_flight_attempt) == ("sent", 1, None)
    assert attempts_of(delivery) == [(1, "lost", None), (1, "sent", 200)]
    assert [r.headers["idempotency-key"] for r in server.requests] == [f"{delivery.pk}-1"]


@pytest.mark.django_db
def test_a_delivery_that_keeps_losing_its_worker_fails(settings):
    settings.CDP_DELIVERY_MAX_RECOVERIES = 1
    destination = DestinationFactory()
    schedule_now(ProfileFactory())
    later = timezone.now() + timedelta(seconds=settings.CDP_DELIVERY_LEASE_SECONDS + 1)

    delivery_claim_next(destination_id=destination.pk)
    deliveries_recover_stale(now=later)
    delivery_claim_next(destination_id=destination.pk, now=later)
    deliveries_recover_stale(now=later + timedelta(seconds=settings.CDP_DELIVERY_LEASE_SECONDS + 1))

    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.last_error == (
        "The worker was lost during 2 sends of this delivery; not trying again automatically."
    )


@pytest.mark.django_db(transaction=True)
def test_parallel_runs_never_send_a_delivery_twice(http_server, settings):
    settings.CDP_DELIVERY_DESTINATION_CONCURRENCY = 3
    server = http_server([Reply(200, delay=0.05)])
    destination = DestinationFactory(url=server.url)
    for _ in range(6):
        schedule_now(ProfileFactory())

    def run():
        try:
            destination_deliveries_send(destination_id=destination.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    keys = [request.headers["idempotency-key"] for request in server.requests]
    assert len(keys) == 6
    assert len(set(keys)) == 6
    assert Delivery.objects.filter(status="sent").count() == 6


def hold_slow_slot():
    """As a run of another slow destination does while it sends."""
    held = cache.lock("destinations:slow-slot:0", timeout=5, blocking=False)
    assert held.acquire(blocking=False)
    return held


@pytest.mark.django_db
def test_slow_destinations_share_the_slow_slots_and_a_fast_send_frees_them(http_server, settings):
    settings.CDP_DELIVERY_SLOW_SEND_MS = 200
    settings.CDP_DELIVERY_SLOW_SLOTS = 1
    slow_server = http_server([Reply(200, delay=0.3), Reply(200, delay=0.3), 200])
    slow = DestinationFactory(url=slow_server.url)
    for _ in range(3):
        schedule_now(ProfileFactory())
    assert delivery_process_next(destination_id=slow.pk)  # 0.3 s: now known as slow

    held = hold_slow_slot()
    try:
        refused = destination_deliveries_send(destination_id=slow.pk)
    finally:
        held.release()
    assert (refused.processed, refused.more_due, refused.had_slot) == (0, False, False)
    assert len(slow_server.requests) == 1

    assert delivery_process_next(destination_id=slow.pk)  # slow again
    assert delivery_process_next(destination_id=slow.pk)  # fast: no longer slow
    held = hold_slow_slot()
    try:
        schedule_now(ProfileFactory())
        run = destination_deliveries_send(destination_id=slow.pk)
    finally:
        held.release()
    assert (run.processed, run.more_due, run.had_slot) == (1, False, True)
    assert Delivery.objects.filter(destination=slow, status="sent").count() == 4


@pytest.mark.django_db
def test_a_run_that_turns_slow_stops_when_the_slow_slots_are_taken(http_server, settings):
    settings.CDP_DELIVERY_SLOW_SEND_MS = 200
    settings.CDP_DELIVERY_SLOW_SLOTS = 1
    server = http_server([Reply(200, delay=0.3)])
    destination = DestinationFactory(url=server.url)
    for _ in range(3):
        schedule_now(ProfileFactory())

    held = hold_slow_slot()
    try:
        run = destination_deliveries_send(destination_id=destination.pk)
    finally:
        held.release()

    # The first send showed it slow; the rest wait for a slow slot (the next beat tick).
    assert (run.processed, run.more_due, run.had_slot) == (1, False, True)
    assert len(server.requests) == 1
    assert Delivery.objects.filter(destination=destination, status="pending").count() == 2


@pytest.mark.django_db
def test_a_run_without_a_free_slot_sends_nothing(http_server):
    server = http_server([200])
    destination = DestinationFactory(url=server.url)
    schedule_now(ProfileFactory())

    held = cache.lock(f"destinations:sending:{destination.pk}:0", timeout=5, blocking=False)
    assert held.acquire(blocking=False)
    try:
        run = destination_deliveries_send(destination_id=destination.pk)
    finally:
        held.release()

    assert (run.processed, run.had_slot) == (0, False)
    assert server.requests == []


@pytest.mark.django_db
def test_dispatch_starts_runs_for_destinations_with_due_deliveries(http_server, monkeypatch):
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    server = http_server([200])
    due = DestinationFactory(url=server.url)
    not_yet = DestinationFactory(url=server.url, delay_seconds=600, max_delay_seconds=600)
    disabled = DestinationFactory(url=server.url)
    profile = ProfileFactory()
    schedule_now(profile)
    profile_deliveries_schedule(profile_id=profile.pk, changed_fields=[])
    disabled.enabled = False
    disabled.save()

    started = deliveries_dispatch()

    assert started == [due.pk]
    assert Delivery.objects.get(destination=due).status == "sent"
    assert Delivery.objects.get(destination=not_yet).status == "pending"
    assert Delivery.objects.get(destination=disabled).status == "pending"  # paused
    assert len(server.requests) == 1


@pytest.mark.django_db
def test_secrets_are_redacted_from_recorded_errors(http_server):
    server = http_server([Reply(401, body="invalid key s3cret-key-123")])
    resource = ResourceFactory(credentials={"headers": {"X-Api-Key": "s3cret-key-123"}})
    destination = DestinationFactory(url=server.url, resource=resource)
    schedule_now(ProfileFactory())

    dispatch_until_settled(destination)

    attempt = DeliveryAttempt.objects.get()
    assert attempt.response_excerpt == "invalid key •••"
    assert server.requests[0].headers["x-api-key"] == "s3cret-key-123"


@pytest.mark.django_db
def test_an_echoed_basic_auth_header_is_redacted_from_the_attempt(http_server):
    # Remotes that echo the request (debug endpoints, some error pages) send back the
    # Authorization header, where the password is base64("user:password").
    server = http_server([Reply(401, body="denied ", echo_headers=True)])
    resource = ResourceFactory(
        credentials={"basic_auth": {"username": "crm-user", "password": "pa55 w0rd/+é"}}
    )
    destination = DestinationFactory(url=server.url, resource=resource)
    schedule_now(ProfileFactory())

    dispatch_until_settled(destination)

    sent = server.requests[0].headers["authorization"]
    assert sent == "Basic " + base64.b64encode("crm-user:pa55 w0rd/+é".encode("latin-1")).decode()
    attempt = DeliveryAttempt.objects.get()
    assert attempt.response_excerpt.startswith("denied {")
    echoed = json.loads(attempt.response_excerpt.removeprefix("denied "))
    assert echoed["Authorization"] == "Basic •••"
    assert sent.split()[1] not in attempt.response_excerpt


CREDENTIALS = {
    "headers": {"Authorization": "Bearer tok-9f8e/7d6c+5b4a", "X-Api-Key": "k3y-0f-the-crm"},
    "basic_auth": {"username": "crm-user", "password": "pa55 w0rd/+é"},
}


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("token tok-9f8e/7d6c+5b4a refused", "token ••• refused"),  # the bearer token alone
        ("Bearer tok-9f8e/7d6c+5b4a", "•••"),  # the whole header value
        ("GET /?token=tok-9f8e%2F7d6c%2B5b4a failed", "GET /?token=••• failed"),
        ('{"auth": "Bearer tok-9f8e\\/7d6c+5b4a"}', '{"auth": "•••"}'),
        ("key azN5LTBmLXRoZS1jcm0= seen", "key ••• seen"),  # base64 of a header value
        ("Basic Y3JtLXVzZXI6cGE1NSB3MHJkLyvp", "Basic •••"),  # latin-1, as requests sends
        ("Basic Y3JtLXVzZXI6cGE1NSB3MHJkLyvDqQ==", "Basic •••"),  # UTF-8
        ("Basic Y3JtLXVzZXI6cGE1NSB3MHJkLyvDqQ", "Basic •••"),  # without its padding
        ("password=pa55+w0rd%2F%2B%C3%A9", "password=•••"),  # form-encoded
        ("password=pa55%20w0rd%2F%2B%C3%A9", "password=•••"),  # URL-encoded
        ("password pa55 w0rd/+\\u00e9", "password •••"),  # JSON-escaped
    ],
)
def test_redact_replaces_every_encoded_form_of_a_credential(text, redacted):
    assert redact(text, CREDENTIALS) == redacted


def test_redact_finds_the_password_inside_a_broker_url_and_smtp_logins():
    amqp = {"url": "amqp://guest:s%40fe-pass@broker:5672//"}
    smtp = {"host": "mx.example.com", "username": "mailer", "password": "sm7p-pass"}

    assert redact("ACCESS_REFUSED for s@fe-pass", amqp) == "ACCESS_REFUSED for •••"
    assert redact("login with s%40fe-pass", amqp) == "login with •••"
    plain = base64.b64encode(b"\0mailer\0sm7p-pass").decode()
    login = base64.b64encode(b"sm7p-pass").decode()
    assert redact(f"AUTH PLAIN {plain} / {login}", smtp) == "AUTH PLAIN ••• / •••"


class ExplodingSender:
    settings_schema: dict = {}
    credentials_schema: dict = {}

    def send(self, **kwargs):
        raise RuntimeError(f"bug while using {kwargs['credentials']['headers']['X-Key']}")


@pytest.mark.django_db
def test_a_sender_bug_fails_the_delivery_and_logs_no_secret(monkeypatch, caplog):
    monkeypatch.setitem(SENDERS, "webhook", ExplodingSender())
    resource = ResourceFactory(credentials={"headers": {"X-Key": "top-secret-123"}})
    destination = DestinationFactory(resource=resource)
    schedule_now(ProfileFactory())

    dispatch_until_settled(destination)

    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.last_error == "Sender error: RuntimeError: bug while using •••"
    assert "RuntimeError" in caplog.text
    assert "top-secret-123" not in caplog.text


@pytest.mark.django_db
def test_profile_sync_by_e_mail(smtp_server):
    controller, handler = smtp_server
    resource = ResourceFactory(
        type="smtp", credentials={"host": "127.0.0.1", "port": controller.port}
    )
    destination = DestinationFactory(
        resource=resource,
        mapping={"plan": "profile@traits.plan"},
        settings={
            "from": "cdp@example.com",
            "to": "{{profile@data.contact.email.main}}",
            "subject": "Plan changed",
            "body": "Hi {{profile@data.pii.firstname}}, your plan is {{payload@plan}}.",
        },
    )
    schedule_now(ProfileFactory(traits={"plan": "pro"}))

    dispatch_until_settled(destination)

    [envelope] = handler.messages
    assert envelope.rcpt_tos == ["ada@example.com"]
    assert b"Hi Ada, your plan is pro." in envelope.content
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.payload) == ("sent", {"plan": "pro"})
    assert f"Message-ID: <{delivery.pk}-1@example.com>".encode() in envelope.content


@pytest.mark.django_db
def test_event_delivery_to_rabbitmq():
    queue_name = f"cdp-test-{uuid.uuid4().hex[:10]}"
    with Connection(AMQP_URL) as amqp:
        queue = Queue(queue_name, exchange=Exchange(""), routing_key=queue_name)
        queue(amqp.channel()).declare()
        try:
            resource = ResourceFactory(type="rabbitmq", credentials={"url": AMQP_URL})
            destination = DestinationFactory(
                resource=resource,
                kind="event",
                event_type="purchase",
                mapping={"event": "event@id", "total": "event@properties.total"},
                settings={"routing_key": queue_name},
            )
            event = EventFactory(type="purchase")
            event_deliveries_schedule(
                event_ids=[event.pk],
                source_id=event.source_id,
                event_types={"purchase"},
                now=timezone.now() - timedelta(seconds=1),
            )

            dispatch_until_settled(destination)

            message = read_one(amqp, queue_name)
            assert json.loads(message.body) == {
                "data": {"event": event.pk, "total": 42.5},
                "changes": [],
            }
            delivery = Delivery.objects.get()
            assert delivery.status == "sent"
            assert message.properties["message_id"] == f"{delivery.pk}-1"
        finally:
            queue(amqp.channel()).delete()
