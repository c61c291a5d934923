"""Reads for the practitioner pages, starting with who may see what (DESIGN.md §7).

Every page, filter choice and export asks these ``*_visible_to(user)`` functions; a record
outside them is answered with 404 so its existence does not leak.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Replace, Upper

from assessments.models import Plan
from earlyhelp.access import access_for, current_memberships
from earlyhelp.models import Membership, Team, User

from .models import (
    CaseEvent,
    ClosureRequest,
    CscInvolvement,
    Episode,
    Family,
    FamilyMembership,
    MatchCandidate,
    Person,
    Referral,
    SubmittedPerson,
    TafMember,
    Transition,
    TransitionNote,
)


def families_visible_to(user: User | AnonymousUser) -> QuerySet[Family]:
    """Families this user may open.

    - practitioners, managers and read-only staff: families with an episode in one of their
      teams (open or closed), any family whose episode they lead, and families they created;
    - performance officers: families with an episode in any team of their organisation;
    - partner users: families whose episode they lead, or where they (or, for a membership
      naming no person, their organisation) are a current TAF member with consent recorded;
    - administrators and everybody else: none (the admin site is their tool).

    Written as conditions on the family (EXISTS over its episodes, or ``IN`` subqueries),
    which suits queries that first narrow the families down, e.g. by name or postcode; lists
    of other records use ``family_ids_visible_to``.
    """
    if not user.is_authenticated:
        return Family.objects.none()
    episodes, others = _visibility_sources(user)
    # One correlated EXISTS over the family's own episodes (by the family_id index), not
    # "id IN (every family of the team)": that gathered a whole team's families (20,000 of
    # 100,000) on every request, even to check one family. See ``make bench-pages``.
    condition = Q(Exists(Episode.objects.filter(episodes, family=OuterRef("pk"))))
    for source in others:
        condition |= Q(pk__in=source)
    return Family.objects.filter(condition)


def family_ids_visible_to(user: User | AnonymousUser) -> QuerySet[Any, Any]:
    """The ids of ``families_visible_to(user)`` as one subquery (a UNION ALL of its sources),
    for filtering episodes or referrals by family.

    PostgreSQL answers ``family_id IN (… UNION ALL …)`` with one hash built from the
    indexes of each source, where the family-side OR made it read every family first.
    """
    episodes, others = _visibility_sources(user)
    ids = Episode.objects.filter(episodes).order_by().values("family_id")
    return ids.union(*others, all=True) if others else ids


def _visibility_sources(user: User | AnonymousUser) -> tuple[Q, list[QuerySet[Any, Any]]]:
    """Why a family is visible: a condition on its episodes, and other subqueries of ids."""
    if not user.is_authenticated:
        return Q(pk__in=[]), []
    access = access_for(user)
    episodes = Q(lead_practitioner=user)
    others: list[QuerySet[Any, Any]] = []
    if access.is_staff_worker:
        episodes |= Q(team_id__in=access.team_ids)
        # The creator keeps the family (as the decider keeps a referral, below): before early
        # help opens no team holds it, and they need to go on working on it.
        others.append(Family.objects.filter(created_by=user).order_by().values("pk"))
    if access.is_performance_officer:
        episodes |= Q(team__organisation_id__in=access.organisation_ids)
    if access.is_partner:
        others.append(
            TafMember.objects.filter(
                Q(user=user) | Q(user__isnull=True, organisation_id__in=access.organisation_ids),
                ended_on__isnull=True,
            )
            .order_by()
            .values("family_id")
        )
    return episodes, others


def episodes_visible_to(user: User | AnonymousUser) -> QuerySet[Episode]:
    if not user.is_authenticated:
        return Episode.objects.none()
    return Episode.objects.filter(family_id__in=family_ids_visible_to(user))


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
            | Q(family_id__in=family_ids_visible_to(user))
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
    # Leading an episode is itself a visibility rule (``_visibility_sources``), so the
    # visible-families set (a whole team's, tens of thousands on a large council) need not be
    # built to check episodes found by their lead: the partial index answers this directly.
    return (
        Episode.objects.filter(lead_practitioner=user, ended_on__isnull=True)
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
            family.transitions.select_related("child", "requested_by", "decided_by")
            .prefetch_related(transition_exchange())
            .order_by("-requested_on", "-pk")
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


def transition_exchange() -> Prefetch[Any]:
    """A step's "more information" exchange (``transition.notes``), oldest first, with who
    wrote each turn: prefetch it for a list of steps."""
    return Prefetch(
        "notes",
        queryset=TransitionNote.objects.select_related("written_by").order_by("created_at", "pk"),
    )


def step_decisions_for(user: User | AnonymousUser) -> QuerySet[Transition]:
    """Step-ups and step-downs waiting for a decision by a manager of one of the user's teams:
    a step-up belongs to the team holding the episode, a step-down to the team it was sent to.

    ``information_supplied``: the request is back from its requester with the information the
    manager asked for.
    """
    managed = access_for(user).managed_team_ids
    return (
        Transition.objects.filter(decision__in=_WAITING_STEPS, family__in=families_visible_to(user))
        .filter(
            Q(direction=Transition.Direction.STEP_UP, from_episode__team_id__in=managed)
            | Q(direction=Transition.Direction.STEP_DOWN, to_team_id__in=managed)
        )
        .annotate(
            information_supplied=Exists(
                TransitionNote.objects.filter(
                    transition=OuterRef("pk"), kind=TransitionNote.Kind.ANSWER
                )
            )
            & Q(decision=Transition.Decision.PENDING)
        )
        .select_related("family", "child", "requested_by", "from_episode__team", "to_team")
        .order_by("requested_on", "pk")
    )


def steps_awaiting_information_from(user: User | AnonymousUser) -> QuerySet[Transition]:
    """Step-ups and step-downs this user asked for on which a manager wants more information,
    oldest question first."""
    if not isinstance(user, User):
        return Transition.objects.none()
    # Checked family by family (a correlated EXISTS over the few rows this user requested),
    # not against the whole visible set, which for a large team is tens of thousands.
    visible = families_visible_to(user).filter(pk=OuterRef("family_id"))
    return (
        Transition.objects.filter(
            Exists(visible),
            requested_by=user,
            decision=Transition.Decision.MORE_INFORMATION,
        )
        .select_related("family", "child", "decided_by")
        .order_by("decided_on", "pk")
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


# --- Front door: the inbox, a request for triage, search, the team view (ui-frontdoor) ------


def referral_inbox(user: User | AnonymousUser) -> QuerySet[Referral]:
    """The requests for support list: what each row shows, in one query."""
    return referrals_visible_to(user).select_related(
        "source", "referring_organisation", "family", "decided_by"
    )


def referral_for_triage(referral: Referral) -> dict[str, object]:
    """A request as received, with the partner's people and their possible matches."""
    current = FamilyMembership.objects.filter(ended_on__isnull=True).select_related("family")
    people = list(
        SubmittedPerson.objects.filter(submission__referral=referral)
        .select_related("person")
        .prefetch_related(
            Prefetch(
                "candidates",
                queryset=MatchCandidate.objects.select_related("person", "decided_by")
                .prefetch_related(Prefetch("person__family_memberships", queryset=current))
                .order_by("-score", "pk"),
            ),
            Prefetch("person__family_memberships", queryset=current),
        )
        .order_by("position")
    )
    for submitted in people:
        submitted.pending_candidates = [  # type: ignore[attr-defined]
            c for c in submitted.candidates.all() if c.status == MatchCandidate.Status.PENDING
        ]
    return {
        "needs": list(referral.needs.all()),
        "children": list(referral.children.order_by("date_of_birth", "forename")),
        "submitted_people": people,
        "unresolved_children": any(
            p.role == SubmittedPerson.Role.CHILD
            and p.resolution == SubmittedPerson.Resolution.PENDING
            for p in people
        ),
        "episodes": list(
            referral.episodes.select_related("child", "level", "service", "team")
            .select_related("lead_practitioner")
            .order_by("pk")
        ),
    }


