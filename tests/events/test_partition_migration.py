"""Events migration 0017 turns a plain events table with rows into the partitioned one: every
row kept, in its month's partition, its id claimed, the lean indexes and the profile's foreign
key back on the parent (and 0016 again turns it back)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.events.models import Event, StoredEventId
from tests.sources.factories import EventSourceFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("events", "0016_event_profile_type_time_index")
AFTER = ("events", "0017_event_partitions")
ROWS = 3000


def _migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([target])


@pytest.fixture(autouse=True)
def _latest_schema_after():
    """Migrating back to 0016 also unapplies what came after 0017 (in any app): the tests that
    follow get the whole schema back."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _relkind() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'events_event'::regclass")
        return cursor.fetchone()[0]


def _rows_per_partition() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, count(*) FROM events_event GROUP BY 1 ORDER BY 1"
        )
        return dict(cursor.fetchall())


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'events_event'")
        return {row[0] for row in cursor.fetchall()}


def test_the_migration_partitions_a_table_with_rows_and_back():
    indexes = _index_names()
    source = EventSourceFactory()
    _migrate(BEFORE)
    assert _relkind() == "r"
    with connection.cursor() as cursor:
        # 1,000 rows in each of two months a year apart, and 1,000 from ten years ago (older
        # than the 36 months the migration partitions: they go to the DEFAULT partition).
        cursor.execute(
            "INSERT INTO events_event (id, type, source_id, time, inserted, status, "
            "status_message, is_bot, properties, context, traits, metadata, request, tags, hit) "
            "SELECT 'm-' || n, 'page-view', %s, t, t, 'processed', '', false, "
            "jsonb_build_object('n', n), '{}', '{}', '{}', '{}', '{}', '{}' FROM ("
            "  SELECT n, date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' "
            "    + interval '1 hour' - (ARRAY[0, 12, 120])[n / 1000 + 1] * interval '1 month' "
            "    AS t FROM generate_series(0, %s) AS n) AS rows",
            [source.pk, ROWS - 1],
        )
        cursor.execute(
            "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMM'), "
            "to_char(now() AT TIME ZONE 'UTC' - interval '12 months', 'YYYYMM')"
        )
        this_month, a_year_ago = cursor.fetchone()

    _migrate(AFTER)

    assert _relkind() == "p"
    assert _rows_per_partition() == {
        "events_event_default": 1000,
        f"events_event_p{a_year_ago}": 1000,
        f"events_event_p{this_month}": 1000,
    }
    assert Event.objects.get(pk="m-1234").properties == {"n": 1234}
    assert StoredEventId.objects.count() == ROWS
    assert _index_names() == indexes
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT confrelid::regclass::text FROM pg_constraint "
            "WHERE conrelid = 'events_event'::regclass AND contype = 'f'"
        )
        assert cursor.fetchall() == [("profiles_profile",)]
        # A retried id is skipped, whatever month it would land in now.
        cursor.execute(
            "INSERT INTO events_event (id, type, source_id, time, inserted, status, "
            "status_message, is_bot, properties, context, traits, metadata, request, tags) "
            "VALUES ('m-5', 'retry', %s, now(), now(), 'processed', '', false, '{}', '{}', "
            "'{}', '{}', '{}', '{}') ON CONFLICT DO NOTHING RETURNING id",
            [source.pk],
        )
        assert cursor.fetchall() == []
    assert Event.objects.get(pk="m-5").type == "page-view"

    _migrate(BEFORE)
    assert _relkind() == "r"
    assert Event.objects.count() == ROWS
    assert _index_names() == indexes
    _migrate(AFTER)
    assert _relkind() == "p"
    assert Event.objects.count() == ROWS
