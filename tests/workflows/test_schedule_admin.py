"""The workflow schedule form (no JSON: choices, a time, a crontab, a segment picker or the
condition builder) and the profile page's "Upcoming scheduled work"."""

import html
import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.profiles.models import Segment
from apps.tracking.schedules import workflow_schedule_run_here
from apps.workflows.models import WorkflowSchedule
from tests.profiles.factories import SegmentFactory
from tests.workflows.factories import ProfileFactory, WorkflowFactory

pytestmark = pytest.mark.django_db

ADD_URL = "admin:workflows_workflowschedule_add"


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


def form_data(workflow, **fields):
    return {
        "name": "Monday re-score",
        "workflow": workflow.pk,
        "enabled": "on",
        "every": "day",
        "interval": "",
        "at_time": "08:00",
        "crontab": "",
        "audience": "segment",
        "segment": "",
        "condition": "",
        **fields,
    }


def form_errors(response) -> dict:
    assert response.status_code == 200
    return {
        name: list(errors) for name, errors in response.context["adminform"].form.errors.items()
    }


def test_a_bad_crontab_and_a_bad_condition_are_form_errors_and_store_nothing(staff_client):
    workflow = WorkflowFactory()
    url = reverse(ADD_URL)

    crontab = staff_client.post(
        url,
        form_data(
            workflow,
            every="crontab",
            crontab="0 8 * *",
            audience="condition",
            condition='profile@traits.plan == "pro"',
        ),
    )
    condition = staff_client.post(
        url, form_data(workflow, audience="condition", condition="profile@traits.plan ==")
    )
    segment = staff_client.post(url, form_data(workflow, every="minutes", interval="0"))

    assert form_errors(crontab) == {
        "crontab": [
            "Five fields separated by spaces (minute hour day-of-month month day-of-week), "
            "e.g. '0 2 * * *'; got 4."
        ]
    }
    assert form_errors(condition) == {
        "condition": [
            "Unexpected end of the condition at column 23; expected a value (number, string, "
            "field reference, function call)"
        ]
    }
    assert form_errors(segment) == {
        "interval": ["Every N minutes: give a number of minutes from 1 to 1440."],
        "segment": ["Every profile of a segment: choose the segment."],
    }
    assert WorkflowSchedule.objects.count() == 0
    assert not PeriodicTask.objects.filter(task="tracking.workflow_schedule_fire").exists()


def test_a_valid_form_saves_the_schedule_and_its_beat_entry(staff_client):
    workflow = WorkflowFactory()
    vip = SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)

    response = staff_client.post(reverse(ADD_URL), form_data(workflow, segment=vip.pk))

    assert response.status_code == 302
    schedule = WorkflowSchedule.objects.get()
    task = PeriodicTask.objects.get(task="tracking.workflow_schedule_fire")
    assert schedule.periodic_task_id == task.pk
    assert (task.name, task.args, task.crontab.minute, task.crontab.hour) == (
        f"Workflow schedule {schedule.pk}",
        f'["{schedule.pk}"]',
        "0",
        "8",
    )


def upcoming_rows(page: str) -> list[list[str]]:
    section = re.search(
        r'data-section="upcoming-scheduled-work">(.*?)</div>', page, flags=re.DOTALL
    ).group(1)
    body = section.split("<tbody>")[1]
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    ]


def next_new_year_8am(now: datetime) -> datetime:
    this_year = datetime(now.year, 1, 1, 8, 0, tzinfo=UTC)
    return this_year if now < this_year else datetime(now.year + 1, 1, 1, 8, 0, tzinfo=UTC)


def test_the_profile_page_lists_the_schedules_whose_audience_holds_the_person(staff_client):
    vip = SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)
    workflow = WorkflowFactory(name="Re-score")
    for name, fields in (
        (
            "New year mail",
            {"audience": "segment", "segment": vip.pk, "every": "crontab", "crontab": "0 8 1 1 *"},
        ),
        (
            "Pro check",
            {
                "audience": "condition",
                "condition": 'profile@traits.plan == "pro"',
                "every": "crontab",
                "crontab": "0 8 1 1 *",
            },
        ),
        ("Free check", {"audience": "condition", "condition": 'profile@traits.plan == "free"'}),
    ):
        response = staff_client.post(reverse(ADD_URL), form_data(workflow, name=name, **fields))
        assert response.status_code == 302
    ann = ProfileFactory(segments=["vip"], traits={"plan": "pro"})
    bob = ProfileFactory(segments=[], traits={"plan": "basic"})

    page = staff_client.get(reverse("admin:profiles_profile_change", args=[ann.pk]))
    other = staff_client.get(reverse("admin:profiles_profile_change", args=[bob.pk]))

    when = next_new_year_8am(timezone.now()).strftime("%Y-%m-%d %H:%M")
    assert upcoming_rows(page.content.decode()) == [
        [when, "New year mail", "Re-score", "member of the segment VIP"],
        [when, "Pro check", "Re-score", 'matches profile@traits.plan == "pro"'],
    ]
    assert upcoming_rows(other.content.decode()) == [
        ["No scheduled workflow has this person in its audience."]
    ]


def test_the_schedule_page_shows_the_last_run_with_its_counts(staff_client):
    vip = SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)
    for index in range(3):
        ProfileFactory(id=f"m{index}", segments=["vip"])
    response = staff_client.post(
        reverse(ADD_URL), form_data(WorkflowFactory(), segment=vip.pk, name="Daily")
    )
    assert response.status_code == 302
    schedule = WorkflowSchedule.objects.get()
    run = workflow_schedule_run_here(schedule_id=schedule.pk).run

    page = staff_client.get(reverse("admin:workflows_workflowschedule_change", args=[schedule.pk]))

    last_run = re.search(
        r'<div class="form-row field-last_run">.*?<div class="readonly">(.*?)</div>',
        page.content.decode(),
        flags=re.DOTALL,
    ).group(1)
    started = timezone.localtime(run.started).strftime("%Y-%m-%d %H:%M")
    assert last_run == f"{started}: Done: 3 profile(s), 3 completed, 0 failed, 1 batch(es)."
