"""Retention and purge (apps.tracking.retention, `manage.py purge`, the nightly task)."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.destinations.models import Delivery, DeliveryAttempt, Destination, Resource
from apps.events.models import Event
from apps.profiles.models import Profile, Session
from apps.tracking import tasks
from apps.tracking.models import PurgeRecord
from apps.tracking.retention import Options, events_step, purge_proceed, purge_start
from apps.workflows.models import WorkflowRun
from tests.events.factories import EventFactory
from tests.profiles.factories import IdentificationPointFactory, ProfileFactory, SessionFactory
from tests.sources.factories import EventSourceFactory
from tests.workflows.factories import WorkflowFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 3, 30, tzinfo=UTC)
FAST = Options(batch_size=2, pause_seconds=0)
ZERO = {
    "events": 0,
    "deliveries": 0,
    "delivery_attempts": 0,
    "workflow_runs": 0,
    "sessions": 0,
    "profiles": 0,
}


@pytest.fixture
def frozen(monkeypatch):
    """timezone.now() is NOW for the code under test (the factories keep the real clock)."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def no_pause(settings):
    settings.CDP_PURGE_PAUSE_MS = 0
    settings.CDP_PURGE_BATCH_SIZE = 2


def event(event_id, *, age, source, event_type="page-view", profile=None, session=None):
    return EventFactory(
        id=event_id,
        type=event_type,
        source=source,
        profile=profile,
        session=session,
        time=NOW - age,
        inserted=NOW,
    )


def ids(model) -> list[str]:
    return sorted(model.objects.values_list("pk", flat=True))


def run_for(event_id, *, started, profile=None) -> WorkflowRun:
    return WorkflowRun.objects.create(
        workflow=WorkflowFactory(),
        workflow_version=1,
        event_id=event_id,
        event_ref=event_id or "unsaved",
        event_type="page-view",
        profile=profile,
        status="ok",
        started=started,
        duration_ms=1,
    )


def delivery_for(*, event_id=None, profile=None, started=NOW) -> Delivery:
    destination = Destination.objects.create(
        name=f"CRM {event_id or profile.pk}",
        resource=Resource.objects.create(name="Hook", type="webhook"),
        kind="event" if event_id else "profile",
    )
    delivery = Delivery.objects.create(
        destination=destination,
        event_id=event_id,
        profile=profile,
        due_at=NOW,
        first_change_at=NOW,
        latest_due_at=NOW,
        created=NOW,
        updated=NOW,
        status=Delivery.Status.SENT,
    )
    DeliveryAttempt.objects.create(
        delivery=delivery, destination=destination, number=1, started=started, duration_ms=1
    )
    return delivery


# --- the nightly retention ------------------------------------------------------------------


def test_global_retention_deletes_events_before_the_cutoff_only(settings, frozen, no_pause):
    settings.CDP_EVENT_RETENTION_DAYS = 30
    source = EventSourceFactory(id="web")
    cutoff = timedelta(days=30)
    event("older", age=cutoff + timedelta(microseconds=1), source=source)
    event("older-click", age=cutoff + timedelta(days=5), source=source, event_type="click")
    event("at-cutoff", age=cutoff, source=source)
    event("newer", age=cutoff - timedelta(seconds=1), source=source, event_type="click")

    tasks.retention_purge()

    assert ids(Event) == ["at-cutoff", "newer"]
    record = PurgeRecord.objects.get()
    assert record.actor == "beat"
    assert record.status == PurgeRecord.Status.DONE
    assert record.dry_run is False
    assert record.deleted == {**ZERO, "events": 2}
    assert record.what == "events older than 30 days"
    assert record.filters["plan"] == [
        {"step": "events", "before": "2026-05-02T03:30:00+00:00", "days": 30}
    ]
    assert record.finished_at == NOW


