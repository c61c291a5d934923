"""Selectors for the dashboards: reads of stored rows only (never pandas in a request), each a
fixed number of queries whatever the size of the council.

Values come from the parameter set the latest succeeded run used for each measure, so a page
never mixes an old on-demand variant with the nightly numbers. Drill-down rows are filtered by
the families the viewer may see: the page passes ``visible`` (``families_visible_to(user)``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from cases.models import Family
from reporting.measures.dates import Period, shift_month
from reporting.models import (
    MAX_SPAN_MONTHS,
    MONTHLY,
    ClaimRuleSet,
    FamilyClaim,
    KpiMember,
    KpiPartition,
    KpiValue,
    ProgrammeTarget,
    ReportRun,
)

# Member column holding each breakdown's value.
BREAKDOWN_COLUMNS = {
    "locality": "locality",
    "team": "team",
    "service": "service",
    "source": "source",
    "lead_practitioner": "practitioner",
}


@dataclass(frozen=True)
class Tile:
    measure: str
    category: str
    label: str


# The headline number of each measure, as its tile shows it.
TILES = (
    Tile("RR1", "rate", "CSC referral within 6 weeks of closure"),
    Tile("RR4", "rate", "CSC re-referrals within 12 months"),
    Tile("RR5", "rate", "Early help re-referrals within 12 months"),
    Tile("T1", "rate", "Contacted within 3 working days"),
    Tile("T2", "rate", "Assessments within 45 days"),
    Tile("T3", "rate", "Plans with a review overdue"),
    Tile("O2", "needs_met_within_window", "Needs met within 6 months"),
    Tile("O4", "rate", "Partner-led assessments"),
    Tile("C1", "caseload", "Open children per lead practitioner"),
    Tile("F1", "converted", "Requests leading to early help or CSC"),
)


def run_progress(run_uuid: Any) -> dict[str, Any] | None:
    """What a page polls while a run works: status, partitions done, timings, error. One
    query; None for an unknown run."""
    run = ReportRun.objects.select_related("started_by").filter(uuid=run_uuid).first()
    if run is None:
        return None
    percent = round(100 * run.progress_done / run.progress_total) if run.progress_total else 0
    return {
        "uuid": str(run.uuid),
        "status": run.status,
        "status_display": run.get_status_display(),
        "trigger": run.trigger,
        "started_by": run.started_by.get_full_name() if run.started_by else None,
        "data_cutoff": run.data_cutoff,
        "progress_done": run.progress_done,
        "progress_total": run.progress_total,
        "percent": percent,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration": run.duration,
        "error": run.error or None,
        "active": run.is_active,
    }


def latest_run() -> ReportRun | None:
    return (
        ReportRun.objects.filter(status=ReportRun.Status.SUCCEEDED).order_by("-finished_at").first()
    )


def current_params(run: ReportRun | None = None) -> dict[str, str]:
    """Each measure's parameter digest in the latest succeeded run (the nightly set)."""
    run = run if run is not None else latest_run()
    return dict(run.parameters.get("measures", {})) if run is not None else {}


def _status(value: Decimal | None, target: Any, lower_is_better: bool) -> str:
    if value is None:
        return "no_value"
    if target is None:
        return "no_target"
    good = value <= Decimal(str(target)) if lower_is_better else value >= Decimal(str(target))
    return "on_target" if good else "off_target"


def kpi_tiles(*, run: ReportRun | None = None) -> list[dict[str, Any]]:
    """Each headline measure's latest monthly value for the whole authority, with its target
    and status. Two queries."""
    run = run if run is not None else latest_run()
    params = current_params(run)
    wanted = Q(pk__in=[])
    for tile in TILES:
        if tile.measure in params:
            wanted |= Q(
                measure=tile.measure, category=tile.category, params_hash=params[tile.measure]
            )
    rows = (
        KpiValue.objects.filter(wanted, MONTHLY, breakdown="all")
        .order_by("measure", "-period_end")
        .distinct()
    )
    latest: dict[str, KpiValue] = {}
    for found in rows:
        latest.setdefault(found.measure, found)
    tiles = []
    for tile in TILES:
        row = latest.get(tile.measure)
        target = row.extra.get("target") if row else None
        lower = bool(row.extra.get("lower_is_better")) if row else False
        tiles.append(
            {
                "measure": tile.measure,
                "label": tile.label,
                "period": row.period_label if row else None,
                "value": row.value if row else None,
                "numerator": row.numerator if row else None,
                "denominator": row.denominator if row else None,
                "target": target,
                "lower_is_better": lower,
                "status": _status(row.value if row else None, target, lower),
                "kpi": row,
            }
        )
    return tiles


