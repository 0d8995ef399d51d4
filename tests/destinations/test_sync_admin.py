"""The scheduled sync's beat entry (kept in step with the destination's schedule fields by the
services and the admin form), its validation, the admin's "Send now" and the last runs."""

import json
from datetime import time

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from apps.destinations.models import Delivery, Destination, DestinationSyncRun
from apps.destinations.services import (
    destination_create,
    destination_sync_run,
    destination_update,
)
from apps.destinations.tasks import destination_sync_scheduled
from apps.profiles.models import Profile, Segment
from cdp.celery import app
from tests.destinations.factories import DestinationFactory, ProfileFactory, ResourceFactory
from tests.profiles.factories import SegmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def vip():
    return SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser(username="marketer", password="pw")
    client.force_login(user)
    return client


def crontab_of(task):
    c = task.crontab
    return (c.minute, c.hour, c.day_of_month, c.month_of_year, c.day_of_week, str(c.timezone))


def test_a_daily_schedule_creates_its_beat_entry_and_edits_update_then_delete_it(vip):
    destination = destination_create(
        name="CRM audience",
        resource=ResourceFactory(),
        settings={"url": "http://127.0.0.1:9/hook"},
        sync_segment_id=vip.pk,
        sync_every="day",
        sync_time=time(2, 0),
    )

    task = PeriodicTask.objects.get()
    assert destination.sync_periodic_task_id == task.pk
    assert (task.name, task.task, json.loads(task.args), task.enabled, task.expire_seconds) == (
        f"Destination sync {destination.pk}",
        "destinations.destination_sync_scheduled",
        [destination.pk],
        True,
        3600,
    )
    assert crontab_of(task) == ("0", "2", "*", "*", "*", "UTC")
    assert task.interval is None

    destination_update(destination=destination, sync_every="hours", sync_interval_hours=6)
    task = PeriodicTask.objects.get()
    assert task.pk == destination.sync_periodic_task_id
    assert (task.interval.every, task.interval.period, task.crontab) == (6, "hours", None)

    destination_update(destination=destination, sync_every="crontab", sync_crontab="30 1 * * 1-5")
    task = PeriodicTask.objects.get()
    assert crontab_of(task) == ("30", "1", "*", "*", "1-5", "UTC")
    assert task.interval is None

    destination_update(destination=destination, enabled=False)
    assert PeriodicTask.objects.get().enabled is False

    destination_update(destination=destination, sync_every="")
    assert PeriodicTask.objects.count() == 0
    destination.refresh_from_db()
    assert destination.sync_periodic_task_id is None


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"sync_every": "day", "sync_time": time(2, 0)}, {"sync_segment"}),
        ({"sync_every": "day", "with_segment": True}, {"sync_time"}),
        (
            {"sync_every": "hours", "sync_interval_hours": 0, "with_segment": True},
            {"sync_interval_hours"},
        ),
        (
            {"sync_every": "crontab", "sync_crontab": "0 2 * *", "with_segment": True},
            {"sync_crontab"},
        ),
        (
            {"sync_every": "crontab", "sync_crontab": "61 2 * * *", "with_segment": True},
            {"sync_crontab"},
        ),
        ({"removal_mapping": {"id": "profile@"}}, {"removal_mapping"}),
    ],
)
def test_schedule_fields_are_validated(vip, fields, errors):
    fields = dict(fields)
    if fields.pop("with_segment", False):
        fields["sync_segment_id"] = vip.pk
    with pytest.raises(ValidationError) as raised:
        destination_create(
            name="CRM", resource=ResourceFactory(), settings={"url": "http://x.io/h"}, **fields
        )
    assert set(raised.value.message_dict) == errors
    assert PeriodicTask.objects.count() == 0


def test_crontab_messages_say_what_is_wrong(vip):
    destination = DestinationFactory(sync_segment=vip)
    destination.sync_every = "crontab"
    for spec, message in [
        (
            "0 2 * *",
            "Five fields separated by spaces (minute hour day-of-month month day-of-week), "
            "e.g. '0 2 * * *'; got 4.",
        ),
        ("61 2 * * *", "Not a valid crontab: Invalid end range: 61 > 59."),
    ]:
        destination.sync_crontab = spec
        with pytest.raises(ValidationError) as raised:
            destination.full_clean()
        assert raised.value.message_dict["sync_crontab"] == [message]


def test_event_destinations_have_no_scheduled_sync(vip):
    with pytest.raises(ValidationError) as raised:
        destination_create(
            name="Events",
            resource=ResourceFactory(),
            kind="event",
            settings={"url": "http://x.io/h"},
            sync_segment_id=vip.pk,
            sync_every="hours",
            sync_interval_hours=1,
        )
    assert raised.value.message_dict["sync_segment"] == [
        "Scheduled syncs are for profile destinations; clear this or change the kind to profile."
    ]
    assert raised.value.message_dict["sync_every"] == [
        "Scheduled syncs are for profile destinations."
    ]


