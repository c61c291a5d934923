"""Celery tasks of the cases app: thin wrappers that call one service each."""

from celery import shared_task

from . import services


@shared_task(name="cases.partner_follow_ups", ignore_result=True, acks_late=True)
def partner_follow_ups(submission_ids: list[int]) -> int:
    """Match partner submissions' people and notify triage (idempotent: reruns skip)."""
    return services.partner_follow_ups_run(submission_ids=submission_ids)


@shared_task(name="cases.partner_follow_up", ignore_result=True, acks_late=True)
def partner_follow_up(submission_id: int) -> bool:
    """One submission's follow-up: what messages sent before the relay batched them ask."""
    return services.partner_follow_up_run(submission_id=submission_id)


@shared_task(name="cases.partner_follow_up_relay", ignore_result=True)
def partner_follow_up_relay() -> int:
    """Beat, every few seconds: hand pending follow-ups to the broker, in batches."""
    return services.partner_follow_ups_relay()


@shared_task(name="cases.idempotency_keys_purge", ignore_result=True)
def idempotency_keys_purge() -> int:
    """Beat, daily: forget Idempotency-Keys past their retention."""
    return services.idempotency_keys_purge()
