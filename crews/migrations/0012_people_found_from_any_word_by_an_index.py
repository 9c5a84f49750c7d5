"""On PostgreSQL, trigram indexes on a person's folded name and ID number, so that the
search from any word of a name (``LIKE '% hung%'``) and from the start of an ID number
use an index instead of reading every person (vessels.search). pg_trgm ships with
PostgreSQL and is a trusted extension: the database's owner may create it. SQLite has
no such index and scans, as before."""

from django.db import migrations

INDEXES = {
    "person_name_trigrams": "name_folded",
    "person_id_number_trigrams": "id_number",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON crews_person USING gin ({column} gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("crews", "0011_tests_carry_the_transaction_that_wrote_them")]

    operations = [migrations.RunPython(create, drop)]
