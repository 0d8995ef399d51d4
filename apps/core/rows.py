"""Model rows read and written without the ORM's per-query work, for the hot paths.

A batch reads a profile's events, its profile and sessions on every task; building those
queries through the ORM and decoding JSON with the standard library cost about as much CPU as
running the workflows (≈1 ms of 4 per 10-event batch, measured). Here the SQL is fixed per
model (table and column names come from the model's meta, never from input), JSON columns
are decoded with orjson, and instances are made with `Model.from_db`, as the ORM does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import TypeVar

import orjson
import psycopg
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models

M = TypeVar("M", bound=models.Model)


@cache
def _layout(model: type[models.Model]) -> tuple[str, tuple[str, ...], frozenset[int]]:
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    json_positions = frozenset(
        index for index, field in enumerate(fields) if isinstance(field, models.JSONField)
    )
    return (
        f"SELECT {columns} FROM {quote(model._meta.db_table)}",
        tuple(field.attname for field in fields),
        json_positions,
    )


def rows_fetch(model: type[M], condition: str, params: list) -> list[M]:
    """Instances of `model` matching `condition` (SQL after WHERE, written in this app, with
    %s placeholders for `params`; it may end with ORDER BY / LIMIT / FOR UPDATE)."""
    select, _, _ = _layout(model)
    with connection.cursor() as cursor:
        cursor.execute(f"{select} WHERE {condition}", params)
        rows = cursor.fetchall()
    return _instances(model, rows)


def rows_select(model: type[M], sql: str, params: list) -> list[M]:
    """Instances of `model` from `sql`, a statement written in this app whose select list is
    `rows_columns(model, alias)` (for joins and LATERAL reads that `rows_fetch` cannot say)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _instances(model, rows)


def rows_columns(model: type[models.Model], alias: str) -> str:
    """The model's columns, in the order `rows_select` decodes them, qualified by `alias`."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def rows_fetch_together(
    queries: Sequence[tuple[type[models.Model], str, list]],
    *,
    first: Sequence[tuple[str, list]] = (),
) -> list[list]:
    """Several `rows_fetch` in one round trip: the statements go as one text (the cursor
    binds parameters on the client) and run in order in the current transaction; `first` are
    statements run before them whose results are not read (e.g. opening a savepoint, taking
    a lock)."""
    statements, params = [], []
    for statement, statement_params in first:
        statements.append(statement)
        params.extend(statement_params)
    for model, condition, query_params in queries:
        statements.append(f"{_layout(model)[0]} WHERE {condition}")
        params.extend(query_params)
    results = []
    with connection.cursor() as cursor:
        cursor.execute("; ".join(statements), params)
        for _ in first:
            cursor.nextset()
        for model, _, _ in queries:
            results.append(_instances(model, cursor.fetchall()))
            cursor.nextset()
    return results


# A statement written in this app and its %s parameters.
Statement = tuple[str, list]


@contextmanager
def server_bound_cursor() -> Iterator:
    """A cursor whose parameters PostgreSQL binds, for a hot statement of fixed text: psycopg
    prepares it on a connection once it ran there `prepare_threshold` times (settings:
    DATABASE_PREPARED_STATEMENTS), and PostgreSQL then skips parsing and planning it. Django's
    own cursors bind on the client and are never prepared. Queries are logged and errors
    wrapped as on Django's cursors."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = psycopg.Cursor(connection.connection)
    cursor = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    with cursor:
        yield cursor


def statements_execute(statements: Sequence[Statement | None]) -> None:
    """Run writes whose results are not read in one round trip, in order, in the current
    transaction (one text; the cursor binds parameters on the client). None is skipped."""
    present = [statement for statement in statements if statement is not None]
    if not present:
        return
    params = [param for _, statement_params in present for param in statement_params]
    with connection.cursor() as cursor:
        cursor.execute(";\n".join(sql for sql, _ in present), params)


def _instances(model: type[M], rows: list) -> list[M]:
    _, names, json_positions = _layout(model)
    instances = []
    for row in rows:
        values = [
            orjson.loads(value) if index in json_positions and isinstance(value, str) else value
            for index, value in enumerate(row)
        ]
        instances.append(model.from_db(connection.alias, names, values))
    return instances


def insert_unless_exists(instance: models.Model) -> bool:
    """INSERT ... ON CONFLICT (pk) DO NOTHING; True when this call stored the row."""
    meta = instance._meta
    fields = meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    values = [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields
    ]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "
        f"ON CONFLICT ({quote(meta.pk.column)}) DO NOTHING RETURNING 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchone() is not None


def values_stream(
    queryset: models.QuerySet, *, fields: Sequence[str], chunk_size: int = 5000
) -> Iterator[list]:
    """The `fields` of every row of `queryset`, as lists, in primary-key order, a page of
    `chunk_size` at a time by keyset pagination (each page one index range scan from the last
    key: memory and query time stay the same over millions of rows, and no transaction stays
    open). The ORM builds each page's SQL; it runs on a plain cursor so that JSON columns
    arrive as text and are decoded with orjson. `fields` must include the primary key."""
    meta = queryset.model._meta
    model_fields = [_model_field(meta, name) for name in fields]
    json_positions = [
        index for index, field in enumerate(model_fields) if isinstance(field, models.JSONField)
    ]
    key_position = model_fields.index(meta.pk)
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        sql, params = page.values_list(*fields)[:chunk_size].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for row in rows:
            values = list(row)
            for index in json_positions:
                value = values[index]
                if isinstance(value, str | bytes):
                    values[index] = orjson.loads(value)
            yield values
        if len(rows) < chunk_size:
            return
        last = rows[-1][key_position]


def _model_field(meta, name: str) -> models.Field | None:
    try:
        return meta.get_field(name)
    except FieldDoesNotExist:
        return None  # an annotation
