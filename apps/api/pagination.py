"""Cursor pagination on every list: stable under concurrent inserts (no item twice or lost),
`?page_size=` up to MAX_PAGE_SIZE."""

from rest_framework.pagination import CursorPagination

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class ApiCursorPagination(CursorPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    # Views set `ordering` (a unique, indexed column first: cursor positions must not tie).
    ordering = "-created"

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        ordering = getattr(view, "ordering", None) or self.ordering
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)
