"""What a signed-in user is, from their current memberships: one query, cached per request.

Object-level visibility lives in the ``*_visible_to(user)`` selectors (``cases.selectors``);
this module answers the questions they and the views ask: which teams, which roles, may this
person change anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.utils import timezone

from .models import Membership, Organisation, User

Role = Membership.Role
STAFF_ROLES = frozenset({Role.PRACTITIONER, Role.TEAM_MANAGER, Role.READ_ONLY})
WRITE_ROLES = frozenset({Role.PRACTITIONER, Role.TEAM_MANAGER, Role.PARTNER_USER})


@dataclass(frozen=True)
class Access:
    roles: frozenset[str] = frozenset()
    team_ids: frozenset[int] = frozenset()
    locality_ids: frozenset[int] = frozenset()
    organisation_ids: frozenset[int] = frozenset()
    managed_team_ids: frozenset[int] = field(default=frozenset())
    works_for_council: bool = False

    @property
    def is_staff_worker(self) -> bool:
        """Works in (or reads for) a council team: practitioner, manager or read-only."""
        return bool(self.roles & STAFF_ROLES) and bool(self.team_ids)

    @property
    def is_manager(self) -> bool:
        return Role.TEAM_MANAGER in self.roles

    @property
    def is_partner(self) -> bool:
        return Role.PARTNER_USER in self.roles

    @property
    def is_performance_officer(self) -> bool:
        return Role.PERFORMANCE_OFFICER in self.roles

    @property
    def is_administrator(self) -> bool:
        return Role.ADMINISTRATOR in self.roles

    @property
    def has_caseload(self) -> bool:
        return self.is_staff_worker or self.is_partner

    @property
    def works_front_door(self) -> bool:
        """Council practitioners and managers triage requests for support."""
        return self.is_staff_worker and self.works_for_council

    @property
    def sees_reports(self) -> bool:
        return self.is_performance_officer or self.is_manager

    @property
    def can_write(self) -> bool:
        """Read-only and reporting roles may look but never change a record."""
        return bool(self.roles & WRITE_ROLES)


def current_memberships(on: dt.date | None = None) -> Q:
    on = on or timezone.localdate()
    return Q(started_on__lte=on) & (Q(ended_on__isnull=True) | Q(ended_on__gte=on))


def access_for(user: User | AnonymousUser) -> Access:
    """The user's current roles and teams; cached on the user object for the request."""
    if not user.is_authenticated:
        return Access()
    cached: Access | None = getattr(user, "_access", None)
    if cached is not None:
        return cached
    rows = Membership.objects.filter(current_memberships(), user=user).values_list(
        "role", "team_id", "team__locality_id", "organisation_id", "organisation__kind"
    )
    council = False
    roles, teams, localities, organisations, managed = set(), set(), set(), set(), set()
    for role, team_id, locality_id, organisation_id, kind in rows:
        roles.add(role)
        council = council or kind == Organisation.Kind.COUNCIL
        organisations.add(organisation_id)
        if team_id is not None:
            teams.add(team_id)
            if role == Role.TEAM_MANAGER:
                managed.add(team_id)
        if locality_id is not None:
            localities.add(locality_id)
    access = Access(
        roles=frozenset(roles),
        team_ids=frozenset(teams),
        locality_ids=frozenset(localities),
        organisation_ids=frozenset(organisations),
        managed_team_ids=frozenset(managed),
        works_for_council=council,
    )
    user.__dict__["_access"] = access
    return access
