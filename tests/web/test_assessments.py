"""The assessment and plan pages: what they show, forms that forgive (errors keep what was
typed) and protect (a stale save is refused and shows what changed), the access log and
query counts that do not grow with the data."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from assessments import services
from assessments.models import Assessment, IdentifiedNeed, NeedProgress, Plan, Review
from cases.models import AccessLog
from tests.assessments import world
from tests.web.test_access_matrix import ASSESSMENT_WRITE_MATRIX, MATRIX

D = dt.date
pytestmark = pytest.mark.django_db


def url(name, family, **kwargs):
    return reverse(f"assessments:{name}", kwargs={"reference": family.reference, **kwargs})


def date_fields(name, day: dt.date) -> dict[str, str]:
    return {f"{name}_0": str(day.day), f"{name}_1": str(day.month), f"{name}_2": str(day.year)}


@pytest.fixture
def allocated(personas):
    return personas["allocated"]


def test_every_page_that_changes_a_record_is_in_the_post_matrix():
    pages = {name for name in MATRIX if name.startswith("assessments:")}
    assert pages - set(ASSESSMENT_WRITE_MATRIX) == {"assessments:detail", "assessments:plan"}


# --- Starting and filling in an assessment -------------------------------------------------------


def test_family_record_links_to_start_and_to_each_assessment_and_plan(
    family, allocated, client_for
):
    plan, _ = world.plan_with_action(family, allocated)
    page = client_for("colleague").get(reverse("cases:family", args=[family.reference]))
    html = page.content.decode()
    assert url("start", family) in html
    assert url("detail", family, assessment=plan.assessment.uuid) in html
    assert url("plan", family, plan=plan.uuid) in html
    readonly = client_for("readonly").get(reverse("cases:family", args=[family.reference]))
    assert url("start", family) not in readonly.content.decode()


def test_start_suggests_the_kind_for_the_level_and_opens_the_draft(family, client_for):
    client = client_for("allocated")
    page = client.get(url("start", family)).content.decode()
    (chosen,) = re.findall(r'<input[^>]*name="kind"[^>]*checked[^>]*>', page)
    assert 'value="my_plan_plus"' in chosen  # level 3
    episode = world.episode_of(family)

    response = client.post(
        url("start", family),
        {
            "episode": episode.uuid,
            "kind": "my_plan_plus",
            **date_fields("started_on", D(2026, 9, 10)),
        },
    )

    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("detail", family, assessment=assessment.uuid)
    assert (assessment.kind, assessment.episode) == ("my_plan_plus", episode)


def test_a_refusal_from_the_service_is_shown_on_its_field_keeping_what_was_typed(
    family, client_for
):
    episode = world.episode_of(family)
    response = client_for("allocated").post(
        url("start", family),
        {"episode": episode.uuid, "kind": "my_plan", **date_fields("started_on", D(2026, 9, 10))},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in html
    assert "is not for Intensive / targeted" in html
    assert '<a href="#id_kind' in html  # the summary links to the field
    assert 'name="started_on_2" value="2026"' in html
    assert html.split("<title>")[1].startswith("Error: Start an assessment")
    assert not Assessment.objects.exists()


def test_a_bad_date_is_explained(family, client_for):
    response = client_for("allocated").post(
        url("start", family),
        {
            "episode": world.episode_of(family).uuid,
            "kind": "my_plan_plus",
            "started_on_0": "31",
            "started_on_1": "2",
            "started_on_2": "2026",
        },
    )
    assert "The date the assessment started must be a real date" in response.content.decode()


def test_need_added_without_javascript_goes_back_to_the_assessment(
    family, allocated, ref, client_for
):
    assessment = world.draft(family, allocated, needs=())
    response = client_for("colleague").post(
        url("need_add", family, assessment=assessment.uuid),
        {
            "headline_outcome": ref.outcome("HOUSING").pk,
            "person": "",
            "level_at_assessment": ref.level("L3").pk,
            "description": "Rent arrears",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#needs")
    need = IdentifiedNeed.objects.get()
    assert need.person is None and need.description == "Rent arrears"


def test_need_added_with_htmx_returns_the_page_to_swap_in(family, allocated, ref, client_for):
    assessment = world.draft(family, allocated, needs=())
    child = world.episode_of(family).child
    response = client_for("allocated").post(
        url("need_add", family, assessment=assessment.uuid),
        {
            "headline_outcome": ref.outcome("HEALTH").pk,
            "person": str(child.uuid),
            "level_at_assessment": ref.level("L3").pk,
            "description": "Not sleeping",
        },
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="assessment-body"' in html
    assert "Need added: Improved mental and physical health (Ava Example)" in html
    assert IdentifiedNeed.objects.get().person == child


def test_need_with_errors_under_htmx_keeps_what_was_typed(family, allocated, ref, client_for):
    assessment = world.draft(family, allocated, needs=())
    response = client_for("allocated").post(
        url("need_add", family, assessment=assessment.uuid),
        {"headline_outcome": ref.outcome("HEALTH").pk, "description": "Typed text"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "Choose the level of need at assessment" in html
    assert "Typed text</textarea>" in html
    assert not IdentifiedNeed.objects.exists()


def test_need_remove_asks_then_removes(family, allocated, client_for):
    assessment = world.draft(family, allocated)
    need = assessment.needs.get()
    client = client_for("allocated")
    page = client.get(url("need_remove", family, assessment=assessment.uuid, need=need.uuid))
    assert "Remove this need?" in page.content.decode()

    response = client.post(
        url("need_remove", family, assessment=assessment.uuid, need=need.uuid),
        {"version": assessment.version},
    )

    assert response.status_code == 302
    assert not IdentifiedNeed.objects.exists()


def test_voice_and_consent_are_saved(family, allocated, school, client_for):
    assessment = world.draft(family, allocated, consent=False)
    client = client_for("allocated")
    client.post(
        url("voice", family, assessment=assessment.uuid),
        {"version": assessment.version, "child_voice": "I like art", "family_voice": ""},
    )
    assessment.refresh_from_db()
    response = client.post(
        url("consent", family, assessment=assessment.uuid),
        {
            "version": assessment.version,
            "consent_given_by": "Jo Example, mother",
            **date_fields("consent_given_on", D(2026, 9, 12)),
            "consent_share_with": [str(school.uuid)],
            "another_organisation": "",
            "consent_scope": "",
        },
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.child_voice == "I like art"
    assert assessment.consent_given_on == D(2026, 9, 12)
    assert list(assessment.consent_share_with.all()) == [school]


def test_a_completed_assessment_sends_edit_pages_back(family, allocated, client_for):
    assessment = world.completed(family, allocated)
    response = client_for("allocated").get(url("voice", family, assessment=assessment.uuid))
    assert response.status_code == 302
    assert response["Location"] == url("detail", family, assessment=assessment.uuid)


# --- Two people editing the same assessment or plan -------------------------------------------


def test_second_save_of_the_assessment_is_refused_and_shows_what_changed(
    family, allocated, personas, client_for
):
    # given two practitioners who opened the voice page at the same version
    assessment = world.draft(family, allocated)
    version = assessment.version
    first, second = client_for("allocated"), client_for("colleague")
    assert second.get(url("voice", family, assessment=assessment.uuid)).status_code == 200

    first.post(
        url("voice", family, assessment=assessment.uuid),
        {"version": version, "child_voice": "Saved first", "family_voice": "Same"},
    )
    # when the second saves on the version they loaded
    response = second.post(
        url("voice", family, assessment=assessment.uuid),
        {"version": version, "child_voice": "Typed second", "family_voice": "Same"},
    )

    # then nothing is overwritten, and the page shows both values, who saved, and keeps the text
    html = response.content.decode()
    assert response.status_code == 200
    assessment.refresh_from_db()
    assert assessment.child_voice == "Saved first"
    assert "Your changes have not been saved" in html
    assert allocated.get_full_name() in html
    assert "What is different in the saved version" in html
    table = html.split("app-conflict-table")[1].split("</table>")[0]
    assert "Typed second" in table and "Saved first" in table
    assert "The family" not in table  # unchanged answers are not listed
    assert "Typed second</textarea>" in html
    assert f'name="version" value="{assessment.version}"' in html

    # and saving again, having seen it, replaces the saved version deliberately
    again = second.post(
        url("voice", family, assessment=assessment.uuid),
        {"version": assessment.version, "child_voice": "Typed second", "family_voice": "Same"},
    )
    assert again.status_code == 302
    assessment.refresh_from_db()
    assert assessment.child_voice == "Typed second"


def test_second_save_of_a_need_is_refused(family, allocated, ref, client_for):
    assessment = world.draft(family, allocated)
    need = assessment.needs.get()
    page = url("need_edit", family, assessment=assessment.uuid, need=need.uuid)
    form = {
        "version": assessment.version,
        "headline_outcome": ref.outcome("EDUCATION").pk,
        "person": "",
        "level_at_assessment": ref.level("L3").pk,
    }
    client_for("allocated").post(page, {**form, "description": "First"})

    response = client_for("colleague").post(page, {**form, "description": "Second"})

    need.refresh_from_db()
    assert need.description == "First"
    table = response.content.decode().split("app-conflict-table")[1]
    assert "First" in table and "Second" in table


def test_second_save_of_the_plan_is_refused_and_shows_what_changed(
    family, allocated, school, client_for
):
    plan, action = world.plan_with_action(family, allocated)
    page = url("action_edit", family, plan=plan.uuid, action=action.uuid)
    loaded = plan.version
    client_for("allocated").post(
        page,
        {
            "version": loaded,
            "description": action.description,
            "owner": f"org:{school.uuid}",
            **date_fields("due_on", D(2026, 12, 1)),
        },
    )

    response = client_for("colleague").post(
        page,
        {
            "version": loaded,
            "description": "Colleague's wording",
            "owner": f"user:{allocated.uuid}",
            **date_fields("due_on", D(2026, 10, 8)),
        },
    )

    action.refresh_from_db()
    assert (action.owner_organisation, action.due_on) == (school, D(2026, 12, 1))
    assert action.description != "Colleague's wording"
    table = response.content.decode().split("app-conflict-table")[1].split("</table>")[0]
    assert "Example Primary" in table and "1 December 2026" in table
    assert "Colleague&#x27;s wording" in table and "8 October 2026" in table


# --- Complete, sign off, plan ------------------------------------------------------------------


def test_complete_then_sign_off_by_the_manager(family, allocated, client_for):
    assessment = world.draft(family, allocated)
    response = client_for("allocated").post(
        url("complete", family, assessment=assessment.uuid),
        {"version": assessment.version, **date_fields("completed_on", D(2026, 9, 20))},
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.COMPLETED

    manager = client_for("manager")
    detail = manager.get(url("detail", family, assessment=assessment.uuid)).content.decode()
    assert url("sign_off", family, assessment=assessment.uuid) in detail
    response = manager.post(
        url("sign_off", family, assessment=assessment.uuid),
        {"version": assessment.version, "decision": "sign_off", "notes": ""},
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.SIGNED_OFF


def test_complete_without_consent_is_explained(family, allocated, client_for):
    assessment = world.draft(family, allocated, consent=False)
    response = client_for("allocated").post(
        url("complete", family, assessment=assessment.uuid),
        {"version": assessment.version, **date_fields("completed_on", D(2026, 9, 20))},
    )
    assert "Record who gave consent, and when, before completing" in response.content.decode()


def test_manager_who_wrote_the_assessment_is_told_another_must_sign(family, personas, client_for):
    assessment = world.completed(family, personas["manager"])
    page = client_for("manager").get(url("sign_off", family, assessment=assessment.uuid))
    html = page.content.decode()
    assert page.status_code == 200
    assert "another manager of the team must sign it off" in html
    assert "Save decision" not in html


def test_return_needs_a_reason(family, allocated, client_for):
    assessment = world.completed(family, allocated)
    response = client_for("manager").post(
        url("sign_off", family, assessment=assessment.uuid),
        {"version": assessment.version, "decision": "return", "notes": ""},
    )
    assert "Say what needs to change" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.COMPLETED


def test_plan_create_defaults_the_first_review_to_six_weeks(family, allocated, client_for):
    assessment = world.completed(family, allocated)
    response = client_for("allocated").post(
        url("plan_create", family, assessment=assessment.uuid),
        date_fields("started_on", D(2026, 9, 21)),
    )
    plan = Plan.objects.get()
    assert response["Location"] == url("plan", family, plan=plan.uuid)
    assert plan.next_review_on == D(2026, 11, 2)


def test_mark_as_done_from_the_plan_page_means_today(family, allocated, client_for):
    plan, action = world.plan_with_action(family, allocated)
    response = client_for("colleague").post(
        url("action_complete", family, plan=plan.uuid, action=action.uuid)
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.completed_on == timezone.localdate()


def test_overdue_actions_and_reviews_are_shown_in_red(family, allocated, client_for):
    plan, action = world.plan_with_action(family, allocated)  # due 8 Oct 2026, review 22 Oct
    assert plan.next_review_on is not None
    html = client_for("allocated").get(url("plan", family, plan=plan.uuid)).content.decode()
    assert f'<span class="app-overdue">{date_format(action.due_on, "j M Y")}</span>' in html
    assert f'<span class="app-overdue">{date_format(plan.next_review_on, "j F Y")}</span>' in html
    assert html.count("govuk-tag--red") == 2


def test_review_recorded_with_progress_per_need(family, allocated, client_for):
    plan, _ = world.plan_with_action(family, allocated, needs=("EDUCATION", "HOUSING"))
    needs = list(plan.assessment.needs.order_by("pk"))
    response = client_for("allocated").post(
        url("review_record", family, plan=plan.uuid),
        {
            **date_fields("held_on", D(2026, 10, 20)),
            "is_taf_meeting": "no",
            "family_present": "yes",
            "attendees": [f"person:{world.episode_of(family).child.uuid}"],
            "other_attendees": "Sam Patel, school nurse\n\n",
            f"rating_{needs[0].uuid}": "improved",
            f"rating_{needs[1].uuid}": "worse",
            "notes": "",
        },
    )
    assert response.status_code == 302
    review = Review.objects.get()
    assert review.next_review_on == D(2026, 12, 1)
    assert review.attendees.count() == 2
    assert dict(NeedProgress.objects.values_list("need_id", "rating")) == {
        needs[0].pk: "improved",
        needs[1].pk: "worse",
    }


def test_review_missing_a_rating_names_the_need(family, allocated, client_for):
    plan, _ = world.plan_with_action(family, allocated, needs=("EDUCATION", "HOUSING"))
    response = client_for("allocated").post(
        url("review_record", family, plan=plan.uuid),
        {**date_fields("held_on", D(2026, 10, 20)), "is_taf_meeting": "no"},
    )
    html = response.content.decode()
    assert "Choose the progress of ‘Secure housing (the whole family)’" in html
    assert "Say whether the family was there" in html
    assert not Review.objects.exists()


# --- Access log and query counts ----------------------------------------------------------------


def test_assessment_and_plan_pages_are_logged(family, allocated, client_for):
    plan, _ = world.plan_with_action(family, allocated)
    client = client_for("partner")
    client.get(url("detail", family, assessment=plan.assessment.uuid))
    client.get(url("plan", family, plan=plan.uuid))
    what = set(AccessLog.objects.values_list("what", flat=True))
    assert what == {"assessments:detail", "assessments:plan"}


def test_an_assessment_of_another_family_is_not_found(family, allocated, client_for):
    plan, _ = world.plan_with_action(family, allocated)
    from cases import services as case_services

    other = case_services.family_create(actor=allocated)
    # a colleague who can see this family still cannot reach the assessment through another
    response = client_for("allocated").get(url("detail", other, assessment=plan.assessment.uuid))
    assert response.status_code == 404


def test_assessment_page_query_count_does_not_grow(
    family, allocated, ref, client_for, django_assert_max_num_queries
):
    assessment = world.draft(family, allocated, needs=("EDUCATION",))
    client = client_for("colleague")
    page = url("detail", family, assessment=assessment.uuid)
    with django_assert_max_num_queries(20) as small:
        client.get(page)
    for code in ("HEALTH", "HOUSING", "FINANCE", "CRIME", "RELATIONSHIPS", "EARLY_YEARS"):
        services.need_add(
            actor=allocated,
            assessment=assessment,
            headline_outcome=ref.outcome(code),
            level_at_assessment=ref.level("L2"),
            description="More",
            person=world.episode_of(family).child,
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(page)
    assert response.content.decode().count('class="govuk-summary-card__title"') == 7


def test_plan_page_query_count_does_not_grow(
    family, allocated, school, client_for, django_assert_max_num_queries
):
    plan, action = world.plan_with_action(family, allocated)
    need = action.need

    def review(held_on):
        services.review_record(
            actor=allocated,
            plan=plan,
            held_on=held_on,
            progress=[NeedProgress(need=need, rating="improved")],
            is_taf_meeting=True,
            attendees=[services.ReviewAttendee(organisation=school, role="DSL")],
        )

    review(D(2026, 9, 20))  # one of each row, so every prefetch runs in the small case too
    client = client_for("colleague")
    page = url("plan", family, plan=plan.uuid)
    with django_assert_max_num_queries(20) as small:
        client.get(page)
    for n in range(8):
        services.plan_action_add(
            actor=allocated,
            plan=plan,
            need=need,
            description=f"Action {n}",
            due_on=D(2026, 12, 1),
            owner_organisation=school if n % 2 else None,
            owner_user=None if n % 2 else allocated,
        )
    for held in (D(2026, 10, 1), D(2026, 10, 15), D(2026, 11, 1)):
        review(held)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(page)
    html = response.content.decode()
    assert html.count("Action ") >= 8
    assert html.count("Team Around the Family meeting,") == 4
