"""A real Celery worker for tests about background work.

The worker is `celery -A cdp worker --pool prefork` in a subprocess (its own process group),
connected to the test database (`settings.DATABASES['default']['NAME']` inside tests) and to
the same Redis as the test process, so tasks enqueued by the test run there for real. Tests that
use it need `@pytest.mark.django_db(transaction=True)` (data must be committed to be seen) and
should be marked `@pytest.mark.worker`.

Use in a test module:

    from tests.support.celery_worker import celery_worker, celery_worker_factory  # noqa: F401

- `celery_worker`: one worker shared by the whole test session (started on first use).
- `celery_worker_factory`: `start(**kwargs)` starts a private worker that the test may kill
  (`worker.kill()` sends SIGKILL to the whole process group, like a machine dying); every worker
  it started is stopped when the test ends.
- `wait_for(predicate, timeout=...)`: poll until the predicate is true (or fail with a message).
- `worker.wait_idle()`: until the worker holds no task and the queue is empty, e.g. to check
  that a duplicate message did nothing once it was handled.

The worker sees rule, workflow, source, event type, identification point and live segment
changes at once (`CDP_*_CACHE_SECONDS=0`), because tests change them between tasks (a worker
serves a whole module, so another test's cached rows would otherwise linger for seconds).
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 30.0


def worker_database_url() -> str:
    """DATABASE_URL of the database the tests use (the test database inside a test run): the
    configured URL with the database name swapped, so sockets and options carry over."""
    configured = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(configured._replace(path="/" + settings.DATABASES["default"]["NAME"]))


def worker_environment(extra_env: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "DJANGO_SETTINGS_MODULE": "cdp.settings",
            "CDP_WORKFLOW_CACHE_SECONDS": "0",
            "CDP_SOURCE_CACHE_SECONDS": "0",
            # The tests' HTTP servers (tests/conftest.py allow-lists them in the test process).
            "CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS": "127.0.0.1/32",
            "CDP_EVENT_TYPE_CACHE_SECONDS": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra_env or {})
    return env


class CeleryWorker:
    def __init__(
        self,
        process: subprocess.Popen,
        hostname: str,
        log_path: Path,
        queues: tuple[str, ...] = ("celery",),
        broker_url: str | None = None,
    ) -> None:
        self.process = process
        self.hostname = hostname
        self.log_path = log_path
        self.queues = queues
        # None: the broker the test process uses (settings.CELERY_BROKER_URL).
        self.broker_url = broker_url

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def is_running(self) -> bool:
        return self.process.poll() is None

    def ping(self, timeout: float = 1.0) -> bool:
        replies = broker_app(self.broker_url).control.ping(
            destination=[self.hostname], timeout=timeout
        )
        return any(self.hostname in reply for reply in replies)

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise RuntimeError(f"Celery worker exited at start-up:\n{self.log()[-4000:]}")
            if self.ping(timeout=0.5):
                return
        self.stop()
        raise RuntimeError(f"Celery worker not ready after {timeout}s:\n{self.log()[-4000:]}")

    def wait_idle(self, timeout: float = 20.0) -> None:
        """Until the worker holds no task and its queues are empty (duplicates done)."""
        from cdp.celery import app

        deadline = time.monotonic() + timeout
        inspector = app.control.inspect(destination=[self.hostname], timeout=0.5)
        while time.monotonic() < deadline:
            active = (inspector.active() or {}).get(self.hostname)
            reserved = (inspector.reserved() or {}).get(self.hostname)
            queued = sum(_queue_length(queue) for queue in self.queues)
            if active == [] and reserved == [] and queued == 0:
                return
            time.sleep(0.05)
        raise AssertionError(f"Celery worker still busy after {timeout}s")

    def pool_pids(self) -> list[int]:
        """The prefork pool processes (children of the main worker process)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def kill_pool_processes(self) -> None:
        """SIGKILL the pool processes only: the main process notices the lost tasks (and,
        with task_reject_on_worker_lost, puts their messages back) and starts new ones."""
        for pid in self.pool_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once (no graceful shutdown)."""
        if self.is_running():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        _reap_group(self.process.pid)

    def stop(self, timeout: float = 10.0) -> None:
        """Warm shutdown (SIGTERM: finish running tasks), then SIGKILL if it takes too long."""
        if self.is_running():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        _reap_group(self.process.pid)


def _reap_group(pgid: int) -> None:
    """Pool processes orphaned by a killed parent belong to the same group; end them too."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def start_celery_worker(
    *,
    concurrency: int = 2,
    extra_env: dict[str, str] | None = None,
    loglevel: str = "INFO",
    queues: tuple[str, ...] = (),
    broker_url: str | None = None,
) -> CeleryWorker:
    """Start a worker and wait until it answers pings. `queues` replaces the configured queues
    (`celery`, `destinations` and `maintenance`, which a worker started without it consumes)
    with the named ones: a test that needs its task to reach this very worker (another one, e.g. the
    session's, may be consuming the default queue) publishes there. `broker_url` connects it
    to another broker (a private Redis the test may kill)."""
    hostname = f"test-{uuid.uuid4().hex[:8]}@localhost"
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open by the subprocess)
        prefix="celery-worker-", suffix=".log", delete=False
    )
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "cdp",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "--hostname",
        hostname,
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
    ]
    if queues:
        command += ["--queues", ",".join(queues)]
    env = worker_environment(extra_env)
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log_file.close()
    configured = tuple(queue.name for queue in settings.CELERY_TASK_QUEUES)
    worker = CeleryWorker(
        process, hostname, Path(log_file.name), queues or configured, broker_url=broker_url
    )
    worker.wait_ready()
    return worker


