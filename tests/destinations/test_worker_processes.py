"""The processes that consume the Celery queues: the Procfile's and `run.py start`'s. Every
configured queue has a worker, and the deliveries' worker is not the one that runs workflows."""

import shlex
from pathlib import Path

from django.conf import settings

from cdp.celery import app
from cdp.devtools import celery_workers

ROOT = Path(__file__).resolve().parents[2]


def consumed_queues(command: str) -> frozenset[str]:
    words = shlex.split(command)
    assert words[words.index("-A") + 1 : words.index("-A") + 3] == ["cdp", "worker"], command
    return frozenset(words[words.index("--queues") + 1].split(","))


def procfile_workers() -> dict[str, str]:
    processes = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    return {name: command for name, command in processes.items() if " worker " in command}


def test_the_procfile_runs_one_worker_per_queue():
    queues = {name: consumed_queues(command) for name, command in procfile_workers().items()}

    assert queues == {
        "worker": {"celery"},
        "worker-destinations": {"destinations"},
        "worker-maintenance": {"maintenance"},
    }
    assert {queue.name for queue in settings.CELERY_TASK_QUEUES} == {
        "celery",
        "destinations",
        "maintenance",
    }


def test_run_py_start_runs_the_same_workers():
    workers = celery_workers(Path("/venv/bin/celery"))

    assert {name: consumed_queues(command) for name, command in workers.items()} == {
        "worker": {"celery"},
        "worker-destinations": {"destinations"},
        "worker-maintenance": {"maintenance"},
    }


def test_every_destinations_task_is_routed_to_the_deliveries_queue():
    app.loader.import_default_modules()
    tasks = sorted(name for name in app.tasks if name.startswith("destinations."))

    assert tasks == [
        "destinations.deliveries_dispatch",
        "destinations.destination_deliveries_send",
        "destinations.destination_sync_scheduled",
        "destinations.destination_sync_step",
        "destinations.sync_runs_resume",
    ]
    for name in tasks:
        assert app.amqp.router.route({}, name)["queue"].name == "destinations"
    assert app.amqp.router.route({}, "workflows.process_profile_events")["queue"].name == "celery"
