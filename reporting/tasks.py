"""Celery tasks of reporting: thin wrappers over ``reporting.services``.

A run fans out as a chord: one task per partition (a group of measures over a reporting
year's months, or the PbR scan), so several workers share it, then one task that finishes
the run. Partition tasks record their own failure on the run and never raise, so the
finishing task always runs.
With no broker (tasks run in process) the run is computed here, its data loaded once.
"""

from celery import chord, current_app, shared_task

from reporting import services
from reporting.models import ReportRun


@shared_task(name="reporting.report_run_execute", ignore_result=True, acks_late=True)
def report_run_execute(run_id: int) -> None:
    """Begin a queued run and fan its partitions out to the workers."""
    parts = services.report_run_begin(run_id=run_id)
    if not parts:
        return
    if current_app.conf.task_always_eager:
        services.report_run_here(run_id=run_id, parts=parts)
        return
    header = [report_run_partition.s(run_id, part.to_dict()) for part in parts]
    chord(header)(report_run_finish.si(run_id))


@shared_task(name="reporting.report_run_partition", acks_late=True)
def report_run_partition(run_id: int, partition: dict) -> bool:
    """Compute and store one partition (idempotent: a redelivered one rewrites the same rows)."""
    return services.report_run_partition(run_id=run_id, partition=partition)


@shared_task(name="reporting.report_run_finish", ignore_result=True, acks_late=True)
def report_run_finish(run_id: int) -> None:
    services.report_run_finish(run_id=run_id)


@shared_task(name="reporting.nightly_recompute", ignore_result=True)
def nightly_recompute() -> int:
    """Beat, nightly: the full recompute of every measure and the PbR scan."""
    run = services.report_run_request(actor=None, trigger=ReportRun.Trigger.NIGHTLY)
    return run.pk


@shared_task(name="reporting.report_runs_abandon_stale", ignore_result=True)
def report_runs_abandon_stale() -> int:
    """Beat, every ten minutes: fail runs whose worker stopped, so they can be rerun."""
    return services.report_runs_abandon_stale()
