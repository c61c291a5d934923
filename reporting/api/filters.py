"""Filters of the KPI list: measure, period and breakdown."""

from django_filters import rest_framework as filters

from reporting.models import KpiValue


class KpiValueFilter(filters.FilterSet):
    measure = filters.CharFilter(max_length=16, help_text="Measure code, e.g. RR1.")
    category = filters.CharFilter(max_length=64, help_text='Line of the measure, e.g. "rate".')
    period = filters.CharFilter(
        field_name="period_label", max_length=32, help_text='Period label, e.g. "2026-10".'
    )
    period_start_from = filters.DateFilter(
        field_name="period_start", lookup_expr="gte", help_text="Periods starting on or after."
    )
    period_end_to = filters.DateFilter(
        field_name="period_end", lookup_expr="lte", help_text="Periods ending on or before."
    )
    breakdown = filters.ChoiceFilter(
        choices=[
            ("all", "The whole authority"),
            ("locality", "Locality"),
            ("team", "Team"),
            ("service", "Service"),
            ("source", "Referral source"),
            ("lead_practitioner", "Lead practitioner"),
        ],
        help_text="Breakdown dimension.",
    )
    breakdown_value = filters.CharFilter(max_length=100, help_text="Locality, team… code.")
    params_hash = filters.CharFilter(max_length=16, help_text="One parameter set only.")

    class Meta:
        model = KpiValue
        fields: list[str] = []
