"""KpiMember keyed by (partition, record_type, record_id) instead of a surrogate id.

Django cannot alter a table into a composite primary key, and drill-down rows are derived data:
the table is dropped and created again, and the next report run (nightly, or one started from
the dashboard) writes every partition's rows back.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_episode_unallocated_index"),
        ("reporting", "0002_seed_default_claim_rule_set"),
    ]

    operations = [
        migrations.DeleteModel(name="KpiMember"),
        migrations.CreateModel(
            name="KpiMember",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "partition_id",
                        "record_type",
                        "record_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("record_type", models.CharField(max_length=24)),
                ("record_id", models.BigIntegerField()),
                ("numerator_mask", models.BigIntegerField(default=0)),
                ("denominator_mask", models.BigIntegerField(default=0)),
                ("locality", models.CharField(blank=True, max_length=100)),
                ("team", models.CharField(blank=True, max_length=100)),
                ("service", models.CharField(blank=True, max_length=100)),
                ("source", models.CharField(blank=True, max_length=100)),
                ("practitioner", models.CharField(blank=True, max_length=100)),
                (
                    "record_on",
                    models.DateField(blank=True, help_text="The date that placed it", null=True),
                ),
                ("related_type", models.CharField(blank=True, max_length=24)),
                ("related_id", models.BigIntegerField(blank=True, null=True)),
                ("related_on", models.DateField(blank=True, null=True)),
                (
                    "note",
                    models.CharField(
                        blank=True, help_text="status, kind, reason…", max_length=100
                    ),
                ),
                (
                    "child",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="cases.person",
                    ),
                ),
                (
                    "family",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="cases.family",
                    ),
                ),
                (
                    "partition",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="members",
                        to="reporting.kpipartition",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("numerator_mask__gte", 0), ("denominator_mask__gte", 0)),
                        name="kpi_member_masks_not_negative",
                    )
                ],
            },
        ),
    ]
