"""A drill-down row may stand for a run of consecutive months: ``KpiMember.span_end``.

Rows stored so far each stand for their own period, so their span ends with it.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reporting", "0003_kpi_member_natural_key")]

    operations = [
        migrations.AddField(
            model_name="kpimember",
            name="span_end",
            field=models.DateField(
                null=True, help_text="The end of the last period the row counts in"
            ),
        ),
        migrations.RunSQL(
            "UPDATE reporting_kpimember SET span_end = (SELECT period_end FROM "
            "reporting_kpipartition WHERE reporting_kpipartition.id = partition_id)",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="kpimember",
            name="span_end",
            field=models.DateField(help_text="The end of the last period the row counts in"),
        ),
    ]
