"""The rules of assessments, needs, plans, actions and reviews, and every refusal."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from time_machine import travel

from assessments import services
from assessments.models import (
    Assessment,
    IdentifiedNeed,
    NeedProgress,
    Plan,
    PlanAction,
    Review,
    ReviewAttendee,
)
from cases import services as case_services
from cases.models import CaseEvent, Episode
from tests import factories
from tests.assessments import world

D = dt.date
pytestmark = pytest.mark.django_db


def refused(call, field: str, contains: str = "") -> ValidationError:
    """Run ``call``; it must be refused with a message on ``field``."""
    with pytest.raises(ValidationError) as caught:
        call()
    assert field in caught.value.message_dict, caught.value.message_dict
    if contains:
        assert any(contains in m for m in caught.value.message_dict[field]), caught.value
    return caught.value


@pytest.fixture
def allocated(personas):
    return personas["allocated"]


@pytest.fixture
def manager(personas):
    return personas["manager"]


@pytest.fixture
def episode(family):
    return world.episode_of(family)


def start(family, allocated, episode, **overrides):
    arguments = {
        "actor": allocated,
        "family": family,
        "episode": episode,
        "kind": Assessment.Kind.MY_PLAN_PLUS,
        "started_on": D(2026, 9, 10),
        **overrides,
    }
    return services.assessment_start(**arguments)


def add_need(assessment, actor, ref, code="EDUCATION", **overrides):
    arguments = {
        "actor": actor,
        "assessment": assessment,
        "headline_outcome": ref.outcome(code),
        "level_at_assessment": ref.level("L3"),
        "description": "Misses school most Mondays",
        **overrides,
    }
    return services.need_add(**arguments)


# --- assessment_start --------------------------------------------------------------------------


def test_start_links_the_family_and_episode_and_writes_the_chronology(family, allocated, episode):
    assessment = start(family, allocated, episode)

    assert assessment.status == Assessment.Status.DRAFT
    assert (assessment.family, assessment.episode) == (family, episode)
    assert assessment.lead_practitioner == allocated
    assert assessment.created_by == allocated
    assert assessment.version == 1
    assert CaseEvent.objects.filter(family=family, kind="assessment_started").count() == 1


def test_start_kind_must_fit_the_level(family, allocated, episode, ref):
    # given an episode at level 3, a My Plan (level 2) does not fit
    refused(
        lambda: start(family, allocated, episode, kind=Assessment.Kind.MY_PLAN), "kind", "My Plan"
    )
    # and an Early Help Assessment fits any early help level
    assert start(family, allocated, episode, kind=Assessment.Kind.EHA).kind == "eha"


def test_start_my_plan_fits_level_two(family, allocated, episode, ref):
    Episode.objects.filter(pk=episode.pk).update(level=ref.level("L2"))
    refused(lambda: start(family, allocated, episode), "kind", "My Plan")
    assert start(family, allocated, episode, kind=Assessment.Kind.MY_PLAN).kind == "my_plan"


def test_kind_for_level_follows_the_rank(ref):
    assert services.kind_for_level(ref.level("L2")) == Assessment.Kind.MY_PLAN
    assert services.kind_for_level(ref.level("L3")) == Assessment.Kind.MY_PLAN_PLUS
    assert services.kind_for_level(ref.level("L1")) == Assessment.Kind.EHA


def test_start_refusals(family, allocated, episode, personas):
    refused(lambda: start(family, allocated, episode, kind="nonsense"), "kind")
    refused(lambda: start(family, allocated, episode, started_on=D(2030, 1, 1)), "started_on")
    refused(
        lambda: start(family, allocated, episode, started_on=D(2026, 8, 31)),
        "started_on",
        "episode started",
    )
    other_family = case_services.family_create(actor=allocated)
    refused(lambda: start(other_family, allocated, episode), "episode", "this family")


def test_start_refuses_a_second_draft_for_the_episode(family, allocated, episode):
    start(family, allocated, episode)
    refused(lambda: start(family, allocated, episode), "episode", "draft")


def test_start_refuses_a_closed_episode(family, allocated, episode, ref):
    case_services.episode_close(
        actor=allocated, episode=episode, ended_on=D(2026, 11, 1), end_reason=ref.end_reason()
    )
    refused(lambda: start(family, allocated, episode), "episode", "closed")


# --- assessment_update and optimistic locking --------------------------------------------------


def test_update_records_voices_and_consent_and_bumps_the_version(
    family, allocated, episode, school
):
    assessment = start(family, allocated, episode)

    services.assessment_update(
        actor=allocated,
        assessment=assessment,
        version=1,
        child_voice="  I like maths  ",
        family_voice="We want mornings to be calmer",
        consent_given_by="Jo Example, mother",
        consent_given_on=D(2026, 9, 10),
        consent_share_with={school},
        consent_scope="Health visitor too",
    )

    assessment.refresh_from_db()
    assert assessment.child_voice == "I like maths"
    assert assessment.consent_given_on == D(2026, 9, 10)
    assert list(assessment.consent_share_with.all()) == [school]
    assert assessment.version == 2
    assert assessment.updated_by == allocated
    event = CaseEvent.objects.get(kind="assessment_updated")
    assert "consent" in event.summary and "maths" not in event.summary  # no content in it


def test_update_leaves_fields_not_named(family, allocated, episode):
    assessment = start(family, allocated, episode)
    services.assessment_update(actor=allocated, assessment=assessment, version=1, child_voice="A")
    services.assessment_update(actor=allocated, assessment=assessment, version=2, family_voice="B")
    assessment.refresh_from_db()
    assert (assessment.child_voice, assessment.family_voice) == ("A", "B")


def test_update_refusals(family, allocated, episode):
    assessment = start(family, allocated, episode)
    update = services.assessment_update
    refused(
        lambda: update(
            actor=allocated, assessment=assessment, version=1, consent_given_by="Jo Example"
        ),
        "consent_given_on",
    )
    refused(
        lambda: update(
            actor=allocated, assessment=assessment, version=1, consent_given_on=D(2026, 9, 1)
        ),
        "consent_given_by",
    )
    refused(
        lambda: update(
            actor=allocated,
            assessment=assessment,
            version=1,
            consent_given_by="Jo",
            consent_given_on=D(2031, 1, 1),
        ),
        "consent_given_on",
        "past",
    )
    with pytest.raises(TypeError):
        update(actor=allocated, assessment=assessment, version=1, status="signed_off")


def test_a_stale_version_is_refused_and_nothing_is_overwritten(
    family, allocated, episode, personas
):
    # given two people who both opened the assessment at version 1
    assessment = start(family, allocated, episode)
    colleague = personas["colleague"]
    services.assessment_update(
        actor=colleague, assessment=assessment, version=1, child_voice="Colleague's words"
    )

    # when the second saves what they typed on version 1
    with pytest.raises(services.EditConflict) as caught:
        services.assessment_update(
            actor=allocated, assessment=assessment, version=1, child_voice="My words"
        )

    # then they are told who saved in between, and the first save stands
    assert "version" in caught.value.message_dict
    assert colleague.get_full_name() in caught.value.messages[0]
    assert caught.value.document.version == 2
    assessment.refresh_from_db()
    assert assessment.child_voice == "Colleague's words"
    assert assessment.version == 2


def test_every_change_to_the_assessment_moves_its_version(family, allocated, episode, ref):
    assessment = start(family, allocated, episode)
    need = add_need(assessment, allocated, ref)
    assessment.refresh_from_db()
    assert assessment.version == 2
    services.need_update(
        actor=allocated,
        need=need,
        version=2,
        headline_outcome=ref.outcome("HEALTH"),
        level_at_assessment=ref.level("L3"),
        description="Changed",
    )
    assessment.refresh_from_db()
    assert assessment.version == 3
    # a need edited on the old version is refused
    refused(
        lambda: services.need_update(
            actor=allocated,
            need=need,
            version=2,
            headline_outcome=ref.outcome("EDUCATION"),
            level_at_assessment=ref.level("L3"),
            description="Stale",
        ),
        "version",
    )
    need.refresh_from_db()
    assert need.description == "Changed"


# --- Needs ---------------------------------------------------------------------------------------


def test_need_for_a_person_or_the_whole_family(family, allocated, episode, ref):
    assessment = start(family, allocated, episode)
    child = episode.child

    for_child = add_need(assessment, allocated, ref, person=child)
    for_family = add_need(assessment, allocated, ref, code="HOUSING")

    assert for_child.person == child
    assert for_family.person is None
    assert for_child.level_at_assessment == ref.level("L3")
    assert CaseEvent.objects.filter(kind="need_added").count() == 2


def test_need_refusals(family, allocated, episode, ref):
    assessment = start(family, allocated, episode)
    stranger = factories.PersonFactory()
    refused(lambda: add_need(assessment, allocated, ref, person=stranger), "person")
    refused(lambda: add_need(assessment, allocated, ref, headline_outcome=None), "headline_outcome")
    refused(
        lambda: add_need(assessment, allocated, ref, level_at_assessment=None),
        "level_at_assessment",
    )
    refused(lambda: add_need(assessment, allocated, ref, description="  "), "description")
    inactive = ref.outcome("CRIME")
    inactive.is_active = False
    inactive.save()
    refused(lambda: add_need(assessment, allocated, ref, code="CRIME"), "headline_outcome")
    assert not assessment.needs.exists()


def test_need_remove(family, allocated, episode, ref):
    assessment = start(family, allocated, episode)
    need = add_need(assessment, allocated, ref)
    refused(lambda: services.need_remove(actor=allocated, need=need, version=1), "version")

    services.need_remove(actor=allocated, need=need, version=2)

    assert not IdentifiedNeed.objects.filter(pk=need.pk).exists()
    assert CaseEvent.objects.filter(kind="need_removed").exists()


def test_needs_cannot_change_once_completed(family, allocated, episode, ref):
    assessment = world.completed(family, allocated)
    need = assessment.needs.get()
    refused(lambda: add_need(assessment, allocated, ref), "status", "completed")
    refused(
        lambda: services.need_remove(actor=allocated, need=need, version=assessment.version),
        "status",
    )
    refused(
        lambda: services.assessment_update(
            actor=allocated, assessment=assessment, version=assessment.version, child_voice="x"
        ),
        "status",
    )


def test_a_need_with_plan_actions_cannot_be_removed(family, allocated, manager):
    plan, action = world.plan_with_action(family, allocated)
    assessment = plan.assessment
    services.assessment_return(
        actor=manager, assessment=assessment, reason="Add the health need", version=None
    )
    assessment.refresh_from_db()
    refused(
        lambda: services.need_remove(actor=allocated, need=action.need, version=assessment.version),
        "need",
        "plan actions",
    )


# --- Completion and sign-off ------------------------------------------------------------------


def test_complete_needs_a_need_and_consent(family, allocated, episode, ref):
    assessment = start(family, allocated, episode)
    refused(lambda: services.assessment_complete(actor=allocated, assessment=assessment), "needs")
    add_need(assessment, allocated, ref)
    refused(lambda: services.assessment_complete(actor=allocated, assessment=assessment), "consent")
    assessment.refresh_from_db()
    services.assessment_update(
        actor=allocated,
        assessment=assessment,
        version=assessment.version,
        consent_given_by="Jo Example, mother",
        consent_given_on=D(2026, 9, 10),
    )

    done = services.assessment_complete(
        actor=allocated, assessment=assessment, completed_on=D(2026, 9, 20)
    )

    assert done.status == Assessment.Status.COMPLETED
    assert (done.completed_on, done.completed_by) == (D(2026, 9, 20), allocated)
    assert CaseEvent.objects.filter(kind="assessment_completed").exists()


def test_complete_refusals(family, allocated):
    assessment = world.draft(family, allocated)
    complete = services.assessment_complete
    refused(
        lambda: complete(actor=allocated, assessment=assessment, completed_on=D(2026, 9, 1)),
        "completed_on",
    )
    refused(
        lambda: complete(actor=allocated, assessment=assessment, completed_on=D(2031, 1, 1)),
        "completed_on",
    )
    refused(
        lambda: complete(actor=allocated, assessment=assessment, version=assessment.version - 1),
        "version",
    )
    complete(actor=allocated, assessment=assessment)
    refused(lambda: complete(actor=allocated, assessment=assessment), "status", "already")


def test_a_manager_of_the_team_signs_off(family, allocated, manager):
    assessment = world.completed(family, allocated)

    signed = services.assessment_sign_off(
        actor=manager, assessment=assessment, notes="Good analysis", version=assessment.version
    )

    assert signed.status == Assessment.Status.SIGNED_OFF
    assert (signed.signed_off_by, signed.signed_off_on) == (manager, dt.date.today())
    assert signed.sign_off_notes == "Good analysis"
    assert CaseEvent.objects.filter(kind="assessment_signed_off").exists()
    refused(lambda: services.assessment_sign_off(actor=manager, assessment=signed), "status")


@pytest.mark.parametrize("persona", ["allocated", "colleague", "readonly", "outsider", "partner"])
def test_only_a_manager_of_the_episodes_team_signs_off(family, personas, persona):
    assessment = world.completed(family, personas["allocated"])
    refused(
        lambda: services.assessment_sign_off(actor=personas[persona], assessment=assessment),
        "status",
        "manager",
    )


def test_a_manager_of_another_team_cannot_sign_off(family, allocated, other_team):
    assessment = world.completed(family, allocated)
    elsewhere = factories.UserFactory.with_role("team_manager", team=other_team)
    refused(lambda: services.assessment_sign_off(actor=elsewhere, assessment=assessment), "status")


def test_the_author_cannot_sign_off_their_own_assessment(family, manager):
    # a manager who wrote the assessment needs another manager: four eyes
    assessment = world.completed(family, manager)
    refused(
        lambda: services.assessment_sign_off(actor=manager, assessment=assessment),
        "status",
        "another manager",
    )


def test_sign_off_refusals(family, allocated, manager):
    draft = world.draft(family, allocated)
    refused(lambda: services.assessment_sign_off(actor=manager, assessment=draft), "status")
    completed = services.assessment_complete(
        actor=allocated, assessment=draft, completed_on=D(2026, 9, 20)
    )
    refused(
        lambda: services.assessment_sign_off(
            actor=manager, assessment=completed, signed_off_on=D(2026, 9, 19)
        ),
        "signed_off_on",
    )
    refused(
        lambda: services.assessment_sign_off(
            actor=manager, assessment=completed, version=completed.version - 1
        ),
        "version",
    )


def test_a_manager_returns_an_assessment_for_changes(family, allocated, manager, ref):
    assessment = world.completed(family, allocated)
    refused(
        lambda: services.assessment_return(actor=manager, assessment=assessment, reason=" "),
        "notes",
    )
    refused(
        lambda: services.assessment_return(actor=allocated, assessment=assessment, reason="x"),
        "status",
    )

    returned = services.assessment_return(
        actor=manager, assessment=assessment, reason="Add the housing need"
    )

    assert returned.status == Assessment.Status.DRAFT
    assert returned.completed_on is None
    assert returned.sign_off_notes == "Add the housing need"
    add_need(returned, allocated, ref, code="HOUSING")  # a draft again


# --- Plans and actions ------------------------------------------------------------------------


def test_plan_first_review_defaults_to_six_weeks(family, allocated):
    assessment = world.completed(family, allocated)

    plan = services.plan_create(actor=allocated, assessment=assessment, started_on=D(2026, 9, 10))

    assert plan.next_review_on == D(2026, 10, 22)  # 42 days on
    assert plan.review_interval_days == 42
    assert plan.created_by == allocated
    assert CaseEvent.objects.filter(kind="plan_created").exists()


def test_plan_first_review_can_be_chosen(family, allocated):
    assessment = world.completed(family, allocated)
    plan = services.plan_create(
        actor=allocated,
        assessment=assessment,
        started_on=D(2026, 9, 10),
        next_review_on=D(2026, 10, 1),
    )
    assert plan.next_review_on == D(2026, 10, 1)


def test_plan_refusals(family, allocated, episode, ref):
    draft = world.draft(family, allocated)
    create = services.plan_create
    refused(
        lambda: create(actor=allocated, assessment=draft, started_on=D(2026, 9, 10)),
        "status",
        "Complete",
    )
    completed = services.assessment_complete(
        actor=allocated, assessment=draft, completed_on=D(2026, 9, 12)
    )
    refused(
        lambda: create(actor=allocated, assessment=completed, started_on=D(2026, 9, 11)),
        "started_on",
    )
    refused(
        lambda: create(actor=allocated, assessment=completed, started_on=D(2031, 1, 1)),
        "started_on",
    )
    refused(
        lambda: create(
            actor=allocated,
            assessment=completed,
            started_on=D(2026, 9, 12),
            next_review_on=D(2026, 9, 12),
        ),
        "next_review_on",
    )
    create(actor=allocated, assessment=completed, started_on=D(2026, 9, 12))
    refused(
        lambda: create(actor=allocated, assessment=completed, started_on=D(2026, 9, 12)),
        "assessment",
        "already",
    )


def test_plan_is_refused_once_the_episode_closed(family, allocated, episode, ref):
    assessment = world.completed(family, allocated)
    case_services.episode_close(
        actor=allocated,
        episode=episode,
        ended_on=D(2026, 11, 1),
        end_reason=ref.end_reason("MOVED"),
    )
    refused(
        lambda: services.plan_create(
            actor=allocated, assessment=assessment, started_on=D(2026, 9, 10)
        ),
        "assessment",
        "closed",
    )


def test_action_owner_is_a_person_or_an_organisation(family, allocated, school):
    plan, action = world.plan_with_action(family, allocated)
    by_school = services.plan_action_add(
        actor=allocated,
        plan=plan,
        need=action.need,
        description="Daily check-in with the learning mentor",
        due_on=D(2026, 12, 1),
        owner_organisation=school,
    )
    assert (by_school.owner_user, by_school.owner_organisation) == (None, school)
    assert action.owner_user == allocated
    plan.refresh_from_db()
    assert plan.version == 3  # created at 1, then two actions


def test_action_refusals(family, allocated, school):
    plan, action = world.plan_with_action(family, allocated)
    other_plan, _ = world.plan_with_action(family, allocated)

    def add(**overrides):
        arguments = {
            "actor": allocated,
            "plan": plan,
            "need": action.need,
            "description": "Something specific",
            "due_on": D(2026, 12, 1),
            "owner_user": allocated,
            **overrides,
        }
        return lambda: services.plan_action_add(**arguments)

    refused(add(need=other_plan.assessment.needs.first()), "need")
    refused(add(description=" "), "description")
    refused(add(owner_user=None), "owner", "who")
    refused(add(owner_organisation=school), "owner", "one owner")
    refused(add(due_on=None), "due_on")
    refused(add(due_on=D(2026, 9, 1)), "due_on", "plan started")
    assert plan.actions.count() == 1


def test_action_update_and_complete(family, allocated, school, personas):
    plan, action = world.plan_with_action(family, allocated)

    changed = services.plan_action_update(
        actor=allocated,
        action=action,
        version=plan.version,
        description="Weekly attendance meeting",
        due_on=D(2026, 12, 15),
        owner_organisation=school,
    )
    assert (changed.description, changed.owner_organisation, changed.owner_user) == (
        "Weekly attendance meeting",
        school,
        None,
    )
    refused(
        lambda: services.plan_action_update(
            actor=personas["colleague"],
            action=action,
            version=plan.version,  # the version before the change above
            description="Overwrite",
            due_on=D(2026, 12, 1),
            owner_user=allocated,
        ),
        "version",
    )

    done = services.plan_action_complete(
        actor=allocated, action=action, completed_on=D(2026, 11, 20)
    )
    assert (done.completed_on, done.completed_by) == (D(2026, 11, 20), allocated)
    assert CaseEvent.objects.filter(kind="plan_action_completed").exists()
    plan.refresh_from_db()
    refused(lambda: services.plan_action_complete(actor=allocated, action=action), "action")
    refused(
        lambda: services.plan_action_update(
            actor=allocated,
            action=action,
            version=plan.version,
            description="Too late",
            due_on=D(2026, 12, 1),
            owner_user=allocated,
        ),
        "action",
        "done",
    )


def test_action_complete_refusals(family, allocated):
    _, action = world.plan_with_action(family, allocated)
    refused(
        lambda: services.plan_action_complete(
            actor=allocated, action=action, completed_on=D(2031, 1, 1)
        ),
        "completed_on",
    )
    refused(
        lambda: services.plan_action_complete(
            actor=allocated, action=action, completed_on=D(2026, 9, 1)
        ),
        "completed_on",
    )


def test_a_closed_plan_takes_no_changes(family, allocated, episode, ref):
    plan, action = world.plan_with_action(family, allocated)
    case_services.episode_close(
        actor=allocated,
        episode=episode,
        ended_on=D(2026, 11, 1),
        end_reason=ref.end_reason("MOVED"),
    )
    plan.refresh_from_db()
    assert plan.status == Plan.Status.CLOSED
    refused(lambda: services.plan_action_complete(actor=allocated, action=action), "plan")
    refused(
        lambda: services.review_record(
            actor=allocated, plan=plan, held_on=D(2026, 10, 1), progress=[]
        ),
        "plan",
    )


# --- Reviews and TAF meetings -------------------------------------------------------------------


@pytest.fixture
def three_need_plan(family, allocated):
    assessment = world.completed(family, allocated, needs=("EDUCATION", "HEALTH", "HOUSING"))
    return services.plan_create(actor=allocated, assessment=assessment, started_on=D(2026, 9, 10))


def ratings(plan, *values):
    needs = list(plan.assessment.needs.order_by("pk"))
    return [
        NeedProgress(need=need, rating=value, comment=" a comment ")
        for need, value in zip(needs, values, strict=False)
    ]


def test_review_records_progress_per_need_and_moves_the_next_review(
    three_need_plan, allocated, family, school, episode
):
    plan = three_need_plan

    review = services.review_record(
        actor=allocated,
        plan=plan,
        held_on=D(2026, 10, 20),
        is_taf_meeting=True,
        family_present=False,
        attendees=[
            ReviewAttendee(person=episode.child),
            ReviewAttendee(organisation=school, role="DSL"),
            ReviewAttendee(name=" Sam Patel ", role="school nurse"),
        ],
        progress=ratings(plan, "improved", "no_change", "worse"),
        notes="Attendance up to 92%",
    )

    assert review.next_review_on == D(2026, 12, 1)  # held on + 42 days
    plan.refresh_from_db()
    assert plan.next_review_on == D(2026, 12, 1)
    assert plan.version == 2
    assert sorted(review.progress.values_list("rating", flat=True)) == [
        "improved",
        "no_change",
        "worse",
    ]
    assert review.progress.first().comment == "a comment"
    assert review.attendees.count() == 3
    assert review.attendees.get(name="Sam Patel").role == "school nurse"
    assert (review.is_taf_meeting, review.family_present, review.recorded_by) == (
        True,
        False,
        allocated,
    )
    event = CaseEvent.objects.get(kind="review_recorded")
    assert "Team Around the Family" in event.summary


def test_review_next_date_can_be_chosen(three_need_plan, allocated):
    review = services.review_record(
        actor=allocated,
        plan=three_need_plan,
        held_on=D(2026, 10, 20),
        progress=ratings(three_need_plan, "improved", "improved", "improved"),
        next_review_on=D(2026, 11, 3),
    )
    three_need_plan.refresh_from_db()
    assert review.next_review_on == three_need_plan.next_review_on == D(2026, 11, 3)


def test_a_review_entered_late_leaves_the_next_review_of_a_later_one(three_need_plan, allocated):
    plan = three_need_plan
    for held_on in (D(2026, 11, 1), D(2026, 10, 1)):  # the October meeting is typed up last
        services.review_record(
            actor=allocated,
            plan=plan,
            held_on=held_on,
            progress=ratings(plan, "improved", "improved", "improved"),
        )
    plan.refresh_from_db()
    assert plan.next_review_on == D(2026, 12, 13)


def test_review_refusals(three_need_plan, allocated, family):
    plan = three_need_plan
    other_plan, _ = world.plan_with_action(family, allocated)

    def record(**overrides):
        arguments = {
            "actor": allocated,
            "plan": plan,
            "held_on": D(2026, 10, 20),
            "progress": ratings(plan, "improved", "no_change", "worse"),
            **overrides,
        }
        return lambda: services.review_record(**arguments)

    refused(record(progress=ratings(plan, "improved", "no_change")), "progress", "every need")
    refused(
        record(
            progress=[
                *ratings(plan, "improved", "improved", "improved"),
                *ratings(other_plan, "worse"),
            ]
        ),
        "progress",
        "outside",
    )
    refused(record(progress=ratings(plan, "improved", "no_change", "great")), "progress")
    doubled = ratings(plan, "improved", "no_change", "worse")
    doubled[2].need = doubled[1].need
    refused(record(progress=doubled), "progress")
    refused(record(held_on=D(2031, 1, 1)), "held_on")
    refused(record(held_on=D(2026, 9, 9)), "held_on", "plan started")
    refused(record(next_review_on=D(2026, 10, 20)), "next_review_on")
    refused(record(is_taf_meeting=True, attendees=[]), "attendees")
    assert not Review.objects.exists()
    plan.refresh_from_db()
    assert plan.next_review_on == D(2026, 10, 22)


@travel(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))
def test_a_review_on_the_caseload_is_no_longer_overdue(three_need_plan, allocated, family):
    from cases.selectors import caseload_for

    assert caseload_for(allocated).get().next_review_on == D(2026, 10, 22)  # type: ignore[attr-defined]
    services.review_record(
        actor=allocated,
        plan=three_need_plan,
        held_on=D(2026, 11, 23),
        progress=ratings(three_need_plan, "improved", "improved", "improved"),
    )
    assert caseload_for(allocated).get().next_review_on == D(2027, 1, 4)  # type: ignore[attr-defined]


def test_every_action_lands_in_the_chronology_without_personal_details(family, allocated):
    world.plan_with_action(family, allocated)
    kinds = set(CaseEvent.objects.filter(family=family).values_list("kind", flat=True))
    assert {
        "assessment_started",
        "need_added",
        "assessment_updated",
        "assessment_completed",
        "plan_created",
        "plan_action_added",
    } <= kinds
    summaries = " ".join(CaseEvent.objects.values_list("summary", flat=True))
    assert "Jo Example" not in summaries  # who gave consent is not repeated in the timeline
    assert PlanAction.objects.count() == 1
