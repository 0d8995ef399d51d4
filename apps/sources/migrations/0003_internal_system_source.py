"""The internal system source (apps.sources.models.INTERNAL_SOURCE_ID): the source of the
segment-entered / segment-left events the CDP stores itself. Disabled: no client sends to it."""

from django.db import migrations

INTERNAL_SOURCE_ID = "@internal"


def create_internal_source(apps, schema_editor):
    EventSource = apps.get_model("sources", "EventSource")
    EventSource.objects.get_or_create(
        id=INTERNAL_SOURCE_ID,
        defaults={
            "name": "Internal (system events)",
            "description": "Events the CDP stores itself: segment-entered and segment-left. "
            "Rules may route its events; it stays disabled, so that no tracker or webhook can "
            "send to it.",
            "bridge": "rest",
            "enabled": False,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("sources", "0002_eventsource_retention_days")]

    operations = [migrations.RunPython(create_internal_source, migrations.RunPython.noop)]
