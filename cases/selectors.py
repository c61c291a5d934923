"""Reads for the practitioner pages, starting with who may see what (DESIGN.md §7).

Every page, filter choice and export asks these ``*_visible_to(user)`` functions; a record
outside them is answered with 404 so its existence does not leak.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from assessments.models import Plan
from earlyhelp.access import access_for
from earlyhelp.models import User

from .models import (
    CaseEvent,
    ClosureRequest,
    CscInvolvement,
    Episode,
    Family,
    FamilyMembership,
    Referral,
    TafMember,
    Transition,
)


def families_visible_to(user: User | AnonymousUser) -> QuerySet[Family]:
    """Families this user may open.

    - practitioners, managers and read-only staff: families with an episode in one of their
      teams (open or closed), and any family whose episode they lead;
    - performance officers: families with an episode in any team of their organisation;
    - partner users: families whose episode they lead, or where they (or, for a membership
      naming no person, their organisation) are a current TAF member with consent recorded;
    - administrators and everybody else: none (the admin site is their tool).
    """
    if not user.is_authenticated:
        return Family.objects.none()
    access = access_for(user)
    through_episodes = Q(lead_practitioner=user)
    if access.is_staff_worker:
        through_episodes |= Q(team_id__in=access.team_ids)
    if access.is_performance_officer:
        through_episodes |= Q(team__organisation_id__in=access.organisation_ids)
    # One correlated EXISTS over the family's own episodes (by the family_id index), not
    # "id IN (every family of the team)": that gathered a whole team's families (20,000 of
    # 100,000) on every request, even to check one family. See ``make bench-pages``.
    condition = Q(Exists(Episode.objects.filter(through_episodes, family=OuterRef("pk"))))
    if access.is_partner:
        condition |= Q(
            pk__in=TafMember.objects.filter(
                Q(user=user) | Q(user__isnull=True, organisation_id__in=access.organisation_ids),
                ended_on__isnull=True,
            ).values("family_id")
        )
    return Family.objects.filter(condition)


def episodes_visible_to(user: User | AnonymousUser) -> QuerySet[Episode]:
    return Episode.objects.filter(family__in=families_visible_to(user))


def referrals_visible_to(user: User | AnonymousUser) -> QuerySet[Referral]:
    """Requests for support this user may open.

    Council practitioners and managers work the front door: they see every request awaiting
    triage, and a decided one while its family is visible to them or they decided it. A
    partner user sees the requests their organisation sent.
    """
    if not user.is_authenticated:
        return Referral.objects.none()
    access = access_for(user)
    condition = Q(pk__in=[])
    if access.is_staff_worker and access.works_for_council:
        condition = (
            Q(status=Referral.Status.RECEIVED)
            | Q(decided_by=user)
            | Q(family__in=families_visible_to(user))
        )
    if access.is_partner:
        condition |= Q(referring_organisation_id__in=access.organisation_ids)
    return Referral.objects.filter(condition)


def caseload_for(user: User | AnonymousUser) -> QuerySet[Episode]:
    """The open episodes this user leads, with the family's next plan review date."""
    if not isinstance(user, User):
        return Episode.objects.none()
    next_review = (
        Plan.objects.filter(assessment__family_id=OuterRef("family_id"), status=Plan.Status.OPEN)
        .exclude(next_review_on__isnull=True)
        .order_by("next_review_on")
        .values("next_review_on")[:1]
    )
    return (
        episodes_visible_to(user)
        .filter(lead_practitioner=user, ended_on__isnull=True)
        .select_related("family", "child", "level", "service", "team")
        .annotate(next_review_on=Subquery(next_review))
    )


def family_record(family: Family) -> dict[str, object]:
    """Everything the family record page shows, in a fixed number of queries."""
    members = list(
        FamilyMembership.objects.filter(family=family)
        .select_related("person")
        .order_by("ended_on", "role", "person__date_of_birth")
    )
    person_ids = [m.person_id for m in members]
    return {
        "members": members,
        "episodes": list(
            family.episodes.select_related(
                "child", "level", "service", "team", "lead_practitioner", "end_reason"
            ).order_by("-started_on")
        ),
        "assessments": list(
            family.assessments.select_related("plan", "signed_off_by").order_by("-started_on")
        ),
        "csc": list(
            CscInvolvement.objects.filter(person_id__in=person_ids)
            .select_related("person")
            .order_by("-started_on")
        ),
        "transitions": list(
            family.transitions.select_related("child", "requested_by", "decided_by").order_by(
                "-requested_on"
            )
        ),
        "taf_members": list(
            family.taf_members.filter(ended_on__isnull=True).select_related("user", "organisation")
        ),
        **family_open_closures(family),
    }


def family_chronology(family: Family) -> QuerySet[CaseEvent]:
    return family.events.select_related("actor", "person").order_by("-occurred_at", "-id")


# --- Steps and closures: what waits for a manager (issue 3) ---------------------------------

_WAITING_STEPS = (Transition.Decision.PENDING, Transition.Decision.MORE_INFORMATION)


def step_decisions_for(user: User | AnonymousUser) -> QuerySet[Transition]:
    """Step-ups and step-downs waiting for a decision by a manager of one of the user's teams:
    a step-up belongs to the team holding the episode, a step-down to the team it was sent to.
    """
    managed = access_for(user).managed_team_ids
    return (
        Transition.objects.filter(decision__in=_WAITING_STEPS, family__in=families_visible_to(user))
        .filter(
            Q(direction=Transition.Direction.STEP_UP, from_episode__team_id__in=managed)
            | Q(direction=Transition.Direction.STEP_DOWN, to_team_id__in=managed)
        )
        .select_related("family", "child", "requested_by", "from_episode__team", "to_team")
        .order_by("requested_on", "pk")
    )


def closures_awaiting_sign_off_for(user: User | AnonymousUser) -> QuerySet[ClosureRequest]:
    """Proposed closures of open episodes held by a team this user manages."""
    return (
        ClosureRequest.objects.filter(
            status=ClosureRequest.Status.PROPOSED,
            episode__ended_on__isnull=True,
            episode__team_id__in=access_for(user).managed_team_ids,
            episode__family__in=families_visible_to(user),
        )
        .select_related("episode__family", "episode__child", "episode__team", "end_reason")
        .select_related("proposed_by")
        .order_by("proposed_at", "pk")
    )


def family_open_closures(family: Family) -> dict[str, object]:
    """For each open episode of the family, its latest closure proposal (awaiting sign-off, or
    returned with the manager's reason), and which episodes wait for a sign-off."""
    latest: dict[int, ClosureRequest] = {}
    for closure in (
        ClosureRequest.objects.filter(episode__family=family, episode__ended_on__isnull=True)
        .select_related("episode__child", "proposed_by", "decided_by")
        .order_by("-proposed_at", "-pk")
    ):
        latest.setdefault(closure.episode_id, closure)
    return {
        "closures": list(latest.values()),
        "episodes_awaiting_sign_off": {
            episode_id
            for episode_id, closure in latest.items()
            if closure.status == ClosureRequest.Status.PROPOSED
        },
    }
