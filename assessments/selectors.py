"""Reads for the assessment and plan pages, each in a fixed number of queries.

Access is decided before these are called: a view first finds the family through
``cases.permissions.family_for`` (the ``families_visible_to`` selector), then looks the
assessment or plan up *within that family*, so a UUID from another family is a 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from cases.models import Episode, Family, Person, TafMember
from earlyhelp.access import current_memberships
from earlyhelp.models import Membership, Organisation, User

from .models import Assessment, IdentifiedNeed, NeedProgress, Plan, PlanAction, ReviewAttendee


def assessments_of(family: Family) -> QuerySet[Assessment]:
    return family.assessments.select_related(
        "episode__child",
        "episode__level",
        "episode__service",
        "episode__team",
        "lead_practitioner",
        "created_by",
        "completed_by",
        "signed_off_by",
        "updated_by",
    )


def plans_of(family: Family) -> QuerySet[Plan]:
    return Plan.objects.filter(assessment__family=family).select_related(
        "assessment__episode__child",
        "assessment__episode__team",
        "assessment__episode__level",
        "assessment__episode__service",
        "updated_by",
    )


def needs_of(assessment: Assessment) -> QuerySet[IdentifiedNeed]:
    return assessment.needs.select_related(
        "headline_outcome", "person", "level_at_assessment"
    ).order_by("pk")


def assessment_page(assessment: Assessment) -> dict[str, object]:
    """The needs, the consent's organisations and the plan (if any) of an assessment."""
    plan = Plan.objects.filter(assessment=assessment).first()
    return {
        "needs": list(needs_of(assessment)),
        "share_with": list(assessment.consent_share_with.order_by("name")),
        "plan": plan,
    }


def plan_page(plan: Plan) -> dict[str, object]:
    """Needs with their actions, and reviews with their ratings and attendees."""
    actions = PlanAction.objects.select_related(
        "owner_user", "owner_organisation", "completed_by"
    ).order_by("completed_on", "due_on", "pk")
    needs = list(needs_of(plan.assessment).prefetch_related(Prefetch("actions", actions)))
    reviews = list(
        plan.reviews.select_related("recorded_by").prefetch_related(
            Prefetch(
                "progress",
                NeedProgress.objects.select_related(
                    "need__headline_outcome", "need__person"
                ).order_by("need_id"),
            ),
            Prefetch(
                "attendees",
                ReviewAttendee.objects.select_related("person", "user", "organisation").order_by(
                    "pk"
                ),
            ),
        )
    )
    return {"needs": needs, "reviews": reviews}


# --- Choices for the forms ---------------------------------------------------------------------


def open_episodes(family: Family) -> QuerySet[Episode]:
    return (
        family.episodes.filter(ended_on__isnull=True)
        .select_related("child", "level", "service", "team")
        .order_by("child__date_of_birth", "pk")
    )


def family_members(family: Family) -> QuerySet[Person]:
    """The family's current members, children first by age."""
    return (
        Person.objects.filter(
            family_memberships__family=family, family_memberships__ended_on__isnull=True
        )
        .distinct()
        .order_by("date_of_birth", "surname", "forename")
    )


def taf_members(family: Family) -> QuerySet[TafMember]:
    return family.taf_members.filter(ended_on__isnull=True).select_related("user", "organisation")


def action_owners(plan: Plan) -> QuerySet[User]:
    """People an action can be given to: the episode's team, the plan's lead practitioner
    and the family's Team Around the Family."""
    assessment = plan.assessment
    condition = Q(pk=assessment.lead_practitioner_id) | Q(
        pk__in=TafMember.objects.filter(
            family_id=assessment.family_id, ended_on__isnull=True, user__isnull=False
        ).values("user_id")
    )
    team_id = assessment.episode.team_id if assessment.episode else None
    if team_id is not None:
        team = Membership.objects.filter(current_memberships(), team_id=team_id).exclude(
            role=Membership.Role.READ_ONLY
        )
        condition |= Q(pk__in=team.values("user_id"))
    return User.objects.filter(condition, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def organisations_for(
    family: Family, *, also: QuerySet[Any] | None = None
) -> QuerySet[Organisation]:
    """Organisations working with the family: its TAF, the episodes' lead organisations and
    the partners who asked for support (and ``also``, a query of organisation ids)."""
    condition = (
        Q(pk__in=family.taf_members.filter(ended_on__isnull=True).values("organisation_id"))
        | Q(pk__in=family.episodes.values("lead_organisation_id"))
        | Q(pk__in=family.referrals.values("referring_organisation_id"))
    )
    if also is not None:
        condition |= Q(pk__in=also)
    return Organisation.objects.filter(condition, is_active=True).order_by("name")


def active_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.filter(is_active=True).order_by("name")