def test_source_retention_overrides_the_global_one(settings, frozen, no_pause):
    settings.CDP_EVENT_RETENTION_DAYS = 30
    short = EventSourceFactory(id="short", retention_days=7)
    inherit = EventSourceFactory(id="inherit", retention_days=None)
    forever = EventSourceFactory(id="forever", retention_days=0)
    for source in (short, inherit, forever):
        event(f"{source.pk}-10d", age=timedelta(days=10), source=source)
        event(f"{source.pk}-40d", age=timedelta(days=40), source=source)
        event(f"{source.pk}-6d", age=timedelta(days=6), source=source)

    tasks.retention_purge()

    assert ids(Event) == [
        "forever-10d",
        "forever-40d",
        "forever-6d",
        "inherit-10d",
        "inherit-6d",
        "short-6d",
    ]
    record = PurgeRecord.objects.get()
    assert record.deleted["events"] == 3
    assert record.what == (
        "events older than 30 days (other sources); events older than 7 days (source short)"
    )


def test_source_retention_applies_without_a_global_one(settings, frozen, no_pause):
    settings.CDP_EVENT_RETENTION_DAYS = None
    short = EventSourceFactory(id="short", retention_days=7)
    other = EventSourceFactory(id="other")
    event("short-8d", age=timedelta(days=8), source=short)
    event("other-800d", age=timedelta(days=800), source=other)

    tasks.retention_purge()

    assert ids(Event) == ["other-800d"]


def test_no_retention_configured_records_nothing(settings, frozen):
    settings.CDP_EVENT_RETENTION_DAYS = None
    settings.CDP_WORKFLOW_RUN_RETENTION_DAYS = None
    settings.CDP_DELIVERY_ATTEMPT_RETENTION_DAYS = None
    settings.CDP_SESSION_RETENTION_DAYS = None
    event("old", age=timedelta(days=5000), source=EventSourceFactory())

    tasks.retention_purge()

    assert ids(Event) == ["old"]
    assert PurgeRecord.objects.count() == 0


def test_runs_attempts_and_sessions_have_their_own_retention(settings, frozen, no_pause):
    settings.CDP_EVENT_RETENTION_DAYS = None
    settings.CDP_WORKFLOW_RUN_RETENTION_DAYS = 10
    settings.CDP_DELIVERY_ATTEMPT_RETENTION_DAYS = 20
    settings.CDP_SESSION_RETENTION_DAYS = 30
    source = EventSourceFactory()
    profile = ProfileFactory(id="p")
    old_run = run_for(None, started=NOW - timedelta(days=10, seconds=1))
    kept_run = run_for(None, started=NOW - timedelta(days=10))
    old = delivery_for(profile=profile, started=NOW - timedelta(days=21))
    kept = delivery_for(profile=profile, started=NOW - timedelta(days=19))
    SessionFactory(id="idle-empty", profile=profile, updated=NOW - timedelta(days=31))
    idle_with_events = SessionFactory(
        id="idle-with-events", profile=profile, updated=NOW - timedelta(days=31)
    )
    event("kept-event", age=timedelta(days=400), source=source, session=idle_with_events)
    SessionFactory(id="recent", profile=profile, updated=NOW - timedelta(days=29))

    tasks.retention_purge()

    assert list(WorkflowRun.objects.values_list("pk", flat=True)) == [kept_run.pk]
    assert not WorkflowRun.objects.filter(pk=old_run.pk).exists()
    assert list(DeliveryAttempt.objects.values_list("delivery_id", flat=True)) == [kept.pk]
    assert sorted(Delivery.objects.values_list("pk", flat=True)) == sorted([old.pk, kept.pk])
    assert ids(Session) == ["idle-with-events", "recent"]
    assert ids(Event) == ["kept-event"]
    record = PurgeRecord.objects.get()
    assert record.deleted == {**ZERO, "workflow_runs": 1, "delivery_attempts": 1, "sessions": 1}
    assert record.what == (
        "workflow runs older than 10 days; delivery attempts older than 20 days; "
        "sessions older than 30 days"
    )


