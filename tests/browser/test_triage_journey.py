"""The front door in a browser: a school's request arrives through the partner API, a
practitioner checks its people against existing records and opens early help at level 3; a
manager allocates work nobody leads; a practitioner finds a family and adds a person without
creating a duplicate."""

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from cases import services
from cases.models import Episode, Person, Referral
from tests.browser.conftest import LAPTOP, checked, sign_in
from tests.personas import PASSWORD
from tests.web.frontdoor_data import NEW_PARENT, partner_request

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

D = dt.date
NOAH_AS_SENT = {
    "forename": "Noah",
    "surname": "Sample",
    "date_of_birth": "2018-10-09",
    "sex": "M",
    "school": "Example Primary School",
}


NOAH_BORN = D(2018, 10, 9)


def known_family(actor, *, forename="Noah", surname="Sample", born=NOAH_BORN):
    """A family already recorded (by ``actor``), with no early help open."""
    family = services.family_create(actor=actor, postcode="LS7 3QQ")
    services.person_create(
        actor=actor, family=family, forename=forename, surname=surname, date_of_birth=born
    )
    return family


def test_a_partner_request_is_triaged_into_early_help_at_level_3(
    page, personas, family, school, team
):
    colleague = personas["colleague"]
    noahs = known_family(personas["allocated"])
    # given a school's system sends a request for Noah (already recorded) and a new parent
    referral = partner_request(school, children=[NOAH_AS_SENT], adults=[NEW_PARENT],
                               postcode="LS7 3QQ", partner_reference="SCH-0099")  # fmt: skip

    # when a practitioner opens the inbox
    sign_in(page, colleague.username, PASSWORD)
    page.get_by_role("link", name="Requests for support").click()
    expect(page.get_by_role("heading", level=1, name="Requests for support")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=referral.reference)
    expect(row).to_contain_text("Example Primary")
    expect(row).to_contain_text("Their reference: SCH-0099")
    expect(row).to_contain_text("Awaiting triage")
    checked(page, "requests for support inbox")

    # and checks the people in the request against existing records
    row.get_by_role("link", name=referral.reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(referral.reference)
    noah_card = page.locator(".govuk-summary-card").filter(has_text="Noah Sample (child)")
    expect(noah_card).to_contain_text("100% likely")
    expect(noah_card).to_contain_text("date of birth identical")
    expect(noah_card).to_contain_text(f"Family {noahs.reference}")
    checked(page, "request with match candidates")
    noah_card.get_by_role("button", name=re.compile("^Same person")).click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Noah Sample is recorded as the existing person Noah Sample"
    )
    page.locator(".govuk-summary-card").filter(has_text="Nia Newcomer (parent)").get_by_role(
        "button", name=re.compile("^Record as a new person")
    ).click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Nia Newcomer is recorded as a new person"
    )
    checked(page, "request with people checked")

    # and decides: early help at level 3, led by themselves
    page.get_by_role("link", name="Make the triage decision").click()
    expect(page.get_by_role("heading", level=1, name="Triage decision")).to_be_visible()
    page.get_by_role("button", name="Record the decision").click()  # nothing chosen yet
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select the triage decision")
    checked(page, "triage decision error")
    page.get_by_label("Open to early help").check()
    page.get_by_label(re.compile("Intensive")).check()
    page.get_by_label("Service", exact=True).select_option(label="Family support")
    page.get_by_label("Team that will hold the work").select_option(team.code)
    page.get_by_label("Lead practitioner").select_option(str(colleague.uuid))
    expect(page.get_by_label("Noah Sample, born 9 Oct 2018")).to_be_checked()
    page.get_by_label("Triage notes").fill("School attendance and routines; family agrees.")
    checked(page, "triage decision")
    page.get_by_role("button", name="Record the decision").click()

    # then the request is decided and the episode is on the family record and the caseload
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"Request {referral.reference} triaged: open to early help"
    )
    checked(page, "request decided")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DECIDED
    episode = Episode.objects.get(referral=referral)
    assert (episode.level.code, episode.team, episode.lead_practitioner) == ("L3", team, colleague)
    assert Person.objects.filter(forename="Noah").count() == 1

    page.get_by_role("link", name=noahs.reference).click()
    episodes = page.locator("#episodes + .app-table-wrapper")
    expect(episodes.get_by_role("row").filter(has_text="Noah Sample")).to_contain_text("Open")
    checked(page, "family record after triage")
    page.get_by_role("link", name="My caseload").click()
    expect(page.get_by_role("row").filter(has_text="Noah Sample")).to_contain_text(noahs.reference)
    checked(page, "caseload after triage")


