from django.db import migrations

# The 31 predefined types of Tracardi's that 0003 and 0009 did not install (issue 19).
TYPES = (
    "order-dispatch-in-transit order-awaiting-pickup account-payable account-receivable "
    "payment-sent payment-received payable-overdue receivable-overdue account-deleted "
    "visit-ended profile-inactive profile-archived loyalty-card-added loyalty-card-removed "
    "promotion-viewed promotion-clicked messaging-started message-sent message-status "
    "message-received message-opened messaging-ended add-color-preference "
    "add-size-preference add-brand-preference add-channel-preference add-payment-preference "
    "rating product-search-result page-print location"
).split()


def install(apps, schema_editor):
    # Installs the predefined types that do not exist yet: here, the 31 above.
    from apps.events.predefined import predefined_event_types_install

    predefined_event_types_install(
        event_type_model=apps.get_model("events", "EventType"),
        mapping_model=apps.get_model("events", "EventTypeMapping"),
    )


def uninstall(apps, schema_editor):
    apps.get_model("events", "EventType").objects.filter(type__in=TYPES, predefined=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0013_mapping_delete_operation"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
