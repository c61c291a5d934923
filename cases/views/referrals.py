"""Requests for support: the triage inbox, a request as received (with the partner's people
and their possible matches), and the triage decision."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from earlyhelp.access import access_for
from earlyhelp.models import Team

from .. import services
from ..forms_frontdoor import ReferralInboxFilter, TriageForm, add_refusal
from ..models import Referral, SubmittedPerson
from ..permissions import family_viewed, request_user, require_write
from ..selectors import (
    families_visible_to,
    family_children,
    referral_for_triage,
    referral_inbox,
    referrals_visible_to,
)
from .caseload import sort_columns

PAGE_SIZE = 50


def _require_front_door(request: HttpRequest) -> None:
    if not access_for(request.user).works_front_door:
        raise PermissionDenied("Requests for support are triaged by the council's teams.")


def _referral_for(request: HttpRequest, reference: str) -> Referral:
    """The request at ``reference``: 404 outside visibility, 403 for a role that does not triage."""
    referral = get_object_or_404(
        referrals_visible_to(request.user).select_related(
            "source",
            "referring_organisation",
            "family",
            "decided_by",
            "decision_level",
            "decision_service",
            "partner_submission",
        ),
        reference=reference,
    )
    _require_front_door(request)
    return referral


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    _require_front_door(request)
    params = request.GET.copy()
    params.setdefault("status", Referral.Status.RECEIVED)
    params.setdefault("sort", "triage")
    filters = ReferralInboxFilter(params, queryset=referral_inbox(request.user))
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [
        {"referral": referral, "age": (today - timezone.localdate(referral.received_at)).days}
        for referral in page
    ]
    return render(
        request,
        "cases/referrals/inbox.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "columns": sort_columns(
                str(params["sort"]),
                {"reference": "Request", "received": "Received", "source": "Source"},
            ),
        },
    )


def _log_views(request: HttpRequest, referral: Referral, context: dict[str, object]) -> None:
    """The request's family, and the families of every possible match shown, were viewed."""
    seen: list[tuple[int, int | None]] = []
    if referral.family_id is not None:
        seen.append((referral.family_id, None))
    for submitted in context["submitted_people"]:  # type: ignore[attr-defined]
        people = [candidate.person for candidate in submitted.candidates.all()]
        if submitted.person is not None:
            people.append(submitted.person)
        for person in people:
            seen += [(m.family_id, person.pk) for m in person.family_memberships.all()]
    if seen:
        services.access_logs_record(user=request_user(request), seen=seen, what="cases:referral")


@login_required
def referral_detail(request: HttpRequest, reference: str) -> HttpResponse:
    referral = _referral_for(request, reference)
    context = referral_for_triage(referral)
    _log_views(request, referral, context)
    family_visible = (
        referral.family_id is not None
        and families_visible_to(request.user).filter(pk=referral.family_id).exists()
    )
    return render(
        request,
        "cases/referrals/detail.html",
        {
            "referral": referral,
            "family_visible": family_visible,
            "can_decide": access_for(request.user).can_write,
            **context,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def submitted_person(request: HttpRequest, reference: str, person: str) -> HttpResponse:
    """One person from a partner's request: confirm a possible match, reject it, or record the
    person as new. GET shows the same choices on a page of their own."""
    referral = _referral_for(request, reference)
    submitted = get_object_or_404(
        SubmittedPerson.objects.filter(submission__referral=referral), uuid=person
    )
    if request.method == "POST":
        require_write(request)
        return _resolve(request, referral, submitted)
    context = referral_for_triage(referral)
    _log_views(request, referral, context)
    shown = next(p for p in context["submitted_people"] if p.pk == submitted.pk)  # type: ignore[attr-defined]
    return render(
        request,
        "cases/referrals/person.html",
        {
            "referral": referral,
            "submitted": shown,
            "unresolved_children": context["unresolved_children"],
            "can_decide": access_for(request.user).can_write,
        },
    )


def _resolve(request: HttpRequest, referral: Referral, submitted: SubmittedPerson) -> HttpResponse:
    actor = request_user(request)
    action = request.POST.get("action")
    name = f"{submitted.forename} {submitted.surname}"
    try:
        if action in {"confirm", "reject"}:
            candidate = get_object_or_404(
                submitted.candidates.select_related("person"),
                person__uuid=request.POST.get("match"),
            )
            if action == "confirm":
                services.match_candidate_confirm(actor=actor, candidate=candidate)
                done = f"{name} is recorded as the existing person {candidate.person}"
            else:
                services.match_candidate_reject(actor=actor, candidate=candidate)
                done = f"{candidate.person} is not {name}: possible match rejected"
        elif action == "create":
            services.submitted_person_create_new(actor=actor, submitted=submitted)
            done = f"{name} is recorded as a new person"
        else:
            messages.error(request, "Choose what to do with this person.")
            return redirect(_people_url(referral))
    except ValidationError as refusal:
        for message in refusal.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect(_people_url(referral))


def _people_url(referral: Referral) -> str:
    return reverse("cases:referral", kwargs={"reference": referral.reference}) + "#people"


@login_required
@require_http_methods(["GET", "POST"])
def triage(request: HttpRequest, reference: str) -> HttpResponse:
    referral = _referral_for(request, reference)
    require_write(request)
    if referral.status != Referral.Status.RECEIVED:
        messages.info(request, f"Request {referral.reference} has already been triaged.")
        return redirect("cases:referral", reference=referral.reference)
    if referral.family is not None:
        family_viewed(request, referral.family)
    children = family_children(referral.family) if referral.family is not None else []
    linked = set(referral.children.values_list("pk", flat=True))
    form = TriageForm(
        request.POST or None,
        referral=referral,
        teams=Team.objects.filter(
            organisation_id__in=access_for(request.user).organisation_ids
        ).order_by("name"),
        children=children,
        initial={
            "decided_on": timezone.localdate(),
            "children": [child.uuid for child in children if child.pk in linked],
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.referral_decide(
                actor=request_user(request),
                referral=referral,
                decision=data["decision"],
                decided_on=data["decided_on"],
                children=list(data["children"]) if "children" in data else None,
                level=data["level"],
                service=data["service"],
                team=data["team"],
                lead_practitioner=data["lead_practitioner"],
                notes=data["notes"],
                partner_reason=data.get("partner_reason", ""),
            )
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            decided = Referral.Decision(data["decision"]).label
            messages.success(request, f"Request {referral.reference} triaged: {decided.lower()}")
            return redirect("cases:referral", reference=referral.reference)
    return render(
        request,
        "cases/referrals/triage.html",
        {"referral": referral, "form": form, "has_children": bool(children)},
    )
