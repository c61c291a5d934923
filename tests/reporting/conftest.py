"""Reporting fixtures: eager Celery for in-process runs, and the small council of worlds.py."""

import pytest

from earlyhelp.celery import app
from reporting import services
from tests import factories
from tests.reporting import worlds


@pytest.fixture
def eager():
    """Run Celery tasks (and chords) in this process whatever the broker settings say."""
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    services._data_cache.clear()
    try:
        yield
    finally:
        app.conf.task_always_eager = saved
        services._data_cache.clear()


@pytest.fixture
def officer(council):
    return factories.UserFactory.with_role("performance_officer", organisation=council)


@pytest.fixture
def world(ref, team, practitioner):
    return worlds.build(ref, team, practitioner)
