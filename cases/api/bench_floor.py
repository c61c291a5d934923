"""The framework floor for `make bench-api`: a bare Django view that inserts one row.

Routed only when ``API_BENCH_FLOOR`` is set, so it never exists outside a bench run.
"""

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cases import services


@csrf_exempt
@require_POST
def floor_insert(request: HttpRequest) -> JsonResponse:
    json.loads(request.body or b"{}")
    row = services.api_request_audit(
        organisation_id=None,
        key_prefix="",
        user_id=None,
        method="POST",
        endpoint="bench-floor",
        status=201,
        duration_ms=0,
        replayed=False,
    )
    return JsonResponse({"id": row.pk}, status=201)
