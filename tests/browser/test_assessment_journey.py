"""A practitioner records a My Plan Plus assessment with three needs, a manager signs it off,
and the practitioner makes the plan and records a review with progress on each need."""

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import Page, expect

from assessments import services
from assessments.models import Assessment, NeedProgress, Plan
from tests.assessments import world
from tests.browser.conftest import checked, sign_in
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NEEDS = [
    ("Getting a good education", "Ava Example", "Misses school most Mondays"),
    ("Improved mental and physical health", "Ava Example", "Anxious at night, not sleeping"),
    ("Secure housing", "The whole family", "Rent arrears; a notice to quit is likely"),
]


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to early help")).to_be_visible()


def fill_date(page: Page, group: str, day: dt.date) -> None:
    fieldset = page.get_by_role("group", name=group)
    fieldset.get_by_label("Day").fill(str(day.day))
    fieldset.get_by_label("Month").fill(str(day.month))
    fieldset.get_by_label("Year").fill(str(day.year))


def add_need(page: Page, outcome: str, about: str, description: str, count: int) -> None:
    form = page.locator("form.app-add-need")
    form.get_by_label("Headline outcome").select_option(label=outcome)
    form.get_by_role("group", name="Who is this need about?").get_by_label(about).check()
    form.get_by_role("group", name="Level of need at assessment").get_by_label(
        "Intensive / targeted"
    ).check()
    form.get_by_label("Describe the need").fill(description)
    form.get_by_role("button", name="Add the need").click()
    expect(page.locator(".govuk-summary-card")).to_have_count(count)
    expect(page.get_by_role("status")).to_contain_text(f"Need added: {outcome}")


