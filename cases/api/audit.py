"""Every partner API call leaves a row: who, which endpoint, the outcome, how long it took."""

import time
from typing import Any

from django.http import HttpRequest
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from cases import services
from cases.inserts import InsertBatch
from cases.models import PartnerAPIKey

from .authentication import presented_key_prefix


class AuditedMixin:
    """Wraps ``dispatch`` to record the call once the response is known, whatever it is.

    A view that writes can record the call earlier, inside its write's transaction
    (``audit``), so that the write and its audit row commit together or not at all.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Response:
        self._audit_started = time.perf_counter()
        self._audited_as: int | None = None
        response: Response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        replayed = response.get("Idempotent-Replayed") == "true"
        if self._audited_as != response.status_code or replayed:
            drf_request = self.request  # type: ignore[attr-defined]
            _record(drf_request, request, response.status_code, replayed, self._audit_started)
        return response

    def audit(self, *, status: int, batch: InsertBatch | None = None) -> None:
        """Record the call now, as answered with ``status``, in the caller's transaction
        (with the caller's ``batch`` of rows, if it has one).

        Call it last in the transaction whose commit the response will report: one commit
        instead of two, and no write without its audit row. Should that transaction roll
        back instead, the response differs (a replay, an error) and is recorded as usual.
        """
        request = self.request  # type: ignore[attr-defined]
        _record(request, request._request, status, False, self._audit_started, batch)
        self._audited_as = status


def _record(
    request: Request,
    raw: HttpRequest,
    status: int,
    replayed: bool,
    started: float,
    batch: InsertBatch | None = None,
) -> None:
    try:
        auth, user = request.auth, request.user
    except APIException:  # authentication never ran (the request failed before it)
        auth, user = None, None
    organisation_id = None
    if isinstance(auth, PartnerAPIKey):
        organisation_id = auth.organisation_id
    elif user is not None and user.is_authenticated:
        organisation_id = getattr(user, "organisation_id", None)
    match = raw.resolver_match
    services.api_request_audit(
        organisation_id=organisation_id,
        key_prefix=auth.prefix if isinstance(auth, PartnerAPIKey) else presented_key_prefix(raw),
        user_id=user.pk if user is not None and user.is_authenticated else None,
        method=raw.method or "",
        endpoint=match.view_name if match is not None else "",
        status=status,
        duration_ms=round((time.perf_counter() - started) * 1000),
        replayed=replayed,
        batch=batch,
    )
