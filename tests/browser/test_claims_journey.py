"""A performance officer works Supporting Families claims: two claimable claims submitted in a
batch, one validated and paid, the other rejected with a reason; every refusal on the way is
shown in the error summary."""

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from reporting import services
from reporting.models import ClaimRuleSet, FamilyClaim
from reporting.selectors import reporting_data
from tests.browser.conftest import checked, sign_in
from tests.personas import PASSWORD
from tests.reporting.conftest import world  # noqa: F401  (fixture)
from tests.web.reporting_rows import family_claim

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def claims(world, personas):  # noqa: F811
    """Family c claimable by the nightly scan (a full evidence pack); family b by hand."""
    services.pbr_scan(data=reporting_data(), as_of=dt.date(2026, 10, 31))
    ClaimRuleSet.objects.filter(code="SF-2022-25").update(payment_amount=Decimal("1000.00"))
    return {
        "paid": FamilyClaim.objects.get(family=world["families"]["c"]),
        "rejected": family_claim(world["families"]["b"], "claimable"),
    }


def test_claims_submitted_in_a_batch_then_paid_or_rejected(page, personas, claims):
    paid, rejected = claims["paid"], claims["rejected"]
    sign_in(page, personas["performance"].username, PASSWORD)
    page.goto("/reports/payment-by-results/")
    expect(page.get_by_role("heading", name="Submit claimable claims")).to_be_visible()
    checked(page, "claims to submit")

    page.get_by_role("button", name="Submit claims").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select at least one claim to submit")
    expect(summary).to_contain_text("Enter a batch reference")
    checked(page, "claims batch refused")

    summary.get_by_role("link", name="Select at least one claim to submit").click()
    expect(page.get_by_role("checkbox").first).to_be_focused()  # the first box
    page.get_by_label(paid.family.reference).check()
    page.get_by_label(rejected.family.reference).check()
    page.get_by_label("Batch reference").fill("SF-2025-Q3")
    page.get_by_role("button", name="Submit claims").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Batch SF-2025-Q3 submitted with 2 claims."
    )
    checked(page, "claims batch submitted")

    page.get_by_role("link", name=paid.family.reference, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Claim for family {paid.family.reference}"
    )
    expect(page.get_by_role("table", name="Identified needs")).to_contain_text("Secure housing")
    checked(page, "claim submitted")

    page.get_by_role("button", name="Validate claim").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("validated")
    checked(page, "claim validated")

    page.get_by_label("Amount paid, in pounds").fill("")
    page.get_by_role("button", name="Mark as paid").click()
    page.locator(".govuk-error-summary").get_by_role("link", name="Enter the amount paid").click()
    expect(page.get_by_label("Amount paid, in pounds")).to_be_focused()
    checked(page, "claim payment refused")

    page.get_by_label("Amount paid, in pounds").fill("1000.00")
    page.get_by_role("button", name="Mark as paid").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "marked as paid: £1,000.00"
    )
    expect(page.get_by_role("button", name="Mark as paid")).to_have_count(0)
    checked(page, "claim paid")

    page.get_by_role("link", name="Back to payment by results").click()
    page.get_by_role("link", name=rejected.family.reference, exact=True).click()
    page.get_by_role("button", name="Reject claim").click()
    page.locator(".govuk-error-summary").get_by_role(
        "link", name="Enter why the claim is rejected"
    ).click()
    expect(page.get_by_label("Why is the claim rejected?")).to_be_focused()
    checked(page, "claim rejection refused")

    page.get_by_label("Why is the claim rejected?").fill("The sustain window was not evidenced")
    page.get_by_role("button", name="Reject claim").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("rejected")
    expect(page.locator(".govuk-summary-list").first).to_contain_text(
        "The sustain window was not evidenced"
    )
    checked(page, "claim rejected")

    for claim, status in ((paid, "paid"), (rejected, "rejected")):
        claim.refresh_from_db()
        assert (claim.status, claim.batch.reference) == (status, "SF-2025-Q3")
