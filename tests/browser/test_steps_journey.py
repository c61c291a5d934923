"""Step-up, step-down and closure, end to end: the practitioner asks, the team manager decides.

Also opening an episode and changing the Team Around the Family. Every page is checked with
axe-core and kept as screenshots at laptop size and 320 px wide.
"""

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from cases import services
from cases.models import ClosureRequest, CscInvolvement, Episode, Transition
from tests import factories
from tests.browser.conftest import checked, sign_in
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

D = dt.date


def open_family(page: Page, family) -> None:
    page.goto(f"/families/{family.reference}/")
    expect(page.get_by_role("heading", level=1, name=family.reference)).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to early help")).to_be_visible()


def go_to_decisions(page: Page) -> None:
    page.get_by_role("link", name="Decisions", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Decisions")).to_be_visible()


def test_step_up_requested_by_the_practitioner_and_accepted_by_the_manager(page, personas, family):
    """With a round of "more information" between request and decision."""
    # The practitioner asks for a step-up; a forgotten reason is explained, nothing is lost.
    sign_in(page, personas["allocated"].username, PASSWORD)
    open_family(page, family)
    page.get_by_role("link", name="Request a step-up to children's social care").click()
    checked(page, "step-up request")
    page.get_by_label("Ava Example").check()
    page.get_by_role("button", name="Send step-up request").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter why the child needs children's social care"
    )
    expect(page).to_have_title(
        "Error: Request a step-up to children's social care – Family "
        f"{family.reference} – Early help"
    )
    expect(page.get_by_label("Ava Example")).to_be_checked()
    checked(page, "step-up request error")
    page.get_by_label("Why does the child need children's social care now?").fill(
        "Disclosure at school today of violence at home; the plan cannot keep Ava safe."
    )
    page.get_by_role("button", name="Send step-up request").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Step-up requested for Ava Example"
    )
    expect(page.locator("#transitions ~ ul").first).to_contain_text("Awaiting decision")
    checked(page, "family record with step-up waiting")
    sign_out(page)

    # The team manager finds it in their decisions and asks for more information first.
    sign_in(page, personas["manager"].username, PASSWORD)
    go_to_decisions(page)
    checked(page, "decisions with a step-up")
    page.get_by_role("link", name="Ava Example (decide the step-up)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Decide the step-up for Ava Example")
    checked(page, "step-up decision")
    page.get_by_label("Ask for more information").check()
    page.get_by_label("Reason for the decision").fill(
        "Before panel: send the school's attendance this term and what the DSL saw."
    )
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Step-up for Ava Example: more information requested"
    )
    expect(page.locator(".app-question")).to_contain_text("what the DSL saw")
    checked(page, "family record with more information requested")
    sign_out(page)

    # The practitioner is asked on their caseload, and answers; an empty answer is explained.
    sign_in(page, personas["allocated"].username, PASSWORD)
    expect(page.get_by_role("heading", level=1, name="My caseload")).to_be_visible()
    banner = page.get_by_role("region", name="Important")
    expect(banner).to_contain_text("A manager has asked you for more information")
    checked(page, "caseload with a manager's question")
    answer_page = banner.get_by_role("link", name="Step-up for Ava Example").get_attribute("href")
    page.get_by_role("link", name=family.reference).click()
    expect(page.get_by_role("region", name="Important")).to_contain_text(
        "A manager has asked for more information about the step-up for Ava Example"
    )
    question = page.locator("#transitions ~ ul .app-question")
    expect(question).to_contain_text("what the DSL saw")
    checked(page, "family record with a manager's question")
    question.get_by_role("link", name="Answer the question").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "More information for the step-up for Ava Example"
    )
    assert page.url.endswith(answer_page)
    expect(page.locator(".govuk-inset-text")).to_contain_text("what the DSL saw")
    checked(page, "more information for a step-up")
    page.get_by_role("button", name="Send to the manager").click()
    checked(page, "more information for a step-up error")
    summary = page.locator(".govuk-error-summary")
    summary.get_by_role("link", name="Enter the information the manager asked for").click()
    expect(page.get_by_label("Your answer")).to_be_focused()
    page.get_by_label("Your answer").fill(
        "Attendance is 61% this term.\nThe DSL saw bruising on Monday and has made a record."
    )
    page.get_by_role("button", name="Send to the manager").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Information sent for the step-up for Ava Example"
    )
    expect(page.locator("#transitions ~ ul").first).to_contain_text("Information supplied")
    expect(page.get_by_role("region", name="Important")).to_have_count(0)
    checked(page, "family record with information supplied")
    sign_out(page)

    # The manager sees it came back, reads the exchange and accepts.
    sign_in(page, personas["manager"].username, PASSWORD)
    go_to_decisions(page)
    expect(page.get_by_role("row").filter(has_text="Ava Example")).to_contain_text(
        "Information supplied"
    )
    checked(page, "decisions with information supplied")
    page.get_by_role("link", name="Ava Example (decide the step-up)").click()
    exchange = page.locator("#exchange ~ .moj-timeline")
    expect(exchange.locator(".moj-timeline__item").nth(0)).to_contain_text("what the DSL saw")
    expect(exchange.locator(".moj-timeline__item").nth(1)).to_contain_text(
        "Attendance is 61% this term."
    )
    checked(page, "step-up decision with the exchange")
    page.get_by_label("Accept: refer to children's social care").check()
    page.get_by_label("Reason for the decision").fill(
        "Threshold for a section 47 enquiry is met; CSC front door informed."
    )
    page.get_by_role("button", name="Save decision").click()

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Step-up accepted. Ava Example is referred to children's social care."
    )
    checked(page, "family record after step-up accepted")
    transition = Transition.objects.get()
    assert (transition.decision, transition.decided_by) == ("accepted", personas["manager"])
    assert transition.opened_csc.source == CscInvolvement.Source.STEP_UP
    assert transition.from_episode.end_reason.category == "stepped_up"
    assert list(transition.notes.values_list("kind", "written_by")) == [
        ("question", personas["manager"].pk),
        ("answer", personas["allocated"].pk),
    ]


