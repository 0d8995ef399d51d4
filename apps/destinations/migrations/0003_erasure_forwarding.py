from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("destinations", "0002_redact_recorded_credentials"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="erasure_id",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        migrations.AddField(
            model_name="destination",
            name="forward_erasures",
            field=models.BooleanField(
                default=False,
                help_text='Webhook resources: when a person is forgotten, send a deletion request (data {"action": "delete", "profile_ids": [...], "erasure_id": ...}).',
            ),
        ),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.UniqueConstraint(
                condition=models.Q(("erasure_id", ""), _negated=True),
                fields=("destination", "erasure_id"),
                name="delivery_one_per_erasure",
            ),
        ),
    ]
