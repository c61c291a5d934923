"""Shared fixtures: service gating, personas and reference data lookups.

Tests marked ``postgres``, ``redis`` or ``worker`` need real services. Run locally without
them they are skipped with the reason; in CI (CI=true) a missing service is a failure.
"""

import os
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection

from tests import factories

# The personas of the access matrix and the browser journeys.
pytest_plugins = ["tests.personas"]


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def _service_problem(marker: str) -> str | None:
    if marker in {"postgres", "worker"} and connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/earlyhelp"
    if marker in {"redis", "worker"}:
        broker = settings.CELERY_BROKER_URL
        if not broker:
            return "needs Redis: set CELERY_BROKER_URL=redis://127.0.0.1:6379/0"
        if not _reachable(broker, 6379):
            return f"Redis broker not reachable at {urlparse(broker).netloc}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("postgres", "redis", "worker"):
        if item.get_closest_marker(marker) is None:
            continue
        problem = _service_problem(marker)
        if problem is None:
            continue
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI requires this service: {problem}", pytrace=False)
        pytest.skip(problem)


@pytest.fixture
def ref():
    """Reference data rows by code, as seeded by the migrations."""
    return factories.Ref()


@pytest.fixture
def council(db):
    return factories.OrganisationFactory(code="COUNCIL", name="Example Council", kind="council")


@pytest.fixture
def team(council):
    return factories.TeamFactory(organisation=council)


@pytest.fixture
def practitioner(team):
    return factories.UserFactory.with_role("practitioner", team=team)


@pytest.fixture
def manager(team):
    return factories.UserFactory.with_role("team_manager", team=team)
