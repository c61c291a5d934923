"""Reporting pages for performance officers and managers: the KPI dashboard, a measure's monthly
series (or cohort table), the records behind every number, on-demand runs and Supporting
Families payment by results.

Pages read stored rows through ``reporting.dashboards`` only: no pandas in a request. Every
number links to its drill-down, which lists only the families the viewer may see. Every table
downloads as CSV or XLSX (``?format=csv|xlsx``) through ``reporting.exports``, which
neutralises spreadsheet formulas.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_POST, require_safe

from cases.permissions import family_viewed
from cases.selectors import families_visible_to
from earlyhelp.models import User

from . import dashboards, exports, services
from .forms import ACTIONS_BY_STATUS, ClaimBatchForm, ClaimPayForm, apply_refusal
from .models import ClaimBatch, FamilyClaim, KpiValue
from .permissions import can_read_kpis, can_start_runs

PAGE_SIZE = 50
FORMATS = ("csv", "xlsx")
COHORT_MEASURES = {
    "RR2": "Early help closures: what happened next",
    "RR3": "Step-downs from children's social care",
}
TILE_BY_MEASURE = {tile.measure: tile for tile in dashboards.TILES}
BREAKDOWNS = {"locality": "Locality", "team": "Team", "service": "Service"}
SIDES = {"numerator": "Counted (numerator)", "denominator": "Considered (denominator)"}


def reader_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in (else sent to sign in) and allowed to read KPIs (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_read_kpis(request.user):
            raise PermissionDenied("Your role does not read reports.")
        return view(request, *args, **kwargs)

    return wrapped


def _export_format(request: HttpRequest) -> str | None:
    fmt = request.GET.get("format")
    if fmt is None:
        return None
    if fmt not in FORMATS:
        raise Http404("Download as csv or xlsx.")
    return fmt


def _is_percent(category: str) -> bool:
    return category != "caseload"


@reader_required
def dashboard(request: HttpRequest) -> HttpResponse:
    run = dashboards.latest_run()
    return render(
        request,
        "reporting/dashboard.html",
        {
            "run": run,
            "tiles": dashboards.kpi_tiles(run=run),
            "cohorts": COHORT_MEASURES,
            "can_start_runs": can_start_runs(request.user),
        },
    )


def _choice(request: HttpRequest, name: str, allowed: list[str] | dict[str, str]) -> str:
    chosen = request.GET.get(name, "")
    return chosen if chosen in allowed else ""


@reader_required
def measure(request: HttpRequest, code: str) -> HttpResponse:
    if code in COHORT_MEASURES:
        return _cohort(request, code)
    tile = TILE_BY_MEASURE.get(code)
    if tile is None:
        raise Http404("No such measure.")
    breakdown = _choice(request, "breakdown", BREAKDOWNS)
    values = dashboards.breakdown_values(measure=code, breakdown=breakdown) if breakdown else []
    value = _choice(request, "value", values) if breakdown else ""
    series = dashboards.monthly_series(
        measure=code,
        category=tile.category,
        breakdown=breakdown if value else "all",
        breakdown_value=value or "all",
    )
    months = [point.period_label for point in series]
    start = _choice(request, "from", months)
    end = _choice(request, "to", months)
    shown = [
        point
        for point in series
        if (not start or point.period_label >= start) and (not end or point.period_label <= end)
    ]
    title = f"{code}: {tile.label}"
    fmt = _export_format(request)
    if fmt:
        table = exports.kpi_values_table(shown, title=code)
        return exports.response(table, fmt, f"{code}-{value or 'all'}-series")
    percent = _is_percent(tile.category)
    target = shown[-1].extra.get("target") if shown else None
    chart = {
        "labels": [f"{p.period_start:%b %Y}" for p in shown],
        "values": [float(p.value) if p.value is not None else None for p in shown],
        "target": target,
        "label": f"{title}{' (%)' if percent else ''}",
    }
    return render(
        request,
        "reporting/measure.html",
        {
            "code": code,
            "title": title,
            "series": shown,
            "months": months,
            "start": start,
            "end_label": f"{shown[-1].period_start:%B %Y}" if shown else "",
            "end": end,
            "breakdown": breakdown,
            "breakdowns": BREAKDOWNS,
            "breakdown_label": BREAKDOWNS.get(breakdown, ""),
            "values": values,
            "value": value,
            "percent": percent,
            "target": target,
            "chart": chart,
        },
    )


ACRONYMS = {"csc": "CSC", "cin": "CIN", "cp": "CP", "cla": "CLA"}


def _line_label(category: str) -> str:
    """``reopened_csc_kind_cp_plan`` → "Reopened CSC kind CP plan"."""
    words = [ACRONYMS.get(word, word) for word in category.split("_")]
    return " ".join([words[0].capitalize(), *words[1:]]) if words else category


def _cohort(request: HttpRequest, code: str) -> HttpResponse:
    digest = dashboards.current_params().get(code)
    spans = (
        KpiValue.objects.filter(measure=code, params_hash=digest, breakdown="all")
        .order_by("-period_start", "period_label")
        .values_list("period_label", "period_start", "period_end")
        .distinct()
    )
    # Councils report these cohorts by financial year: years first (latest by default),
    # then the rolling months.
    years = [label for label, start, end in spans if (end - start).days > 31]
    labels = dict.fromkeys(label for label, *_ in spans)
    periods = years + [label for label in labels if label not in years]
    period = _choice(request, "period", periods) or (periods[0] if periods else "")
    breakdown = _choice(request, "breakdown", BREAKDOWNS)
    values = dashboards.breakdown_values(measure=code, breakdown=breakdown) if breakdown else []
    value = _choice(request, "value", values) if breakdown else ""
    rows = (
        dashboards.cohort_table(
            measure=code,
            period_label=period,
            breakdown=breakdown if value else "all",
            breakdown_value=value or "all",
        )
        if period
        else []
    )
    for row in rows:
        row.line = _line_label(row.category)  # type: ignore[attr-defined]
    fmt = _export_format(request)
    if fmt:
        return exports.response(
            exports.kpi_values_table(rows, title=code), fmt, f"{code}-{period}-{value or 'all'}"
        )
    return render(
        request,
        "reporting/cohort.html",
        {
            "code": code,
            "title": f"{code}: {COHORT_MEASURES[code]}",
            "rows": rows,
            "periods": periods,
            "period": period,
            "breakdown": breakdown,
            "breakdowns": BREAKDOWNS,
            "breakdown_label": BREAKDOWNS.get(breakdown, ""),
            "values": values,
            "value": value,
        },
    )


DRILL_HEADERS = [
    "record",
    "record id",
    "date",
    "family",
    "child",
    "team",
    "locality",
    "service",
    "note",
]


@reader_required
def drill_down(request: HttpRequest, value_id: int, side: str) -> HttpResponse:
    if side not in SIDES:
        raise Http404("Numerator or denominator.")
    value = get_object_or_404(KpiValue, pk=value_id)
    members = dashboards.drill_down(
        value=value, visible=families_visible_to(request.user), side=side
    )
    fmt = _export_format(request)
    if fmt:
        table = exports.Table(
            DRILL_HEADERS,
            (
                [
                    m.record_type,
                    m.record_id,
                    m.record_on,
                    m.family.reference if m.family else None,
                    f"{m.child.forename} {m.child.surname}" if m.child else None,
                    m.team,
                    m.locality,
                    m.service,
                    m.note,
                ]
                for m in members.iterator(chunk_size=2000)
            ),
            title=f"{value.measure} {side}",
        )
        return exports.response(table, fmt, f"{value.measure}-{value.period_label}-{side}")
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    total = value.numerator if side == "numerator" else value.denominator
    return render(
        request,
        "reporting/drill_down.html",
        {
            "kpi": value,
            "side": side,
            "side_label": SIDES[side],
            "other_side": "denominator" if side == "numerator" else "numerator",
            "page": page,
            "total": total,
            "hidden": (total or 0) - page.paginator.count,
            "measure_url_code": value.measure,
        },
    )


@login_required
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    if not can_start_runs(request.user):
        raise PermissionDenied("Only performance officers and administrators start runs.")
    try:
        with transaction.atomic():
            run = services.report_run_request(actor=cast(User, request.user))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("reporting:dashboard")
    messages.success(request, "Recompute requested. Its progress is shown below.")
    return redirect("reporting:run", run_uuid=run.uuid)


def _progress(run_uuid: UUID) -> dict[str, Any]:
    progress = dashboards.run_progress(run_uuid)
    if progress is None:
        raise Http404("No such run.")
    return progress


@reader_required
def run_detail(request: HttpRequest, run_uuid: UUID) -> HttpResponse:
    return render(request, "reporting/run.html", {"run": _progress(run_uuid)})


@reader_required
def run_progress_fragment(request: HttpRequest, run_uuid: UUID) -> HttpResponse:
    return render(request, "reporting/_run_progress.html", {"run": _progress(run_uuid)})


CLAIM_HEADERS = [
    "claim",
    "family",
    "programme year",
    "status",
    "attached on",
    "claimable on",
    "route",
    "batch",
]


@reader_required
def pbr(request: HttpRequest) -> HttpResponse:
    """The claims list, and for those who decide, a batch of claimable claims to submit."""
    decider = can_start_runs(request.user)
    if request.method == "POST" and not decider:
        raise PermissionDenied("Only performance officers and administrators submit claims.")
    to_submit = dashboards.claims_to_submit(request.user) if decider else []
    batch_form = (
        ClaimBatchForm(request.POST if request.method == "POST" else None, claims=to_submit)
        if to_submit
        else None
    )
    if request.method == "POST":
        if batch_form is None:
            messages.error(request, "No claims are claimable now, so there is nothing to submit.")
            return redirect(request.get_full_path())
        if batch_form.is_valid():
            try:
                batch = services.claim_submit(
                    actor=cast(User, request.user),
                    claims=batch_form.cleaned_data["claims"],
                    reference=batch_form.cleaned_data["reference"],
                )
            except ValidationError as refusal:
                apply_refusal(batch_form, refusal, status_field="claims")
            else:
                count = len(batch_form.cleaned_data["claims"])
                messages.success(
                    request,
                    f"Batch {batch.reference} submitted with {count} claim{pluralize(count)}.",
                )
                return redirect(request.get_full_path())
    status = _choice(request, "status", dict(FamilyClaim.Status.choices))
    claims = (
        dashboards.claims_visible_to(request.user)
        .select_related("family", "batch")
        .order_by("-claimable_on", "family__reference")
    )
    if status:
        claims = claims.filter(status=status)
    fmt = _export_format(request)
    if fmt:
        table = exports.Table(
            CLAIM_HEADERS,
            (
                [
                    str(c.uuid),
                    c.family.reference,
                    c.period_label,
                    c.get_status_display(),
                    c.attached_on,
                    c.claimable_on,
                    c.get_route_display(),
                    c.batch.reference if c.batch else None,
                ]
                for c in claims
            ),
            title="Claims",
        )
        return exports.response(table, fmt, f"claims-{status or 'all'}")
    progress = dashboards.pbr_progress()
    statuses = [
        (key, label, progress["by_status"].get(key, 0)) for key, label in FamilyClaim.Status.choices
    ]
    return render(
        request,
        "reporting/pbr.html",
        {
            "progress": progress,
            "statuses": statuses,
            "status": status,
            "page": Paginator(claims, PAGE_SIZE).get_page(request.GET.get("page")),
            "batches": list(ClaimBatch.objects.order_by("-created_at")[:20]),
            "can_export_batches": decider,
            "batch_form": batch_form,
            "more_to_submit": len(to_submit) == dashboards.CLAIMS_TO_SUBMIT_AT_ONCE,
        },
    )


@reader_required
def claim_batch_export(request: HttpRequest, batch_uuid: UUID) -> HttpResponse:
    """The programme's return for one batch: officers who submit claims only."""
    if not can_start_runs(request.user):
        raise PermissionDenied("Only performance officers and administrators export batches.")
    batch = get_object_or_404(ClaimBatch, uuid=batch_uuid)
    fmt = _export_format(request) or "csv"
    return exports.response(exports.claim_batch_table(batch), fmt, f"claims-{batch.reference}")