def destination_form(resource, segment, **overrides):
    return {
        "name": "CRM audience",
        "description": "",
        "enabled": "on",
        "kind": "profile",
        "resource": resource.pk,
        "condition": "",
        "mapping": '{"email": "profile@data.contact.email.main"}',
        "settings__webhook__url": "http://127.0.0.1:9/hook",
        "delay_seconds": "20",
        "max_delay_seconds": "60",
        "event_type": "",
        "source": "",
        "sync_segment": segment.pk,
        "sync_every": "day",
        "sync_time": "02:30",
        "sync_interval_hours": "",
        "sync_crontab": "",
        "removal_mapping": '{"action": "remove", "email": "profile@data.contact.email.main"}',
        **overrides,
    }


def test_the_schedule_is_set_with_plain_form_fields_on_the_destination_page(staff_client, vip):
    resource = ResourceFactory()

    added = staff_client.post(
        reverse("admin:destinations_destination_add"), destination_form(resource, vip)
    )

    assert added.status_code == 302
    destination = Destination.objects.get()
    assert destination.removal_mapping == {
        "action": "remove",
        "email": "profile@data.contact.email.main",
    }
    assert crontab_of(PeriodicTask.objects.get()) == ("30", "2", "*", "*", "*", "UTC")

    changed = staff_client.post(
        reverse("admin:destinations_destination_change", args=[destination.pk]),
        destination_form(resource, vip, sync_every="hours", sync_time="", sync_interval_hours="4"),
    )
    assert changed.status_code == 302
    task = PeriodicTask.objects.get()
    assert (task.interval.every, task.interval.period, task.crontab) == (4, "hours", None)

    refused = staff_client.post(
        reverse("admin:destinations_destination_change", args=[destination.pk]),
        destination_form(resource, vip, sync_every="crontab", sync_time="", sync_crontab="2am"),
    )
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["sync_crontab"] == [
        "Five fields separated by spaces (minute hour day-of-month month day-of-week), "
        "e.g. '0 2 * * *'; got 1."
    ]
    assert PeriodicTask.objects.get().interval.every == 4

    page = staff_client.get(reverse("admin:destinations_destination_change", args=[destination.pk]))
    html = page.content.decode()
    assert "Scheduled sync (profile destinations)" in html
    assert reverse("admin:destinations_destination_sync", args=[destination.pk]) in html
    assert "No sync yet." in html


