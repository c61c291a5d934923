"""The broker-down path for real: PostgreSQL, a closed broker port, then Redis and a worker."""

import os
import subprocess
import sys
import time
from pathlib import Path

import dj_database_url
import pytest
import redis
from django.conf import settings
from django.db import connection

from cases import services
from cases.models import MatchCandidate, PartnerSubmission
from tests import factories
from tests.api.conftest import broker, post

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT = "redis://127.0.0.1:6390/0"

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def default_queue_worker():
    """A worker on the default queue (emptied first), pointed at the test database."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")
    url = dj_database_url.parse(os.environ["DATABASE_URL"])
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "earlyhelp.settings.test",
        "DATABASE_URL": (
            f"postgres://{url['USER'] or 'postgres'}@{url['HOST'] or '127.0.0.1'}:"
            f"{url['PORT'] or 5432}/{connection.settings_dict['NAME']}"
        ),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    command = [sys.executable, "-m", "celery", "-A", "earlyhelp", "worker", "--pool=solo"]
    command += ["--loglevel=WARNING", "--without-gossip", "--without-mingle"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_until_done(submission: PartnerSubmission, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        submission.refresh_from_db()
        if submission.follow_up == PartnerSubmission.FollowUp.DONE:
            return
        time.sleep(0.2)
    raise AssertionError("the worker never finished the follow-up")


def test_a_request_made_while_the_broker_is_down_is_followed_up_once_it_is_back(
    api, body, default_queue_worker
):
    family = factories.FamilyFactory(postcode="LS1 4AP")
    known = factories.PersonFactory(nhs_number="9434765919")
    family.memberships.create(person=known, role="child")

    # given the broker is down: the request is recorded and its follow-up left pending
    with broker(CLOSED_PORT):
        response = post(api, body, "sent-while-down")
        assert response.status_code == 201
        assert services.partner_follow_ups_relay() == 0  # beat's relay cannot hand it over
    submission = PartnerSubmission.objects.get()
    assert (submission.follow_up, submission.follow_up_queued_at) == ("pending", None)

    # when the broker is back and beat's relay runs
    with broker(settings.CELERY_BROKER_URL):
        assert services.partner_follow_ups_relay() == 1

    # then a real worker does the follow-up: the known child is proposed, nothing is merged
    wait_until_done(submission)
    candidate = MatchCandidate.objects.get()
    assert candidate.person == known and candidate.reasons == ["NHS number identical"]
    assert submission.referral.children.count() == 0
