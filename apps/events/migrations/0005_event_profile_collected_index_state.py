"""The partial index of a profile's collected events, declared on Event.Meta.

Workflows migration 0002 created it as SQL, outside the events app's model state; the model
now declares it. This migration only records it in the state: the index exists already (that
migration is a dependency), so no DDL runs here.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_quarantined_event_proxy"),
        ("profiles", "0003_session_updated_index"),
        ("sources", "0001_initial"),
        ("workflows", "0002_event_profile_collected_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="event",
                    index=models.Index(
                        condition=models.Q(("status", "collected")),
                        fields=["profile", "time", "inserted"],
                        name="event_profile_collected",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
