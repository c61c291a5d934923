"""References come from a PostgreSQL sequence per prefix instead of a locked counter row.

Each sequence starts past both the counter's last value and the highest reference already
stored, and is owned by the column holding the references (so TRUNCATE … RESTART IDENTITY
restarts it and dropping the table drops it). Other databases keep using the counter rows,
which this creates. Reversing writes each sequence's position back into its counter row.
"""

from django.db import migrations

# Frozen copy of cases.references.HOLDERS as it was when this migration was written.
HOLDERS = {"F": "Family", "R": "Referral"}


def _highest_stored(cursor, table: str, prefix: str) -> int:
    cursor.execute(
        f"SELECT max(substring(reference FROM {len(prefix) + 2})::bigint) FROM {table} "
        f"WHERE reference ~ '^{prefix}-[0-9]+$'"
    )
    (value,) = cursor.fetchone()
    return int(value or 0)


def create_sequences(apps, schema_editor):
    connection = schema_editor.connection
    Counter = apps.get_model("cases", "ReferenceCounter")
    for prefix, model_name in HOLDERS.items():
        counter, _ = Counter.objects.get_or_create(prefix=prefix)
        if connection.vendor != "postgresql":
            continue
        table = apps.get_model("cases", model_name)._meta.db_table
        name = f"cases_reference_{prefix.lower()}"
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SEQUENCE {name} AS bigint OWNED BY {table}.reference")
            last = max(counter.last_value, _highest_stored(cursor, table, prefix))
            if last > 0:
                cursor.execute("SELECT setval(%s, %s)", [name, last])


def drop_sequences(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    Counter = apps.get_model("cases", "ReferenceCounter")
    for prefix in HOLDERS:
        name = f"cases_reference_{prefix.lower()}"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT last_value, is_called FROM {name}")
            last_value, is_called = cursor.fetchone()
            Counter.objects.update_or_create(
                prefix=prefix, defaults={"last_value": last_value if is_called else 0}
            )
            cursor.execute(f"DROP SEQUENCE {name}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_taf_members_and_access_log")]

    operations = [migrations.RunPython(create_sequences, drop_sequences)]