def test_send_now_runs_the_sync_and_the_page_lists_the_run(
    staff_client, vip, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    destination = DestinationFactory(sync_segment=vip, condition='profile@traits.plan == "pro"')
    for plan in ("pro", "pro", "free"):
        ProfileFactory(segments=["vip"], traits={"plan": plan})

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(
            reverse("admin:destinations_destination_sync", args=[destination.pk])
        )

    assert response.status_code == 302
    assert len(callbacks) == 1  # the first batch is enqueued once the run is committed
    run = DestinationSyncRun.objects.get()
    assert (run.trigger, run.requested_by, run.status) == ("send_now", "marketer", "queued")
    assert (run.members_queued, run.skipped_by_condition) == (2, 1)
    assert Delivery.objects.filter(sync_run=run, status="pending").count() == 2
    page = staff_client.get(response.url)
    html = page.content.decode()
    assert "Sync of the segment &#x27;VIP&#x27; started." in html
    assert (
        "<td>Send now (marketer)</td><td>Queued (deliveries are sent by the dispatcher)</td>"
        in html
    )
    assert "<td>2</td><td>0</td><td>1</td><td>0</td><td>0</td><td>0</td><td>2</td>" in html

    runs = staff_client.get(reverse("admin:destinations_destinationsyncrun_changelist"))
    assert runs.status_code == 200
    run_page = staff_client.get(
        reverse("admin:destinations_destinationsyncrun_change", args=[run.pk])
    )
    assert run_page.status_code == 200


def test_send_now_on_a_disabled_destination_says_so(staff_client, vip):
    destination = DestinationFactory(sync_segment=vip, enabled=False)

    response = staff_client.post(
        reverse("admin:destinations_destination_sync", args=[destination.pk]), follow=True
    )

    assert "The destination is disabled: nothing was queued." in response.content.decode()
    assert Delivery.objects.count() == 0


def test_send_now_needs_a_post(staff_client, vip):
    destination = DestinationFactory(sync_segment=vip)

    response = staff_client.get(
        reverse("admin:destinations_destination_sync", args=[destination.pk])
    )

    assert response.status_code == 405
    assert DestinationSyncRun.objects.count() == 0


def test_deleting_a_destination_in_the_admin_deletes_its_beat_entry(staff_client, vip):
    destination = destination_create(
        name="CRM",
        resource=ResourceFactory(),
        settings={"url": "http://x.io/h"},
        sync_segment_id=vip.pk,
        sync_every="hours",
        sync_interval_hours=12,
    )
    assert PeriodicTask.objects.count() == 1

    response = staff_client.post(
        reverse("admin:destinations_destination_delete", args=[destination.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert (Destination.objects.count(), PeriodicTask.objects.count()) == (0, 0)


def test_a_beat_entry_that_outlived_its_destination_removes_itself(vip):
    destination = destination_create(
        name="CRM",
        resource=ResourceFactory(),
        settings={"url": "http://x.io/h"},
        sync_segment_id=vip.pk,
        sync_every="hours",
        sync_interval_hours=12,
    )
    destination_id = destination.pk
    Destination.objects.filter(pk=destination_id).delete()  # not through the services

    message = destination_sync_scheduled(destination_id)

    assert message == f"There is no destination {destination_id!r}."
    assert PeriodicTask.objects.count() == 0


def test_send_now_is_offered_on_profile_destinations_with_an_audience(staff_client, vip):
    with_audience = DestinationFactory(sync_segment=vip)
    without = DestinationFactory()

    def page(destination):
        url = reverse("admin:destinations_destination_change", args=[destination.pk])
        return staff_client.get(url).content.decode()

    assert reverse("admin:destinations_destination_sync", args=[with_audience.pk]) in page(
        with_audience
    )
    assert reverse("admin:destinations_destination_sync", args=[without.pk]) not in page(without)


def test_the_last_runs_cost_one_query_whatever_their_number(staff_client, vip):
    destination = DestinationFactory(sync_segment=vip)
    ProfileFactory(segments=["vip"])
    url = reverse("admin:destinations_destination_change", args=[destination.pk])
    destination_sync_run(destination_id=destination.pk, trigger="schedule")
    with CaptureQueriesContext(connection) as one:
        staff_client.get(url)
    for _ in range(4):
        destination_sync_run(destination_id=destination.pk, trigger="send_now")
    with CaptureQueriesContext(connection) as five:
        page = staff_client.get(url)

    assert page.content.decode().count("<td>Schedule</td>") == 1
    assert page.content.decode().count("<td>Send now</td>") == 4
    assert len(five.captured_queries) == len(one.captured_queries)


def test_removals_are_shown_as_such_in_the_deliveries_list(staff_client, vip):
    destination = DestinationFactory(sync_segment=vip, removal_mapping={"id": "profile@id"})
    kept, gone = ProfileFactory(segments=["vip"]), ProfileFactory(segments=["vip"])
    destination_sync_run(destination_id=destination.pk, trigger="schedule")
    Delivery.objects.update(status="sent")
    Profile.objects.filter(pk=kept.pk).update(segments=[])
    gone_id = gone.pk
    gone.delete()
    destination_sync_run(destination_id=destination.pk, trigger="schedule")

    listing = staff_client.get(
        reverse("admin:destinations_delivery_changelist") + "?is_removal__exact=1"
    )

    html = listing.content.decode()
    assert f"removal of {gone_id} (gone)" in html
    assert "removal of <a href=" in html
    rows = listing.context["cl"].result_list
    assert sorted(((d.profile_id, d.removed_profile_id) for d in rows), key=str) == sorted(
        [(kept.pk, kept.pk), (None, gone_id)], key=str
    )


def test_the_beat_entry_is_found_by_name_when_its_link_was_lost_and_schedules_are_shared(vip):
    CrontabSchedule.objects.create(minute="15", hour="3", timezone="UTC")
    CrontabSchedule.objects.create(minute="15", hour="3", timezone="UTC")  # a duplicate
    destination = destination_create(
        name="CRM",
        resource=ResourceFactory(),
        settings={"url": "http://x.io/h"},
        sync_segment_id=vip.pk,
        sync_every="day",
        sync_time=time(3, 15),
    )
    Destination.objects.filter(pk=destination.pk).update(sync_periodic_task=None)
    destination.refresh_from_db()

    destination_update(destination=destination, sync_time=time(3, 15), description="again")

    task = PeriodicTask.objects.get()
    assert destination.sync_periodic_task_id == task.pk
    assert task.crontab_id == CrontabSchedule.objects.order_by("pk").first().pk
    assert crontab_of(task) == ("15", "3", "*", "*", "*", "UTC")
