"""The e-mail index with text_pattern_ops: it serves equality (identification, imports) as
before, and prefix search (the admin's profile search, LIKE 'ann%') whatever the database's
collation. Written as SQL because Django renders OpClass over a JSON key transform with
parentheses PostgreSQL refuses; the model state keeps the plain expression index of the same
name."""

from django.db import migrations

EXPRESSION = "lower((data #>> '{contact,email,main}'::text[]))"


class Migration(migrations.Migration):
    dependencies = [
        ("profiles", "0007_segment_evaluation"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                "DROP INDEX IF EXISTS profile_email_main_idx",
                "CREATE INDEX profile_email_main_idx ON profiles_profile "
                f"({EXPRESSION} text_pattern_ops)",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS profile_email_main_idx",
                f"CREATE INDEX profile_email_main_idx ON profiles_profile ({EXPRESSION})",
            ],
        ),
    ]
