from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking out /track's inserts on a large table.
    atomic = False

    dependencies = [
        ("events", "0015_event_hit"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(fields=["profile", "type", "time"], name="event_profile_type_time"),
        ),
    ]
