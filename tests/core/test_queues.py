"""The worker tiers' queues (docs/scaling.md): every task goes to the queue of its tier, the
names come from the environment, and a worker started for one queue takes no other's task."""

import json
import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings

from apps.core.heartbeats import heartbeat_ages
from apps.core.tasks import heartbeat
from cdp.celery import app
from tests.support.celery_worker import (  # noqa: F401  (fixtures)
    ROOT,
    _queue_length,
    celery_worker_factory,
    purge_broker_queue,
    wait_for,
)

WORKFLOWS, DESTINATIONS, MAINTENANCE = "celery", "destinations", "maintenance"

# Every task the CDP registers, and its tier. A new task fails here until its tier is chosen.
EXPECTED_QUEUES = {
    "core.heartbeat": WORKFLOWS,  # beat names the queue of each heartbeat it sends
    "destinations.deliveries_dispatch": DESTINATIONS,
    "destinations.destination_deliveries_send": DESTINATIONS,
    "destinations.destination_sync_scheduled": DESTINATIONS,
    "destinations.destination_sync_step": DESTINATIONS,
    "destinations.sync_runs_resume": DESTINATIONS,
    "events.import_job_run": MAINTENANCE,
    "events.import_jobs_fail_stalled": MAINTENANCE,
    "events.partitions_ensure": MAINTENANCE,
    "events.reindex": MAINTENANCE,
    "profiles.consents_auto_revoke": MAINTENANCE,
    "profiles.erasure_run": MAINTENANCE,
    "profiles.erasures_resume": MAINTENANCE,
    "profiles.import_job_run": MAINTENANCE,
    "profiles.import_jobs_fail_stalled": MAINTENANCE,
    "profiles.segment_sweep": MAINTENANCE,
    "profiles.segments_refresh_scheduled": MAINTENANCE,
    "tracking.daily_metrics_refresh": MAINTENANCE,
    "tracking.retention_purge": MAINTENANCE,
    "tracking.visits_end": MAINTENANCE,
    "tracking.workflow_schedule_fire": WORKFLOWS,
    "tracking.workflow_schedule_runs_resume": WORKFLOWS,
    "tracking.workflow_schedule_step": WORKFLOWS,
    "workflows.process_events": WORKFLOWS,
    "workflows.process_profile_events": WORKFLOWS,
    "workflows.process_unsaved_events": WORKFLOWS,
    "workflows.replay_events": WORKFLOWS,
    "workflows.requeue_collected_events": WORKFLOWS,
    "workflows.resume_parked_runs": WORKFLOWS,
}


def routed_queue(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_every_task_goes_to_the_queue_of_its_tier():
    app.loader.import_default_modules()
    registered = sorted(name for name in app.tasks if not name.startswith("celery."))

    assert registered == sorted(EXPECTED_QUEUES)
    assert {name: routed_queue(name) for name in registered} == EXPECTED_QUEUES
    assert settings.CDP_WORKER_QUEUES == (WORKFLOWS, DESTINATIONS, MAINTENANCE)


def test_beat_sends_a_heartbeat_to_every_tier_queue():
    heartbeats = {
        name: (entry["args"], entry["options"]["queue"])
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] == "core.heartbeat"
    }

    assert heartbeats == {
        "core-heartbeat-celery": (["celery"], "celery"),
        "core-heartbeat-destinations": (["destinations"], "destinations"),
        "core-heartbeat-maintenance": (["maintenance"], "maintenance"),
    }


def settings_in_a_fresh_process(**env: str) -> dict:
    """The queues and routes that a process started with `env` computes from its settings."""
    script = (
        "import json, django; django.setup();"
        "from cdp.celery import app; from django.conf import settings;"
        "print(json.dumps({'queues': list(settings.CDP_WORKER_QUEUES),"
        " 'declared': [q.name for q in settings.CELERY_TASK_QUEUES],"
        " 'routes': {n: app.amqp.router.route({}, n)['queue'].name for n in"
        " ('workflows.process_profile_events', 'destinations.destination_deliveries_send',"
        " 'profiles.segment_sweep', 'tracking.retention_purge', 'unknown.task')}}))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "cdp.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_queue_names_come_from_the_environment_and_two_tiers_may_share_one():
    renamed = settings_in_a_fresh_process(
        CDP_QUEUE_WORKFLOWS="wf", CDP_QUEUE_DESTINATIONS="out", CDP_QUEUE_MAINTENANCE="wf"
    )

    assert renamed == {
        "queues": ["wf", "out"],
        "declared": ["wf", "out"],
        "routes": {
            "workflows.process_profile_events": "wf",
            "destinations.destination_deliveries_send": "out",
            "profiles.segment_sweep": "wf",
            "tracking.retention_purge": "wf",
            "unknown.task": "wf",
        },
    }


@pytest.mark.worker
def test_a_worker_of_one_tier_leaves_the_other_tiers_messages(celery_worker_factory):  # noqa: F811
    purge_broker_queue()
    to_workflows, to_maintenance = (f"probe-{uuid.uuid4().hex[:8]}" for _ in range(2))
    maintenance_worker = celery_worker_factory(queues=(MAINTENANCE,))

    heartbeat.apply_async(args=[to_workflows], queue=WORKFLOWS)
    heartbeat.apply_async(args=[to_maintenance], queue=MAINTENANCE)

    def seen(marker: str) -> bool:
        return heartbeat_ages([f"queue:{marker}"])[f"queue:{marker}"] is not None

    wait_for(lambda: seen(to_maintenance), timeout=60, message="the maintenance message run")
    maintenance_worker.wait_idle(timeout=60)
    assert _queue_length(WORKFLOWS) == 1
    assert not seen(to_workflows)

    celery_worker_factory(queues=(WORKFLOWS,))
    wait_for(lambda: seen(to_workflows), timeout=60, message="the workflows worker to take it")
    assert _queue_length(WORKFLOWS) == 0
