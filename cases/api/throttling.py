"""Per-key rate limits: one partner's runaway loop must not slow the API for the others."""

import functools
import time

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from cases.models import PartnerAPIKey

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"120/min"`` → (120, 60): DRF's rate syntax."""
    number, _, period = rate.partition("/")
    return int(number), _PERIODS[period[0]]


class PartnerRateThrottle(BaseThrottle):
    """``API_PARTNER_RATE`` requests per key per window (per user for the web app, per
    address otherwise); beyond it DRF answers 429 with ``Retry-After`` from ``wait()``.

    A fixed-window counter rather than DRF's sliding log, which stores a timestamp per
    request and re-serialises them all on every call: its cost grows with the rate. A fixed
    window may let a key send up to twice the rate across a window boundary, which is
    acceptable for protecting the service.
    """

    scope = "partner"

    def __init__(self) -> None:
        self.retry_after = 0.0

    def allow_request(self, request: Request, view: APIView) -> bool:
        limit, period = parse_rate(str(settings.API_PARTNER_RATE))
        now = time.time()
        window = int(now // period)
        count = window_count(f"throttle:{self.scope}:{self._ident(request)}:{window}", period)
        if count <= limit:
            return True
        self.retry_after = (window + 1) * period - now
        return False

    def wait(self) -> float:
        return self.retry_after

    def _ident(self, request: Request) -> str:
        if isinstance(request.auth, PartnerAPIKey):
            return f"key:{request.auth.prefix}"
        if request.user and request.user.is_authenticated and request.user.pk is not None:
            return f"user:{request.user.pk}"
        return f"addr:{self.get_ident(request)}"


def window_count(key: str, period: int) -> int:
    """Count one more request in the window named ``key``; return the window's count.

    With Redis (``CACHE_URL``) it is one INCR on a connection kept by the process (through
    Django's cache API it took three round trips, and a new client object for each); the
    request that opens the window also sets its expiry. A pipeline doing both every time
    cost half as much again. Should a process die between the two, its window's key stays
    without expiry: a few bytes, never read again, since the next window has another name.
    Otherwise (the embedded default) the process-local cache.
    """
    client = _redis(settings.CACHE_URL) if settings.CACHE_URL.startswith("redis") else None
    if client is None:
        cache.add(key, 0, timeout=period + 1)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr: this request opens the window
            cache.set(key, 1, timeout=period + 1)
            return 1
    count = int(client.incr(f"earlyhelp:{key}"))
    if count == 1:
        client.expire(f"earlyhelp:{key}", period + 1)
    return count


@functools.cache
def _redis(url: str) -> redis.Redis:
    # Thread-safe, and its connection pool notices a fork (gunicorn) and starts afresh.
    return redis.Redis.from_url(url)
