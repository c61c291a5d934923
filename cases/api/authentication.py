"""Who is calling: a partner organisation's API key, or a signed-in user of the web app."""

import threading
import time
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
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

    At most one query (the key by its prefix, with its organisation), and none while this
    process has the key in ``key_rows``. A missing header lets the next authenticator
    (session) try; a wrong, revoked or expired key, or an organisation without API access,
    is refused outright with the same message, so a caller learns nothing about which keys
    exist.
    """

    keyword = "Api-Key"
    parser = KeyParser()
    refusal = "Invalid, revoked or expired API key."

    def authenticate(self, request: Request) -> tuple[PartnerClient, PartnerAPIKey] | None:
        key = self.parser.get(request)
        if key is None:
            return None
        prefix, _, _ = key.partition(".")
        api_key = key_rows.get(prefix)
        if api_key is None:
            api_key = (
                PartnerAPIKey.objects.select_related("organisation")
                .filter(prefix=prefix, revoked=False)
                .first()
            )
            if api_key is not None:
                key_rows.put(prefix, api_key)
        # The secret is checked against the hash every time, cached row or not.
        if api_key is None or not api_key.is_valid(key) or _expired(api_key):
            raise exceptions.AuthenticationFailed(self.refusal)
        organisation = api_key.organisation
        if not (organisation.is_active and organisation.api_access_enabled):
            raise exceptions.AuthenticationFailed(self.refusal)
        return PartnerClient(organisation), api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class KeyRows:
    """Unrevoked key rows (with their organisation) this process read in the last
    ``API_KEY_CACHE_SECONDS``, by prefix.

    Reading the key was a seventh of a submission's CPU. A partner sending often finds its
    row here; one sending rarely pays the query, which then does not matter. A change to a
    key or an organisation empties this process's copy at once (the signals below); other
    web processes notice within the cache time, so a revoked key may work there for that
    long (2 seconds by default; 0 turns the cache off). Expiry is checked on every request.
    Rows are shared between threads and only ever read.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[float, PartnerAPIKey]] = {}

    def get(self, prefix: str) -> PartnerAPIKey | None:
        with self._lock:
            hit = self._rows.get(prefix)
        if hit is None or hit[0] <= time.monotonic():
            return None
        return hit[1]

    def put(self, prefix: str, api_key: PartnerAPIKey) -> None:
        seconds = settings.API_KEY_CACHE_SECONDS
        if seconds <= 0:
            return
        with self._lock:
            if len(self._rows) > 10_000:  # bounded: forget the lot rather than track age
                self._rows.clear()
            self._rows[prefix] = (time.monotonic() + seconds, api_key)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


key_rows = KeyRows()


@receiver([post_save, post_delete], sender=PartnerAPIKey)
@receiver([post_save, post_delete], sender=Organisation)
def _key_or_organisation_changed(**kwargs: Any) -> None:
    key_rows.clear()


def _expired(api_key: PartnerAPIKey) -> bool:
    return api_key.expiry_date is not None and api_key.expiry_date < timezone.now()


def presented_key_prefix(request: Any) -> str:
    """The prefix of whatever key was presented (valid or not), for the audit log."""
    key = KeyParser().get(request) or ""
    return key.partition(".")[0][:8]
