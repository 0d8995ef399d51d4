from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built concurrently: the dispatcher keeps writing attempts while it is made.
    atomic = False

    dependencies = [
        ("destinations", "0003_erasure_forwarding"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="deliveryattempt",
            index=models.Index(fields=["started"], name="attempt_started"),
        ),
    ]
