"""The admin of parked (waiting) branches: the list, its actions, the profile page section."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from apps.tracking.resume import parked_runs_resume_due
from apps.workflows.models import ParkedRun, WorkflowRun
from tests.workflows.factories import ProfileFactory, WorkflowFactory

pytestmark = pytest.mark.django_db

DUE = datetime(2031, 5, 6, 7, 8, tzinfo=UTC)


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser(username="ann"))
    return client


def parked(profile, **kwargs):
    workflow = kwargs.pop("workflow", None) or WorkflowFactory(name="Basket reminder")
    WorkflowRun.objects.create(
        workflow=workflow,
        workflow_version=1,
        event_ref=kwargs.get("event_ref", "ev-1"),
        event_type="product-added-to-basket",
        profile=profile,
        status=WorkflowRun.Status.PARKED,
        started=timezone.now(),
        duration_ms=1.0,
        log=[],
    )
    defaults = {
        "workflow": workflow,
        "workflow_version": 1,
        "event_ref": "ev-1",
        "event_type": "product-added-to-basket",
        "profile": profile,
        "node_id": "n2",
        "node_name": "Wait for checkout",
        "due_at": DUE,
        "due_port": "timeout",
        "waiting_for": "checkout",
        "state": {"payload": {}, "memory": {}, "event": {}, "session_id": None},
    }
    return ParkedRun.objects.create(**{**defaults, **kwargs})


def test_the_list_shows_workflow_profile_node_due_time_and_what_it_waits_for(staff_client):
    profile = ProfileFactory()
    parked(profile)
    page = staff_client.get(reverse("admin:workflows_parkedrun_changelist"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Basket reminder" in html
    assert "Wait for checkout (n2)" in html
    assert "event checkout (else timeout)" in html
    assert profile.pk[:8] in html
    assert "the person is erased, their waiting branches are cancelled" in html
    assert re.search(r"May 6, 2031|2031-05-06", html)


def test_cancel_from_the_admin_ends_the_branch_and_the_run(staff_client):
    row = parked(ProfileFactory())
    response = staff_client.post(
        reverse("admin:workflows_parkedrun_changelist"),
        {"action": "cancel_parked", "_selected_action": [row.pk]},
        follow=True,
    )
    assert "1 waiting branch(es) cancelled." in response.content.decode()
    row.refresh_from_db()
    assert (row.status, row.outcome) == ("cancelled", "cancelled by ann")
    assert WorkflowRun.objects.get().status == "ok"


def test_resume_now_from_the_admin_makes_it_due_and_the_job_resumes_it(staff_client):
    row = parked(ProfileFactory())
    response = staff_client.post(
        reverse("admin:workflows_parkedrun_changelist"),
        {"action": "resume_parked_now", "_selected_action": [row.pk]},
        follow=True,
    )
    assert "1 branch(es) are due now" in response.content.decode()
    row.refresh_from_db()
    assert row.due_at <= timezone.now()
    # The workflow's graph has no node n2: the resumed branch fails and says so on its run.
    assert parked_runs_resume_due().resumed == 1
    run = WorkflowRun.objects.get()
    assert (run.status, run.error) == ("error", "Node n2 to resume at is no longer in the workflow")


def test_a_viewer_without_change_permission_gets_no_actions(client):
    viewer = get_user_model().objects.create_user(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_parkedrun"))
    client.force_login(viewer)
    row = parked(ProfileFactory())
    page = client.get(reverse("admin:workflows_parkedrun_changelist"))
    assert page.status_code == 200
    assert "cancel_parked" not in page.content.decode()
    client.post(
        reverse("admin:workflows_parkedrun_changelist"),
        {"action": "cancel_parked", "_selected_action": [row.pk]},
    )
    row.refresh_from_db()
    assert row.status == "parked"


def test_the_profile_page_lists_the_persons_waiting_branches_with_due_times(staff_client):
    profile = ProfileFactory()
    parked(profile)
    parked(
        profile,
        event_ref="ev-2",
        node_id="n5",
        node_name="Wait a day",
        waiting_for="",
        due_port="payload",
        due_at=datetime(2031, 5, 5, 7, 8, tzinfo=UTC),
    )
    parked(profile, event_ref="ev-3", status="resumed")  # done: not listed
    page = staff_client.get(reverse("admin:profiles_profile_change", args=[profile.pk]))
    html = page.content.decode()
    section = html[html.index('data-section="parked_runs"') :]
    section = section[: section.index("</div>")]
    due_cells = re.findall(r">(2031-05-0\d \d\d:\d\d)</a>", section)
    local = [
        timezone.localtime(d).strftime("%Y-%m-%d %H:%M")
        for d in (datetime(2031, 5, 5, 7, 8, tzinfo=UTC), DUE)
    ]
    assert due_cells == local
    assert "Wait a day (n5)" in section and "the due time" in section
    assert "Wait for checkout (n2)" in section and "event checkout" in section
    assert "an erasure cancels them" in section
