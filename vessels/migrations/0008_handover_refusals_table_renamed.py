# The refused handovers' table takes the name of the app that now owns them.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("vessels", "0007_handover_refusals_belong_to_vessels"),
        ("crews", "0006_handover_refusals_move_to_vessels"),
    ]

    operations = [
        migrations.AlterModelTable(name="handoverrefusal", table=None),
    ]
