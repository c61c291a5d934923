"""The nightly scan and a person moving a claim on never interleave: the second waits."""

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from cases.models import CaseEvent
from reporting import services
from reporting.models import ClaimBatch, FamilyClaim
from reporting.selectors import reporting_data
from tests.cases.test_concurrency import run_together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_submission_waits_for_the_scan_in_progress(world, officer):
    # given a claimable family, and a scan that has begun storing claims
    services.pbr_scan(data=reporting_data(), as_of=dt.date(2026, 10, 31))
    claim = FamilyClaim.objects.get(status=FamilyClaim.Status.CLAIMABLE)
    storing = threading.Event()
    finished: list[str] = []

    def scan():
        with transaction.atomic():
            services._claims_lock()
            storing.set()
            time.sleep(1)  # the scan's writing, long enough for a submission to try to pass
            finished.append("scan")

    def submit():
        storing.wait(timeout=10)
        services.claim_submit(actor=officer, claims=[claim], reference="BATCH-1")
        finished.append("submission")

    # when an officer submits the claim meanwhile
    outcomes = run_together(scan, submit)

    # then the submission went through only once the scan had committed
    assert outcomes == [None, None]
    assert finished == ["scan", "submission"]
    claim.refresh_from_db()
    assert claim.status == FamilyClaim.Status.SUBMITTED


def test_two_officers_submitting_one_claim_at_once_put_it_in_one_batch(world, officer):
    # given one claimable claim
    services.pbr_scan(data=reporting_data(), as_of=dt.date(2026, 10, 31))
    claim = FamilyClaim.objects.get(status=FamilyClaim.Status.CLAIMABLE)

    # when two batches holding it are submitted at the same moment
    outcomes = run_together(
        lambda: services.claim_submit(actor=officer, claims=[claim], reference="BATCH-A"),
        lambda: services.claim_submit(actor=officer, claims=[claim], reference="BATCH-B"),
    )

    # then one batch has it and the other was refused on the claim's status, leaving no batch
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    made = [o for o in outcomes if isinstance(o, ClaimBatch)]
    assert len(refused) == 1 and len(made) == 1, outcomes
    assert "status" in refused[0].message_dict
    claim.refresh_from_db()
    assert claim.status == FamilyClaim.Status.SUBMITTED and claim.batch == made[0]
    assert list(ClaimBatch.objects.values_list("reference", flat=True)) == [made[0].reference]
    assert CaseEvent.objects.filter(kind="claim_submitted", family=claim.family).count() == 1


def test_a_rejection_racing_a_validation_is_never_overwritten(world, officer):
    # given a submitted claim
    services.pbr_scan(data=reporting_data(), as_of=dt.date(2026, 10, 31))
    claim = FamilyClaim.objects.get(status=FamilyClaim.Status.CLAIMABLE)
    services.claim_submit(actor=officer, claims=[claim], reference="BATCH-1")

    # when one officer validates it while another rejects it
    validated, rejected = run_together(
        lambda: services.claim_validate(actor=officer, claim=claim),
        lambda: services.claim_reject(actor=officer, claim=claim, reason="Evidence missing"),
    )

    # then the rejection stands whichever came first (a validated claim may still be rejected;
    # a rejected one is never validated), and the chronology matches what happened
    assert isinstance(rejected, FamilyClaim), rejected
    claim.refresh_from_db()
    assert claim.status == FamilyClaim.Status.REJECTED
    assert claim.rejection_reason == "Evidence missing" and claim.rejected_at is not None
    kinds = set(
        CaseEvent.objects.filter(
            family=claim.family, kind__in=["claim_validated", "claim_rejected"]
        ).values_list("kind", flat=True)
    )
    if isinstance(validated, ValidationError):  # the rejection came first
        assert kinds == {"claim_rejected"} and claim.validated_at is None
    else:
        assert kinds == {"claim_validated", "claim_rejected"} and claim.validated_at is not None