def test_events_take_their_deliveries_and_leave_their_runs(settings, frozen, no_pause):
    settings.CDP_EVENT_RETENTION_DAYS = 30
    source = EventSourceFactory()
    event("old", age=timedelta(days=31), source=source)
    event("new", age=timedelta(days=1), source=source)
    run = run_for("old", started=NOW)
    delivery_for(event_id="old")
    kept = delivery_for(event_id="new")

    tasks.retention_purge()

    run.refresh_from_db()
    assert run.event_id is None
    assert run.event_ref == "old"
    assert list(Delivery.objects.values_list("pk", flat=True)) == [kept.pk]
    assert DeliveryAttempt.objects.count() == 1
    assert PurgeRecord.objects.get().deleted == {
        **ZERO,
        "events": 1,
        "deliveries": 1,
        "delivery_attempts": 1,
    }


def test_a_job_whose_time_is_up_hands_the_rest_to_its_next_run(settings, frozen):
    source = EventSourceFactory()
    for number in range(5):
        event(f"e{number}", age=timedelta(days=100), source=source)
    record = purge_start(plan=[events_step(before=NOW - timedelta(days=90))], actor="beat")

    assert purge_proceed(record_id=record.pk, seconds=0, options=FAST) is False
    assert Event.objects.count() == 3
    record.refresh_from_db()
    assert record.status == PurgeRecord.Status.RUNNING
    assert record.deleted["events"] == 2

    # The nightly task goes on with the purge left running (its cut-off, its record).
    settings.CDP_EVENT_RETENTION_DAYS = None
    settings.CDP_PURGE_PAUSE_MS = 0
    tasks.retention_purge()

    assert Event.objects.count() == 0
    record.refresh_from_db()
    assert record.status == PurgeRecord.Status.DONE
    assert record.deleted["events"] == 5
    assert PurgeRecord.objects.count() == 1


def test_the_nightly_job_is_in_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["tracking-retention-purge"]
    assert entry["task"] == "tracking.retention_purge"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {30})
    assert entry["options"] == {"expires": 21600.0}
    assert tasks.retention_purge.name == "tracking.retention_purge"


# --- manage.py purge ------------------------------------------------------------------------