def _claim_for(request: HttpRequest, claim_uuid: UUID, *, decide: bool = False) -> FamilyClaim:
    """The claim if its family is one this user may see (404 otherwise, whatever the role),
    then 403 unless the role reads reports (or, to ``decide``, submits claims)."""
    claim = get_object_or_404(
        dashboards.claims_visible_to(request.user).select_related("family", "rule_set", "batch"),
        uuid=claim_uuid,
    )
    if not can_read_kpis(request.user):
        raise PermissionDenied("Your role does not read reports.")
    if decide and not can_start_runs(request.user):
        raise PermissionDenied("Only performance officers and administrators decide claims.")
    return claim


def _action_form(form_class: type, claim: FamilyClaim, data: Any = None) -> Any:
    if form_class is ClaimPayForm:
        return form_class(data, default_amount=claim.rule_set.payment_amount)
    return form_class(data)


def _claim_page(request: HttpRequest, claim: FamilyClaim, posted_form: Any = None) -> HttpResponse:
    decider = can_start_runs(request.user)
    forms = []
    if decider:
        for form_class in ACTIONS_BY_STATUS.get(claim.status, ()):
            if isinstance(posted_form, form_class):
                forms.append(posted_form)
            else:
                forms.append(_action_form(form_class, claim))
    evidence = dashboards.claim_evidence(claim)
    family_viewed(request, claim.family)
    return render(
        request,
        "reporting/claim.html",
        {
            "claim": claim,
            "evidence": evidence,
            "forms": forms,
            "posted_form": posted_form,
            "submit_from_list": decider and claim.status == FamilyClaim.Status.CLAIMABLE,
        },
    )