def monthly_series(
    *,
    measure: str,
    category: str = "rate",
    breakdown: str = "all",
    breakdown_value: str = "all",
    params_hash: str | None = None,
) -> list[KpiValue]:
    """One line of a measure, month by month (oldest first), for a chart and its table."""
    digest = params_hash or current_params().get(measure)
    return list(
        KpiValue.objects.filter(
            MONTHLY,
            measure=measure,
            category=category,
            breakdown=breakdown,
            breakdown_value=breakdown_value,
            params_hash=digest,
        ).order_by("period_start")
    )


def cohort_table(
    *,
    measure: str,
    period_label: str,
    breakdown: str = "all",
    breakdown_value: str = "all",
    params_hash: str | None = None,
) -> list[KpiValue]:
    """An RR2 or RR3 cohort table as councils lay it out: every line (cohort, excluded,
    denominator, statuses, destinations, kinds, sources) in the measure's order, n and %."""
    digest = params_hash or current_params().get(measure)
    return list(
        KpiValue.objects.filter(
            measure=measure,
            period_label=period_label,
            breakdown=breakdown,
            breakdown_value=breakdown_value,
            params_hash=digest,
        ).order_by("category_bit")
    )


def breakdown_values(*, measure: str, breakdown: str, params_hash: str | None = None) -> list[str]:
    """The values a breakdown filter can offer for a measure (localities, teams…)."""
    digest = params_hash or current_params().get(measure)
    return list(
        KpiValue.objects.filter(measure=measure, breakdown=breakdown, params_hash=digest)
        .order_by("breakdown_value")
        .values_list("breakdown_value", flat=True)
        .distinct()
    )


def members_of(value: KpiValue) -> QuerySet[KpiMember]:
    """The drill-down rows of a value's period: its partition's, and for a month, the rows of
    earlier months whose run of months reaches it (``KpiMember.span_end``)."""
    period = Period(value.period_start, value.period_end)
    if not period.is_month:
        return KpiMember.objects.filter(partition_id=value.partition_id)
    anchors = KpiPartition.objects.filter(
        MONTHLY,
        measure=value.measure,
        params_hash=value.params_hash,
        period_start__gt=shift_month(period.start, -MAX_SPAN_MONTHS),
        period_start__lte=period.start,
    )
    return KpiMember.objects.filter(partition__in=anchors, span_end__gte=period.end)


def drill_down(
    *, value: KpiValue, visible: QuerySet[Family], side: str = "numerator"
) -> QuerySet[KpiMember]:
    """The records behind one number (its numerator or denominator), limited to the families
    the viewer may see. Lazy; one query when evaluated, with the family and child joined."""
    if side not in {"numerator", "denominator"}:
        raise ValueError("side is numerator or denominator")
    members = members_of(value).filter(family__in=visible)
    if value.breakdown != "all":
        column = BREAKDOWN_COLUMNS[value.breakdown]
        wanted = "" if value.breakdown_value == "unknown" else value.breakdown_value
        members = members.filter(**{column: wanted})
    mask = f"{side}_mask"
    return (
        members.alias(hit=F(mask).bitand(1 << value.category_bit))
        .filter(hit__gt=0)
        .select_related("family", "child")
        .order_by("record_on", "record_id")
    )


