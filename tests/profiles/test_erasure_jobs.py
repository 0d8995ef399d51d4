"""Erasure as a background job: started at once, indexed bounded batches, resumable, followed
in the admin and from `forget_profile`, forwarded to destinations that support deletion."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.destinations.models import Delivery
from apps.destinations.services import delivery_process_next
from apps.events.models import Event
from apps.profiles.hooks import profile_followers
from apps.profiles.models import ErasureRecord, Profile
from apps.profiles.selectors import profile_id_is_forgotten, profile_id_resolve
from apps.profiles.services.erasure import erasure_proceed, profile_forget
from apps.profiles.tasks import erasures_resume, profile_erasure_start
from apps.workflows.models import WorkflowRun
from tests.destinations.factories import DestinationFactory, ResourceFactory
from tests.destinations.servers import ScriptedHTTPServer
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory, SessionFactory
from tests.profiles.test_erasure import person_with_history, rows_mentioning
from tests.sources.factories import EventSourceFactory
from tests.support.celery_worker import celery_worker, wait_for  # noqa: F401  (a fixture)
from tests.workflows.factories import WorkflowFactory

DONE_COUNTS = {
    "profiles": 1,
    "sessions": 2,
    "events": 3,
    "workflow_runs": 1,
    "deliveries": 2,
    "consent_changes": 2,
    "entities": 2,
    "parked_runs": 0,
    "merge_records": 2,
}


def events_of(profile, session, count: int, prefix: str) -> None:
    source = EventSourceFactory()
    workflow = WorkflowFactory()
    for number in range(count):
        event = EventFactory(
            id=f"{prefix}-{number}", profile=profile, session=session, source=source
        )
        WorkflowRun.objects.create(
            workflow=workflow,
            workflow_version=1,
            event=event,
            event_ref=event.pk,
            event_type="page-view",
            profile=profile,
            status="ok",
            started=timezone.now(),
            duration_ms=1,
        )


@pytest.mark.django_db
def test_forgetting_records_the_ids_at_once_and_leaves_the_rows_to_the_job():
    person_with_history()

    record = profile_forget(profile_id="phone", actor="dpo")

    assert (record.status, record.profile_ids, record.erased_at) == (
        "running",
        ["laptop", "phone"],
        None,
    )
    assert record.deleted == dict.fromkeys(DONE_COUNTS, 0)
    # Nothing deleted yet, and yet no id resolves any more.
    assert Profile.objects.filter(pk="laptop").exists()
    assert profile_id_resolve(profile_id="laptop", static=False) is None
    assert profile_id_resolve(profile_id="phone", static=False) is None
    assert profile_id_resolve(profile_id="bystander", static=False).id == "bystander"
    assert profile_id_is_forgotten("phone") is True
    with pytest.raises(Exception, match=r"^Profile laptop is being erased since "):
        profile_forget(profile_id="laptop", actor="dpo")


@pytest.mark.django_db
def test_erasure_goes_in_bounded_batches_each_committing_its_counts():
    laptop = ProfileFactory(id="laptop")
    session = SessionFactory(id="laptop-s", profile=laptop)
    events_of(laptop, session, 5, "e")
    record = profile_forget(profile_id="laptop", actor="dpo")

    progress = []
    # seconds=0: one batch per call, as a job cut short after each batch would leave it.
    while not erasure_proceed(erasure_id=record.pk, seconds=0, batch_size=2):
        record.refresh_from_db()
        progress.append((record.status, record.deleted["events"], record.deleted["workflow_runs"]))

    # Runs of the profile first (2, 2, 1), then events (2, 2, 1), the session last.
    assert progress == [
        ("running", 0, 2),
        ("running", 0, 4),
        ("running", 0, 5),
        ("running", 2, 5),
        ("running", 4, 5),
        ("running", 5, 5),
        ("running", 5, 5),
    ]
    record.refresh_from_db()
    assert (record.status, record.deleted) == (
        "done",
        {
            "profiles": 1,
            "sessions": 1,
            "events": 5,
            "workflow_runs": 5,
            "deliveries": 0,
            "consent_changes": 0,
            "entities": 0,
            "parked_runs": 0,
            "merge_records": 0,
        },
    )
    assert erasure_proceed(erasure_id=record.pk) is True  # again: nothing more happens


@pytest.mark.django_db
def test_every_batch_query_of_an_erasure_is_served_by_an_index():
    """The one-transaction erasure planned a sequential scan of events and runs with a subquery
    probed per row. With sequential scans switched off, a query that still plans one has no
    index to use."""
    person_with_history()
    batch = ["laptop-e", "phone-e"]
    plans = {}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for follower in profile_followers():
            for number, rows in enumerate(follower.erasure_rows("laptop", ["laptop", "phone"])):
                sql, params = rows.values_list("pk", flat=True)[:1000].query.sql_with_params()
                cursor.execute("EXPLAIN " + sql, params)
                plans[f"{follower.key}[{number}]"] = "\n".join(row[0] for row in cursor)
            if follower.erasure_hangs_on is not None:
                rows = follower.erasure_hangs_on[1](batch).values_list("pk", flat=True)
                sql, params = rows.query.sql_with_params()
                cursor.execute("EXPLAIN " + sql, params)
                plans[f"{follower.key} of events"] = "\n".join(row[0] for row in cursor)

    unindexed = sorted(
        key for key, plan in plans.items() if "Seq Scan" in plan or "Index Cond" not in plan
    )
    assert unindexed == []
    assert sorted(plans) == [
        "consent_changes[0]",
        "deliveries of events",
        "deliveries[0]",
        "entities[0]",
        "events[0]",
        "events[1]",
        "events[2]",
        "parked_runs[0]",
        "sessions[0]",
        "workflow_runs of events",
        "workflow_runs[0]",
    ]


@pytest.mark.django_db
def test_events_that_arrive_during_the_erasure_go_with_it():
    laptop = ProfileFactory(id="laptop")
    session = SessionFactory(id="laptop-s", profile=laptop)
    events_of(laptop, session, 3, "e")
    record = profile_forget(profile_id="laptop", actor="dpo")
    erasure_proceed(erasure_id=record.pk, seconds=0, batch_size=2)

    # The visitor's open session keeps sending while the job runs.
    EventFactory(id="late", profile=laptop, session=session)
    assert erasure_proceed(erasure_id=record.pk) is True

    record.refresh_from_db()
    assert not Event.objects.filter(pk__in=["late", "e-0", "e-1", "e-2"]).exists()
    assert (record.deleted["events"], record.deleted["sessions"]) == (4, 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_the_worker_erases_a_person_started_from_the_admin_action(celery_worker, admin_client):  # noqa: F811
    person_with_history()
    url = reverse("admin:profiles_profile_changelist")

    response = admin_client.post(
        url, {"action": "forget_profiles", ACTION_CHECKBOX_NAME: ["laptop"], "confirm": "yes"}
    )

    assert response.status_code == 302
    record = ErasureRecord.objects.get()
    wait_for(
        lambda: ErasureRecord.objects.get().status == "done",
        timeout=60,
        message="the worker finishes the erasure",
    )
    record.refresh_from_db()
    assert record.deleted == DONE_COUNTS
    assert rows_mentioning(["laptop", "phone"]) == dict.fromkeys(
        [*DONE_COUNTS, "delivery_attempts"], 0
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_an_erasure_whose_job_died_is_resumed_by_the_sweep(celery_worker):  # noqa: F811
    laptop = ProfileFactory(id="laptop")
    session = SessionFactory(id="laptop-s", profile=laptop)
    events_of(laptop, session, 5, "e")
    # A job that died after two batches and was never enqueued again.
    record = profile_forget(profile_id="laptop", actor="dpo")
    erasure_proceed(erasure_id=record.pk, seconds=0, batch_size=2)
    erasure_proceed(erasure_id=record.pk, seconds=0, batch_size=2)
    ErasureRecord.objects.filter(pk=record.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=5)
    )

    erasures_resume.delay()

    wait_for(
        lambda: ErasureRecord.objects.get().status == "done",
        timeout=60,
        message="the sweep resumes the erasure and the worker finishes it",
    )
    record.refresh_from_db()
    assert (record.deleted["events"], record.deleted["workflow_runs"]) == (5, 5)
    assert not Profile.objects.filter(pk="laptop").exists()


@pytest.mark.django_db
def test_the_sweep_leaves_running_erasures_with_a_fresh_heartbeat_alone():
    ProfileFactory(id="busy")
    ProfileFactory(id="stalled")
    profile_forget(profile_id="busy", actor="dpo")
    stalled = profile_forget(profile_id="stalled", actor="dpo")
    ErasureRecord.objects.filter(pk=stalled.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=3)
    )

    assert erasures_resume.apply().get() == 1


@pytest.mark.django_db
def test_the_admin_shows_a_running_erasure_and_its_counts(admin_client):
    laptop = ProfileFactory(id="laptop")
    session = SessionFactory(id="laptop-s", profile=laptop)
    events_of(laptop, session, 3, "e")
    record = profile_erasure_start(profile_id="laptop", actor="dpo")
    erasure_proceed(erasure_id=record.pk, seconds=0, batch_size=2)

    page = admin_client.get(reverse("admin:profiles_profile_change", args=["laptop"]))
    listing = admin_client.get(reverse("admin:profiles_erasurerecord_changelist"))

    assert page.status_code == 200
    assert (
        f'This profile is being erased (<a href="/admin/profiles/erasurerecord/{record.pk}'
        f'/change/">erasure {record.pk}</a>, started ' in page.content.decode()
    )
    assert "workflow runs: 2." in page.content.decode()
    assert '<td class="field-status">Running</td>' in listing.content.decode()
    assert '<td class="field-counts">workflow runs: 2</td>' in listing.content.decode()


@pytest.mark.django_db
def test_forget_profile_finds_the_person_by_email_primary_id_or_identifier():
    ProfileFactory(id="by-mail", data={"contact": {"email": {"main": "Ada@Example.com"}}})
    ProfileFactory(id="by-primary", primary_id="CRM-1001")
    ProfileFactory(id="by-identifier", data={"identifier": {"badge": "B-7"}})
    out = StringIO()

    call_command("forget_profile", "ada@example.COM", "--yes", stdout=out)
    call_command("forget_profile", "CRM-1001", "--yes", stdout=out)
    call_command(
        "forget_profile", "B-7", "--identifier", "data.identifier.badge", "--yes", stdout=out
    )

    records = ErasureRecord.objects.order_by("started_at")
    assert [record.profile_ids for record in records] == [
        ["by-mail"],
        ["by-primary"],
        ["by-identifier"],
    ]
    assert out.getvalue().splitlines() == [
        f"Erasure {record.pk} of profile {record.profile_ids[0]} started in the background; its "
        f"ids are forgotten from now on. Follow it in the admin at "
        f"/admin/profiles/erasurerecord/{record.pk}/change/, or run this command with --wait."
        for record in records
    ]


@pytest.mark.django_db
def test_forget_profile_refuses_a_term_that_names_several_people():
    ProfileFactory(id="one", data={"contact": {"email": {"main": "shared@example.com"}}})
    ProfileFactory(id="two", data={"contact": {"email": {"main": "shared@example.com"}}})

    with pytest.raises(CommandError) as caught:
        call_command("forget_profile", "shared@example.com", "--yes")

    assert str(caught.value) in {
        "'shared@example.com' names 2 profiles (one, two): name one by its id.",
        "'shared@example.com' names 2 profiles (two, one): name one by its id.",
    }
    assert not ErasureRecord.objects.exists()


@pytest.mark.django_db
def test_forget_profile_waits_printing_progress():
    laptop = ProfileFactory(id="laptop")
    events_of(laptop, SessionFactory(profile=laptop), 3, "e")
    out = StringIO()

    call_command("forget_profile", "laptop", "--yes", "--wait", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[-11:] == [
        "Erased profile laptop.",
        "  profiles: 1",
        "  sessions: 1",
        "  events: 3",
        "  consent changes: 0",
        "  entities: 0",
        "  workflow runs: 3",
        "  deliveries: 0",
        "  parked runs: 0",
        "  merge records: 0",
        f"Erasure record: {ErasureRecord.objects.get().pk}",
    ]


@pytest.mark.django_db
def test_the_erasure_is_forwarded_as_a_deletion_request_to_webhooks_that_ask_for_it(
    admin_client,
):
    server = ScriptedHTTPServer([200]).start()
    try:
        forwarding = DestinationFactory(url=server.url, forward_erasures=True)
        DestinationFactory(url=server.url)  # does not forward erasures
        person_with_history()
        record = profile_forget(profile_id="laptop", actor="dpo")
        erasure_proceed(erasure_id=record.pk)

        request = Delivery.objects.get(erasure_id=record.pk)
        assert (request.destination_id, request.profile_id, request.event_id) == (
            forwarding.pk,
            None,
            None,
        )
        # The merges in person_with_history also scheduled a profile sync of the bystander.
        while delivery_process_next(destination_id=forwarding.pk):
            pass
    finally:
        server.stop()

    record.refresh_from_db()
    request.refresh_from_db()
    assert (record.deletion_requests, request.status) == (1, "sent")
    [received] = [r for r in server.requests if r.json()["data"].get("action") == "delete"]
    assert (received.method, received.headers["idempotency-key"]) == ("POST", f"{request.pk}-1")
    assert received.json() == {
        "data": {
            "action": "delete",
            "profile_ids": ["laptop", "phone"],
            "erasure_id": record.pk,
        },
        "changes": [],
    }
    listing = admin_client.get(reverse("admin:destinations_delivery_changelist")).content.decode()
    assert f'/admin/profiles/erasurerecord/{record.pk}/change/" title="{record.pk}">erasure ' in (
        listing
    )


@pytest.mark.django_db
def test_only_webhook_destinations_forward_erasures():
    destination = DestinationFactory.build(
        resource=ResourceFactory(type="rabbitmq", credentials={"url": "amqp://x"}),
        settings={"exchange": "x", "routing_key": "y"},
        forward_erasures=True,
    )

    with pytest.raises(ValidationError) as caught:
        destination.full_clean()

    assert caught.value.message_dict["forward_erasures"] == [
        "Only webhook resources receive deletion requests; clear this or use a webhook."
    ]
