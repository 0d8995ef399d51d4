"""A second connection to the test database, for tests that need one beside Django's (a lock
held by "another task", a backend to terminate)."""

import psycopg
from django.db import connection


def other_connection(*, autocommit: bool) -> psycopg.Connection:
    """A psycopg connection opened as Django opens its own: the same host and port, or the
    embedded server's socket, which DATABASE_URL gives as a `host` option, not as HOST."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)  # Django's cursor classes need Django's connection
    return psycopg.connect(**params, autocommit=autocommit)


def database_host() -> str:
    """The test database's host: HOST, or the embedded server's socket directory (a `host`
    option of DATABASE_URL); empty for the client's default."""
    settings_dict = connection.settings_dict
    return settings_dict["HOST"] or settings_dict.get("OPTIONS", {}).get("host", "")
