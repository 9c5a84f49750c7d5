import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crews", "0015_kit_stock_is_derived_from_deliveries_and_adjustments"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PooledSample",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField(help_text="The day the sample is taken.", verbose_name="date")),
                (
                    "pool",
                    models.PositiveSmallIntegerField(
                        help_text="The pool's number at the station that day.", verbose_name="pool"
                    ),
                ),
                (
                    "position",
                    models.PositiveSmallIntegerField(
                        help_text="The sample's place in its pool.", verbose_name="position"
                    ),
                ),
                ("printed_at", models.DateTimeField(verbose_name="first printed at")),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="pooled_samples",
                        to="crews.person",
                        verbose_name="person",
                    ),
                ),
                (
                    "printed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="first printed by",
                    ),
                ),
                (
                    "station",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="pooled_samples",
                        to="crews.kcsstation",
                        verbose_name="KCS station",
                    ),
                ),
            ],
            options={
                "verbose_name": "pooled sample",
                "verbose_name_plural": "pooled samples",
                "ordering": ["station", "date", "pool", "position"],
                "constraints": [
                    models.UniqueConstraint(fields=("station", "date", "person"), name="pooled_sample_once_a_day"),
                    models.UniqueConstraint(fields=("station", "date", "pool", "position"), name="pooled_sample_place"),
                ],
            },
        ),
    ]