def purge(*args) -> str:
    out = StringIO()
    call_command("purge", *args, "--pause-ms", "0", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_purge_events_by_type_and_source(frozen):
    web, app = EventSourceFactory(id="web"), EventSourceFactory(id="app")
    for source in (web, app):
        event(f"{source.pk}-view-old", age=timedelta(days=91), source=source)
        event(f"{source.pk}-click-old", age=timedelta(days=91), source=source, event_type="click")
        event(f"{source.pk}-view-at", age=timedelta(days=90), source=source)

    out = purge("--events-older-than", "90d", "--type", "Page View", "--source", "web")

    assert ids(Event) == [
        "app-click-old",
        "app-view-at",
        "app-view-old",
        "web-click-old",
        "web-view-at",
    ]
    record = PurgeRecord.objects.get()
    assert record.actor == "manage.py purge"
    assert record.deleted["events"] == 1
    assert record.filters["types"] == ["page-view"]
    assert record.filters["sources"] == ["web"]
    assert record.filters["events_older_than"] == "90d"
    assert record.what == "events from before 2026-03-03T03:30:00 (type page-view; source web)"
    assert out.splitlines()[1:3] == ["  events: 1", "  deliveries: 0"]


def test_purge_events_of_every_type(frozen):
    source = EventSourceFactory()
    event("a", age=timedelta(hours=13), source=source)
    event("b", age=timedelta(hours=13), source=source, event_type="click")
    event("c", age=timedelta(hours=11), source=source)

    purge("--events-older-than", "12h", "--batch-size", "1")

    assert ids(Event) == ["c"]
    assert PurgeRecord.objects.get().deleted["events"] == 2


def test_dry_run_deletes_nothing_and_reports_counts(frozen):
    source = EventSourceFactory()
    event("a", age=timedelta(weeks=3), source=source)
    event("b", age=timedelta(weeks=3), source=source, event_type="click")
    event("c", age=timedelta(days=13), source=source)
    ProfileFactory(id="gone", updated=NOW - timedelta(days=200))

    out = purge("--events-older-than", "2w", "--anonymous-inactive", "180d", "--dry-run")

    assert ids(Event) == ["a", "b", "c"]
    assert ids(Profile) == ["gone"]
    record = PurgeRecord.objects.get()
    assert record.dry_run is True
    assert record.status == PurgeRecord.Status.DONE
    assert record.deleted == {**ZERO, "events": 2, "profiles": 1}
    assert "Would delete" in out
    assert "  events: 2" in out.splitlines()
    assert "  profiles: 1" in out.splitlines()
    assert out.splitlines()[-1].endswith("(dry run: nothing deleted)")


def test_anonymous_inactive_touches_only_anonymous_profiles_without_events(frozen):
    old = NOW - timedelta(days=181)
    source = EventSourceFactory()
    anonymous = ProfileFactory(id="anonymous", updated=old)
    SessionFactory(id="anonymous-s", profile=anonymous, updated=old)
    run_for(None, started=old, profile=anonymous)
    delivery_for(profile=anonymous)
    ProfileFactory(id="at-cutoff", updated=NOW - timedelta(days=180))
    ProfileFactory(id="recent", updated=NOW - timedelta(days=10))
    with_events = ProfileFactory(id="with-events", updated=old)
    event("kept", age=timedelta(days=300), source=source, profile=with_events)
    ProfileFactory(id="email", updated=old, data={"contact": {"email": {"private": "a@b.c"}}})
    ProfileFactory(id="empty-email", updated=old, data={"contact": {"email": {"main": ""}}})
    ProfileFactory(id="phone", updated=old, data={"contact": {"phone": {"mobile": 48600}}})
    ProfileFactory(id="identifier", updated=old, data={"identifier": {"id": "crm-1"}})
    ProfileFactory(id="primary", updated=old, primary_id="crm-2")
    ProfileFactory(id="static", updated=old, static_ids=["static"])
    ProfileFactory(id="merged", updated=old, ids=["absorbed"])
    IdentificationPointFactory(fields=[{"profile": "traits.customer", "event": "properties.c"}])
    ProfileFactory(id="customer", updated=old, traits={"customer": "c-9"})
    ProfileFactory(id="no-customer", updated=old, traits={"customer": None})

    out = purge("--anonymous-inactive", "180d")

    assert ids(Profile) == [
        "at-cutoff",
        "customer",
        "email",
        "identifier",
        "merged",
        "phone",
        "primary",
        "recent",
        "static",
        "with-events",
    ]
    assert ids(Session) == []
    assert WorkflowRun.objects.count() == 0
    assert Delivery.objects.count() == 0
    record = PurgeRecord.objects.get()
    assert record.deleted == {
        **ZERO,
        "profiles": 3,
        "sessions": 1,
        "workflow_runs": 1,
        "deliveries": 1,
        "delivery_attempts": 1,
    }
    assert "  profiles: 3" in out.splitlines()


def test_retention_by_hand(settings, frozen):
    settings.CDP_EVENT_RETENTION_DAYS = 5
    source = EventSourceFactory()
    event("old", age=timedelta(days=6), source=source)

    purge("--retention", "--actor", "ops@example.com")

    assert ids(Event) == []
    assert PurgeRecord.objects.get().actor == "ops@example.com"


def test_progress_lines_on_stderr_when_not_a_terminal(frozen):
    source = EventSourceFactory()
    event("old", age=timedelta(days=6), source=source)
    err = StringIO()

    call_command("purge", "--events-older-than", "5d", stdout=StringIO(), stderr=err)

    lines = err.getvalue().splitlines()
    assert lines[0] == "Purging: events from before 2026-05-27T03:30:00"
    assert lines[-1].startswith("purge: 1 of 1 rows in ")
    assert lines[-1].endswith(" done")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--events-older-than", "90"],
            "--events-older-than: '90' is not a duration: write a whole number and a unit, "
            "e.g. 90d (days), 12h (hours), 2w (weeks) or 30m (minutes).",
        ),
        (
            ["--anonymous-inactive", "six months"],
            "--anonymous-inactive: 'six months' is not a duration: write a whole number and a "
            "unit, e.g. 90d (days), 12h (hours), 2w (weeks) or 30m (minutes).",
        ),
        (
            ["--events-older-than", "0d"],
            "--events-older-than: '0d': the duration must be more than zero.",
        ),
        (
            [],
            "Say what to purge: --events-older-than DURATION (with --type, --source), "
            "--anonymous-inactive DURATION, or --retention.",
        ),
        (["--type", "click"], "--type and --source go with --events-older-than DURATION."),
        (
            ["--events-older-than", "1d", "--source", "nope"],
            "No event source has the id 'nope' (see the admin: Sources > Event sources).",
        ),
        (["--events-older-than", "1d", "--batch-size", "0"], "--batch-size must be at least 1."),
    ],
)
def test_bad_options_say_what_to_write(args, message):
    with pytest.raises(CommandError) as raised:
        call_command("purge", *args, stdout=StringIO(), stderr=StringIO())
    assert str(raised.value) == message
    assert PurgeRecord.objects.count() == 0


