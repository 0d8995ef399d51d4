import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("profiles", "0004_profile_static_ids")]

    operations = [
        migrations.AddField(
            model_name="erasurerecord",
            name="status",
            field=models.CharField(
                choices=[("running", "Running"), ("done", "Done")], default="running", max_length=16
            ),
        ),
        migrations.AddField(
            model_name="erasurerecord",
            name="started_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="erasurerecord",
            name="heartbeat_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="erasurerecord",
            name="deletion_requests",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="erasurerecord",
            name="erased_at",
            field=models.DateTimeField(blank=True, help_text="When it finished.", null=True),
        ),
        # Records from before erasures ran in the background were finished at once.
        migrations.RunSQL(
            "UPDATE profiles_erasurerecord "
            "SET status = 'done', started_at = erased_at, heartbeat_at = erased_at",
            migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name="erasurerecord",
            index=models.Index(
                condition=models.Q(("status", "running")),
                fields=["heartbeat_at"],
                name="erasurerecord_running",
            ),
        ),
    ]
