"""A performance officer reads the KPI dashboard, a measure's series and the records behind a
number, then the cohort and payment-by-results pages."""

import pytest
from django.db import transaction
from playwright.sync_api import expect

from reporting import services
from tests.browser.conftest import checked, sign_in
from tests.personas import PASSWORD
from tests.reporting.conftest import eager, world  # noqa: F401  (fixtures)
from tests.reporting.worlds import CUTOFF, MONTHS

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def computed(eager, world, personas):  # noqa: F811
    with transaction.atomic():  # the run is handed to (eager) Celery on commit
        services.report_run_request(
            actor=personas["performance"], data_cutoff=CUTOFF, months=MONTHS
        )
    return world


def test_dashboard_measure_and_drill_down(page, personas, computed):
    sign_in(page, personas["performance"].username, PASSWORD)
    page.goto("/reports/")
    expect(page.get_by_role("heading", level=1, name="Reports")).to_be_visible()
    checked(page, "reports dashboard")

    page.get_by_role("link", name="RR1: CSC referral within 6 weeks of closure").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("RR1")
    expect(page.locator("canvas#series-chart")).to_be_visible()
    checked(page, "measure RR1")

    page.get_by_role("link", name="1 counted in October 2026, list them").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Counted (numerator): 1")
    reference = computed["families"]["a"].reference
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    checked(page, "drill-down RR1 numerator")

    page.goto("/reports/measures/RR2/")
    expect(page.get_by_role("table")).to_contain_text("Cohort")
    checked(page, "cohort RR2")

    page.goto("/reports/payment-by-results/")
    expect(page.get_by_role("link", name=computed["families"]["c"].reference)).to_be_visible()
    checked(page, "payment by results")