def test_step_down_accepted_into_early_help_opens_an_episode(page, personas, family, ref, team):
    # Ava was stepped up; children's social care now wants to step her down.
    episode = family.episodes.get()
    services.episode_close(
        actor=personas["allocated"],
        episode=episode,
        ended_on=episode.started_on,
        end_reason=ref.end_reason("STEP_UP"),
    )
    services.csc_involvement_record(
        actor=None, person=episode.child, kind="cin_plan", started_on=episode.started_on
    )

    sign_in(page, personas["allocated"].username, PASSWORD)
    open_family(page, family)
    page.get_by_role("link", name="Record a step-down request from children's social care").click()
    checked(page, "step-down request")
    page.get_by_label("Ava Example").check()
    expect(page.get_by_label("Which early help team is asked to take over?")).to_have_value(
        str(team.pk)
    )
    page.get_by_label("Why can early help meet the child's needs now?").fill(
        "CIN plan ended: home is safe; Ava still needs help with school attendance."
    )
    page.get_by_role("button", name="Send step-down request").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Step-down requested for Ava Example"
    )
    sign_out(page)

    sign_in(page, personas["manager"].username, PASSWORD)
    go_to_decisions(page)
    page.get_by_role("link", name="Ava Example (decide the step-down)").click()
    checked(page, "step-down decision")
    page.get_by_label("Accept: open early help").check()
    page.get_by_role("button", name="Save decision").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose the early help service that will take over")
    expect(summary).to_contain_text("Enter the reason for the decision")
    expect(page.get_by_label("Accept: open early help")).to_be_checked()
    checked(page, "step-down decision error")
    page.get_by_label("Early help service").select_option(label="Family support")
    page.get_by_label("Level of need", exact=True).select_option(
        label="Additional (single agency, My Plan)"
    )
    page.get_by_label("Lead practitioner (optional)").select_option(
        label=personas["allocated"].get_full_name()
    )
    page.get_by_label("Reason for the decision").fill("Panel agreed: level 2 support at school.")
    page.get_by_label("A panel made this decision and I am recording it").check()
    page.get_by_role("button", name="Save decision").click()

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Step-down accepted. Early help episode opened for Ava Example."
    )
    episodes = page.locator("#episodes + .app-table-wrapper")
    expect(episodes.get_by_role("row").filter(has_text="Open")).to_contain_text("Family support")
    checked(page, "family record after step-down accepted")
    opened = Transition.objects.get().opened_episode
    assert (opened.origin, opened.team, opened.lead_practitioner) == (
        Episode.Origin.STEP_DOWN,
        team,
        personas["allocated"],
    )
    assert Transition.objects.get().decided_by_panel