@login_required
@require_safe
def claim_detail(request: HttpRequest, claim_uuid: UUID) -> HttpResponse:
    """A claim and its evidence pack, with the next steps its status allows."""
    return _claim_page(request, _claim_for(request, claim_uuid))


# What each action did, for the success banner; and what it could not do, for a refusal.
CLAIM_DONE = {
    "claimable": "marked as claimable",
    "validate": "validated",
    "pay": "marked as paid",
    "reject": "rejected",
}


def _claim_act(actor: User, claim: FamilyClaim, action: str, data: dict[str, Any]) -> str:
    """Call the service for ``action``; return the success message."""
    reference = claim.family.reference
    if action == "claimable":
        services.claim_mark_claimable(actor=actor, claim=claim, claimable_on=data["claimable_on"])
        return f"Claim for {reference} marked as claimable from {data['claimable_on']:%-d %B %Y}."
    if action == "validate":
        services.claim_validate(actor=actor, claim=claim)
    elif action == "pay":
        paid = services.claim_pay(actor=actor, claim=claim, amount=data["payment_amount"])
        return f"Claim for {reference} marked as paid: £{paid.payment_amount:,.2f}."
    elif action == "reject":
        services.claim_reject(actor=actor, claim=claim, reason=data["rejection_reason"])
    return f"Claim for {reference} {CLAIM_DONE[action]}."


