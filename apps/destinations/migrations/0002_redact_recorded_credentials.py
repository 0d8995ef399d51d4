"""Attempts and deliveries recorded before every encoded form of a credential was redacted can
hold one (an echoed `Authorization: Basic base64(user:password)` in a response excerpt): redact
them as new ones are."""

from django.db import migrations

from apps.destinations.redaction import mask, secret_forms

BATCH = 1000


def _redact_rows(queryset, fields: tuple[str, ...], forms: list[str]) -> None:
    changed = []
    for row in queryset.only("pk", *fields).iterator(chunk_size=BATCH):
        before = [getattr(row, field) for field in fields]
        for field in fields:
            setattr(row, field, mask(getattr(row, field), forms))
        if [getattr(row, field) for field in fields] != before:
            changed.append(row)
        if len(changed) >= BATCH:
            queryset.model.objects.bulk_update(changed, fields)
            changed = []
    if changed:
        queryset.model.objects.bulk_update(changed, fields)


def redact_recorded_credentials(apps, schema_editor) -> None:
    Resource = apps.get_model("destinations", "Resource")
    Delivery = apps.get_model("destinations", "Delivery")
    DeliveryAttempt = apps.get_model("destinations", "DeliveryAttempt")
    for resource in Resource.objects.exclude(credentials={}).iterator():
        forms = secret_forms(resource.credentials)
        if not forms:
            continue
        attempts = DeliveryAttempt.objects.filter(destination__resource=resource).exclude(
            response_excerpt="", error=""
        )
        _redact_rows(attempts, ("response_excerpt", "error"), forms)
        deliveries = Delivery.objects.filter(destination__resource=resource).exclude(
            last_error=""
        )
        _redact_rows(deliveries, ("last_error",), forms)


class Migration(migrations.Migration):
    dependencies = [("destinations", "0001_initial")]

    operations = [
        migrations.RunPython(redact_recorded_credentials, migrations.RunPython.noop, elidable=True)
    ]
