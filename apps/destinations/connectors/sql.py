"""SQL databases a workflow may query: PostgreSQL (psycopg 3) and MySQL/MariaDB (PyMySQL, pure
Python). One connection per call (a workflow node is no place for a pool that outlives a worker
child), with a connect timeout and a statement timeout; read-only transactions unless the node
says otherwise. Queries are parameterised: `%(name)s` placeholders, values passed apart, never
formatted into the SQL."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import psycopg
import pymysql
from psycopg.rows import dict_row

from apps.destinations.connectors.http import VendorAnswer, VendorError
from apps.destinations.connectors.types import ResourceType, credentials_schema, secret
from apps.destinations.redaction import redact

MAX_ROWS = 1000


def _schema(default_port: int) -> dict:
    return credentials_schema(
        ["host", "database", "username"],
        host={"type": "string", "minLength": 1, "title": "Host", "description": "e.g. db.internal"},
        port={
            "type": "integer",
            "minimum": 1,
            "maximum": 65535,
            "title": "Port",
            "description": f"Default {default_port}.",
        },
        database={"type": "string", "minLength": 1, "title": "Database", "description": ""},
        username={"type": "string", "minLength": 1, "title": "User", "description": ""},
        password=secret("Password", "Give the user only the rights its queries need."),
    )


def _json_safe(rows: list[dict]) -> list[dict]:
    """Dates, decimals and UUIDs as text: what a payload (and the run log) can hold."""
    return json.loads(json.dumps(rows, default=str))


def _secrets(credentials: Mapping[str, Any]) -> dict:
    # Only the password and user are secret; masking the host or database name too would mask
    # ordinary words of the database's messages.
    return {"password": credentials.get("password", ""), "username": credentials.get("username")}


def _refused(engine: str, error: Exception, credentials: Mapping[str, Any]) -> VendorError:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return VendorError(redact(f"{engine}: {message}", _secrets(credentials)))


def postgresql_query(
    credentials: Mapping[str, Any],
    query: str,
    params: Mapping[str, Any],
    *,
    read_only: bool,
    timeout: float,
    max_rows: int,
) -> VendorAnswer:
    options = f"-c statement_timeout={int(timeout * 1000)}"
    if read_only:
        options += " -c default_transaction_read_only=on"
    try:
        with (
            psycopg.connect(
                host=credentials["host"],
                port=credentials.get("port", 5432),
                dbname=credentials["database"],
                user=credentials["username"],
                password=credentials.get("password", ""),
                connect_timeout=max(1, int(timeout)),
                options=options,
                autocommit=False,
            ) as connection,
            connection.cursor(row_factory=dict_row) as cursor,
        ):
            cursor.execute(query, dict(params))
            rows = cursor.fetchmany(max_rows + 1) if cursor.description else []
            count = cursor.rowcount
            if not read_only:
                connection.commit()
    except psycopg.Error as error:
        raise _refused("PostgreSQL", error, credentials) from None
    return _answer(rows, count, max_rows)


def mysql_query(
    credentials: Mapping[str, Any],
    query: str,
    params: Mapping[str, Any],
    *,
    read_only: bool,
    timeout: float,
    max_rows: int,
) -> VendorAnswer:
    try:
        connection = pymysql.connect(
            host=credentials["host"],
            port=credentials.get("port", 3306),
            database=credentials["database"],
            user=credentials["username"],
            password=credentials.get("password", ""),
            connect_timeout=max(1, int(timeout)),
            read_timeout=timeout,
            write_timeout=timeout,
            cursorclass=pymysql.cursors.DictCursor,
            autocommit=False,
        )
    except pymysql.Error as error:
        raise _refused("MySQL", error, credentials) from None
    try:
        with connection.cursor() as cursor:
            cursor.execute("START TRANSACTION READ ONLY" if read_only else "START TRANSACTION")
            cursor.execute(query, dict(params))
            rows = list(cursor.fetchmany(max_rows + 1)) if cursor.description else []
            count = cursor.rowcount
        connection.rollback() if read_only else connection.commit()
    except pymysql.Error as error:
        raise _refused("MySQL", error, credentials) from None
    finally:
        connection.close()
    return _answer(rows, count, max_rows)


def _answer(rows: list, count: int, max_rows: int) -> VendorAnswer:
    truncated = len(rows) > max_rows
    rows = _json_safe([dict(row) for row in rows[:max_rows]])
    return VendorAnswer(
        0, {"rows": rows, "row_count": count if count >= 0 else len(rows), "truncated": truncated}
    )


def _check(run) -> Any:
    def check(credentials: Mapping[str, Any]) -> str:
        answer = run(
            credentials, "SELECT version() AS v", {}, read_only=True, timeout=5, max_rows=1
        )
        return f"connected, server {answer.content['rows'][0]['v']}"

    return check


POSTGRESQL = ResourceType("postgresql", "PostgreSQL", _schema(5432), check=_check(postgresql_query))
MYSQL = ResourceType("mysql", "MySQL / MariaDB", _schema(3306), check=_check(mysql_query))