@functools.cache
def broker_app(broker_url: str | None = None) -> Celery:
    """The app that talks to `broker_url`'s workers: the project's, or a bare one for another
    broker (control commands and messages go through an app's own producer pool, whatever
    connection is passed in). Tasks are sent there by name (`send_task`)."""
    from cdp.celery import app

    if broker_url is None:
        return app
    return Celery("cdp-test", broker=broker_url, set_as_current=False)


def _queue_length(queue: str = "celery") -> int:
    from cdp.celery import app

    with app.connection_for_write() as connection:
        return connection.default_channel.client.llen(queue)


def purge_broker_queue() -> None:
    """Drop messages left in the test Redis by an earlier run (e.g. a killed worker's)."""
    from cdp.celery import app

    app.control.purge()


def wait_for(predicate: Callable[[], object], *, timeout: float = 20.0, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"Timed out after {timeout}s waiting for {message or predicate}")


# Module scope: a worker never outlives the module that asked for it, so a later module's
# private workers (celery_worker_factory) are alone on the queue whatever the test order.
@pytest.fixture(scope="module")
def celery_worker(django_db_setup, django_db_blocker) -> Iterator[CeleryWorker]:
    purge_broker_queue()
    worker = start_celery_worker()
    yield worker
    worker.stop()


@pytest.fixture
def celery_worker_factory(django_db_setup) -> Iterator[Callable[..., CeleryWorker]]:
    started: list[CeleryWorker] = []

    def start(**kwargs) -> CeleryWorker:
        worker = start_celery_worker(**kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def start_celery_beat(
    *, extra_env: dict[str, str] | None = None, broker_url: str | None = None
) -> subprocess.Popen:
    """`celery beat` with the project's scheduler (django-celery-beat) on the test database, in
    its own process group; stop it with `stop_process_group`."""
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open by the subprocess)
        prefix="celery-beat-", suffix=".log", delete=False
    )
    schedule = Path(tempfile.mkdtemp()) / "schedule"
    env = worker_environment(extra_env)
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "cdp", "beat", "--loglevel", "INFO"),
            *("--pidfile=", "-s", str(schedule)),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    process.log_path = Path(log.name)  # type: ignore[attr-defined]
    return process


def stop_process_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _reap_group(process.pid)
        process.wait(timeout=10)


@pytest.fixture
def celery_beat_factory(django_db_setup) -> Iterator[Callable[..., subprocess.Popen]]:
    """`start(extra_env=..., broker_url=...)` starts a beat; each is stopped after the test."""
    started: list[subprocess.Popen] = []

    def start(**kwargs) -> subprocess.Popen:
        process = start_celery_beat(**kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        stop_process_group(process)
