"""Reads for the practitioner pages, starting with who may see what (DESIGN.md §7).

Every page, filter choice and export asks these ``*_visible_to(user)`` functions; a record
outside them is answered with 404 so its existence does not leak.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import OuterRef, Q, QuerySet, Subquery

from assessments.models import Plan
from earlyhelp.access import access_for
from earlyhelp.models import User

from .models import (
    CaseEvent,
    CscInvolvement,
    Episode,
    Family,
    FamilyMembership,
    Referral,
    TafMember,
)


def families_visible_to(user: User | AnonymousUser) -> QuerySet[Family]:
    """Families this user may open.

    - practitioners, managers and read-only staff: families with an episode in one of their
      teams (open or closed), any family whose episode they lead, and families they created;
    - performance officers: families with an episode in any team of their organisation;
    - partner users: families whose episode they lead, or where they (or, for a membership
      naming no person, their organisation) are a current TAF member with consent recorded;
    - administrators and everybody else: none (the admin site is their tool).
    """
    if not user.is_authenticated:
        return Family.objects.none()
    access = access_for(user)
    family_ids: list[QuerySet[Any, Any]] = [
        Episode.objects.filter(lead_practitioner=user).values("family_id")
    ]
    condition = Q(pk__in=[])
    if access.is_staff_worker:
        # The creator keeps the family (as the decider keeps a referral, below): before early
        # help opens no team holds it, and they need to go on working on it.
        condition = Q(created_by=user)
        family_ids.append(Episode.objects.filter(team_id__in=access.team_ids).values("family_id"))
    if access.is_performance_officer:
        family_ids.append(
            Episode.objects.filter(team__organisation_id__in=access.organisation_ids).values(
                "family_id"
            )
        )
    if access.is_partner:
        family_ids.append(
            TafMember.objects.filter(
                Q(user=user) | Q(user__isnull=True, organisation_id__in=access.organisation_ids),
                ended_on__isnull=True,
            ).values("family_id")
        )
    for subquery in family_ids:
        condition |= Q(pk__in=subquery)
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
    }


def family_chronology(family: Family) -> QuerySet[CaseEvent]:
    return family.events.select_related("actor", "person").order_by("-occurred_at", "-id")
