"""After commit: matching and notifying triage run in Celery, handed over by beat's relay from
the submissions' outbox, and survive a broker outage."""

import datetime as dt
import json
from base64 import b64decode

import pytest
import redis
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from cases import services
from cases.models import MatchCandidate, PartnerSubmission
from tests import factories
from tests.api.conftest import broker, post

CLOSED_PORT = "redis://127.0.0.1:6390/0"


@pytest.fixture
def existing_child(db):
    """A child already known to the council, who is the child in the example request."""
    family = factories.FamilyFactory(postcode="LS1 4AP")
    child = factories.PersonFactory(
        forename="Ada", surname="Example", date_of_birth=dt.date(2016, 5, 14)
    )
    family.memberships.create(person=child, role="child")
    return child


@pytest.fixture
def queue():
    """The broker's default queue, emptied before and after: the messages sent to it."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("celery")
    yield lambda: [json.loads(message) for message in client.lrange("celery", 0, -1)]
    client.delete("celery")


def submission_of(response) -> PartnerSubmission:
    assert response.status_code == 201, response.json()
    return PartnerSubmission.objects.get(referral__uuid=response.json()["id"])


@pytest.mark.django_db
@override_settings(TRIAGE_NOTIFICATION_EMAILS=["triage@example.gov.uk"])
def test_without_a_broker_the_follow_up_runs_after_commit_matches_and_notifies(
    api, body, existing_child, django_capture_on_commit_callbacks
):
    del body["children"][0]["nhs_number"]
    with broker(None), django_capture_on_commit_callbacks(execute=True):
        submission = submission_of(post(api, body))

    submission.refresh_from_db()
    assert submission.follow_up == "done" and submission.followed_up_at is not None
    (candidate,) = MatchCandidate.objects.all()
    assert candidate.person == existing_child
    assert candidate.submitted_person.role == "child"
    assert candidate.score == 100
    assert "date of birth identical" in candidate.reasons
    (message,) = mail.outbox
    assert submission.referral.reference in message.subject
    assert "Ada" not in f"{message.subject} {message.body}"  # a reference, never a name


@pytest.mark.django_db
def test_the_follow_up_is_safe_to_run_twice(api, body, existing_child):
    submission = submission_of(post(api, body))

    assert services.partner_follow_up_run(submission_id=submission.pk) is True
    assert services.partner_follow_up_run(submission_id=submission.pk) is False

    assert MatchCandidate.objects.count() == 1
    assert services.partner_follow_up_run(submission_id=999_999) is False


@pytest.mark.redis
@pytest.mark.django_db
def test_with_a_broker_the_request_sends_nothing_and_the_relay_sends_one_batch(
    api, body, queue, django_capture_on_commit_callbacks
):
    # given three requests, each committed with its follow-up pending in the outbox
    with broker(settings.CELERY_BROKER_URL), django_capture_on_commit_callbacks(execute=True):
        submissions = [submission_of(post(api, body, f"k{n}")) for n in range(3)]
    assert queue() == []
    assert set(PartnerSubmission.objects.values_list("follow_up_queued_at", flat=True)) == {None}

    # when the relay runs, twice
    with broker(settings.CELERY_BROKER_URL):
        assert services.partner_follow_ups_relay() == 3
        assert services.partner_follow_ups_relay() == 0  # its claims are fresh: sent once

    # then one message carries all three, each claimed once
    (message,) = queue()
    assert message["headers"]["task"] == "cases.partner_follow_ups"
    args, _, _ = json.loads(b64decode(message["body"]))
    assert args == [[submission.pk for submission in submissions]]
    for submission in submissions:
        submission.refresh_from_db()
        assert (submission.follow_up, submission.follow_up_attempts) == ("pending", 1)
        assert submission.follow_up_queued_at is not None


@pytest.mark.django_db
def test_the_relay_sends_batches_of_the_size_asked(api, body, monkeypatch):
    for n in range(5):
        post(api, body, f"k{n}")
    sent: list[list[int]] = []

    def publish(submission_ids: list[int]) -> bool:
        sent.append(submission_ids)
        return True

    monkeypatch.setattr(services, "_follow_ups_publish", publish)

    assert services.partner_follow_ups_relay(batch=2) == 5

    assert [len(ids) for ids in sent] == [2, 2, 1]
    every = sorted(pk for ids in sent for pk in ids)
    assert every == sorted(PartnerSubmission.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_broker_down_the_request_succeeds_and_the_relay_finishes_the_work(
    api, body, existing_child, django_capture_on_commit_callbacks
):
    # given the broker is down (nothing listens on the port)
    with broker(CLOSED_PORT):
        with django_capture_on_commit_callbacks(execute=True):
            response = post(api, body, "while-down")
        # then the request is still recorded, and its follow-up left pending for the relay
        submission = submission_of(response)
        submission.refresh_from_db()
        assert (submission.follow_up, submission.follow_up_queued_at) == ("pending", None)
        # and a relay while it is still down hands nothing over, and loses nothing
        assert services.partner_follow_ups_relay() == 0
        submission.refresh_from_db()
        assert (submission.follow_up, submission.follow_up_queued_at) == ("pending", None)

    # when the broker is back (here: tasks in-process) and the relay runs
    with broker(None):
        assert services.partner_follow_ups_relay() == 1

    # then the follow-up has run, once
    submission.refresh_from_db()
    assert submission.follow_up == "done"
    assert submission.follow_up_attempts == 2  # the relay while down, this one
    assert MatchCandidate.objects.count() == 1
    with broker(None):
        assert services.partner_follow_ups_relay() == 0


@pytest.mark.django_db
@override_settings(PARTNER_FOLLOW_UP_RETRY_SECONDS=300)
def test_the_relay_retries_hand_offs_lost_after_the_broker(api, body):
    submission = submission_of(post(api, body))
    PartnerSubmission.objects.update(follow_up_queued_at=timezone.now())  # handed over, lost

    with broker(None):
        assert services.partner_follow_ups_relay() == 0  # too recent to call lost
        PartnerSubmission.objects.update(
            follow_up_queued_at=timezone.now() - dt.timedelta(seconds=301)
        )
        assert services.partner_follow_ups_relay() == 1

    submission.refresh_from_db()
    assert submission.follow_up == "done"


@pytest.mark.django_db
def test_a_failing_follow_up_never_fails_the_request(
    api, body, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise RuntimeError("matching bug")

    monkeypatch.setattr(services, "partner_follow_up_run", broken)
    with broker(None), django_capture_on_commit_callbacks(execute=True):
        submission = submission_of(post(api, body))

    submission.refresh_from_db()
    assert (submission.follow_up, submission.follow_up_queued_at) == ("pending", None)


@pytest.mark.django_db
def test_one_failing_follow_up_does_not_hold_up_the_rest_of_its_batch(api, body, monkeypatch):
    failing, working = (submission_of(post(api, body, f"k{n}")) for n in range(2))
    run = services.partner_follow_up_run

    def broken_for_one(*, submission_id):
        if submission_id == failing.pk:
            raise RuntimeError("matching bug")
        return run(submission_id=submission_id)

    monkeypatch.setattr(services, "partner_follow_up_run", broken_for_one)
    with broker(None):
        assert services.partner_follow_ups_relay() == 2

    failing.refresh_from_db()
    working.refresh_from_db()
    assert working.follow_up == "done"
    # left claimed: the relay hands it over again after PARTNER_FOLLOW_UP_RETRY_SECONDS
    assert failing.follow_up == "pending" and failing.follow_up_queued_at is not None


def test_the_relay_runs_every_few_seconds_and_old_keys_are_purged(settings):
    entries = settings.CELERY_BEAT_SCHEDULE.values()
    schedule = {entry["task"]: entry["schedule"] for entry in entries}

    assert schedule["cases.partner_follow_up_relay"] <= 5
    assert "cases.idempotency_keys_purge" in schedule


@pytest.mark.django_db
def test_old_idempotency_keys_are_forgotten(api, body):
    old = submission_of(post(api, body, "old-key"))
    PartnerSubmission.objects.update(created_at=timezone.now() - dt.timedelta(days=31))
    post(api, body, "new-key")

    assert services.idempotency_keys_purge() == 1

    keys = PartnerSubmission.objects.order_by("pk").values_list("idempotency_key", flat=True)
    assert list(keys) == [None, "new-key"]
    old.refresh_from_db()
    assert (old.request_hash, old.response_body) == ("", None)
    # the key is free again: a request with it now is a new request
    assert post(api, body, "old-key").status_code == 201
    assert PartnerSubmission.objects.count() == 3
