"""The least stored reporting rows a reporting URL needs, for the access matrix."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils import timezone

from reporting.models import ClaimBatch, ClaimRuleSet, KpiPartition, KpiValue, ReportRun
from tests import factories

D = dt.date


def kpi_value() -> KpiValue:
    partition = KpiPartition.objects.create(
        measure="RR1",
        params_hash="matrix",
        period_label="2026-10",
        period_start=D(2026, 10, 1),
        period_end=D(2026, 10, 31),
    )
    return KpiValue.objects.create(
        partition=partition,
        measure="RR1",
        params_hash="matrix",
        period_label="2026-10",
        period_start=D(2026, 10, 1),
        period_end=D(2026, 10, 31),
        breakdown="all",
        breakdown_value="all",
        category="rate",
        category_bit=0,
        numerator=1,
        denominator=2,
        value=Decimal("50.0"),
        computed_at=timezone.now(),
    )


def report_run() -> ReportRun:
    return ReportRun.objects.create(trigger="nightly", data_cutoff=D(2026, 10, 31))


def claim_batch() -> ClaimBatch:
    return ClaimBatch.objects.create(
        reference="B-MATRIX",
        rule_set=ClaimRuleSet.objects.order_by("-programme_start")[0],
        created_by=factories.UserFactory(),
    )


BUILDERS: dict[str, Callable[[], dict[str, Any]]] = {
    "measure": lambda: {"code": "RR1"},
    "kpi_value": lambda: {"value_id": kpi_value().pk, "side": "numerator"},
    "report_run": lambda: {"run_uuid": report_run().uuid},
    "claim_batch": lambda: {"batch_uuid": claim_batch().uuid},
}
