from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking out /track's inserts on a large table (a plain CREATE INDEX would
    # block them for the build's length).
    atomic = False

    dependencies = [
        ("events", "0007_event_import_jobs"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(
                condition=models.Q(("status", "error")),
                fields=["-inserted"],
                name="event_error_inserted",
            ),
        ),
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(
                condition=models.Q(("is_bot", True)),
                fields=["-inserted"],
                name="event_bot_inserted",
            ),
        ),
    ]
