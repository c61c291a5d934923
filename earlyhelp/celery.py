"""The Celery application. Configured from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "earlyhelp.settings.base")

app = Celery("earlyhelp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="earlyhelp.ping")
def ping() -> str:
    """A no-op task used to check that a worker is consuming the queue."""
    return "pong"
