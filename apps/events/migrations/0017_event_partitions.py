"""events_event becomes a table partitioned by RANGE (inserted), one partition per month plus
a DEFAULT one (apps.events.partitions, docs/manual/storage.md).

The existing rows are copied into the new table in one INSERT ... SELECT under an exclusive
lock (on a large table: minutes, with /track refused meanwhile; plan the upgrade for a quiet
hour), into the month partitions of every month that has rows (the last 36 months; older rows
go to the DEFAULT partition) and the current month and two ahead. The indexes and the
profile's foreign key are recreated on the parent with their names, after the copy (one sort
per index instead of row-wise inserts). The primary key becomes (id, inserted); the ORM's
key stays `id`, kept unique by the StoredEventId table that the trigger event_id_claim fills.
"""

from datetime import UTC, datetime

import django.contrib.postgres.indexes
from django.db import migrations, models

TABLE = "events_event"
DEFAULT = "events_event_default"
OLD = "events_event_unpartitioned"
NEW = "events_event_partitioned"
MONTHS_BACK = 36
MONTHS_AHEAD = 2

CLAIM_FUNCTION = """
CREATE OR REPLACE FUNCTION events_event_id_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The unique index the partitioned table cannot have: an id already claimed (stored in
    -- any partition) skips the row, as ON CONFLICT (id) DO NOTHING did.
    INSERT INTO events_storedeventid (id, inserted) VALUES (NEW.id, NEW.inserted)
    ON CONFLICT (id) DO NOTHING;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    RETURN NULL;
END
$$
"""
CLAIM_TRIGGER = (
    f"CREATE TRIGGER event_id_claim BEFORE INSERT ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION events_event_id_claim()"
)


def _month(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)


def _definitions(cursor) -> tuple[list[str], list[tuple[str, str]]]:
    """The CREATE INDEX statements (but the key's) and the foreign keys of events_event."""
    cursor.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
        [TABLE, f"{TABLE}_pkey"],
    )
    indexes = [row[0].replace(" ON ONLY ", " ON ") for row in cursor.fetchall()]
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    return indexes, cursor.fetchall()


def _rebuild(cursor, *, partitioned: bool, months: list[datetime]) -> None:
    indexes, foreign_keys = _definitions(cursor)
    cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    like = f"(LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    if partitioned:
        cursor.execute(f"CREATE TABLE {NEW} {like} PARTITION BY RANGE (inserted)")
        cursor.execute(f"CREATE TABLE {DEFAULT} PARTITION OF {NEW} DEFAULT")
        for start in months:
            end = _month(start.year, start.month + 1)
            cursor.execute(
                f"CREATE TABLE {TABLE}_p{start:%Y%m} PARTITION OF {NEW} "
                "FOR VALUES FROM (%s) TO (%s)",
                [start, end],
            )
    else:
        cursor.execute(f"CREATE TABLE {NEW} {like}")
    cursor.execute(f"INSERT INTO {NEW} SELECT * FROM {OLD}")
    cursor.execute(f"DROP TABLE {OLD}")
    cursor.execute(f"ALTER TABLE {NEW} RENAME TO {TABLE}")
    key = "(id, inserted)" if partitioned else "(id)"
    cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY {key}")
    for statement in indexes:
        cursor.execute(statement)
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")


def partition(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [TABLE])
        if cursor.fetchone()[0] == "p":
            return
        now = datetime.now(UTC)
        first = _month(now.year, now.month - MONTHS_BACK)
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', inserted AT TIME ZONE 'UTC') FROM {TABLE} "
            "WHERE inserted >= %s",
            [first],
        )
        months = {row[0].replace(tzinfo=UTC) for row in cursor.fetchall()}
        months |= {_month(now.year, now.month + ahead) for ahead in range(MONTHS_AHEAD + 1)}
        _rebuild(cursor, partitioned=True, months=sorted(months))
        cursor.execute(
            f"INSERT INTO events_storedeventid (id, inserted) SELECT id, inserted FROM {TABLE}"
        )
        cursor.execute(CLAIM_FUNCTION)
        cursor.execute(CLAIM_TRIGGER)


def unpartition(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS event_id_claim ON {TABLE}")
        cursor.execute("DROP FUNCTION IF EXISTS events_event_id_claim()")
        _rebuild(cursor, partitioned=False, months=[])


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0016_event_profile_type_time_index"),
        ("workflows", "0007_run_event_no_constraint"),
        ("destinations", "0007_lean_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="StoredEventId",
            fields=[
                ("id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("inserted", models.DateTimeField()),
            ],
            options={
                "indexes": [
                    django.contrib.postgres.indexes.BrinIndex(
                        fields=["inserted"], name="storedeventid_inserted"
                    )
                ],
            },
        ),
        migrations.RunPython(partition, unpartition),
    ]
