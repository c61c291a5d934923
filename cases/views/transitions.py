"""Step-up to children's social care, step-down into early help, and the manager's decisions.

A practitioner asks; a manager of the team that holds the work (or a panel, whose decision a
manager records) accepts, declines or asks for more information, with a reason. Asked for more
information, the practitioner answers and the request goes back to the manager.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from earlyhelp.access import access_for
from earlyhelp.models import Team, User

from .. import services
from ..forms_episodes import (
    StepDownDecisionForm,
    StepDownRequestForm,
    StepInformationForm,
    StepUpDecisionForm,
    StepUpRequestForm,
    apply_refusal,
)
from ..models import CscInvolvement, Transition
from ..permissions import family_for, family_viewed, request_user, require_manager
from ..selectors import (
    closures_awaiting_sign_off_for,
    families_visible_to,
    step_decisions_for,
    transition_exchange,
)
from .episodes import family_url, posted, require_staff_write


@login_required
def step_up_request(request: HttpRequest, reference: str) -> HttpResponse:
    family = family_for(request, reference, change=True)
    require_staff_write(request)
    user = request_user(request)
    episodes = list(
        family.episodes.filter(ended_on__isnull=True)
        .select_related("child", "service", "level", "team")
        .order_by("child__date_of_birth", "pk")
    )
    form = StepUpRequestForm(posted(request), episodes=episodes) if episodes else None
    if form is not None and request.method == "POST" and form.is_valid():
        episode = form.cleaned_data["episode"]
        try:
            services.step_up_request(
                actor=user,
                episode=episode,
                requested_on=form.cleaned_data["requested_on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as refusal:
            apply_refusal(form, refusal)
        else:
            team = f" A manager of {episode.team.name} will decide." if episode.team else ""
            messages.success(
                request,
                f"Step-up requested for {episode.child.forename} {episode.child.surname}.{team}",
            )
            return redirect(family_url(family, "transitions"))
    family_viewed(request, family)
    return render(
        request, "cases/transitions/step_up_request.html", {"family": family, "form": form}
    )


@login_required
def step_down_request(request: HttpRequest, reference: str) -> HttpResponse:
    family = family_for(request, reference, change=True)
    require_staff_write(request)
    user = request_user(request)
    involvements = list(
        CscInvolvement.objects.filter(
            person__family_memberships__family=family,
            person__family_memberships__ended_on__isnull=True,
            person__family_memberships__role="child",
        )
        .select_related("person")
        .order_by("-started_on", "-pk")
    )
    teams = Team.objects.filter(episodes__family=family).distinct().order_by("name")
    form = (
        StepDownRequestForm(posted(request), involvements=involvements, teams=teams)
        if involvements
        else None
    )
    if form is not None and request.method == "POST" and form.is_valid():
        involvement = form.cleaned_data["child"]
        try:
            services.step_down_request(
                actor=user,
                family=family,
                child=involvement.person,
                from_csc=involvement,
                team=form.cleaned_data["team"],
                requested_on=form.cleaned_data["requested_on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as refusal:
            apply_refusal(form, refusal)
        else:
            messages.success(
                request,
                f"Step-down requested for {involvement.person.forename} "
                f"{involvement.person.surname}. A manager of {form.cleaned_data['team'].name} "
                "will decide.",
            )
            return redirect(family_url(family, "transitions"))
    family_viewed(request, family)
    return render(
        request, "cases/transitions/step_down_request.html", {"family": family, "form": form}
    )


def _deciding_team_id(transition: Transition) -> int | None:
    if transition.direction == Transition.Direction.STEP_UP:
        return transition.from_episode.team_id if transition.from_episode else None
    return transition.to_team_id


@login_required
def step_decide(request: HttpRequest, uuid: UUID) -> HttpResponse:
    transition = get_object_or_404(
        Transition.objects.filter(family__in=families_visible_to(request.user))
        .select_related(
            "family",
            "child",
            "requested_by",
            "decided_by",
            "from_episode__service",
            "from_episode__level",
            "from_episode__team",
            "from_episode__lead_practitioner",
            "from_csc",
            "to_team",
            "opened_episode__service",
        )
        .prefetch_related(transition_exchange()),
        uuid=uuid,
    )
    require_manager(request, team_id=_deciding_team_id(transition))
    user = request_user(request)
    step_up = transition.direction == Transition.Direction.STEP_UP
    open_to_decision = bool(Transition.DECISIONS_FROM[Transition.Decision(transition.decision)])
    form: StepUpDecisionForm | StepDownDecisionForm | None = None
    if open_to_decision:
        form = (
            StepUpDecisionForm(posted(request))
            if step_up
            else StepDownDecisionForm(posted(request), transition=transition, user=user)
        )
        if request.method == "POST" and form.is_valid():
            try:
                decided = _decide(user, transition, form.cleaned_data)
            except ValidationError as refusal:
                apply_refusal(form, refusal)
            else:
                messages.success(request, _decided_message(decided))
                section = "episodes" if decided.opened_episode_id else "transitions"
                return redirect(family_url(transition.family, section))
    family_viewed(request, transition.family, person=transition.child)
    return render(
        request,
        "cases/transitions/decide.html",
        {"transition": transition, "family": transition.family, "form": form, "step_up": step_up},
    )


@login_required
def step_information_supply(request: HttpRequest, reference: str, uuid: UUID) -> HttpResponse:
    """Answer a manager's request for more information: the council's practitioners and
    managers who may change the family's record (as for asking for the step), usually the
    practitioner who asked."""
    family = family_for(request, reference, change=True)
    require_staff_write(request)
    transition = get_object_or_404(
        family.transitions.select_related(
            "child", "requested_by", "decided_by", "from_episode__team", "to_team"
        ).prefetch_related(transition_exchange()),
        uuid=uuid,
    )
    user = request_user(request)
    awaiting = transition.decision == Transition.Decision.MORE_INFORMATION
    form = StepInformationForm(posted(request)) if awaiting else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            services.transition_information_supply(
                actor=user, transition=transition, information=form.cleaned_data["information"]
            )
        except ValidationError as refusal:
            apply_refusal(form, refusal)
        else:
            messages.success(request, _supplied_message(transition))
            return redirect(family_url(family, "transitions"))
    family_viewed(request, family, person=transition.child)
    return render(
        request,
        "cases/transitions/information.html",
        {
            "family": family,
            "transition": transition,
            "form": form,
            "step_up": transition.direction == Transition.Direction.STEP_UP,
        },
    )


def _supplied_message(transition: Transition) -> str:
    child = f"{transition.child.forename} {transition.child.surname}"
    if transition.direction == Transition.Direction.STEP_UP:
        what, team = "step-up", transition.from_episode.team if transition.from_episode else None
    else:
        what, team = "step-down", transition.to_team
    manager = f"A manager of {team.name}" if team else "A manager"
    return f"Information sent for the {what} for {child}. {manager} will decide."


def _decide(user: User, transition: Transition, data: dict[str, Any]) -> Transition:
    common: dict[str, Any] = {
        "actor": user,
        "transition": transition,
        "decision": data["decision"],
        "decided_on": data["decided_on"],
        "rationale": data["rationale"],
        "by_panel": data["by_panel"],
    }
    if transition.direction == Transition.Direction.STEP_UP:
        return services.step_up_decide(**common)
    accepted = data["decision"] == Transition.Decision.ACCEPTED
    return services.step_down_decide(
        **common,
        service=data["service"] if accepted else None,
        level=data["level"] if accepted else None,
        team=data["team"] if accepted else None,
        lead_practitioner=data["lead_practitioner"] if accepted else None,
    )


def _decided_message(transition: Transition) -> str:
    child = f"{transition.child.forename} {transition.child.surname}"
    if transition.opened_episode is not None:
        return f"Step-down accepted. Early help episode opened for {child}."
    if transition.opened_csc is not None:
        return f"Step-up accepted. {child} is referred to children's social care."
    direction = "Step-up" if transition.direction == Transition.Direction.STEP_UP else "Step-down"
    return f"{direction} for {child}: {transition.get_decision_display().lower()}"


@login_required
def step_decisions(request: HttpRequest) -> HttpResponse:
    """A manager's queue: steps to decide and closures to sign off, oldest first."""
    if not access_for(request.user).is_manager:
        raise PermissionDenied("Only team managers decide steps and sign off closures.")
    return render(
        request,
        "cases/transitions/decisions.html",
        {
            "transitions": list(step_decisions_for(request.user)),
            "closures": list(closures_awaiting_sign_off_for(request.user)),
        },
    )
