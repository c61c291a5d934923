"""The team view for managers: caseload per practitioner against the team's target, overdue
reviews, and open work nobody leads yet, with a way to allocate it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from earlyhelp.access import access_for
from earlyhelp.models import Team

from .. import services
from ..forms_frontdoor import AllocateForm, add_refusal, team_members
from ..permissions import family_viewed, request_user, require_manager
from ..selectors import episodes_visible_to, team_overview, unallocated_episodes

PAGE_SIZE = 50


@login_required
def team(request: HttpRequest) -> HttpResponse:
    access = access_for(request.user)
    if not access.is_manager or not access.managed_team_ids:
        raise PermissionDenied("The team view is for team managers.")
    teams = team_overview(access.managed_team_ids, today=timezone.localdate())
    members = {overview.team.pk: overview.members for overview in teams}
    page = Paginator(unallocated_episodes(access.managed_team_ids), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "episode": episode,
            "form": AllocateForm(
                members=members.get(episode.team_id or 0, []), auto_id=f"lead-{episode.uuid}-%s"
            ),
        }
        for episode in page
    ]
    return render(request, "cases/team/team.html", {"teams": teams, "page": page, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def episode_allocate(request: HttpRequest, episode: str) -> HttpResponse:
    found = get_object_or_404(
        episodes_visible_to(request.user).select_related(
            "family", "child", "team", "level", "service", "lead_practitioner"
        ),
        uuid=episode,
    )
    require_manager(request, team_id=found.team_id)
    assert found.team_id is not None  # a manager of no team was refused above
    form = AllocateForm(
        request.POST or None, members=team_members(Team.objects.filter(pk=found.team_id))
    )
    if request.method == "GET":
        family_viewed(request, found.family, person=found.child)
    if request.method == "POST" and form.is_valid():
        lead = form.cleaned_data["lead_practitioner"]
        try:
            services.episode_allocate(
                actor=request_user(request), episode=found, lead_practitioner=lead
            )
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            name = lead.get_full_name() or lead.username
            messages.success(request, f"{found.child} allocated to {name}")
            return redirect("cases:team")
    return render(request, "cases/team/allocate.html", {"episode": found, "form": form})
