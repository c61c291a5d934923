"""The issue's main journey in one go, in a real browser, every page axe-checked: a school's
request for support is triaged into early help, the lead practitioner records a My Plan Plus
with three needs that a manager signs off, plans actions, holds a review, and closes the
episode as needs met with the manager's sign-off."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assessments.models import Assessment, IdentifiedNeed
from cases.models import ClosureRequest, Episode, Referral
from tests.browser.conftest import checked, sign_in
from tests.browser.test_assessment_journey import add_need, fill_date, sign_out
from tests.personas import PASSWORD
from tests.web.frontdoor_data import partner_request

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CHILD = {"forename": "Mia", "surname": "Journey", "date_of_birth": "2017-05-14", "sex": "F"}
NEEDS = [
    ("Getting a good education", "Mia Journey", "Late most mornings; missed 12 sessions"),
    ("Improved mental and physical health", "Mia Journey", "Not sleeping; anxious at school"),
    ("Secure housing", "The whole family", "Overcrowded flat; on the housing register"),
]


def test_request_to_closure_signed_off(page, personas, school, team):
    lead, manager = personas["colleague"], personas["manager"]
    today = timezone.localdate()
    referral = partner_request(school, children=[CHILD], adults=[], postcode="LS8 2PL",
                               partner_reference="SCH-2026-17")  # fmt: skip

    # Triage: the request is new to us, so the child is recorded as a new person.
    sign_in(page, lead.username, PASSWORD)
    page.get_by_role("link", name="Requests for support").click()
    page.get_by_role("row").filter(has_text=referral.reference).get_by_role(
        "link", name=referral.reference
    ).click()
    checked(page, "whole journey: request")
    page.locator(".govuk-summary-card").filter(has_text="Mia Journey (child)").get_by_role(
        "button", name=re.compile("^Record as a new person")
    ).click()
    page.get_by_role("link", name="Make the triage decision").click()
    page.get_by_label("Open to early help").check()
    page.get_by_label(re.compile("Intensive")).check()
    page.get_by_label("Service", exact=True).select_option(label="Family support")
    page.get_by_label("Team that will hold the work").select_option(team.code)
    page.get_by_label("Lead practitioner").select_option(str(lead.uuid))
    checked(page, "whole journey: triage decision")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("triaged")
    episode = Episode.objects.get(referral=referral)
    family = episode.family
    assert episode.level.code == "L3" and episode.lead_practitioner == lead

    # Assessment: My Plan Plus with three needs, voices and consent, completed.
    page.goto(f"/families/{family.reference}/")
    checked(page, "whole journey: family record")
    page.get_by_role("link", name="Start an assessment").click()
    expect(page.get_by_label("My Assessment + My Plan Plus")).to_be_checked()
    page.get_by_role("button", name="Start the assessment").click()
    for count, (outcome, about, description) in enumerate(NEEDS, start=1):
        add_need(page, outcome, about, description, count)
    checked(page, "whole journey: assessment with three needs")
    page.get_by_role("link", name="The child's and the family's voice").first.click()
    page.get_by_label("The child's voice").fill("I want to get to school on time")
    page.get_by_label("The family's voice").fill("We need more room and a routine")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Consent to share information").first.click()
    page.get_by_label("Who gave consent?").fill("Parent")
    fill_date(page, "When was it given?", today)
    page.get_by_label("Example Primary (school or college)").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Check and complete").or_(
        page.get_by_role("link", name="Check and complete").last
    ).first.click()
    page.get_by_role("button", name="Complete").click()
    assessment = Assessment.objects.get(family=family)
    assessment_url = f"/families/{family.reference}/assessments/{assessment.uuid}/"
    sign_out(page)

    # The manager signs the assessment off.
    sign_in(page, manager.username, PASSWORD)
    page.goto(assessment_url)
    page.get_by_role("link", name="Sign off or return").click()
    page.get_by_label("Sign off the assessment").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_text("My Assessment + My Plan Plus signed off")).to_be_visible()
    sign_out(page)

    # Plan: an action per need, then a review.
    sign_in(page, lead.username, PASSWORD)
    page.goto(assessment_url)
    page.get_by_role("link", name="Create the plan").last.click()
    page.get_by_role("button", name="Create the plan").click()
    for outcome, _, _ in NEEDS:
        card = page.locator(".govuk-summary-card").filter(has_text=outcome).first
        card.get_by_role("link", name=f"Add an action for {outcome}").first.click()
        page.get_by_label("What will be done?").fill(f"Agreed step for {outcome.lower()}")
        page.get_by_label("Who will do it?").select_option(label=lead.get_full_name())
        fill_date(page, "Done by", today + dt.timedelta(days=14))
        page.get_by_role("button", name="Save the action").click()
        expect(page.get_by_text(f"Action added for {outcome}")).to_be_visible()
    checked(page, "whole journey: plan with actions")
    page.get_by_role("link", name="Record a review or TAF meeting").click()
    page.get_by_role("group", name="Was it a Team Around the Family meeting?").get_by_label(
        "No"
    ).check()
    page.get_by_role("group", name="Was the family there?").get_by_label("Yes").check()
    for outcome, _, _ in NEEDS:
        page.get_by_role("group", name=outcome).get_by_label("Improved").check()
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_text("Next review due")).to_be_visible()
    checked(page, "whole journey: plan after review")

    # Closure as needs met, each need met, sent for sign-off.
    page.goto(f"/families/{family.reference}/")
    page.get_by_role("link", name="Propose closing Mia Journey's episode").click()
    page.get_by_label("Needs met: outcomes achieved").check()
    for number, (outcome, _, _) in enumerate(NEEDS, start=1):
        group = page.get_by_role("group", name=f"Need {number}: {outcome}")
        group.get_by_label("Met", exact=True).check()
        group.get_by_label("Level of need at closure").select_option(label="Universal")
    checked(page, "whole journey: closure proposal")
    page.get_by_role("button", name="Send for sign-off").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Closure proposed for Mia Journey"
    )
    sign_out(page)

    # The manager signs the closure off from the decisions queue.
    sign_in(page, manager.username, PASSWORD)
    page.get_by_role("link", name="Decisions", exact=True).click()
    page.get_by_role("link", name="Mia Journey (review the closure)").click()
    checked(page, "whole journey: closure sign-off")
    page.get_by_label("Sign off the closure").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Closure signed off. The episode for Mia Journey is closed."
    )
    checked(page, "whole journey: family record closed")

    episode.refresh_from_db()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DECIDED
    assert episode.end_reason.code == "NEEDS_MET"
    assert ClosureRequest.objects.get(episode=episode).decided_by == manager
    assert set(
        IdentifiedNeed.objects.filter(assessment=assessment).values_list("outcome", flat=True)
    ) == {"met"}
