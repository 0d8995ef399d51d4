"""What `run.py start` and `run.py test` do once inside the virtualenv.

start: embedded services if needed, migrate, static files, an admin login and a demo source,
then web (gunicorn), Celery worker and Celery beat in the foreground under one process
manager: Ctrl-C stops all three.
test: embedded services if needed, then pytest with any extra arguments.
"""

import os
import subprocess
import sys
from pathlib import Path

from cdp.embedded import VAR_DIR, ensure_local_secret_key, ensure_services

ROOT = Path(__file__).resolve().parent.parent


def _prepare_environment(*, debug: bool) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")
    os.environ.setdefault("DEBUG", "true" if debug else "false")
    ensure_local_secret_key()


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True, cwd=ROOT)


def start() -> int:
    _prepare_environment(debug=True)
    ensure_services()
    port = os.environ.get("PORT", "8000")
    os.environ.setdefault("CDP_PUBLIC_URL", f"http://127.0.0.1:{port}")
    _manage("migrate", "--noinput")
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
    manager.add_process(
        "worker", f"{bin_dir / 'celery'} -A cdp worker --loglevel INFO --concurrency 2", env=env
    )
    manager.add_process(
        "beat",
        f"{bin_dir / 'celery'} -A cdp beat --loglevel INFO --pidfile {VAR_DIR / 'celerybeat.pid'}",
        env=env,
    )
    print(f"\nCDP is starting on http://127.0.0.1:{port}/admin/  (Ctrl-C stops everything)\n")
    manager.loop()
    return manager.returncode or 0


def test(pytest_args: list[str]) -> int:
    _prepare_environment(debug=False)
    ensure_services()
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
