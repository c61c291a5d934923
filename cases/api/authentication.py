"""Who is calling: a partner organisation's API key, or a signed-in user of the web app."""

from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_api_key.permissions import KeyParser

from cases.models import PartnerAPIKey
from earlyhelp.models import Organisation


class PartnerClient:
    """The request's user when a partner system calls with a key: an organisation, not a
    person, so it has no permissions beyond what the partner views grant."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, organisation: Organisation) -> None:
        self.organisation = organisation

    def __str__(self) -> str:
        return f"partner {self.organisation.code}"


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Api-Key <prefix>.<secret>``, checked against the stored hash.

    One query (the key by its prefix, with its organisation). A missing header lets the next
    authenticator (session) try; a wrong, revoked or expired key, or an organisation without
    API access, is refused outright with the same message, so a caller learns nothing about
    which keys exist.
    """

    keyword = "Api-Key"
    parser = KeyParser()
    refusal = "Invalid, revoked or expired API key."

    def authenticate(self, request: Request) -> tuple[PartnerClient, PartnerAPIKey] | None:
        key = self.parser.get(request)
        if key is None:
            return None
        prefix, _, _ = key.partition(".")
        api_key = (
            PartnerAPIKey.objects.select_related("organisation")
            .filter(prefix=prefix, revoked=False)
            .first()
        )
        if api_key is None or not api_key.is_valid(key) or _expired(api_key):
            raise exceptions.AuthenticationFailed(self.refusal)
        organisation = api_key.organisation
        if not (organisation.is_active and organisation.api_access_enabled):
            raise exceptions.AuthenticationFailed(self.refusal)
        return PartnerClient(organisation), api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def _expired(api_key: PartnerAPIKey) -> bool:
    return api_key.expiry_date is not None and api_key.expiry_date < timezone.now()


def presented_key_prefix(request: Any) -> str:
    """The prefix of whatever key was presented (valid or not), for the audit log."""
    key = KeyParser().get(request) or ""
    return key.partition(".")[0][:8]