def test_closure_as_needs_met_is_proposed_then_signed_off(page, personas, family, ref):
    episode = family.episodes.get()
    assessment = factories.AssessmentFactory(family=family, episode=episode)
    needs = [
        factories.IdentifiedNeedFactory(
            assessment=assessment,
            headline_outcome=ref.outcome(code),
            level_at_assessment=ref.level("L3"),
            description=description,
        )
        for code, description in (
            ("EDUCATION", "Attendance below 80%"),
            ("HOUSING", "Rent arrears, notice served"),
            ("HEALTH", "Parent's low mood"),
        )
    ]

    sign_in(page, personas["allocated"].username, PASSWORD)
    open_family(page, family)
    page.get_by_role("link", name="Propose closing Ava Example's episode").click()
    checked(page, "closure proposal")
    page.get_by_label("Needs met: outcomes achieved").check()
    page.get_by_role("button", name="Send for sign-off").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Choose the outcome for need 1: Getting a good education (whole family)"
    )
    expect(page.get_by_label("Needs met: outcomes achieved")).to_be_checked()
    checked(page, "closure proposal error")
    for number, need in enumerate(needs, start=1):
        group = page.get_by_role("group", name=f"Need {number}: {need.headline_outcome.label}")
        group.get_by_label("Met", exact=True).check()
        group.get_by_label("Level of need at closure").select_option(label="Universal")
    page.get_by_label("Closure summary (optional)").fill(
        "Attendance 96% this term; tenancy secured; parent in counselling."
    )
    page.get_by_role("button", name="Send for sign-off").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Closure proposed for Ava Example"
    )
    expect(page.locator("#episodes ~ .govuk-inset-text").first).to_contain_text(
        "waiting for a manager's sign-off"
    )
    checked(page, "family record with closure waiting")
    sign_out(page)

    sign_in(page, personas["manager"].username, PASSWORD)
    go_to_decisions(page)
    checked(page, "decisions with a closure")
    page.get_by_role("link", name="Ava Example (review the closure)").click()
    expect(page.get_by_role("row").filter(has_text="Secure housing")).to_contain_text("Met")
    checked(page, "closure sign-off")
    page.get_by_label("Sign off the closure").check()
    page.get_by_role("button", name="Save decision").click()

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Closure signed off. The episode for Ava Example is closed."
    )
    row = page.locator("#episodes + .app-table-wrapper").get_by_role("row").nth(1)
    expect(row).to_contain_text("Needs met: outcomes achieved")
    checked(page, "family record after closure signed off")
    episode.refresh_from_db()
    assert episode.end_reason.code == "NEEDS_MET"
    assert ClosureRequest.objects.get().decided_by == personas["manager"]
    for need in needs:
        need.refresh_from_db()
        assert (need.outcome, need.level_at_closure.code) == ("met", "L1")


def test_open_an_episode_for_a_second_child(page, personas, family, team):
    services.person_create(
        actor=personas["allocated"],
        family=family,
        forename="Ben",
        surname="Example",
        date_of_birth=D(2019, 5, 6),
    )
    sign_in(page, personas["allocated"].username, PASSWORD)
    open_family(page, family)
    page.get_by_role("link", name="Open an episode").click()
    checked(page, "open an episode")
    page.get_by_label("Ben Example").check()
    page.get_by_label("Family support").check()
    page.get_by_label("Additional (single agency, My Plan)").check()
    expect(page.get_by_label("Team", exact=True)).to_have_value(str(team.pk))
    page.get_by_label("Partner request").check()
    page.get_by_label("Year").fill("2040")
    page.get_by_role("button", name="Open episode").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "The date the episode started must be today or in the past"
    )
    expect(page.get_by_label("Ben Example")).to_be_checked()
    checked(page, "open an episode error")
    page.get_by_label("Year").fill(str(dt.date.today().year))
    page.get_by_label("Month").fill(str(dt.date.today().month))
    page.get_by_label("Day").fill(str(dt.date.today().day))
    page.get_by_role("button", name="Open episode").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Episode opened for Ben Example with Family support"
    )
    assert Episode.objects.filter(child__forename="Ben", origin="partner").exists()


def test_team_around_the_family_add_and_remove(page, personas, family, school):
    nurse_service = factories.OrganisationFactory(
        code="RXX01", name="School nursing", kind="health"
    )
    nurse = factories.UserFactory.with_role(
        "partner_user", organisation=nurse_service, first_name="Sam", last_name="Nurse"
    )
    sign_in(page, personas["allocated"].username, PASSWORD)
    open_family(page, family)
    page.get_by_role("link", name="View or change the Team Around the Family").click()
    checked(page, "team around the family")
    page.get_by_label("Organisation").select_option(label="School nursing")
    # htmx narrows the professionals to that organisation
    expect(page.get_by_label("Professional (optional)").locator("option")).to_have_count(2)
    page.get_by_label("Professional (optional)").select_option(label="Sam Nurse")
    page.get_by_label("Their role (optional)").fill("School nurse")
    page.get_by_role("button", name="Add to the Team Around the Family").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter who gave consent")
    expect(page.get_by_label("Professional (optional)")).to_have_value(str(nurse.pk))
    checked(page, "team around the family error")
    page.get_by_label("Who gave consent").fill("Parent, Jo Example")
    page.get_by_role("button", name="Add to the Team Around the Family").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Sam Nurse added to the Team Around the Family"
    )
    from cases.selectors import families_visible_to

    assert families_visible_to(nurse).filter(pk=family.pk).exists()

    page.get_by_role("button", name="Remove Sam Nurse from the team").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Sam Nurse has left the Team Around the Family"
    )
    checked(page, "team around the family after removal")
    assert not families_visible_to(nurse).filter(pk=family.pk).exists()
