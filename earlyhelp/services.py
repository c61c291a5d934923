"""Writes for organisations, localities, teams and user accounts (the demo and the admin).

The upserts are keyed on the public code, so setting up a council (or rerunning the demo)
is harmless to repeat. Accounts are only ever created here, so every user has a membership
saying in which organisation, team and role they work.
"""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import Locality, Membership, Organisation, Team, User


@transaction.atomic
def organisation_upsert(
    *, code: str, name: str, kind: str, api_access_enabled: bool = False
) -> Organisation:
    """Create the organisation with this code, or bring its name, kind and API access up to date."""
    organisation = Organisation.objects.select_for_update().filter(code=code).first()
    if organisation is None:
        organisation = Organisation(code=code)
    organisation.name = name
    organisation.kind = kind
    organisation.api_access_enabled = api_access_enabled
    organisation.full_clean()
    organisation.save()
    return organisation


@transaction.atomic
def locality_upsert(*, organisation: Organisation, code: str, name: str) -> Locality:
    """Create the locality with this code, or bring it up to date."""
    locality = Locality.objects.select_for_update().filter(code=code).first()
    if locality is None:
        locality = Locality(code=code)
    locality.organisation = organisation
    locality.name = name
    locality.full_clean()
    locality.save()
    return locality


@transaction.atomic
def team_upsert(
    *,
    organisation: Organisation,
    locality: Locality | None,
    code: str,
    name: str,
    caseload_target: int = 22,
    contact_email: str = "",
    contact_phone: str = "",
) -> Team:
    """Create the team with this code, or bring it up to date.

    The contact is the team's own mailbox and duty line: partners whose requests the team
    accepts are given it, so it must never be a person's.
    """
    if locality is not None and locality.organisation_id != organisation.pk:
        raise ValidationError({"locality": "The locality belongs to another organisation."})
    team = Team.objects.select_for_update().filter(code=code).first()
    if team is None:
        team = Team(code=code)
    team.organisation = organisation
    team.locality = locality
    team.name = name
    team.caseload_target = caseload_target
    team.contact_email = contact_email.strip()
    team.contact_phone = contact_phone.strip()
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    first_name: str,
    last_name: str,
    email: str = "",
    organisation: Organisation,
    role: str,
    team: Team | None = None,
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create an account and its current membership (role in an organisation, maybe a team).

    The password must pass the configured validators: demo and admin-made accounts are held
    to the same rules as everyone else.
    """
    if team is not None and team.organisation_id != organisation.pk:
        raise ValidationError({"team": "The team belongs to another organisation."})
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        organisation=organisation,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.full_clean()
    user.save()
    membership = Membership(
        user=user,
        organisation=organisation,
        team=team,
        role=role,
        started_on=timezone.localdate(),
    )
    membership.full_clean()
    membership.save()
    return user
