"""The page benchmark's machinery on a tiny generated council, so ``make bench-pages`` cannot rot.

The benchmark itself (100,000 families, gunicorn, PostgreSQL) is run by hand; here every step it
takes runs on a few dozen families: seed and reuse, sign-in, the page list, in-process query
counts, the load process over HTTP with Server-Timing, and the printed figures.
"""

import io
import random
import re

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer

from assessments.models import Plan
from cases import pagebench
from cases.models import Episode

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMING = "earlyhelp.timing.ServerTimingMiddleware"
TIMED = [TIMING, *settings.MIDDLEWARE]


@pytest.fixture
def seeded(tmp_path):
    return pagebench.seed(tmp_path / "ssd", families=40, seed=7)


def test_seeding_gives_practitioners_a_caseload_and_plans_a_review_date(seeded, tmp_path):
    assert seeded.families >= 40 and not seeded.reused
    led = Episode.objects.filter(ended_on__isnull=True, lead_practitioner__isnull=False)
    assert led.filter(lead_practitioner__username__regex=r"-W[0-9]+$").exists()
    assert seeded.open_plans == Plan.objects.count() > 0
    assert Plan.objects.filter(next_review_on__isnull=False).exists()

    again = pagebench.seed(tmp_path / "ssd", families=40, seed=7)

    assert again.reused and again.families == seeded.families
    assert Plan.objects.count() == seeded.open_plans


def test_the_benchmark_runs_end_to_end_and_prints_its_figures(seeded):
    people = pagebench.personas(practitioners=2, managers=1, seed=7)
    assert [p.kind for p in people] == ["practitioner", "practitioner", "manager"]
    assert all(p.families for p in people) and all(p.open_children for p in people[:2])
    nowhere = pagebench.Page(
        "Not built", "cases:no_such_page", pagebench.EVERYONE, lambda p, r: "/nowhere/"
    )
    pages, skipped = pagebench.available([*pagebench.PAGES, nowhere])
    assert {"My caseload", "Family record"} <= {page.name for page in pages}
    assert nowhere in skipped
    rng = random.Random(7)

    queries = pagebench.query_counts(pages, people, rng, samples=2)
    visits = pagebench.plan_visits(pages, people, 3, rng)
    with override_settings(MIDDLEWARE=TIMED):
        server = LiveServer("127.0.0.1")
        try:
            # One connection: the live server shares the in-memory SQLite test database.
            samples = pagebench.drive_in_another_process(server.url, visits, 1)
        finally:
            server.stop()

    assert len(samples) == 3 * len(pages)
    assert all(status == 200 and {"app", "db", "cpu"} <= set(t) for _, status, _, t in samples)
    assert all(low >= 1 for low, _ in queries.values())
    out = io.StringIO()
    rows = pagebench.summarise(pages, samples, queries)
    pagebench.report(rows, skipped, out)
    printed = out.getvalue()
    for page in pages:
        assert re.search(rf"^{re.escape(page.name)} +3 ", printed, re.M)
    assert "skipped: Not built (cases:no_such_page does not reverse on this branch)" in printed
    assert "Target p95 server time < 200 ms" in printed


def test_server_timing_header_only_when_the_setting_adds_the_middleware(practitioner):
    assert TIMING not in settings.MIDDLEWARE  # DJANGO_SERVER_TIMING is off unless a bench sets it
    with override_settings(MIDDLEWARE=TIMED):
        client = Client()
        client.force_login(practitioner)
        response = client.get(reverse("cases:caseload"))

    timing = pagebench.server_timing(response["Server-Timing"])
    assert set(timing) == {"app", "db", "cpu"} and timing["app"] >= timing["db"] >= 0
    assert re.search(r'db;dur=[0-9.]+;desc="[1-9][0-9]* queries"', response["Server-Timing"])


def test_server_timing_parses_what_the_middleware_writes():
    header = 'app;dur=12.5, db;dur=3.25;desc="7 queries", cpu;dur=8;desc="web process CPU"'
    assert pagebench.server_timing(header) == {"app": 12.5, "db": 3.25, "cpu": 8.0}
    assert pagebench.server_timing("") == {}
