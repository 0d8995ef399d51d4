from django.db import migrations


def install(apps, schema_editor):
    # Installs the predefined types that do not exist yet: here, consent-given.
    from apps.events.predefined import predefined_event_types_install

    predefined_event_types_install(
        event_type_model=apps.get_model("events", "EventType"),
        mapping_model=apps.get_model("events", "EventTypeMapping"),
    )


def uninstall(apps, schema_editor):
    apps.get_model("events", "EventType").objects.filter(
        type="consent-given", predefined=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0008_event_error_and_bot_indexes"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
