from django.db import migrations


def install(apps, schema_editor):
    from apps.events.predefined import predefined_event_types_install

    predefined_event_types_install(
        event_type_model=apps.get_model("events", "EventType"),
        mapping_model=apps.get_model("events", "EventTypeMapping"),
    )


def uninstall(apps, schema_editor):
    # The predefined types go, with their mapping rows.
    apps.get_model("events", "EventType").objects.filter(predefined=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0002_event_types_and_mappings"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
