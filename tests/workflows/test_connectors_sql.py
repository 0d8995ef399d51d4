"""SQL query actions against the real PostgreSQL of the tests and the local MariaDB
(127.0.0.1:3306, root, no password, database `test`): parameters, read-only, writes, errors."""

import uuid

import psycopg
import pymysql
import pytest
from django.conf import settings as django_settings

from apps.destinations.services import resource_connection_test
from apps.workflows.actions import action_by_id
from tests.support.database import database_host
from tests.workflows.connectors import resource, run

pytestmark = pytest.mark.django_db

MARIADB = {"host": "127.0.0.1", "port": 3306, "database": "test", "username": "root"}


def _postgres_credentials() -> dict:
    db = django_settings.DATABASES["default"]
    credentials = {
        "host": database_host() or "127.0.0.1",
        "port": int(db["PORT"] or 5432),
        "database": db["NAME"],
        "username": db["USER"],
    }
    if db.get("PASSWORD"):
        credentials["password"] = db["PASSWORD"]
    return credentials


@pytest.fixture
def postgres_table():
    """A committed table the action's own connection can see (the test's transaction cannot)."""
    credentials = _postgres_credentials()
    table = f"conn_sql_{uuid.uuid4().hex[:8]}"
    dsn = {
        "host": credentials["host"],
        "port": credentials["port"],
        "dbname": credentials["database"],
        "user": credentials["username"],
        "password": credentials.get("password", ""),
        "autocommit": True,
    }
    with psycopg.connect(**dsn) as connection:
        connection.execute(
            f"CREATE TABLE {table} (email text PRIMARY KEY, plan text, spent numeric)"
        )
        connection.execute(f"INSERT INTO {table} VALUES ('ada@example.com', 'pro', 12.50)")
    yield table, dsn
    with psycopg.connect(**dsn) as connection:
        connection.execute(f"DROP TABLE {table}")


@pytest.fixture
def mariadb_table():
    table = f"conn_sql_{uuid.uuid4().hex[:8]}"
    connection = pymysql.connect(host="127.0.0.1", user="root", database="test", autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} (email varchar(200) PRIMARY KEY, plan text)")
        cursor.execute(f"INSERT INTO {table} VALUES ('ada@example.com', 'pro')")
    yield table, connection
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {table}")
    connection.close()


def test_postgresql_query_with_parameters_puts_the_rows_on_the_payload(postgres_table):
    table, _ = postgres_table
    db = resource("postgresql", _postgres_credentials())

    results, _ = run(
        "postgresql_query",
        {
            "resource": db.pk,
            "query": f"SELECT plan, spent FROM {table} WHERE email = lower(%(email)s)",
            "params": {"email": "profile@data.contact.email.main"},
        },
    )

    assert results == [
        (
            "response",
            {"rows": [{"plan": "pro", "spent": "12.50"}], "row_count": 1, "truncated": False},
        )
    ]


def test_postgresql_value_that_looks_like_sql_is_only_a_value(postgres_table):
    table, _ = postgres_table
    db = resource("postgresql", _postgres_credentials())

    results, _ = run(
        "postgresql_query",
        {
            "resource": db.pk,
            "query": f"SELECT plan FROM {table} WHERE email = %(email)s",
            "params": {"email": "x' OR '1'='1"},
        },
    )

    assert results[0][1]["rows"] == []


def test_postgresql_read_only_refuses_a_write(postgres_table):
    table, dsn = postgres_table
    db = resource("postgresql", _postgres_credentials())

    results, _ = run(
        "postgresql_query",
        {"resource": db.pk, "query": f"DELETE FROM {table}", "params": {}},
    )

    assert results == [
        (
            "error",
            {
                "status": None,
                "content": None,
                "error": "PostgreSQL: cannot execute DELETE in a read-only transaction",
            },
        )
    ]
    with psycopg.connect(**dsn) as connection:
        assert connection.execute(f"SELECT count(*) FROM {table}").fetchone() == (1,)


