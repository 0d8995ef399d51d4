"""Issue 23 item 8 with a real Celery worker started with the plugins installed (PYTHONPATH, as
a deployment's environment): it reports each broken entry point once at start and runs the
example plugin's action on a routed event."""

import pytest

from apps.tracking.tasks import process_profile_events
from apps.workflows.models import WorkflowRun
from apps.workflows.services.workflows import workflow_create
from tests.core.test_plugins import SKIPPED
from tests.support.celery_worker import celery_worker_factory, wait_for  # noqa: F401  (fixture)
from tests.support.plugins import plugins_installed
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory
from tests.workflows.graphs import edge, graph, node
from tests.workflows.test_plugins import GREETING, greeting_node

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_with_the_plugins_runs_the_plugin_action_and_reports_the_broken_ones(
    plugin_site,
    celery_worker_factory,  # noqa: F811
):
    # Saving validates the graph in this process, which needs the action too.
    with plugins_installed(plugin_site):
        workflow = workflow_create(
            name="Greet",
            graph=graph(
                [node("start", "start"), greeting_node("hello", GREETING)],
                [edge("start", "hello")],
            ),
        )
    RuleFactory(event_type="signup", workflow=workflow)
    profile = ProfileFactory(traits={"plan": "free"})
    event = EventFactory(type="signup", profile=profile, properties={"first_name": "Ada"})
    worker = celery_worker_factory(extra_env={"PYTHONPATH": str(plugin_site)})

    process_profile_events.delay(profile.pk)

    wait_for(
        lambda: WorkflowRun.objects.filter(event=event).exists(),
        timeout=60,
        message="the worker's run of the workflow",
    )
    run = WorkflowRun.objects.get(event=event)
    assert (run.status, [entry["port"] for entry in run.log]) == ("ok", ["payload", "greeted"])
    profile.refresh_from_db()
    assert profile.traits == {"plan": "free", "greeting": "Hello, Ada!"}
    log = worker.log()
    for group, entry_point, reason in SKIPPED:
        line = (
            f"Plugin skipped: package cdp-plugin-broken 2.0.1, entry point {entry_point!r} in "
            f"group {group}: {reason}"
        )
        assert log.count(line) == 1, line
    assert log.count("Plugin skipped:") == len(SKIPPED)
