"""What `run.py start`, `run.py test` and `run.py docs` do once inside the virtualenv.

start: embedded services if needed, migrate, static files, an admin login and a demo source,
the manual when docs/ changed, then web (gunicorn), the Celery workers (one per tier: events
and workflows; deliveries; maintenance) and Celery beat in the foreground under one supervisor
(`Supervisor`): a process that exits is started again, Ctrl-C stops them all.
docs: the reference pages generated from the code, then the MkDocs site (strict) that /docs/
serves; `--check` compares the reference instead of writing it; `--screenshots` first retakes the
getting-started screenshots from a live CDP in headless Chromium.
test: embedded services if needed, Debian's chromium for the browser tests (installed with
apt-get when missing and allowed), the tracker build, then pytest with any extra arguments.
"""

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from cdp.embedded import VAR_DIR, ensure_local_secret_key, ensure_services

ROOT = Path(__file__).resolve().parent.parent
# The browser tests (tests/tracker) drive this browser; nothing downloads one.
CHROMIUM = Path("/usr/bin/chromium")


def _prepare_environment(*, debug: bool) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")
    os.environ.setdefault("DEBUG", "true" if debug else "false")
    ensure_local_secret_key()


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True, cwd=ROOT)


def celery_workers(celery: Path) -> dict[str, str]:
    """As in the Procfile: one worker per tier (workflows, deliveries, maintenance), so hanging
    destinations or a long import never hold the processes that run workflows."""
    worker = f"{celery} -A cdp worker --loglevel INFO"
    return {
        "worker": f"{worker} --queues celery --hostname worker@%h --concurrency 2",
        "worker-destinations": f"{worker} --queues destinations --hostname destinations@%h "
        "--concurrency 2",
        "worker-maintenance": f"{worker} --queues maintenance --hostname maintenance@%h "
        "--concurrency 1",
    }


def start(args: list[str]) -> int:
    """`start [--debug]`: DEBUG stays off unless asked for (`--debug` or DEBUG=true): an error
    then shows a plain error page, not Django's debug page, and gunicorn serves the static
    files through WhiteNoise as in production."""
    unknown = [arg for arg in args if arg != "--debug"]
    if unknown:
        sys.exit(f"Unknown option {unknown[0]!r}; start takes --debug only.")
    _prepare_environment(debug="--debug" in args)
    ensure_services()
    port = os.environ.get("PORT", "8000")
    os.environ.setdefault("CDP_PUBLIC_URL", f"http://127.0.0.1:{port}")
    _manage("migrate", "--noinput")
    _manage("build_tracker")
    _manage("collectstatic", "--noinput", "--verbosity", "0")
    _manage("ensure_admin")
    _manage("ensure_demo_source")
    _build_docs_if_stale()

    bin_dir = Path(sys.executable).parent
    supervisor = Supervisor(
        {
            "web": f"{bin_dir / 'gunicorn'} cdp.wsgi --bind 127.0.0.1:{port} --workers 2 "
            "--threads 4 --access-logfile -",
            **celery_workers(bin_dir / "celery"),
            "beat": f"{bin_dir / 'celery'} -A cdp beat --loglevel INFO "
            f"--pidfile {VAR_DIR / 'celerybeat.pid'}",
        },
        env=dict(os.environ),
        cwd=ROOT,
    )
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: supervisor.stop())
    print(f"\nCDP is starting on http://127.0.0.1:{port}/admin/  (Ctrl-C stops everything)\n")
    return supervisor.run()


def _build_docs_if_stale() -> None:
    """The manual under /docs/, built when docs/ changed since the last build (a few seconds);
    a failed build is reported and the CDP starts anyway (/docs/ then says how to build it)."""
    built = ROOT / "var" / "docs" / "index.html"
    sources = [ROOT / "mkdocs.yml", *(ROOT / "docs").rglob("*")]
    if built.exists() and built.stat().st_mtime >= max(path.stat().st_mtime for path in sources):
        return
    print("Building the manual (served under /docs/) ...", flush=True)
    if subprocess.call([sys.executable, "-m", "cdp.docsite", "--build"], cwd=ROOT) != 0:
        print("The manual did not build; the CDP starts without it (see `run.py docs`).")


