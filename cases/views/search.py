"""Find a family or person, and add people without creating duplicates.

Before a person is created, the people this user may see are matched against what was typed
(``cases.matching``); the practitioner says whether one of them is the same person, and only
"none of these" creates a new record.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from earlyhelp.access import access_for

from .. import services
from ..forms_frontdoor import (
    DUPLICATE_NHS_NUMBER,
    FamilyCreateForm,
    MatchChoiceForm,
    PersonDetailsForm,
    SearchForm,
    add_refusal,
)
from ..models import Family
from ..permissions import family_for, family_viewed, request_user
from ..selectors import family_search, likely_matches, nhs_number_recorded

PAGE_SIZE = 20
SEARCH_FIELDS = {"surname", "forename", "nhs_number", "reference", "postcode"}


@login_required
def search(request: HttpRequest) -> HttpResponse:
    access = access_for(request.user)
    if not access.has_caseload:
        raise PermissionDenied("Your role does not work with families.")
    searched = bool(SEARCH_FIELDS & set(request.GET)) or "date_of_birth_0" in request.GET
    form = SearchForm(request.GET if searched else None)
    page = None
    if searched and form.is_valid():
        page = Paginator(family_search(request.user, **form.cleaned_data), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    return render(
        request,
        "cases/search/search.html",
        {
            "form": form,
            "page": page,
            "can_create": access.is_staff_worker and access.can_write,
            "can_add_people": access.can_write,
        },
    )


def _matches(request: HttpRequest, form: PersonDetailsForm, postcode: str, family: Family | None):
    details = form.person_details()
    return likely_matches(
        request.user,
        forename=details["forename"],
        surname=details["surname"],
        born_on=details["date_of_birth"] or details["expected_date_of_birth"],
        nhs_number=details["nhs_number"],
        postcode=postcode,
        family=family,
    )


def _two_steps(
    request: HttpRequest,
    form: PersonDetailsForm,
    *,
    postcode: str,
    family: Family | None,
) -> tuple[str, Any]:
    """Where a POST of an "add a person" page stands: ("details", None) to (re)show the
    details, ("matches", choice form) to ask about likely matches, or ("create", person or
    None) when the user chose an existing person or a new record."""
    if request.method != "POST" or "change" in request.POST or not form.is_valid():
        return "details", None
    candidates = _matches(request, form, postcode, family)
    chosen = None
    if candidates:
        choice = MatchChoiceForm(
            request.POST if "checked" in request.POST else None, candidates=candidates
        )
        if not (choice.is_bound and choice.is_valid()):
            return "matches", choice
        chosen = choice.chosen()
    nhs_number = form.cleaned_data["nhs_number"]
    if chosen is None and nhs_number and nhs_number_recorded(nhs_number):
        form.add_error("nhs_number", DUPLICATE_NHS_NUMBER)
        return "details", None
    return "create", chosen


STEP_KEYS = {"csrfmiddlewaretoken", "checked", "match", "change"}


def _render_steps(
    request: HttpRequest, template: str, context: dict[str, Any], step: str, choice: Any
) -> HttpResponse:
    """The details form, or the likely matches with the details carried in hidden inputs so
    that "Change details" brings back everything typed."""
    carried = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in STEP_KEYS
        for value in values
    ]
    if step == "matches":
        candidates = choice.candidates.values()
        context["already_members"] = [c for c in choice.all_candidates if c.in_family]
        context["candidates"] = candidates
    return render(
        request, template, {**context, "step": step, "choice": choice, "carried": carried}
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_add(request: HttpRequest, reference: str) -> HttpResponse:
    family = family_for(request, reference, change=True)
    form = PersonDetailsForm(request.POST or None)
    step, outcome = _two_steps(request, form, postcode=family.postcode, family=family)
    if step == "details" and request.method == "GET":
        family_viewed(request, family)
    if step == "create":
        actor = request_user(request)
        role = form.cleaned_data["role"]
        try:
            if outcome is None:
                person = services.person_create(
                    actor=actor, family=family, role=role, **form.person_details()
                )
            else:
                services.family_member_add(actor=actor, family=family, person=outcome, role=role)
                person = outcome
        except ValidationError as refusal:
            add_refusal(form, refusal)
            step = "details"
        else:
            messages.success(request, f"{person} added to family {family.reference}")
            return redirect("cases:family", reference=family.reference)
    return _render_steps(
        request,
        "cases/search/person_add.html",
        {"family": family, "form": form},
        step,
        outcome,
    )


@login_required
@require_http_methods(["GET", "POST"])
def family_create(request: HttpRequest) -> HttpResponse:
    access = access_for(request.user)
    if not (access.is_staff_worker and access.can_write):
        raise PermissionDenied("Families are created by the council's early help teams.")
    form = FamilyCreateForm(request.POST or None)
    postcode = form.data.get("postcode", "") if form.is_bound else ""
    step, outcome = _two_steps(request, form, postcode=postcode, family=None)
    if step == "create":
        data = form.cleaned_data
        try:
            family, person = services.family_create_with_person(
                actor=request_user(request),
                postcode=data["postcode"],
                address=data["address"],
                role=data["role"],
                person=outcome,
                **({} if outcome is not None else form.person_details()),
            )
        except ValidationError as refusal:
            add_refusal(form, refusal)
            step = "details"
        else:
            messages.success(request, f"Family {family.reference} created with {person}")
            return redirect("cases:family", reference=family.reference)
    return _render_steps(request, "cases/search/family_create.html", {"form": form}, step, outcome)
