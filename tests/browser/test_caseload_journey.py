"""A practitioner signs in, finds a child on their caseload and opens the family record."""

import pytest
from playwright.sync_api import expect

from cases.models import AccessLog
from tests.browser.conftest import checked, sign_in
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_sign_in_shows_caseload_and_family_record(page, personas, family):
    allocated = personas["allocated"]

    sign_in(page, allocated.username, PASSWORD)

    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    checked(page, "my caseload")
    row = page.get_by_role("row").filter(has_text="Ava Example")
    expect(row).to_contain_text("No review date")
    row.get_by_role("link", name=family.reference).click()

    expect(page.get_by_role("heading", level=1, name=family.reference)).to_be_visible()
    expect(page.get_by_role("heading", name="Chronology")).to_be_visible()
    checked(page, "family record")
    assert AccessLog.objects.filter(user=allocated, family=family).count() == 1


def test_wrong_password_is_explained_in_an_error_summary(page, personas):
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(personas["allocated"].username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a correct username and password")
    expect(page.get_by_label("Username")).to_have_value(personas["allocated"].username)
    checked(page, "sign in error")