def test_postgresql_write_when_allowed_is_committed(postgres_table):
    table, dsn = postgres_table
    db = resource("postgresql", _postgres_credentials())

    results, _ = run(
        "postgresql_query",
        {
            "resource": db.pk,
            "query": f"UPDATE {table} SET plan = %(plan)s WHERE email = %(email)s",
            "params": {"plan": "event@type", "email": "ada@example.com"},
            "read_only": False,
        },
    )

    assert results == [("response", {"rows": [], "row_count": 1, "truncated": False})]
    with psycopg.connect(**dsn) as connection:
        assert connection.execute(f"SELECT plan FROM {table}").fetchone() == ("purchase",)


def test_postgresql_rows_past_the_limit_are_cut(postgres_table):
    db = resource("postgresql", _postgres_credentials())

    results, _ = run(
        "postgresql_query",
        {"resource": db.pk, "query": "SELECT generate_series(1, 5) AS n", "max_rows": 2},
    )

    assert results[0][1] == {"rows": [{"n": 1}, {"n": 2}], "row_count": 5, "truncated": True}


def test_postgresql_wrong_password_is_an_error_without_the_password():
    db = resource(
        "postgresql",
        {**_postgres_credentials(), "username": "nobody_here", "password": "s3cret-pw"},
    )

    results, _ = run("postgresql_query", {"resource": db.pk, "query": "SELECT 1"})

    [(port, answer)] = results
    assert port == "error"
    assert answer["error"].startswith("PostgreSQL: connection failed:")
    assert "s3cret-pw" not in answer["error"] and "nobody_here" not in answer["error"]


def test_mysql_query_with_parameters(mariadb_table):
    table, _ = mariadb_table
    db = resource("mysql", MARIADB)

    results, _ = run(
        "mysql_query",
        {
            "resource": db.pk,
            "query": f"SELECT plan FROM {table} WHERE email = %(email)s",
            "params": {"email": "ada@example.com"},
        },
    )

    assert results == [
        ("response", {"rows": [{"plan": "pro"}], "row_count": 1, "truncated": False})
    ]


def test_mysql_read_only_refuses_a_write_and_a_write_query_commits(mariadb_table):
    table, connection = mariadb_table
    db = resource("mysql", MARIADB)
    update = {
        "resource": db.pk,
        "query": f"UPDATE {table} SET plan = %(plan)s",
        "params": {"plan": "free"},
    }

    refused, _ = run("mysql_query", update)
    written, _ = run("mysql_query", {**update, "read_only": False})

    assert refused[0] == (
        "error",
        {
            "status": None,
            "content": None,
            "error": "MySQL: (1792, 'Cannot execute statement in a READ ONLY transaction')",
        },
    )
    assert written == [("response", {"rows": [], "row_count": 1, "truncated": False})]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT plan FROM {table}")
        assert cursor.fetchall() == (("free",),)


def test_mysql_syntax_error_goes_to_error():
    db = resource("mysql", MARIADB)

    results, _ = run("mysql_query", {"resource": db.pk, "query": "SELEC 1"})

    assert results[0][0] == "error"
    assert results[0][1]["error"].startswith('MySQL: (1064, "You have an error in your SQL syntax')


def test_the_connection_checks_of_both_databases():
    postgres = resource_connection_test(resource=resource("postgresql", _postgres_credentials()))
    mysql = resource_connection_test(resource=resource("mysql", MARIADB))

    assert postgres.ok and postgres.message.startswith(
        "Production credentials: connected, server PostgreSQL "
    )
    assert mysql.ok and "MariaDB" in mysql.message


@pytest.mark.parametrize(
    ("query", "params", "message"),
    [
        ("SELECT %(a)s, %(b)s", {"a": 1}, "params: give a value for b"),
        ("SELECT 1", {"a": 1}, "params: the query has no %(a)s placeholder"),
    ],
)
def test_placeholders_and_values_must_match(query, params, message):
    db = resource("postgresql", _postgres_credentials())
    errors = action_by_id("postgresql_query").config_errors(
        {"resource": db.pk, "query": query, "params": params}
    )
    assert errors == [message]
