"""Active reference codes, cached briefly per process: every submission checks them.

Two lookups per request were a measurable share of the API's cost. Codes change rarely and
only in the admin: a save there clears this process's cache at once, and other processes
see the change within ``API_REFERENCE_CACHE_SECONDS`` (60 by default).
"""

import threading
import time
from typing import Any, TypeVar

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from cases.models import HeadlineOutcome, ReferralSource

Code = TypeVar("Code", ReferralSource, HeadlineOutcome)

_lock = threading.Lock()
_cached: dict[type, tuple[float, dict[str, Any]]] = {}


def active_codes(model: type[Code]) -> dict[str, Code]:
    """Code → row for the model's active rows, from the cache while it is fresh."""
    now = time.monotonic()
    with _lock:
        hit = _cached.get(model)
    if hit is not None and hit[0] > now:
        return hit[1]
    rows = {row.code: row for row in model.objects.filter(is_active=True)}
    with _lock:
        _cached[model] = (now + settings.API_REFERENCE_CACHE_SECONDS, rows)
    return rows


def clear() -> None:
    with _lock:
        _cached.clear()


@receiver([post_save, post_delete], sender=ReferralSource)
@receiver([post_save, post_delete], sender=HeadlineOutcome)
def _reference_changed(**kwargs: Any) -> None:
    clear()
