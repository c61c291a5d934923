"""A run computed in one place with no broker: the data loaded once, the partitions shared by
forked processes (PostgreSQL, committed data)."""

import os
from decimal import Decimal

import pytest

from reporting import dashboards, services
from reporting.models import FamilyClaim, KpiValue, ReportRun
from tests.reporting.test_runs import run_now, snapshot

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def pids(tmp_path, monkeypatch):
    """The process that computed each partition, written where the parent can read it."""
    real = services.report_run_partition

    def noted(*, run_id, partition):
        (tmp_path / partition["key"]).write_text(str(os.getpid()))
        return real(run_id=run_id, partition=partition)

    monkeypatch.setattr(services, "report_run_partition", noted)
    return lambda: {path.name: int(path.read_text()) for path in tmp_path.iterdir()}


def test_forked_processes_store_the_hand_worked_numbers_and_one_process_changes_nothing(
    eager, world, officer, settings, pids, django_capture_on_commit_callbacks
):
    settings.REPORT_RUN_PROCESSES = 2
    run = run_now(officer, django_capture_on_commit_callbacks)

    # each partition was computed in a process of its own, not this one
    assert run.status == ReportRun.Status.SUCCEEDED, run.error
    assert (run.progress_done, run.progress_total) == (4, 4)
    computed_in = pids()
    assert sorted(computed_in) == [
        "2026-27 RR1,ESC,C1,T1,T3,F1",
        "2026-27 RR2,RR3,RR5",
        "2026-27 RR4,T2,O1,O2,O3,O4",
        "pbr",
    ]
    assert os.getpid() not in computed_in.values()
    assert len(set(computed_in.values())) == 2
    # and stored what was worked out by hand, drill-down and claim included
    october = KpiValue.objects.get(
        measure="RR1", period_label="2026-10", breakdown="all", category="rate"
    )
    assert (october.numerator, october.denominator, october.value) == (1, 2, Decimal("50.0"))
    in_denominator = dashboards.members_of(october).values_list("record_id", flat=True)
    assert set(in_denominator) == {world["episodes"]["a"].pk, world["episodes"]["b"].pk}
    assert FamilyClaim.objects.get().status == FamilyClaim.Status.CLAIMABLE
    before = snapshot()

    # when the same run is computed in this process alone
    settings.REPORT_RUN_PROCESSES = 1
    again = run_now(officer, django_capture_on_commit_callbacks)

    # then nothing changes: the forks wrote exactly what one process writes
    assert again.status == ReportRun.Status.SUCCEEDED
    assert pids()["pbr"] == os.getpid()
    assert snapshot() == before


def test_a_process_killed_mid_run_fails_the_run_and_a_rerun_succeeds(
    eager, world, officer, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.REPORT_RUN_PROCESSES = 2
    real = services.report_run_partition

    def killed(*, run_id, partition):
        if partition["kind"] == "pbr":
            os._exit(9)  # as the kernel's out-of-memory killer would leave it
        return real(run_id=run_id, partition=partition)

    monkeypatch.setattr(services, "report_run_partition", killed)
    failed = run_now(officer, django_capture_on_commit_callbacks)

    assert failed.status == ReportRun.Status.FAILED
    assert failed.error == "A process computing partitions stopped. Rerun it."
    assert failed.finished_at is not None
    assert not FamilyClaim.objects.exists()

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        rerun = services.report_run_rerun(actor=officer, run=failed)
    rerun.refresh_from_db()
    assert rerun.status == ReportRun.Status.SUCCEEDED, rerun.error
    assert FamilyClaim.objects.get().status == FamilyClaim.Status.CLAIMABLE
