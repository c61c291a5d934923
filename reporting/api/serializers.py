"""The reporting API's shapes: stored KPI values, never drill-down rows (they name children)."""

from rest_framework import serializers

from reporting.models import KpiValue


class KpiValueSerializer(serializers.ModelSerializer):
    value = serializers.DecimalField(
        max_digits=12,
        decimal_places=1,
        coerce_to_string=False,
        allow_null=True,
        help_text="Percentage (one decimal) for rates, ratio for C1; null when the "
        "denominator is empty.",
    )
    run = serializers.UUIDField(source="run.uuid", allow_null=True, read_only=True)

    class Meta:
        model = KpiValue
        fields = [
            "measure",
            "period_label",
            "period_start",
            "period_end",
            "breakdown",
            "breakdown_value",
            "category",
            "numerator",
            "denominator",
            "value",
            "extra",
            "params",
            "params_hash",
            "run",
            "computed_at",
        ]
        read_only_fields = fields
