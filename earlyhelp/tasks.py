"""Operational tasks of the project itself."""

from celery import shared_task
from django.db import connection

from cases.models import Family


@shared_task(name="earlyhelp.health")
def health() -> dict[str, object]:
    """Report which database this worker sees and how many families it holds.

    Used by the integration test (and by operators) to prove a worker is consuming the queue
    and talking to the same database as the web app.
    """
    return {"database": connection.vendor, "families": Family.objects.count()}