@login_required
@require_POST
def claim_decide(request: HttpRequest, claim_uuid: UUID, action: str) -> HttpResponse:
    """One step of a claim's life, by a performance officer or administrator."""
    claim = _claim_for(request, claim_uuid, decide=True)
    form_class = next(
        (form for form in ACTIONS_BY_STATUS.get(claim.status, ()) if form.action == action),
        None,
    )
    if form_class is None:  # the page was drawn before the claim moved on
        messages.error(
            request,
            f"This claim is {claim.get_status_display().lower()} now, so it cannot be "
            f"{CLAIM_DONE[action]}. Its current state is shown below.",
        )
        return redirect("reporting:claim", claim_uuid=claim.uuid)
    form = _action_form(form_class, claim, request.POST)
    if form.is_valid():
        try:
            done = _claim_act(cast(User, request.user), claim, action, form.cleaned_data)
        except ValidationError as refusal:
            if set(getattr(refusal, "error_dict", {})) == {"status"}:  # moved on meanwhile
                for message in refusal.messages:
                    messages.error(request, message)
                return redirect("reporting:claim", claim_uuid=claim.uuid)
            apply_refusal(form, refusal)
        else:
            messages.success(request, done)
            return redirect("reporting:claim", claim_uuid=claim.uuid)
    return _claim_page(request, claim, posted_form=form)