def test_my_plan_plus_from_assessment_to_first_review(page, personas, family):
    allocated, manager = personas["allocated"], personas["manager"]
    today = timezone.localdate()

    # The practitioner starts a My Plan Plus from the family record.
    sign_in(page, allocated.username, PASSWORD)
    page.goto(f"/families/{family.reference}/")
    page.get_by_role("link", name="Start an assessment").click()
    expect(page.get_by_role("heading", name="Start an assessment")).to_be_visible()
    checked(page, "assessment start")
    expect(page.get_by_label("My Assessment + My Plan Plus")).to_be_checked()  # level 3
    page.get_by_role("button", name="Start the assessment").click()

    expect(
        page.get_by_role("heading", level=1, name="My Assessment + My Plan Plus")
    ).to_be_visible()
    checked(page, "assessment draft")

    # A need sent without its answers is explained in place, keeping what was chosen.
    form = page.locator("form.app-add-need")
    form.get_by_label("Headline outcome").select_option(label="Secure housing")
    form.get_by_role("button", name="Add the need").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Describe the need")
    expect(form.get_by_label("Headline outcome")).to_have_value(
        form.get_by_label("Headline outcome")
        .locator("option", has_text="Secure housing")
        .get_attribute("value")
    )
    checked(page, "assessment need error")

    # Three needs, added in place.
    for count, (outcome, about, description) in enumerate(NEEDS, start=1):
        add_need(page, outcome, about, description, count)
    expect(page.locator("#task-needs-status")).to_have_text("3 needs")
    checked(page, "assessment three needs")

    # The voices, then consent with the school named.
    page.get_by_role("link", name="The child's and the family's voice").first.click()
    checked(page, "assessment voice")
    page.get_by_label("The child's voice").fill("I want to stop worrying about school")
    page.get_by_label("The family's voice").fill("Mornings are hard; we want a routine")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Voices saved")).to_be_visible()

    page.get_by_role("link", name="Consent to share information").first.click()
    page.get_by_role("button", name="Save").click()  # empty: the errors say what to enter
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter who gave consent")
    assert page.title().startswith("Error:")
    checked(page, "assessment consent error")
    page.get_by_label("Who gave consent?").fill("Jo Example, mother")
    fill_date(page, "When was it given?", today)
    page.get_by_label("Example Primary (school or college)").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Consent saved")).to_be_visible()

    # Check and complete.
    page.get_by_role("button", name="Check and complete").or_(
        page.get_by_role("link", name="Check and complete").last
    ).first.click()
    expect(page.get_by_role("heading", name="Check and complete the assessment")).to_be_visible()
    checked(page, "assessment check and complete")
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_text("My Assessment + My Plan Plus completed")).to_be_visible()
    assessment = Assessment.objects.get(family=family)
    assert assessment.status == Assessment.Status.COMPLETED
    assessment_url = f"/families/{family.reference}/assessments/{assessment.uuid}/"
    sign_out(page)

    # The team manager signs it off.
    sign_in(page, manager.username, PASSWORD)
    page.goto(assessment_url)
    page.get_by_role("link", name="Sign off or return").click()
    expect(page.get_by_role("heading", name="Sign off the assessment")).to_be_visible()
    checked(page, "assessment sign off")
    page.get_by_label("Sign off the assessment").check()
    page.get_by_label("Comments").fill("A clear analysis of the three needs")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_text("My Assessment + My Plan Plus signed off")).to_be_visible()
    checked(page, "assessment signed off")
    sign_out(page)

    # The practitioner makes the plan, with an action for each need.
    sign_in(page, allocated.username, PASSWORD)
    page.goto(assessment_url)
    page.get_by_role("link", name="Create the plan").last.click()
    checked(page, "plan create")
    page.get_by_role("button", name="Create the plan").click()
    first_review = today + dt.timedelta(days=42)
    expect(
        page.get_by_text(f"First review due {date_format(first_review, 'j F Y')}")
    ).to_be_visible()

    owners = [allocated.get_full_name(), "Example Primary", allocated.get_full_name()]
    for (outcome, _, _), owner in zip(NEEDS, owners, strict=True):
        card = page.locator(".govuk-summary-card").filter(has_text=outcome).first
        card.get_by_role("link", name=f"Add an action for {outcome}").first.click()
        if outcome == NEEDS[0][0]:
            checked(page, "plan action add")
        expect(
            page.get_by_role("group", name="Which need is this action for?").get_by_label(
                outcome, exact=False
            )
        ).to_be_checked()
        page.get_by_label("What will be done?").fill(f"Agreed step for {outcome.lower()}")
        page.get_by_label("Who will do it?").select_option(label=owner)
        fill_date(page, "Done by", today + dt.timedelta(days=21))
        page.get_by_role("button", name="Save the action").click()
        expect(page.get_by_text(f"Action added for {outcome}")).to_be_visible()
    expect(page.locator(".app-actions-table tbody tr")).to_have_count(3)
    checked(page, "plan with actions")

    # One action is done already.
    page.locator(".app-actions-table").first.get_by_role("button", name="Mark as done").click()
    expect(page.get_by_text("Action done")).to_be_visible()

    # A Team Around the Family meeting reviews the plan, need by need.
    page.get_by_role("link", name="Record a review or TAF meeting").click()
    checked(page, "review record")
    page.get_by_role("group", name="Was it a Team Around the Family meeting?").get_by_label(
        "Yes"
    ).check()
    page.get_by_role("group", name="Was the family there?").get_by_label("Yes").check()
    page.get_by_label("Ava Example (family)").check()
    page.get_by_label("Anyone else who attended").fill("Sam Patel, school nurse")
    for (outcome, _, _), rating in zip(NEEDS, ["Improved", "No change", "Worse"], strict=True):
        page.get_by_role("group", name=outcome).get_by_label(rating).check()
    page.get_by_label("Notes").fill("Attendance is up; housing is getting worse")
    page.get_by_role("button", name="Record the review").click()

    next_review = today + dt.timedelta(days=42)
    expect(page.get_by_text(f"Next review due {date_format(next_review, 'j F Y')}")).to_be_visible()
    expect(page.locator("#next-review")).to_have_text(date_format(next_review, "j F Y"))
    review = page.locator(".govuk-summary-card").filter(has_text="Team Around the Family meeting")
    expect(review).to_contain_text("Sam Patel, school nurse")
    expect(review).to_contain_text("Worse")
    checked(page, "plan after review")

    plan = Plan.objects.get(assessment=assessment)
    assert plan.next_review_on == next_review
    assert sorted(NeedProgress.objects.values_list("rating", flat=True)) == [
        "improved",
        "no_change",
        "worse",
    ]


def test_a_save_that_lost_a_race_shows_what_changed(page, personas, family):
    allocated, colleague = personas["allocated"], personas["colleague"]
    assessment = world.draft(family, allocated)
    sign_in(page, allocated.username, PASSWORD)
    page.goto(f"/families/{family.reference}/assessments/{assessment.uuid}/voice/")
    page.get_by_label("The child's voice").fill("Ava says school feels too loud")

    # while the page is open, a colleague saves the same answer
    services.assessment_update(
        actor=colleague,
        assessment=assessment,
        version=assessment.version,
        child_voice="Ava told me she likes her new teacher",
    )
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".govuk-error-summary")).to_contain_text("Your changes have not been saved")
    table = page.get_by_role("table", name="What is different in the saved version")
    expect(table).to_contain_text("Ava says school feels too loud")
    expect(table).to_contain_text("Ava told me she likes her new teacher")
    expect(page.get_by_label("The child's voice")).to_have_value("Ava says school feels too loud")
    checked(page, "assessment edit conflict")

    page.get_by_role("button", name="Save").click()  # having seen it, keep what was typed
    expect(page.get_by_text("Voices saved")).to_be_visible()
    assessment.refresh_from_db()
    assert assessment.child_voice == "Ava says school feels too loud"
