"""The framework floor for `make bench-api`: a bare Django view that inserts one row.

Routed only when ``API_BENCH_FLOOR`` is set, so it never exists outside a bench run. It
writes with the ORM's ``create()`` on purpose (not the services' cheaper insert): the floor
is what plain Django costs, and stays comparable between runs as the API changes.
"""

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cases.models import ApiRequestLog


@csrf_exempt
@require_POST
def floor_insert(request: HttpRequest) -> JsonResponse:
    json.loads(request.body or b"{}")
    row = ApiRequestLog.objects.create(
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
