"""A faster database flush after each transactional test (live server, browser, worker tests),
leaving the same rows behind as Django's.

Django's flush (pytest-django's `transactional_db` teardown) TRUNCATEs every table, which on
PostgreSQL makes new files for each of the ~50 tables, then sends post_migrate, which creates
the content types, permissions and role groups again row by row: 3 to 4 seconds a test on a
busy 2-core machine. Here instead:

- the tables are emptied with DELETE (the test data is a few rows; Django's foreign keys are
  DEFERRABLE INITIALLY DEFERRED, so the order does not matter);
- the tables post_migrate fills ("seeded" tables: content types, permissions, role groups,
  found after the first real post_migrate) are kept as they are when their rows are exactly
  the ones post_migrate left (a checksum of every row), and post_migrate is then skipped. A
  test that changed one of them gets the full flush and post_migrate, as before.

A flush that resets sequences (`reset_sequences=True`), or one after a test that left a table
of more than MANY_ROWS rows (DELETE is slower than TRUNCATE there), is Django's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management.commands import flush as flush_command
from django.db import connections

MANY_ROWS = 1000

_django_sql_flush = flush_command.sql_flush
_django_emit_post_migrate_signal = flush_command.emit_post_migrate_signal


class _SeededTables:
    """The tables post_migrate fills, and a checksum of their rows right after it ran."""

    def __init__(self) -> None:
        self.checksums: dict[str, dict[str, str]] = {}  # database alias -> table -> checksum
        self.skip_post_migrate: set[str] = set()  # aliases whose flush kept the seeded tables

    def record(self, connection) -> None:
        tables = _existing_tables(connection)
        filled = _query_by_table(
            connection, tables, "SELECT {name}, EXISTS (SELECT 1 FROM {table})"
        )
        seeded = [table for table in tables if filled[table]]
        self.checksums[connection.alias] = _checksums(connection, seeded)

    def unchanged(self, connection) -> list[str]:
        """The seeded tables, when every one of them holds exactly what post_migrate left."""
        recorded = self.checksums.get(connection.alias)
        if not recorded:
            return []
        if _checksums(connection, list(recorded)) != recorded:
            return []
        return list(recorded)


_seeded = _SeededTables()


def _existing_tables(connection) -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True))


def _query_by_table(connection, tables: list[str], select: str) -> dict[str, object]:
    """One round trip: `select` (with {name} and {table}) for each table, UNION ALL."""
    if not tables:
        return {}
    quote = connection.ops.quote_name
    parts = [select.format(name="%s", table=quote(table)) for table in tables]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), tables)
        return dict(cursor.fetchall())


def _checksums(connection, tables: list[str]) -> dict[str, str]:
    return _query_by_table(
        connection,
        tables,
        "SELECT {name}, count(*) || ':' || md5(coalesce("
        "string_agg(row_text, '|' ORDER BY row_text), '')) "
        "FROM (SELECT seeded_row::text AS row_text FROM {table} AS seeded_row) AS rows",
    )


def _holding_many_rows(connection, tables: list[str]) -> list[str]:
    limit = MANY_ROWS + 1
    counted = _query_by_table(
        connection,
        tables,
        f"SELECT {{name}}, count(*) >= {limit} FROM (SELECT FROM {{table}} LIMIT {limit}) AS t",
    )
    return [table for table, many in counted.items() if many]


def fast_sql_flush(style, connection, reset_sequences=True, allow_cascade=False) -> list[str]:
    kept = set(_seeded.unchanged(connection))
    emptied = [table for table in _existing_tables(connection) if table not in kept]
    if reset_sequences or _holding_many_rows(connection, emptied):
        _seeded.skip_post_migrate.discard(connection.alias)
        return _django_sql_flush(
            style, connection, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    if kept:
        _seeded.skip_post_migrate.add(connection.alias)
    else:
        _seeded.skip_post_migrate.discard(connection.alias)
    quote = connection.ops.quote_name
    return ["SET CONSTRAINTS ALL DEFERRED"] + [f"DELETE FROM {quote(table)}" for table in emptied]


def fast_emit_post_migrate_signal(verbosity, interactive, db, **kwargs) -> None:
    if db in _seeded.skip_post_migrate:
        _seeded.skip_post_migrate.discard(db)
        return
    _django_emit_post_migrate_signal(verbosity, interactive, db, **kwargs)
    _seeded.record(connections[db])


@contextmanager
def fast_flush() -> Iterator[None]:
    """Django's flush command uses the functions above while the context is open."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flush_command, "sql_flush", fast_sql_flush)
        patch.setattr(flush_command, "emit_post_migrate_signal", fast_emit_post_migrate_signal)
        yield
