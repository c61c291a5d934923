"""Opening an episode, proposing its closure, and a manager's sign-off of that closure."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from assessments.models import IdentifiedNeed
from earlyhelp.access import access_for

from .. import services
from ..forms_episodes import (
    ClosureDecisionForm,
    ClosureProposalForm,
    EpisodeOpenForm,
    apply_refusal,
)
from ..models import ClosureRequest, Episode, Family
from ..permissions import family_for, family_viewed, request_user, require_manager, require_write
from ..selectors import episodes_visible_to, families_visible_to


def require_staff_write(request: HttpRequest) -> None:
    """Council casework (opening episodes, steps, the TAF) is for practitioners and managers;
    read-only staff and partner users may look but not act."""
    require_write(request)
    if not access_for(request.user).is_staff_worker:
        raise PermissionDenied(
            "Only the council's early help practitioners and managers can do this."
        )


def family_url(family: Family, section: str = "") -> str:
    url = reverse("cases:family", kwargs={"reference": family.reference})
    return f"{url}#{section}" if section else url


def posted(request: HttpRequest) -> object:
    """The submitted data on a POST (even an empty one), else None for an unbound form."""
    return request.POST if request.method == "POST" else None


@login_required
def episode_open(request: HttpRequest, reference: str) -> HttpResponse:
    family = family_for(request, reference, change=True)
    require_staff_write(request)
    user = request_user(request)
    form = EpisodeOpenForm(posted(request), family=family, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            episode = services.episode_open(actor=user, family=family, **form.cleaned_data)
        except ValidationError as refusal:
            apply_refusal(form, refusal)
        else:
            messages.success(
                request,
                f"Episode opened for {episode.child.forename} {episode.child.surname} with "
                f"{episode.service.label}",
            )
            return redirect(family_url(family, "episodes"))
    family_viewed(request, family)
    has_children = form.fields["child"].queryset.exists()  # type: ignore[attr-defined]
    return render(
        request,
        "cases/episodes/open.html",
        {"family": family, "form": form, "has_children": has_children},
    )


def _episode_needs(episode: Episode) -> list[IdentifiedNeed]:
    return list(
        IdentifiedNeed.objects.filter(assessment__episode=episode)
        .select_related("headline_outcome", "person", "level_at_assessment")
        .order_by("assessment__started_on", "pk")
    )


def _returned_answers(closure: ClosureRequest | None) -> dict[str, object]:
    """What the practitioner proposed last time, so a returned closure need not be retyped."""
    if closure is None:
        return {}
    initial: dict[str, object] = {
        "end_reason": closure.end_reason_id,
        "ended_on": closure.ended_on,
        "summary": closure.summary,
    }
    for row in closure.outcomes.select_related("need"):
        initial[f"outcome_{row.need.uuid.hex}"] = row.outcome
        initial[f"level_{row.need.uuid.hex}"] = row.level_at_closure_id
    return initial


@login_required
def closure_propose(request: HttpRequest, uuid: UUID) -> HttpResponse:
    episode = get_object_or_404(
        episodes_visible_to(request.user).select_related(
            "family", "child", "service", "level", "team", "lead_practitioner", "end_reason"
        ),
        uuid=uuid,
    )
    require_write(request)
    user = request_user(request)
    if episode.lead_practitioner_id != user.pk and (
        episode.team_id not in access_for(user).managed_team_ids
    ):
        raise PermissionDenied(
            "Only the lead practitioner or a manager of the team can propose closing this episode."
        )
    closures = list(
        episode.closure_requests.select_related("proposed_by", "decided_by").order_by(
            "-proposed_at"
        )[:1]
    )
    latest = closures[0] if closures else None
    waiting = latest if latest and latest.status == ClosureRequest.Status.PROPOSED else None
    returned = latest if latest and latest.status == ClosureRequest.Status.RETURNED else None
    form = None
    if episode.is_open and waiting is None:
        needs = _episode_needs(episode)
        form = ClosureProposalForm(
            posted(request), needs=needs, initial=_returned_answers(returned)
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.closure_propose(
                    actor=user,
                    episode=episode,
                    end_reason=form.cleaned_data["end_reason"],
                    ended_on=form.cleaned_data["ended_on"],
                    need_outcomes=form.need_outcomes(),
                    need_levels=form.need_levels(),
                    summary=form.cleaned_data["summary"],
                )
            except ValidationError as refusal:
                apply_refusal(form, refusal)
            else:
                messages.success(
                    request,
                    f"Closure proposed for {episode.child.forename} {episode.child.surname}. "
                    "A manager of the team will sign it off.",
                )
                return redirect(family_url(episode.family, "episodes"))
    family_viewed(request, episode.family, person=episode.child)
    return render(
        request,
        "cases/episodes/closure_propose.html",
        {
            "episode": episode,
            "family": episode.family,
            "form": form,
            "waiting": waiting,
            "returned": returned,
        },
    )


@login_required
def closure_decide(request: HttpRequest, uuid: UUID) -> HttpResponse:
    closure = get_object_or_404(
        ClosureRequest.objects.filter(
            episode__family__in=families_visible_to(request.user)
        ).select_related(
            "episode__family",
            "episode__child",
            "episode__service",
            "episode__level",
            "episode__team",
            "episode__lead_practitioner",
            "end_reason",
            "proposed_by",
            "decided_by",
        ),
        uuid=uuid,
    )
    episode = closure.episode
    require_manager(request, team_id=episode.team_id)
    user = request_user(request)
    outcomes = list(
        closure.outcomes.select_related(
            "need__headline_outcome",
            "need__person",
            "need__level_at_assessment",
            "level_at_closure",
        ).order_by("need__assessment__started_on", "need__pk")
    )
    own_proposal = closure.proposed_by_id == user.pk
    form = None
    if closure.status == ClosureRequest.Status.PROPOSED and not own_proposal:
        form = ClosureDecisionForm(posted(request))
        if request.method == "POST" and form.is_valid():
            name = f"{episode.child.forename} {episode.child.surname}"
            try:
                if form.cleaned_data["decision"] == ClosureDecisionForm.SIGN_OFF:
                    services.closure_sign_off(actor=user, closure=closure)
                    message = f"Closure signed off. The episode for {name} is closed."
                else:
                    services.closure_return(
                        actor=user, closure=closure, reason=form.cleaned_data["return_reason"]
                    )
                    message = f"Closure for {name} returned to the practitioner"
            except ValidationError as refusal:
                apply_refusal(form, refusal)
            else:
                messages.success(request, message)
                return redirect(family_url(episode.family, "episodes"))
    family_viewed(request, episode.family, person=episode.child)
    return render(
        request,
        "cases/episodes/closure_decide.html",
        {
            "closure": closure,
            "episode": episode,
            "family": episode.family,
            "outcomes": outcomes,
            "own_proposal": own_proposal,
            "form": form,
        },
    )