# --- the admin ------------------------------------------------------------------------------


def test_purge_records_are_read_only_in_the_admin(admin_client, frozen):
    record = purge_start(plan=[events_step(before=NOW)], actor="beat")
    purge_proceed(record_id=record.pk, options=FAST)

    listing = admin_client.get("/admin/tracking/purgerecord/")
    assert listing.status_code == 200
    assert b"events from before 2026-06-01T03:30:00" in listing.content
    assert b"nothing" in listing.content
    page = admin_client.get(f"/admin/tracking/purgerecord/{record.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.get("/admin/tracking/purgerecord/add/").status_code == 403


def test_batches_walk_past_rows_that_stay(settings, frozen):
    """Sessions that still have events and identified profiles stay; batches go on past them
    (from where the last batch ended) and take every row that goes."""
    source = EventSourceFactory()
    profile = ProfileFactory(id="owner", data={"contact": {"email": {"main": "o@example.com"}}})
    for number in range(6):
        updated = NOW - timedelta(days=40, minutes=number)
        session = SessionFactory(id=f"s{number}", profile=profile, updated=updated)
        if number % 2:
            event(f"e{number}", age=timedelta(days=1), source=source, session=session)
        ProfileFactory(
            id=f"p{number}",
            updated=updated,
            primary_id="crm" if number % 2 else None,
        )
    plan = [
        {"step": "sessions", "before": (NOW - timedelta(days=30)).isoformat()},
        {"step": "profiles", "before": (NOW - timedelta(days=30)).isoformat()},
    ]
    record = purge_start(plan=plan, actor="test")

    assert purge_proceed(record_id=record.pk, options=Options(batch_size=1, pause_seconds=0))

    assert ids(Session) == ["s1", "s3", "s5"]
    assert ids(Profile) == ["owner", "p1", "p3", "p5"]
    record.refresh_from_db()
    assert record.deleted == {**ZERO, "sessions": 3, "profiles": 3}


def test_a_purge_that_fails_says_why_on_its_record(frozen, monkeypatch):
    ProfileFactory(id="gone", updated=NOW - timedelta(days=200))

    def broken(**kwargs):
        raise ValueError("disk on fire")

    monkeypatch.setattr("apps.tracking.retention.profiles_purge_anonymous", broken)
    record = purge_start(
        plan=[{"step": "profiles", "before": (NOW - timedelta(days=180)).isoformat()}],
        actor="test",
    )

    with pytest.raises(ValueError):
        purge_proceed(record_id=record.pk, options=FAST)

    record.refresh_from_db()
    assert record.status == PurgeRecord.Status.FAILED
    assert record.error == "ValueError: disk on fire"
    assert record.finished_at == NOW
    assert ids(Profile) == ["gone"]
