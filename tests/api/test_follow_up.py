"""After commit: matching and notifying triage run in Celery, and survive a broker outage."""

import datetime as dt

import pytest
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


def submission_of(response) -> PartnerSubmission:
    assert response.status_code == 201, response.json()
    return PartnerSubmission.objects.get(referral__uuid=response.json()["id"])


@pytest.mark.django_db
@override_settings(TRIAGE_NOTIFICATION_EMAILS=["triage@example.gov.uk"])
def test_follow_up_runs_after_commit_matches_and_notifies(
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


@pytest.mark.django_db
def test_broker_down_the_request_succeeds_and_the_sweep_finishes_the_work(
    api, body, existing_child, django_capture_on_commit_callbacks
):
    # given the broker is down (nothing listens on the port)
    with broker(CLOSED_PORT):
        with django_capture_on_commit_callbacks(execute=True):
            response = post(api, body, "while-down")
        # then the request is still recorded, and the work is left pending for the sweep
        submission = submission_of(response)
        submission.refresh_from_db()
        assert (submission.follow_up, submission.follow_up_queued_at) == ("pending", None)
        # and a sweep while it is still down hands nothing over, and loses nothing
        assert services.partner_follow_ups_requeue() == 0
        assert PartnerSubmission.objects.get().follow_up == "pending"

    # when the broker is back (here: tasks in-process) and the sweep runs
    with broker(None):
        assert services.partner_follow_ups_requeue() == 1

    # then the follow-up has run, once
    submission.refresh_from_db()
    assert submission.follow_up == "done"
    assert submission.follow_up_attempts == 3  # the request, the sweep while down, this one
    assert MatchCandidate.objects.count() == 1
    with broker(None):
        assert services.partner_follow_ups_requeue() == 0


@pytest.mark.django_db
@override_settings(PARTNER_FOLLOW_UP_RETRY_SECONDS=300)
def test_the_sweep_retries_hand_offs_lost_after_the_broker(api, body):
    submission = submission_of(post(api, body))  # on_commit never ran: as if lost
    PartnerSubmission.objects.update(follow_up_queued_at=timezone.now())

    with broker(None):
        assert services.partner_follow_ups_requeue() == 0  # too recent to call lost
        PartnerSubmission.objects.update(
            follow_up_queued_at=timezone.now() - dt.timedelta(seconds=301)
        )
        assert services.partner_follow_ups_requeue() == 1

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


def test_the_sweep_is_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {"cases.partner_follow_up_sweep", "cases.idempotency_records_purge"} <= tasks


@pytest.mark.django_db
def test_old_idempotency_keys_are_forgotten(api, body):
    post(api, body, "old-key")
    from cases.models import IdempotencyRecord

    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(days=31))
    post(api, body, "new-key")

    assert services.idempotency_records_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new-key"]
