"""The whole recompute through a real Celery worker on PostgreSQL and Redis, run twice."""

import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import dj_database_url
import pytest
import redis
from django.conf import settings
from django.db import connection

from reporting import services
from reporting.models import FamilyClaim, KpiMember, KpiValue, ReportRun
from tests import factories
from tests.reporting import worlds

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def workers():
    """Two workers on the default queue (emptied first), so partitions are shared."""
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
    processes = []
    for number in range(2):
        command = [sys.executable, "-m", "celery", "-A", "earlyhelp", "worker", "--pool=solo"]
        command += ["--loglevel=WARNING", "--without-gossip", "--without-mingle"]
        command += ["-n", f"reporting{number}@%h"]
        processes.append(subprocess.Popen(command, cwd=ROOT, env=env))
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for(run: ReportRun, seconds: float = 120) -> ReportRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if not run.is_active:
            return run
        time.sleep(0.3)
    raise AssertionError(f"the run is still {run.status} after {seconds} s")


def stored() -> tuple[list, list, list]:
    values = list(
        KpiValue.objects.order_by("pk").values_list(
            "pk",
            "measure",
            "period_label",
            "breakdown_value",
            "category",
            "numerator",
            "denominator",
            "value",
            "run_id",
        )
    )
    members = sorted(
        KpiMember.objects.values_list(
            "partition_id", "record_id", "numerator_mask", "denominator_mask"
        )
    )
    claims = list(FamilyClaim.objects.order_by("pk").values_list("pk", "status", "updated_at"))
    return values, members, claims


def test_the_pipeline_on_real_workers_stores_the_hand_worked_numbers_and_reruns_change_nothing(
    workers, ref
):
    council = factories.OrganisationFactory(code="COUNCIL", kind="council")
    team = factories.TeamFactory(organisation=council)
    practitioner = factories.UserFactory.with_role("practitioner", team=team)
    officer = factories.UserFactory.with_role("performance_officer", organisation=council)
    world = worlds.build(ref, team, practitioner)

    # when an officer asks for a run (committed, so the on-commit hand-over reaches Redis)
    first = services.report_run_request(
        actor=officer, data_cutoff=worlds.CUTOFF, months=worlds.MONTHS
    )
    first = wait_for(first)

    # then the workers stored the numbers worked out by hand
    assert first.status == ReportRun.Status.SUCCEEDED, first.error
    assert (first.progress_done, first.progress_total) == (4, 4)
    october = KpiValue.objects.get(
        measure="RR1", period_label="2026-10", breakdown="all", category="rate"
    )
    assert (october.numerator, october.denominator, october.value) == (1, 2, Decimal("50.0"))
    assert october.run_id == first.pk
    claim = FamilyClaim.objects.get()
    assert (claim.family_id, claim.status, claim.claimable_on) == (
        world["families"]["c"].pk,
        "claimable",
        dt.date(2025, 5, 16),
    )
    before = stored()

    # when the same run is asked for again
    second = wait_for(
        services.report_run_request(actor=officer, data_cutoff=worlds.CUTOFF, months=worlds.MONTHS)
    )

    # then it succeeds and every stored row is exactly as it was
    assert second.status == ReportRun.Status.SUCCEEDED and second.pk != first.pk
    assert stored() == before
