"""Running a report: one SELECT in a read-only transaction with a statement timeout.

The run sits in its own transaction, or in a savepoint when the caller has one open (a workflow
run): either way it is rolled back at the end, so the read-only mode and the timeout never
outlive it and nothing it could do is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from psycopg import errors as pg_errors

from apps.reports.definition import (
    Definition,
    Parameter,
    ReportError,
    build_query,
    parameter_values,
)
from apps.reports.models import Report


@dataclass(frozen=True)
class ReportResult:
    grouped: bool
    # [(group value as text or None, metric value: int, float or None)], largest first.
    rows: list[tuple[str | None, int | float | None]]
    parameters: dict[str, Any]
    elapsed_ms: float

    def document(self) -> dict:
        """The JSON shape the API and workflows get."""
        return {
            "rows": [{"group": group, "value": value} for group, value in self.rows],
            "parameters": self.parameters,
        }


def report_definition(report: Report) -> Definition:
    return Definition(
        subject=report.subject,
        filter=report.filter,
        window_days=report.window_days,
        window_from=report.window_from,
        window_to=report.window_to,
        group_by=report.group_by,
        metric=report.metric,
        metric_field=report.metric_field,
        parameters=tuple(
            Parameter(name=p.name, type=p.type, default=p.default, required=p.required)
            for p in report.parameters.all()
        ),
    )


@contextmanager
def read_only_cursor(*, timeout_ms: int) -> Iterator[Any]:
    """A cursor in a read-only transaction (or savepoint) that PostgreSQL stops after
    `timeout_ms`; everything is rolled back on the way out."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION READ ONLY")
        # SET LOCAL takes no bind parameter; set_config(..., true) is its function form.
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(timeout_ms)])
        try:
            yield cursor
        finally:
            transaction.set_rollback(True)


def report_run(
    *, report: Report, parameters: dict[str, Any] | None = None, now=None
) -> ReportResult:
    return definition_run(definition=report_definition(report), parameters=parameters, now=now)


def definition_run(
    *, definition: Definition, parameters: dict[str, Any] | None = None, now=None
) -> ReportResult:
    values = parameter_values(definition, parameters)
    limit = settings.CDP_REPORT_ROW_LIMIT
    timeout_ms = settings.CDP_REPORT_TIMEOUT_MS
    query = build_query(definition, values, now=now or timezone.now(), limit=limit)
    started = timezone.now()
    try:
        with read_only_cursor(timeout_ms=timeout_ms) as cursor:
            cursor.execute(query.sql, query.params)
            fetched = cursor.fetchall()
    except OperationalError as exc:
        if isinstance(exc.__cause__, pg_errors.QueryCanceled):
            raise ReportError(
                f"The report ran longer than {timeout_ms / 1000:g} s and was stopped "
                "(CDP_REPORT_TIMEOUT_MS): narrow its time window or its filter."
            ) from exc
        raise
    if len(fetched) > limit:
        raise ReportError(
            f"The report has more than {limit} groups (CDP_REPORT_ROW_LIMIT): group by a "
            "field with fewer values, or narrow the filter or the time window."
        )
    elapsed_ms = (timezone.now() - started).total_seconds() * 1000
    rows = [(group, _number(value)) for group, value in fetched]
    return ReportResult(query.grouped, rows, values, elapsed_ms)


def _number(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
