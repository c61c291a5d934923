"""The least stored reporting rows a reporting URL needs, for the access matrix."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils import timezone

from reporting.models import (
    ClaimBatch,
    ClaimRuleSet,
    FamilyClaim,
    KpiPartition,
    KpiValue,
    ReportRun,
)
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


def family_claim(family, status: str = "eligible") -> FamilyClaim:
    """A claim for ``family`` under the seeded 2022-25 rules, moved to ``status`` through the
    claim services (as the nightly scan and an officer would), so each step's chronology
    event is there as in real life."""
    from reporting import services

    rule_set = ClaimRuleSet.objects.get(code="SF-2022-25", version=1)
    claim = FamilyClaim.objects.create(
        rule_set=rule_set,
        family=family,
        period_label="2024-25",
        period_start=D(2024, 4, 1),
        period_end=D(2025, 3, 31),
        attached_on=D(2024, 6, 1),
        route=FamilyClaim.Route.OUTCOMES,
    )
    officer = factories.UserFactory()
    steps = ["eligible", "claimable", "submitted", "validated", status]
    if status == "rejected":
        steps = ["eligible", "claimable", "submitted", "rejected"]
    for step in steps[1 : steps.index(status) + 1]:
        if step == "claimable":
            claim = services.claim_mark_claimable(
                actor=officer, claim=claim, claimable_on=D(2025, 5, 16)
            )
        elif step == "submitted":
            services.claim_submit(
                actor=officer, claims=[claim], reference=f"B-{str(claim.uuid)[:8]}"
            )
        elif step == "validated":
            claim = services.claim_validate(actor=officer, claim=claim)
        elif step == "paid":
            claim = services.claim_pay(actor=officer, claim=claim)
        elif step == "rejected":
            claim = services.claim_reject(actor=officer, claim=claim, reason="Evidence missing")
    claim.refresh_from_db()
    return claim


def _claim_page(status: str) -> Callable[[Any], dict[str, Any]]:
    return lambda family: {"claim_uuid": family_claim(family, status).uuid}


def _list_with_a_claimable_claim(family: Any) -> dict[str, Any]:
    family_claim(family, "claimable")
    return {}


# Builders that need the matrix's family: the claim page and its actions, and the list with
# a claimable claim in it (so a submitting officer sees the batch form).
FAMILY_BUILDERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    **{f"{status}_claim": _claim_page(status) for status in ("eligible", "submitted", "validated")},
    "claimable_claims": _list_with_a_claimable_claim,
}
