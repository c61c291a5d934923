"""The Team Around the Family: which professionals work with the family, with its consent.

Membership decides what partner users may see (``families_visible_to``), so adding or ending
one is a change to who can open the family's record.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from earlyhelp.access import access_for

from .. import services
from ..forms_episodes import TafMemberEndForm, TafMemberForm, apply_refusal
from ..models import Family
from ..permissions import family_for, family_viewed, request_user, require_write
from .episodes import posted


def may_manage_taf(request: HttpRequest, family: Family) -> bool:
    """Council practitioners and managers, and the lead practitioner of an open episode
    (who may work for a partner), may change the Team Around the Family."""
    access = access_for(request.user)
    if not access.can_write:
        return False
    return (
        access.is_staff_worker
        or family.episodes.filter(
            lead_practitioner=request_user(request), ended_on__isnull=True
        ).exists()
    )


def _require_manage_taf(request: HttpRequest, family: Family) -> None:
    require_write(request)
    if not may_manage_taf(request, family):
        raise PermissionDenied(
            "Only the family's practitioners can change the Team Around the Family."
        )


def _taf_url(family: Family) -> str:
    return reverse("cases:taf", kwargs={"reference": family.reference})


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
def taf(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    family = family_for(request, reference, change=request.method == "POST")
    manage = may_manage_taf(request, family)
    if request.method == "POST":
        _require_manage_taf(request, family)
    form = None
    if manage:
        form = TafMemberForm(posted(request), organisation=request.GET.get("organisation"))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                member = services.taf_member_add(
                    actor=request_user(request),
                    family=family,
                    organisation=data["organisation"],
                    user=data["user"],
                    role=data["role"],
                    consent_given_by=data["consent_given_by"],
                    consent_given_on=data["consent_given_on"],
                )
            except ValidationError as refusal:
                apply_refusal(form, refusal)
            else:
                who = member.user.get_full_name() if member.user else member.organisation.name
                messages.success(request, f"{who} added to the Team Around the Family")
                return redirect(_taf_url(family))
    if not request.htmx:  # the organisation picker's refresh is not a new view of the record
        family_viewed(request, family)
    members = list(
        family.taf_members.select_related("user", "organisation", "added_by").order_by(
            "ended_on", "-started_on", "pk"
        )
    )
    return render(
        request,
        "cases/taf/taf.html",
        {
            "family": family,
            "form": form,
            "manage": manage,
            "current": [m for m in members if m.ended_on is None],
            "past": [m for m in members if m.ended_on is not None],
        },
    )


@login_required
@require_POST
def taf_member_end(request: HttpRequest, reference: str) -> HttpResponse:
    family = family_for(request, reference, change=True)
    _require_manage_taf(request, family)
    form = TafMemberEndForm(request.POST, family=family)
    if not form.is_valid():
        messages.error(request, "That person is no longer in the Team Around the Family.")
        return redirect(_taf_url(family))
    member = form.cleaned_data["member"]
    try:
        services.taf_member_end(actor=request_user(request), member=member)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        who = member.user.get_full_name() if member.user else member.organisation.name
        messages.success(
            request,
            f"{who} has left the Team Around the Family",
        )
    return redirect(_taf_url(family))