def pbr_progress(
    *, rule_set: ClaimRuleSet | None = None, today: dt.date | None = None
) -> dict[str, Any]:
    """Progress against each programme year's target (claims submitted in the year ÷
    target), claims by status, and the success rate over the last 12 months: families with a
    successful outcome ÷ attached families whose involvement closed in those months."""
    rule_set = (
        rule_set or ClaimRuleSet.objects.filter(is_active=True).order_by("-programme_start").first()
    )
    if rule_set is None:
        return {"rule_set": None, "years": [], "by_status": {}, "success_rate": None}
    today = today or timezone.localdate()
    claims = FamilyClaim.objects.filter(rule_set=rule_set)
    years = []
    submitted_statuses = ("submitted", "validated", "paid", "rejected")
    targets = list(ProgrammeTarget.objects.filter(rule_set=rule_set).order_by("year_start"))
    counts = dict(
        claims.filter(status__in=submitted_statuses)
        .values_list("submitted_at__date")
        .annotate(n=Count("pk"))
        .values_list("submitted_at__date", "n")
    )
    for target in targets:
        submitted = sum(
            n for day, n in counts.items() if target.year_start <= day <= target.year_end
        )
        years.append(
            {
                "label": target.label,
                "target": target.target_families,
                "submitted": submitted,
                "progress": round(Decimal(100 * submitted) / target.target_families, 1)
                if target.target_families
                else None,
            }
        )
    by_status = dict(
        claims.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    since = (today - dt.timedelta(days=365)).isoformat()
    closed = claims.filter(
        evidence__closed_on__gte=since, evidence__closed_on__lte=today.isoformat()
    )
    denominator = closed.count()
    successful = closed.filter(status__in=("claimable", "submitted", "validated", "paid")).count()
    return {
        "rule_set": rule_set,
        "years": years,
        "by_status": by_status,
        "success_numerator": successful,
        "success_denominator": denominator,
        "success_rate": round(Decimal(100 * successful) / denominator, 1) if denominator else None,
    }


# --- Supporting Families: claims one by one ----------------------------------------------------

CLAIM_CHECKS = {
    "has_lead_practitioner": "Had a lead practitioner",
    "has_whole_family_assessment": "Had a completed whole-family assessment",
    "plan_covers_needs": "Plan covered every identified need",
    "closed_needs_met": "Early help closed as needs met",
    "all_needs_met": "Every identified need recorded as met",
    "sustained": "No new early help episode or CSC referral in the sustain window",
}
# What broke a sustain window, as the scan records it.
BROKEN_BY = {
    "episode": "a new early help episode",
    "csc_involvement": "a children's social care referral",
}
# How many claimable claims the batch form offers at once, oldest first: a batch is a return
# of a few hundred families at most, and a page of a thousand checkboxes helps nobody.
CLAIMS_TO_SUBMIT_AT_ONCE = 100


def claims_visible_to(user: Any) -> QuerySet[FamilyClaim]:
    """Claims of the families this user may open (``families_visible_to``): the list, the
    claim page and the batch form all read through this."""
    from cases.selectors import families_visible_to

    return FamilyClaim.objects.filter(family__in=families_visible_to(user))


def claims_to_submit(user: Any) -> list[FamilyClaim]:
    """Claimable claims the user may see, longest claimable first, for the batch form."""
    return list(
        claims_visible_to(user)
        .filter(status=FamilyClaim.Status.CLAIMABLE)
        .select_related("family", "rule_set")
        .order_by("claimable_on", "family__reference")[:CLAIMS_TO_SUBMIT_AT_ONCE]
    )


def _day(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def claim_evidence(claim: FamilyClaim) -> dict[str, Any]:
    """The claim's evidence pack (``services.claim_evidence_pack``) in words and dates for the
    claim page: three queries (needs, plan actions, episodes) whatever the family's size."""
    from assessments.models import IdentifiedNeed
    from cases.models import EpisodeEndReason
    from reporting.services import claim_evidence_pack

    pack = claim_evidence_pack(claim)
    rules = pack["rule_set"]
    checks = pack["checks"] or {}
    outcome_labels = dict(IdentifiedNeed.Outcome.choices)
    needs = [
        {
            "outcome": need["headline_outcome__label"],
            "assessed_on": need["assessment__started_on"],
            "result": outcome_labels.get(need["outcome"] or "", "Not recorded"),
            "recorded_on": need["outcome_recorded_on"],
        }
        for need in pack["needs"]
    ]
    need_label = {
        need["uuid"]: row["outcome"] for need, row in zip(pack["needs"], needs, strict=True)
    }
    categories = dict(EpisodeEndReason.Category.choices)
    broken_by = checks.get("broken_by_type")
    return {
        "rules": {
            "name": rules["name"],
            "code": rules["code"],
            "version": rules["version"],
            "programme_start": _day(rules["programme_start"]),
            "programme_end": _day(rules["programme_end"]),
            "min_needs": rules["min_needs"],
            "min_headline_outcomes": rules["min_headline_outcomes"],
            "sustain_months": rules["sustain_months"],
            "payment_amount": Decimal(rules["payment_amount"]),
            "employment_route": rules["employment_route"],
            "employment_sustain_weeks": rules["employment_sustain_weeks"],
        },
        "checks": [
            {"label": label, "passed": checks[key]}
            for key, label in CLAIM_CHECKS.items()
            if key in checks
        ],
        "closed_on": _day(checks.get("closed_on")),
        "sustain_end": _day(checks.get("sustain_end")),
        "broken": (
            {"by": BROKEN_BY.get(broken_by, broken_by), "on": _day(checks.get("broken_on"))}
            if broken_by
            else None
        ),
        "reasons": checks.get("reasons") or "",
        "needs": needs,
        "actions": [
            {
                "need": need_label.get(action["need__uuid"], "Another need"),
                "due_on": action["due_on"],
                "completed_on": action["completed_on"],
            }
            for action in pack["plan_actions"]
        ],
        "episodes": [
            {
                "started_on": episode["started_on"],
                "ended_on": episode["ended_on"],
                "end_reason": categories.get(
                    episode["end_reason__category"] or "", episode["end_reason__code"] or ""
                ),
            }
            for episode in pack["episodes"]
        ],
    }
