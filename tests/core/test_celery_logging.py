"""Beat ticks that found nothing to do leave no INFO lines (cdp.celery.QuietTicks); work does."""

import logging

import pytest
from celery.app import trace
from celery.signals import after_setup_logger
from django.conf import settings

from cdp.celery import QuietTicks, frequent_beat_tasks, quiet_ticks

LOGGERS = ("celery.beat", "celery.app.trace", "celery.worker.strategy")


@pytest.fixture
def quiet(caplog):
    caplog.set_level(logging.INFO)
    quiet_ticks()
    yield caplog
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for found in [f for f in logger.filters if isinstance(f, QuietTicks)]:
            logger.removeFilter(found)


def _succeeded(name: str, return_value: str) -> None:
    # The worker's own line, through Celery's own function and format.
    trace.info(
        trace.LOG_SUCCESS, {"id": "t1", "name": name, "return_value": return_value, "runtime": 0.01}
    )


def _received(name: str) -> None:
    logging.getLogger("celery.worker.strategy").info(
        trace.LOG_RECEIVED, {"id": "t1", "name": name, "args": "()", "kwargs": "{}", "eta": None}
    )


def _sending(entry: str, task: str) -> None:
    logging.getLogger("celery.beat").info("Scheduler: Sending due task %s (%s)", entry, task)


def test_the_ticks_are_the_tasks_beat_sends_more_often_than_every_ten_minutes():
    assert frequent_beat_tasks(settings.CELERY_BEAT_SCHEDULE) == {
        "destinations.deliveries_dispatch",
        "destinations.sync_runs_resume",
        "events.import_jobs_fail_stalled",
        "profiles.import_jobs_fail_stalled",
        "workflows.requeue_collected_events",
        "profiles.erasures_resume",
        "profiles.consents_auto_revoke",
        "core.heartbeat",
        "tracking.visits_end",
        "tracking.workflow_schedule_runs_resume",
        "workflows.resume_parked_runs",
    }


def test_an_idle_tick_leaves_no_line(quiet):
    _sending("destinations-dispatch", "destinations.deliveries_dispatch")
    _received("destinations.deliveries_dispatch")
    _succeeded("destinations.deliveries_dispatch", "[]")
    _succeeded("workflows.requeue_collected_events", "None")
    _succeeded("profiles.erasures_resume", "0")
    assert quiet.messages == []


def test_a_tick_that_did_work_and_every_other_task_are_logged(quiet):
    _succeeded("destinations.deliveries_dispatch", "['d1', 'd2']")
    _succeeded("profiles.erasures_resume", "1")
    _sending("tracking-retention-purge", "tracking.retention_purge")
    _received("destinations.destination_deliveries_send")
    logging.getLogger("celery.beat").warning("beat: a warning stays")
    assert [message.split(" succeeded")[0] for message in quiet.messages] == [
        "Task destinations.deliveries_dispatch[t1]",
        "Task profiles.erasures_resume[t1]",
        "Scheduler: Sending due task tracking-retention-purge (tracking.retention_purge)",
        "Task destinations.destination_deliveries_send[t1] received",
        "beat: a warning stays",
    ]
    assert quiet.messages[0].endswith(": ['d1', 'd2']")


def test_worker_and_beat_install_the_filter_once_their_logging_is_set_up():
    assert quiet_ticks in [receiver() for _, receiver in after_setup_logger.receivers]
