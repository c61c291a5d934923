"""Every partner API call leaves a row: who, which endpoint, the outcome, how long it took."""

import time
from typing import Any

from django.http import HttpRequest
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from cases import services
from cases.models import PartnerAPIKey

from .authentication import presented_key_prefix


class AuditedMixin:
    """Wraps ``dispatch`` to record the call once the response is known, whatever it is."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Response:
        started = time.perf_counter()
        response: Response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        _record(self.request, request, response, started)  # type: ignore[attr-defined]
        return response


def _record(request: Request, raw: HttpRequest, response: Response, started: float) -> None:
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
        status=response.status_code,
        duration_ms=round((time.perf_counter() - started) * 1000),
        replayed=response.get("Idempotent-Replayed") == "true",
    )