class Supervisor:
    """Runs named commands in the foreground, each line of their output prefixed with the
    name. A command that exits is started again, after a pause that doubles while it keeps
    exiting early (up to `max_delay`): one crashed process (a worker that lost its broker,
    say) must not stop the CDP, which is what honcho did. `stop()` (Ctrl-C) sends SIGTERM to
    every process group, then SIGKILL after `kill_wait` seconds."""

    # A process that ran this long before exiting is restarted after `min_delay` again.
    HEALTHY_SECONDS = 30.0

    def __init__(
        self,
        commands: Mapping[str, str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        out: TextIO = sys.stdout,
        min_delay: float = 1.0,
        max_delay: float = 30.0,
        kill_wait: float = 10.0,
    ) -> None:
        self.commands = dict(commands)
        self.env = dict(env)
        self.cwd = cwd
        self.out = out
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.kill_wait = kill_wait
        self.processes: dict[str, subprocess.Popen] = {}
        self._started_at: dict[str, float] = {}
        self._delay = dict.fromkeys(self.commands, min_delay)
        self._restart_at: dict[str, float] = {}
        self._stopping = threading.Event()
        self._print_lock = threading.Lock()
        self._width = max(map(len, self.commands), default=0)

    def run(self) -> int:
        for name in self.commands:
            self._start(name)
        while not self._stopping.wait(0.1):
            now = time.monotonic()
            for name, process in list(self.processes.items()):
                if name not in self._restart_at and process.poll() is not None:
                    self._schedule_restart(name, process.returncode, now)
            for name, when in list(self._restart_at.items()):
                if now >= when:
                    del self._restart_at[name]
                    self._start(name)
        self._terminate_all()
        return 0

    def stop(self) -> None:
        self._stopping.set()

    def _start(self, name: str) -> None:
        process = subprocess.Popen(
            shlex.split(self.commands[name]),
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            # Its own group: stop() ends its children too, and Ctrl-C reaches only us.
            start_new_session=True,
        )
        self.processes[name] = process
        self._started_at[name] = time.monotonic()
        threading.Thread(target=self._relay, args=(name, process), daemon=True).start()
        self._say(f"{name} started (pid {process.pid})")

    def _schedule_restart(self, name: str, returncode: int, now: float) -> None:
        if now - self._started_at[name] >= self.HEALTHY_SECONDS:
            self._delay[name] = self.min_delay
        delay = self._delay[name]
        self._delay[name] = min(delay * 2, self.max_delay)
        self._restart_at[name] = now + delay
        self._say(f"{name} exited (rc={returncode}), restarting in {delay:g}s")

    def _terminate_all(self) -> None:
        running = [p for p in self.processes.values() if p.poll() is None]
        for process in running:
            self._signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + self.kill_wait
        for process in running:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                self._signal_group(process, signal.SIGKILL)
                process.wait()
        for process in self.processes.values():
            # Children left behind by a process that exited on its own (gunicorn workers).
            self._signal_group(process, signal.SIGKILL)

    @staticmethod
    def _signal_group(process: subprocess.Popen, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)

    def _relay(self, name: str, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._say(line.rstrip("\n"), name=name)

    def _say(self, text: str, *, name: str = "system") -> None:
        with self._print_lock:
            self.out.write(f"{name:<{max(self._width, 6)}} | {text}\n")
            self.out.flush()


def _ensure_chromium() -> None:
    """The browser tests are never skipped, so the browser they drive must be installed."""
    if CHROMIUM.exists():
        return
    apt_get = shutil.which("apt-get")
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if apt_get and is_root:
        print(
            f"{CHROMIUM} is missing: installing Debian's chromium for the browser tests "
            "(apt-get install -y chromium) ...",
            flush=True,
        )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = [apt_get, "install", "-y", "chromium"]
        if subprocess.call(install, env=env) != 0:
            # Stale package lists are the usual cause: refresh them once and try again.
            subprocess.call([apt_get, "update"], env=env)
            subprocess.call(install, env=env)
    if not CHROMIUM.exists():
        sys.exit(
            f"The browser tests need Chromium at {CHROMIUM}. Install Debian's package as root "
            "(`apt-get install chromium`, or `sudo apt-get install chromium`) and run the tests "
            "again."
        )


def test(pytest_args: list[str]) -> int:
    _prepare_environment(debug=False)
    _ensure_chromium()
    ensure_services()
    _manage("build_tracker")
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT)


# The script that takes the manual's screenshots: a pytest module (it needs the test database,
# a live server and the shared browser fixture), run only when asked for.
SCREENSHOTS = "tests/docs/screenshots.py"


def docs(args: list[str]) -> int:
    unknown = [arg for arg in args if arg not in {"--check", "--screenshots"}]
    if unknown:
        sys.exit(f"Unknown option {unknown[0]!r}; docs takes --check and --screenshots.")
    _prepare_environment(debug=False)
    ensure_services()
    if "--screenshots" in args:
        _ensure_chromium()
        _manage("build_tracker")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", SCREENSHOTS]
        if subprocess.call(command, cwd=ROOT) != 0:
            return 1
    check = ["--check"] if "--check" in args else []
    return subprocess.call([sys.executable, "-m", "cdp.docsite", *check], cwd=ROOT)


def main() -> None:
    command, *rest = sys.argv[1:] or ["start"]
    if command == "start":
        sys.exit(start(rest))
    if command == "test":
        sys.exit(test(rest))
    if command == "docs":
        sys.exit(docs(rest))
    sys.exit(f"Unknown command {command!r}; use start, test or docs.")


if __name__ == "__main__":
    main()
