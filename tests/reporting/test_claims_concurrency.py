"""The nightly scan and a person moving a claim on never interleave: the second waits."""

import datetime as dt
import threading
import time

import pytest
from django.db import transaction

from reporting import services
from reporting.models import FamilyClaim
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
