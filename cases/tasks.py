"""Celery tasks of the cases app: thin wrappers that call one service each."""

from celery import shared_task

from . import services


@shared_task(name="cases.partner_follow_up", ignore_result=True, acks_late=True)
def partner_follow_up(submission_id: int) -> bool:
    """Match a partner submission's people and notify triage (idempotent: reruns skip)."""
    return services.partner_follow_up_run(submission_id=submission_id)


@shared_task(name="cases.partner_follow_up_sweep", ignore_result=True)
def partner_follow_up_sweep() -> int:
    """Beat, every minute: hand over follow-ups the broker never received."""
    return services.partner_follow_ups_requeue()


@shared_task(name="cases.idempotency_records_purge", ignore_result=True)
def idempotency_records_purge() -> int:
    """Beat, daily: forget Idempotency-Keys past their retention."""
    return services.idempotency_records_purge()
