# The refused handovers move from crews to vessels, beside the handovers they refuse.
# Their rows stay where they are: this app takes the model over in its state only, with
# the old table, and the next migration renames the table.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def permissions_follow_the_model(apps, schema_editor):
    """The model's content type (and so its permissions and the groups holding them)
    now belongs to vessels."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="crews", model="handoverrefusal").update(app_label="vessels")


def permissions_go_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="vessels", model="handoverrefusal").update(app_label="crews")


class Migration(migrations.Migration):
    dependencies = [
        ("vessels", "0006_alerts_for_staff_and_pools_contacts_of_staff_cases"),
        ("crews", "0005_roster_entries_name_who_loaded_them"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="HandoverRefusal",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("refused_at", models.DateTimeField(verbose_name="refused at")),
                        (
                            "blocking",
                            models.JSONField(
                                blank=True,
                                default=list,
                                help_text="Each person not cleared, with the reason.",
                                verbose_name="who blocked",
                            ),
                        ),
                        (
                            "port_call",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="handover_refusals",
                                to="vessels.portcall",
                                verbose_name="port call",
                            ),
                        ),
                        (
                            "requested_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="requested by",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "refused handover",
                        "verbose_name_plural": "refused handovers",
                        "ordering": ["-refused_at", "-id"],
                        "indexes": [models.Index(fields=["refused_at"], name="refusal_time")],
                        "db_table": "crews_handoverrefusal",
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(permissions_follow_the_model, permissions_go_back),
    ]
