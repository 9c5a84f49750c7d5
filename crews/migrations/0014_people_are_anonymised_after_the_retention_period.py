from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crews", "0013_health_data_reads_are_logged"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="person",
            options={
                "ordering": ["full_name", "id_number"],
                "permissions": [("export_person", "Can export everything held about a person")],
                "verbose_name": "person",
                "verbose_name_plural": "people",
            },
        ),
        migrations.AddField(
            model_name="person",
            name="anonymised_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text=(
                    "When the retention period ran out and the name, document number, date of birth and phone were "
                    "removed (crews.retention). The records about the person stay, with no name."
                ),
                null=True,
                verbose_name="anonymised at",
            ),
        ),
    ]
