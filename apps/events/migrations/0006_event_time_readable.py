"""No event time that Python cannot read back (before year 1 or after 9999 in UTC, 'infinity').

Rows stored before ingestion refused such times are repaired first: their time becomes the
time they were stored, and they are marked `error` with the original value in the message, so
the pages and batches that read them work again. The constraint is then added NOT VALID (a
brief lock) and validated on its own (a scan that does not block writes), outside one
transaction so the scan holds no exclusive lock.
"""

import datetime

from django.db import migrations, models

REPAIR_UNREADABLE_TIMES = """
UPDATE events_event
SET status = 'error',
    status_message = 'Its time ' || time::text || ' is outside the years 1 to 9999 in UTC; '
        || 'the time it was stored is used instead.',
    time = inserted
WHERE time < '0001-01-01 00:00:00+00' OR time > '9999-12-31 23:59:59.999999+00'
"""
ADD_CONSTRAINT = """
ALTER TABLE events_event ADD CONSTRAINT event_time_readable
CHECK (time >= '0001-01-01 00:00:00+00' AND time <= '9999-12-31 23:59:59.999999+00') NOT VALID
"""
VALIDATE_CONSTRAINT = "ALTER TABLE events_event VALIDATE CONSTRAINT event_time_readable"
DROP_CONSTRAINT = "ALTER TABLE events_event DROP CONSTRAINT event_time_readable"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("events", "0005_event_profile_collected_index_state"),
    ]

    operations = [
        migrations.RunSQL(REPAIR_UNREADABLE_TIMES, migrations.RunSQL.noop),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(ADD_CONSTRAINT, DROP_CONSTRAINT),
                migrations.RunSQL(VALIDATE_CONSTRAINT, migrations.RunSQL.noop),
            ],
            state_operations=[
                migrations.AddConstraint(
                    model_name="event",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("time__gte", datetime.datetime(1, 1, 1, 0, 0, tzinfo=datetime.UTC)),
                            (
                                "time__lte",
                                datetime.datetime(
                                    9999, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.UTC
                                ),
                            ),
                        ),
                        name="event_time_readable",
                    ),
                ),
            ],
        ),
    ]