def test_a_manager_allocates_work_nobody_leads(browser, live_server, personas, family, team, ref):
    manager, colleague = personas["manager"], personas["colleague"]
    waiting = known_family(manager, forename="Una", surname="Waiting", born=D(2017, 2, 2))
    services.episode_open(
        actor=manager,
        family=waiting,
        child=waiting.memberships.get().person,
        service=ref.service(),
        level=ref.level("L2"),
        started_on=D(2026, 9, 1),
        origin=Episode.Origin.FRONT_DOOR,
        team=team,
    )
    context = browser.new_context(base_url=live_server.url, viewport=LAPTOP)
    page: Page = context.new_page()

    sign_in(page, manager.username, PASSWORD)
    page.get_by_role("link", name="Team", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Team")).to_be_visible()
    allocated_row = page.get_by_role("row").filter(has_text=personas["allocated"].get_full_name())
    expect(allocated_row).to_contain_text("Under target")
    card = page.locator(".govuk-summary-card").filter(has_text="Una Waiting")
    expect(card).to_contain_text("Open since 1 Sep 2026")
    checked(page, "team view with unallocated work")

    card.get_by_label(re.compile("^Lead practitioner")).select_option(str(colleague.uuid))
    card.get_by_role("button", name=re.compile("^Allocate")).click()

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"Una Waiting allocated to {colleague.get_full_name()}"
    )
    expect(page.get_by_text("All open work has a lead practitioner")).to_be_visible()
    checked(page, "team view after allocating")
    assert Episode.objects.get(child__forename="Una").lead_practitioner == colleague
    context.close()


def test_find_a_family_then_add_someone_already_recorded(page, personas, family, team, ref):
    colleague = personas["colleague"]
    # Noah is recorded in a family the team works with
    noahs = known_family(personas["allocated"])
    services.episode_open(
        actor=personas["allocated"],
        family=noahs,
        child=noahs.memberships.get().person,
        service=ref.service(),
        level=ref.level("L2"),
        started_on=D(2026, 9, 1),
        origin=Episode.Origin.FRONT_DOOR,
        team=team,
    )

    sign_in(page, colleague.username, PASSWORD)
    page.get_by_role("link", name="Find a family").click()
    checked(page, "find a family")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a name, date of birth")
    checked(page, "find a family error")
    page.get_by_label("Surname").fill("exam")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 family found")).to_be_visible()
    checked(page, "find a family results")

    page.get_by_role("link", name=re.compile(f"^Add a person.*{family.reference}")).click()
    page.get_by_label("First name").fill("Noah")
    page.get_by_label("Surname").fill("Sample")
    page.get_by_role("group", name="Date of birth", exact=True).get_by_label("Day").fill("9")
    page.get_by_role("group", name="Date of birth", exact=True).get_by_label("Month").fill("10")
    page.get_by_role("group", name="Date of birth", exact=True).get_by_label("Year").fill("2081")
    page.get_by_label("Role in the family").select_option("sibling")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Date of birth must be today or in the past"
    )
    expect(page.get_by_label("First name")).to_have_value("Noah")
    checked(page, "add a person error")
    page.get_by_role("group", name="Date of birth", exact=True).get_by_label("Year").fill("2018")
    page.get_by_role("button", name="Continue").click()

    heading = page.get_by_role("heading", name="Check if this person is already recorded")
    expect(heading).to_be_visible()
    checked(page, "add a person likely matches")
    page.get_by_label("Noah Sample, born 9 October 2018").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"Noah Sample added to family {family.reference}"
    )
    assert Person.objects.filter(forename="Noah").count() == 1
    checked(page, "family record with the person added")
