"""What `run.py start` and `run.py test` do once inside the virtualenv.

start: embedded services if needed, migrate, static files, an admin login and a demo source,
then web (gunicorn), the Celery workers (events and workflows; deliveries) and Celery beat in
the foreground under one process manager: Ctrl-C stops them all.
test: embedded services if needed, Debian's chromium for the browser tests (installed with
apt-get when missing and allowed), the tracker build, then pytest with any extra arguments.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

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
    """As in the Procfile: deliveries have a worker of their own, so hanging destinations never
    hold the processes that run workflows."""
    worker = f"{celery} -A cdp worker --loglevel INFO"
    return {
        "worker": f"{worker} --queues celery --hostname worker@%h --concurrency 2",
        "worker-destinations": f"{worker} --queues destinations --hostname destinations@%h "
        "--concurrency 2",
    }


def start() -> int:
    _prepare_environment(debug=True)
    ensure_services()
    port = os.environ.get("PORT", "8000")
    os.environ.setdefault("CDP_PUBLIC_URL", f"http://127.0.0.1:{port}")
    _manage("migrate", "--noinput")
    _manage("build_tracker")
    _manage("collectstatic", "--noinput", "--verbosity", "0")
    _manage("ensure_admin")
    _manage("ensure_demo_source")

    from honcho.manager import Manager
    from honcho.printer import Printer

    manager = Manager(Printer(sys.stdout))
    env = dict(os.environ)
    bin_dir = Path(sys.executable).parent
    manager.add_process(
        "web",
        f"{bin_dir / 'gunicorn'} cdp.wsgi --bind 127.0.0.1:{port} --workers 2 "
        "--threads 4 --access-logfile -",
        env=env,
    )
    for name, command in celery_workers(bin_dir / "celery").items():
        manager.add_process(name, command, env=env)
    manager.add_process(
        "beat",
        f"{bin_dir / 'celery'} -A cdp beat --loglevel INFO --pidfile {VAR_DIR / 'celerybeat.pid'}",
        env=env,
    )
    print(f"\nCDP is starting on http://127.0.0.1:{port}/admin/  (Ctrl-C stops everything)\n")
    manager.loop()
    return manager.returncode or 0


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


def main() -> None:
    command, *rest = sys.argv[1:] or ["start"]
    if command == "start":
        sys.exit(start())
    if command == "test":
        sys.exit(test(rest))
    sys.exit(f"Unknown command {command!r}; use start or test.")


if __name__ == "__main__":
    main()
