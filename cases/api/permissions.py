"""Which organisation a partner request acts for; everything else is refused."""

from typing import cast

from django.utils import timezone
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from earlyhelp.models import Membership, Organisation

from .authentication import PartnerClient


def partner_organisation(request: Request) -> Organisation | None:
    """The organisation a request acts for: the key's, or a signed-in partner user's own.

    Memoised on the request, since permission checks and views both ask.
    """
    if hasattr(request, "_partner_organisation"):
        return cast(Organisation | None, request._partner_organisation)
    organisation = _resolve(request)
    request._partner_organisation = organisation  # type: ignore[attr-defined]
    return organisation


def _resolve(request: Request) -> Organisation | None:
    user = request.user
    if isinstance(user, PartnerClient):
        return user.organisation
    organisation_id = getattr(user, "organisation_id", None)
    if not user.is_authenticated or organisation_id is None:
        return None
    today = timezone.localdate()
    is_partner_user = (
        Membership.objects.filter(
            user=user,
            organisation_id=organisation_id,
            role=Membership.Role.PARTNER_USER,
            started_on__lte=today,
        )
        .exclude(ended_on__lt=today)
        .exists()
    )
    organisation = user.organisation if is_partner_user else None
    return organisation if organisation is not None and organisation.is_active else None


class IsPartner(BasePermission):
    """A partner organisation's key, or a signed-in partner user (the web form)."""

    message = "This endpoint is for partner organisations."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return partner_organisation(request) is not None


class IsAuthenticatedCaller(BasePermission):
    """Reference data: any partner key or signed-in user."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated)
