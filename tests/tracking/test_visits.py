"""Issue 18 item 4: a session idle for the visit timeout is closed by the beat job, which
stores one `visit-ended` event (duration, event count) that rules can route."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.models import Profile, Session
from apps.tracking.tasks import visits_end_task
from apps.tracking.visits import VISIT_ENDED, visits_end
from apps.workflows.models import Rule, WorkflowRun
from apps.workflows.services.workflows import workflow_create
from tests.support.celery_worker import celery_worker, wait_for  # noqa: F401 - a fixture
from tests.tracking.conftest import payload
from tests.workflows.factories import WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db


def _visit(api, session: str, types: list[str]) -> str:
    response = api.track(payload(events=[{"type": kind} for kind in types], session=session))
    assert response.status_code == 200
    return response.json()["profile"]["id"]


def _age(session_id: str, *, minutes_since_start: float, minutes_idle: float) -> None:
    """Move the visit back in time: it started and was last active that many minutes ago."""
    now = timezone.now()
    start = now - timedelta(minutes=minutes_since_start)
    Session.objects.filter(pk=session_id).update(
        created=start, updated=now - timedelta(minutes=minutes_idle)
    )
    Event.objects.filter(session_id=session_id).update(time=start)


def test_an_idle_visit_ends_once_with_its_duration_and_events(api, rest_source, settings):
    settings.CDP_VISIT_TIMEOUT_MINUTES = 30
    profile_id = _visit(api, "s-1", ["page-view", "product-added-to-basket", "page-view"])
    _age("s-1", minutes_since_start=50, minutes_idle=31)

    ended = visits_end()

    assert [(v.session_id, v.profile_id, v.events, round(v.duration_seconds)) for v in ended] == [
        ("s-1", profile_id, 3, 19 * 60)
    ]
    session = Session.objects.get(pk="s-1")
    assert session.status == Session.Status.ENDED
    assert session.metadata["status"] == "ended"
    assert round(session.metadata["time"]["duration"]) == 19 * 60
    event = Event.objects.get(type=VISIT_ENDED)
    assert event.pk == ended[0].event_id
    assert (event.profile_id, event.session_id, event.source_id) == (
        profile_id,
        "s-1",
        "web-source",
    )
    assert event.properties["events"] == 3
    assert round(event.properties["duration"]) == 19 * 60
    assert event.time == session.updated
    assert event.status == Event.Status.PROCESSED  # nothing routes it
    assert visits_end() == []
    assert Event.objects.filter(type=VISIT_ENDED).count() == 1


def test_an_active_visit_is_left_open(api, rest_source, settings):
    settings.CDP_VISIT_TIMEOUT_MINUTES = 30
    _visit(api, "s-1", ["page-view"])
    _age("s-1", minutes_since_start=40, minutes_idle=29)
    assert visits_end() == []
    assert Session.objects.get(pk="s-1").status == Session.Status.STARTED


def test_a_rule_on_visit_ended_gets_it_collected_for_the_workers(api, rest_source, settings):
    settings.CDP_VISIT_TIMEOUT_MINUTES = 30
    Rule.objects.create(name="Abandoned basket", event_type=VISIT_ENDED, workflow=WorkflowFactory())
    _visit(api, "s-1", ["product-added-to-basket"])
    _age("s-1", minutes_since_start=45, minutes_idle=40)
    ended = visits_end()
    assert [visit.routed for visit in ended] == [True]
    assert Event.objects.get(type=VISIT_ENDED).status == Event.Status.COLLECTED


def test_a_session_that_comes_back_is_open_again_and_its_next_visit_ends_too(
    api, rest_source, settings
):
    settings.CDP_VISIT_TIMEOUT_MINUTES = 30
    _visit(api, "s-1", ["page-view"])
    _age("s-1", minutes_since_start=60, minutes_idle=40)
    assert len(visits_end()) == 1

    _visit(api, "s-1", ["page-view", "page-view"])
    session = Session.objects.get(pk="s-1")
    assert session.status == Session.Status.STARTED
    assert session.metadata["status"] == "started"
    # The second visit began with this request (a visit-started event); it ends in its turn.
    Session.objects.filter(pk="s-1").update(updated=timezone.now() - timedelta(minutes=31))
    second = visits_end(now=timezone.now())
    assert [visit.events for visit in second] == [2]
    assert Event.objects.filter(type=VISIT_ENDED).count() == 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_beat_task_ends_the_visit_and_a_worker_runs_the_routed_workflow(
    api,
    rest_source,
    settings,
    celery_worker,  # noqa: F811
):
    settings.CDP_VISIT_TIMEOUT_MINUTES = 30
    workflow = workflow_create(
        name="Abandoned basket",
        graph=linear_graph(
            (
                "copy_data",
                {
                    "traits": {
                        "set": {"profile@traits.last_visit_events": "event@properties.events"}
                    }
                },
            )
        ),
    )
    Rule.objects.create(name="Visit ended", event_type=VISIT_ENDED, workflow=workflow)
    profile_id = _visit(api, "s-1", ["page-view", "product-added-to-basket"])
    _age("s-1", minutes_since_start=45, minutes_idle=35)

    assert visits_end_task() == 1

    wait_for(
        lambda: Event.objects.filter(type=VISIT_ENDED, status=Event.Status.PROCESSED).exists(),
        timeout=60,
        message="the visit-ended event processed by the worker",
    )
    assert Profile.objects.get(pk=profile_id).traits["last_visit_events"] == 2
    assert WorkflowRun.objects.filter(workflow=workflow, event_type=VISIT_ENDED).count() == 1
