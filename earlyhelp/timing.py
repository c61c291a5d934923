"""A ``Server-Timing`` header with Django's own time and SQL for each request, for benchmarks.

Installed only when DJANGO_SERVER_TIMING is on (``make bench-pages`` turns it on). Placed first
in the middleware, it times everything Django does for a request (sessions, sign-in, the view,
the template, the session save) but not the web server's socket work: that is what the client
measures. A load generator in another process then reads server time per page from the
response itself, with no access log to parse and match to requests.

``app`` is wall time, ``db`` the time spent in SQL (waiting for PostgreSQL included) and
``cpu`` the web process's CPU time meanwhile: on a busy shared machine, ``app`` far above
``cpu`` + ``db`` is time spent waiting for a processor. (In a threaded worker ``cpu`` also
counts the other threads' work.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponseBase


class _QueryClock:
    """Counts the SQL statements of one request and adds up their time."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - started


class ServerTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        queries = _QueryClock()
        started, cpu_started = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(queries):
            response = self.get_response(request)
        total_ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu_started) * 1000
        response["Server-Timing"] = (
            f"app;dur={total_ms:.2f}, "
            f'db;dur={queries.seconds * 1000:.2f};desc="{queries.count} queries", '
            f'cpu;dur={cpu_ms:.2f};desc="web process CPU"'
        )
        return response
