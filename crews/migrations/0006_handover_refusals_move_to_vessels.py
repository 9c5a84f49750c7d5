# The refused handovers now belong to vessels (its migration 0007 took the model over
# with its table); crews lets go of the model in its state only, keeping the rows.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("crews", "0005_roster_entries_name_who_loaded_them"),
        ("vessels", "0007_handover_refusals_belong_to_vessels"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="HandoverRefusal")],
            database_operations=[],
        ),
    ]
