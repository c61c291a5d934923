"""The checks every practitioner page makes, in one place: 404 outside visibility, 403 for
people who may look but not change, and the access log for every record view."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from earlyhelp.access import access_for
from earlyhelp.models import User

from . import services
from .models import Family, Person
from .selectors import families_visible_to


def request_user(request: HttpRequest) -> User:
    """The signed-in user; views are wrapped in ``login_required`` so this always holds."""
    assert isinstance(request.user, User)
    return request.user


def require_write(request: HttpRequest) -> None:
    """Read-only and reporting roles get 403 on every page that changes a record."""
    if not access_for(request.user).can_write:
        raise PermissionDenied("Your role can view records but not change them.")


def require_manager(request: HttpRequest, *, team_id: int | None) -> None:
    """Sign-offs and step decisions belong to a manager of the team that holds the work."""
    access = access_for(request.user)
    if team_id is None or team_id not in access.managed_team_ids:
        raise PermissionDenied("Only a manager of this team can make this decision.")


def family_for(request: HttpRequest, reference: str, *, change: bool = False) -> Family:
    """The family at ``reference`` if this user may see it (404 otherwise), 403 for a change
    by a read-only role."""
    family = get_object_or_404(families_visible_to(request.user), reference=reference)
    if change:
        require_write(request)
    return family


def family_viewed(
    request: HttpRequest, family: Family, *, person: Person | None = None, what: str = ""
) -> None:
    """Record that this page showed the family's (or a child's) record."""
    match = request.resolver_match
    services.access_log_record(
        user=request_user(request),
        family=family,
        person=person,
        what=what or (match.view_name if match else request.path)[:64],
    )
