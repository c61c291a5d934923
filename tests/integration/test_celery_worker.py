"""A real Celery worker, on Redis and PostgreSQL, runs the project's tasks."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url
import pytest
from django.conf import settings
from django.db import connection

from earlyhelp.tasks import health
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(transactional_db, django_db_serialized_rollback):
    """Start a worker on a queue of its own, pointed at the test database."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    database = dict(connection.settings_dict)
    url = dj_database_url.parse(os.environ["DATABASE_URL"])
    test_url = (
        f"postgres://{url['USER'] or 'postgres'}@{url['HOST'] or '127.0.0.1'}:"
        f"{url['PORT'] or 5432}/{database['NAME']}"
    )
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "earlyhelp.settings.test",
        "DATABASE_URL": test_url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "earlyhelp",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.worker
def test_worker_runs_a_task_against_the_same_database(worker):
    # given a family committed by the test
    factories.FamilyFactory()
    # when a worker runs the health task from the queue
    result = health.apply_async(queue=worker).get(timeout=60)
    # then it saw PostgreSQL and the committed family
    assert result == {"database": "postgresql", "families": 1}