def family_children(family: Family) -> list[Person]:
    """The family's current children, youngest last: who a triage decision can be for."""
    return list(
        Person.objects.filter(
            family_memberships__family=family,
            family_memberships__ended_on__isnull=True,
            family_memberships__role=FamilyMembership.Role.CHILD,
        ).order_by("date_of_birth", "forename")
    )


def family_search(
    user: User | AnonymousUser,
    *,
    surname: str = "",
    forename: str = "",
    date_of_birth: dt.date | None = None,
    nhs_number: str = "",
    reference: str = "",
    postcode: str = "",
) -> QuerySet[Family]:
    """Visible families matching every criterion given, with their members.

    Names are case-insensitive prefixes and the postcode a prefix ignoring spaces; on
    PostgreSQL each criterion has an index (migration 0005_search_and_inbox_indexes), so the
    search stays fast whatever the number of families.
    """
    families = families_visible_to(user)
    if reference:
        families = families.filter(reference=reference)
    if postcode:
        families = families.annotate(
            postcode_key=Upper(Replace("postcode", Value(" "), Value("")))
        ).filter(postcode_key__startswith=postcode.replace(" ", "").upper())
    people = Q()
    if surname:
        people &= Q(surname__istartswith=surname)
    if forename:
        people &= Q(forename__istartswith=forename)
    if date_of_birth is not None:
        people &= Q(date_of_birth=date_of_birth)
    if nhs_number:
        people &= Q(nhs_number=nhs_number)
    if people:
        families = families.filter(
            pk__in=FamilyMembership.objects.filter(person__in=Person.objects.filter(people)).values(
                "family_id"
            )
        )
    return families.prefetch_related(
        Prefetch(
            "memberships",
            queryset=FamilyMembership.objects.select_related("person").order_by(
                F("ended_on").asc(nulls_first=True), "role", "person__date_of_birth"
            ),
        )
    ).order_by("reference")


