"""Counting rows on tables too large for COUNT(*).

The admin shows a result count on every changelist. On the events table a plain COUNT(*) reads
every row, so large tables count at most `cap` + 1 rows (a LIMIT inside the count, which stops
early) and, past that, show PostgreSQL's own row estimate for the whole table when nothing is
filtered (pg_class.reltuples, kept fresh by autovacuum's ANALYZE), or "more than cap" when a
filter is applied.
"""

from dataclasses import dataclass
from functools import cached_property
from math import ceil

from django.core.paginator import Paginator
from django.db import connections, models

DEFAULT_COUNT_CAP = 10_000


@dataclass(frozen=True)
class Count:
    value: int
    # "exact"; "estimate" (the table's row estimate); "more" (more than `value` - 1 rows).
    kind: str

    @property
    def exact(self) -> bool:
        return self.kind == "exact"

    @property
    def label(self) -> str:
        if self.kind == "estimate":
            return f"about {self.value:,}"
        if self.kind == "more":
            return f"more than {self.value - 1:,}"
        return f"{self.value:,}"


def table_row_estimate(model: type[models.Model]) -> int | None:
    """PostgreSQL's estimate of the table's rows, or None if it was never analyzed."""
    connection = connections[models.QuerySet(model).db]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(model._meta.db_table)],
        )
        row = cursor.fetchone()
    if row is None or row[0] < 0:
        return None
    return row[0]


def bounded_count(queryset: models.QuerySet, *, cap: int = DEFAULT_COUNT_CAP) -> Count:
    """The exact count when it is at most `cap`; otherwise a lower bound or the table estimate.

    The rows counted need no order: without one the planner may take any index that serves
    the filter (a partial index, (type, time)) or a scan that stops at `cap` + 1 rows, where the
    list's order (-inserted) would walk that index past every row the filter drops."""
    if not queryset.query.distinct_fields:
        queryset = queryset.order_by()
    counted = queryset[: cap + 1].count()
    if counted <= cap:
        return Count(counted, "exact")
    if _is_unfiltered(queryset):
        estimate = table_row_estimate(queryset.model)
        if estimate is not None and estimate > counted:
            return Count(estimate, "estimate")
    return Count(counted, "more")


def _is_unfiltered(queryset: models.QuerySet) -> bool:
    query = queryset.query
    return not query.where and not query.distinct and not query.combinator


class LargeTablePaginator(Paginator):
    """A Paginator whose `count` never runs an unbounded COUNT(*).

    Use with `show_full_result_count = False` on the ModelAdmin. The admin's pagination and
    search templates (templates/admin/pagination.html, search_form.html) show an inexact count as
    "about N" or "more than N".
    """

    count_cap = DEFAULT_COUNT_CAP

    @cached_property
    def _bounded(self) -> Count:
        return self._count_rows()

    def _count_rows(self) -> Count:
        return bounded_count(self.object_list, cap=self.count_cap)

    @cached_property
    def count(self) -> int:
        return self._bounded.value

    @cached_property
    def num_pages(self) -> int:
        """Past the exact range only the first `count_cap` rows are paged: deep OFFSETs into a
        huge table are slow and useless; a filter or a search narrows it instead."""
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        pages = ceil(max(1, self.count - self.orphans) / self.per_page)
        if self._bounded.exact:
            return pages
        return min(pages, ceil(self.count_cap / self.per_page))

    @property
    def count_kind(self) -> str:
        """ "exact", "estimate" (about `count` rows) or "more" (more than `count_cap` rows)."""
        return self._bounded.kind


class FirstPageFirstPaginator(LargeTablePaginator):
    """A LargeTablePaginator for the first page: it reads that page's rows, and one more,
    before counting. When they are all the rows, their number is the count and no COUNT runs;
    either way the first page is served from them. A filter or search that reads a whole range
    to find few rows (a property search in its time window) then reads it once, not twice."""

    @cached_property
    def first_rows(self) -> list:
        return list(self.object_list[: self.per_page + 1])

    def _count_rows(self) -> Count:
        if len(self.first_rows) <= self.per_page:
            return Count(len(self.first_rows), "exact")
        return super()._count_rows()

    def page(self, number):
        number = self.validate_number(number)
        if number == 1 and not self.orphans:
            return self._get_page(self.first_rows[: self.per_page], number, self)
        return super().page(number)
