"""Indexes for "Find a family or person" and the requests for support inbox.

Name and postcode searches are case-insensitive prefix matches. Django writes them as
``UPPER(col::text) LIKE UPPER('smi%')``, which PostgreSQL answers from a B-tree only when the
index is on the same expression with ``text_pattern_ops`` (whatever the database collation).
Those indexes are PostgreSQL-only, so they are created here in SQL and not declared on the
models: SQLite, the zero-setup default, neither needs nor understands them.
"""

from django.db import migrations, models


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """RunSQL that does nothing on other databases."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_episode_open_by_lead_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["date_of_birth"], name="person_date_of_birth"),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(fields=["status", "received_at"], name="referral_inbox"),
        ),
        RunSQLOnPostgreSQL(
            sql=[
                "CREATE INDEX person_surname_forename_prefix ON cases_person "
                "(UPPER(surname::text) text_pattern_ops, UPPER(forename::text) text_pattern_ops)",
                "CREATE INDEX person_forename_prefix ON cases_person "
                "(UPPER(forename::text) text_pattern_ops)",
                "CREATE INDEX family_postcode_prefix ON cases_family "
                "(UPPER(REPLACE(postcode::text, ' ', '')) text_pattern_ops)",
            ],
            reverse_sql=[
                "DROP INDEX person_surname_forename_prefix",
                "DROP INDEX person_forename_prefix",
                "DROP INDEX family_postcode_prefix",
            ],
        ),
    ]