def people_visible_to(user: User | AnonymousUser) -> QuerySet[Person]:
    """People in (or once in) a family this user may open."""
    return Person.objects.filter(
        pk__in=FamilyMembership.objects.filter(family__in=families_visible_to(user)).values(
            "person_id"
        )
    )


def families_of_people(person_ids: list[int]) -> dict[int, list[str]]:
    """The references of each person's current families, in one query."""
    found: dict[int, list[str]] = {}
    rows = (
        FamilyMembership.objects.filter(person_id__in=person_ids, ended_on__isnull=True)
        .order_by("family__reference")
        .values_list("person_id", "family__reference")
    )
    for person_id, reference in rows:
        found.setdefault(person_id, []).append(reference)
    return found


@dataclass(frozen=True)
class PractitionerLoad:
    user_id: int
    name: str
    open_children: int
    overdue_reviews: int
    target: int

    @property
    def against_target(self) -> str:
        if self.open_children > self.target:
            return "over"
        return "at" if self.open_children == self.target else "under"


@dataclass
class TeamOverview:
    team: Team
    practitioners: list[PractitionerLoad]
    members: list[Membership]


def team_overview(team_ids: Iterable[int], *, today: dt.date) -> list[TeamOverview]:
    """Caseload per lead practitioner in each team against its target, in three queries.

    Counts are of open episodes held by the team: the distinct children each practitioner
    leads, and the distinct families among them whose next plan review is overdue. Every
    current practitioner of the team is listed, with zeros when they lead nothing; so is
    anybody else leading the team's work (a manager, a partner).
    """
    teams = list(Team.objects.filter(pk__in=team_ids).order_by("name"))
    members = list(
        Membership.objects.filter(
            current_memberships(today),
            team__in=teams,
            role__in=[Membership.Role.PRACTITIONER, Membership.Role.TEAM_MANAGER],
            user__is_active=True,
        )
        .select_related("user", "team")
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    overdue = Plan.objects.filter(
        assessment__family_id=OuterRef("family_id"),
        status=Plan.Status.OPEN,
        next_review_on__lt=today,
    )
    loads = (
        Episode.objects.filter(
            team__in=teams, ended_on__isnull=True, lead_practitioner__isnull=False
        )
        .values(
            "team_id",
            "lead_practitioner_id",
            "lead_practitioner__first_name",
            "lead_practitioner__last_name",
            "lead_practitioner__username",
        )
        .annotate(
            children=Count("child_id", distinct=True),
            overdue=Count("family_id", distinct=True, filter=Q(Exists(overdue))),
        )
    )
    by_team: dict[int, dict[int, PractitionerLoad]] = {team.pk: {} for team in teams}
    targets = {team.pk: team.caseload_target for team in teams}
    for membership in members:
        if membership.role == Membership.Role.PRACTITIONER:
            assert membership.team_id is not None
            by_team[membership.team_id][membership.user_id] = PractitionerLoad(
                membership.user_id,
                membership.user.get_full_name() or membership.user.username,
                0,
                0,
                targets[membership.team_id],
            )
    for row in loads:
        first, last = row["lead_practitioner__first_name"], row["lead_practitioner__last_name"]
        by_team[row["team_id"]][row["lead_practitioner_id"]] = PractitionerLoad(
            row["lead_practitioner_id"],
            f"{first} {last}".strip() or row["lead_practitioner__username"],
            row["children"],
            row["overdue"],
            targets[row["team_id"]],
        )
    return [
        TeamOverview(
            team=team,
            practitioners=sorted(by_team[team.pk].values(), key=lambda p: p.name.lower()),
            members=[m for m in members if m.team_id == team.pk],
        )
        for team in teams
    ]


def unallocated_episodes(team_ids: Iterable[int]) -> QuerySet[Episode]:
    """Open episodes held by these teams with nobody leading them, oldest first."""
    return (
        Episode.objects.filter(
            team_id__in=list(team_ids), ended_on__isnull=True, lead_practitioner__isnull=True
        )
        .select_related("family", "child", "level", "service", "team")
        .order_by("started_on", "pk")
    )


@dataclass(frozen=True)
class LikelyMatch:
    """An existing person who may be the one about to be added, and why."""

    person: Person
    score: int
    reasons: tuple[str, ...]
    families: list[str]
    in_family: bool

    @property
    def label(self) -> str:
        person = self.person
        if person.date_of_birth:
            born = f"born {person.date_of_birth:%-d %B %Y}"
        elif person.expected_date_of_birth:
            born = f"due {person.expected_date_of_birth:%-d %B %Y}"
        else:
            born = "date of birth not known"
        return f"{person.forename} {person.surname}, {born}"


def likely_matches(
    user: User | AnonymousUser,
    *,
    forename: str,
    surname: str,
    born_on: dt.date | None,
    nhs_number: str = "",
    postcode: str = "",
    family: Family | None = None,
) -> list[LikelyMatch]:
    """People this user may see who score as likely the same person (``cases.matching``)."""
    from . import matching

    facts = matching.Facts(
        forename=forename,
        surname=surname,
        born_on=born_on,
        nhs_number=nhs_number,
        postcodes=frozenset({matching.normalise_postcode(postcode)} if postcode else ()),
    )
    found = matching.find_candidates(facts, among=people_visible_to(user))
    if not found:
        return []
    ids = [match.person_id for match in found]
    people = Person.objects.in_bulk(ids)
    families = families_of_people(ids)
    here = family.reference if family is not None else None
    return [
        LikelyMatch(
            person=people[match.person_id],
            score=int(match.score),
            reasons=match.reasons,
            families=families.get(match.person_id, []),
            in_family=here in families.get(match.person_id, []),
        )
        for match in found
    ]


def nhs_number_recorded(nhs_number: str) -> bool:
    """Whether anybody has this NHS number, seen by this user or not (it is unique)."""
    return Person.objects.filter(nhs_number=nhs_number).exists()
