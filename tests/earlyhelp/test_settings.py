"""Configuration comes from the environment: embedded default, or the production topology."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "earlyhelp.settings.production",
    "DJANGO_SECRET_KEY": "k3y-" + "x7Q9vL2mN8pR4tW6yZ1aB3cD5eF7gH9jK0lM2nP4qR6sT8uV",
    "DATABASE_URL": "postgres://earlyhelp:secret@db.internal:5432/earlyhelp",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "DJANGO_ALLOWED_HOSTS": "earlyhelp.example.org",
}
SETTINGS_PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)"
)


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run Python in the project with only ``env`` as its configuration."""
    ours = ("DJANGO_", "DATABASE_", "CELERY_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checklist():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run("manage.py", "check", env=PRODUCTION | {"DJANGO_SECRET_KEY": ""})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_embedded_default_uses_sqlite_and_runs_tasks_in_process():
    result = run("-c", SETTINGS_PROBE, env={"DJANGO_SETTINGS_MODULE": "earlyhelp.settings.base"})
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"], result.stderr


def test_database_and_broker_urls_select_the_production_topology():
    result = run("-c", SETTINGS_PROBE, env=PRODUCTION)
    assert result.stdout.split() == ["django.db.backends.postgresql", "False"], result.stderr


CONNECTION_PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
)


def test_connections_are_kept_and_checked_unless_configured_otherwise():
    kept = run("-c", CONNECTION_PROBE, env=PRODUCTION)
    tuned = run(
        "-c",
        CONNECTION_PROBE,
        env=PRODUCTION | {"DATABASE_CONN_MAX_AGE": "0", "DATABASE_CONN_HEALTH_CHECKS": "false"},
    )

    assert kept.stdout.split() == ["60", "True"], kept.stderr
    assert tuned.stdout.split() == ["0", "False"], tuned.stderr
