import django.contrib.postgres.fields
from django.db import migrations, models

# The server issues ids as str(uuid.uuid4()) (apps.core.ids.new_id). An existing id of any other
# shape was chosen by a client, so it is marked static. A client-chosen id that happens to look
# like a UUID4 cannot be told apart afterwards and stays resolvable everywhere, as before.
_SERVER_ISSUED = "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"

MARK_STATIC_IDS = f"""
UPDATE profiles_profile
SET static_ids = ARRAY(
    SELECT candidate FROM unnest(array_prepend(id, ids)) AS candidate
    WHERE candidate !~ '{_SERVER_ISSUED}'
)
WHERE id !~ '{_SERVER_ISSUED}'
   OR EXISTS (SELECT 1 FROM unnest(ids) AS merged WHERE merged !~ '{_SERVER_ISSUED}')
"""


class Migration(migrations.Migration):
    dependencies = [
        ("profiles", "0003_session_updated_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="profile",
            name="static_ids",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(max_length=64), blank=True, default=list, size=None
            ),
        ),
        migrations.RunSQL(MARK_STATIC_IDS, reverse_sql=migrations.RunSQL.noop),
    ]
