"""The dot paths that JSON documents really have, with their JSON types, counted in SQL over a
bounded sample of rows (the condition builder's field suggestions).

Objects are walked into; leaves and lists are reported (a list is a value to test with CONTAINS,
not a path to walk); nulls are not, as they say nothing of the type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from django.db import connection
from django.db.models import QuerySet

# Objects are walked this deep; a path deeper than this is still offered down to this depth.
MAX_DEPTH: Final = 8
# At most this many (path, type) rows come back, the most common first.
MAX_PATHS: Final = 500
EXAMPLE_LENGTH: Final = 60

# `sample` is the caller's query (a bounded, ordered sample: its SQL and parameters come from the
# ORM), with one column `doc` (a jsonb object) and one `rank` (1 = the most recent row). A string
# that starts like an ISO date is reported as a "date".
_PATHS_SQL: Final = """
WITH RECURSIVE sample AS ({sample}),
walk(rank, path, value, depth) AS (
    SELECT s.rank, ARRAY[e.key], e.value, 1
    FROM sample s, jsonb_each(CASE WHEN jsonb_typeof(s.doc) = 'object' THEN s.doc END) e
    UNION ALL
    SELECT w.rank, w.path || e.key, e.value, w.depth + 1
    FROM walk w, jsonb_each(w.value) e
    WHERE jsonb_typeof(w.value) = 'object' AND w.depth < %s
),
typed AS (
    SELECT rank, path, value,
        CASE WHEN jsonb_typeof(value) = 'string'
                  AND value #>> '{{}}' ~ '^\\d{{4}}-\\d{{2}}-\\d{{2}}([T ]\\d{{2}}:\\d{{2}}|$)'
             THEN 'date' ELSE jsonb_typeof(value) END AS type
    FROM walk
    WHERE jsonb_typeof(value) NOT IN ('object', 'null')
),
counted AS (
    SELECT path, type, count(*) AS rows, min(rank) AS first
    FROM typed
    GROUP BY path, type
    ORDER BY rows DESC, path, type
    LIMIT %s
)
-- The example is the value in the most recent row that has the path (a join on the rank is
-- four times faster than array_agg(value ORDER BY rank) over 1,000 profiles).
SELECT c.path, c.type, c.rows, t.value::text AS example
FROM counted c JOIN typed t ON t.path = c.path AND t.type = c.type AND t.rank = c.first
ORDER BY c.rows DESC, c.path, c.type
"""


@dataclass(frozen=True)
class JsonPath:
    keys: tuple[str, ...]
    type: str  # string, number, boolean, date, array, object, null
    count: int  # rows of the sample that have it (with this type)
    # The value in the most recent row, as PostgreSQL's JSON text, cut to EXAMPLE_LENGTH.
    example: str


def json_paths(sample: QuerySet) -> list[JsonPath]:
    """The paths of the `doc` column of `sample` (a sliced queryset with `doc` and `rank`
    annotations), each with its most common type; the most common paths first."""
    sql, params = sample.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_PATHS_SQL.format(sample=sql), [*params, MAX_DEPTH, MAX_PATHS])
        rows = cursor.fetchall()
    paths: dict[tuple[str, ...], JsonPath] = {}
    for keys, type_, count, example in rows:
        keys = tuple(keys)
        # Rows come most common first: a path's first row is its main type.
        if keys not in paths:
            paths[keys] = JsonPath(keys, type_, count, _example(example))
    return list(paths.values())


def _example(text: str) -> str:
    return text if len(text) <= EXAMPLE_LENGTH else text[: EXAMPLE_LENGTH - 1] + "…"
