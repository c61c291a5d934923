"""Two people saving the same assessment or plan at the same moment: one save wins, the other
is refused as stale, and nothing is lost or half-written."""

import datetime as dt

import pytest

from assessments import services
from assessments.models import Assessment, PlanAction, Review
from cases.models import HeadlineOutcome, LevelOfNeed
from tests.assessments import world
from tests.cases.test_concurrency import run_together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_simultaneous_edits_of_an_assessment_save_one(family, personas):
    allocated, colleague = personas["allocated"], personas["colleague"]
    assessment = world.draft(family, allocated)
    loaded = assessment.version

    def save(actor, words):
        return lambda: services.assessment_update(
            actor=actor, assessment=assessment, version=loaded, child_voice=words
        )

    outcomes = run_together(save(allocated, "First words"), save(colleague, "Second words"))

    assert sorted(type(o).__name__ for o in outcomes) == ["Assessment", "EditConflict"]
    winner = next(o for o in outcomes if isinstance(o, Assessment))
    assessment.refresh_from_db()
    assert assessment.version == loaded + 1
    assert assessment.child_voice == winner.child_voice


def test_a_need_added_while_another_is_changed_both_land(family, personas):
    # adding replaces nothing, so it needs no version; the edit made on the loaded version
    # still lands because the add happened after it or is serialised behind it
    allocated, colleague = personas["allocated"], personas["colleague"]
    assessment = world.draft(family, allocated)
    need = assessment.needs.get()
    loaded = assessment.version

    outcomes = run_together(
        lambda: services.need_add(
            actor=colleague,
            assessment=assessment,
            headline_outcome=HeadlineOutcome.objects.get(code="HOUSING"),
            level_at_assessment=LevelOfNeed.objects.get(code="L3"),
            description="Added at the same time",
        ),
        lambda: services.need_update(
            actor=allocated,
            need=need,
            version=loaded,
            headline_outcome=need.headline_outcome,
            level_at_assessment=need.level_at_assessment,
            description="Edited at the same time",
        ),
    )

    # The edit either wins the lock (both land) or comes second on a moved version (refused).
    names = sorted(type(o).__name__ for o in outcomes)
    assert names in (["IdentifiedNeed", "IdentifiedNeed"], ["EditConflict", "IdentifiedNeed"])
    assessment.refresh_from_db()
    assert assessment.needs.count() == 2
    assert assessment.version == loaded + names.count("IdentifiedNeed")


def test_two_simultaneous_edits_of_a_plan_action_save_one(family, personas, school):
    allocated, colleague = personas["allocated"], personas["colleague"]
    plan, action = world.plan_with_action(family, allocated)
    loaded = plan.version

    def save(actor, **owner):
        return lambda: services.plan_action_update(
            actor=actor,
            action=action,
            version=loaded,
            description=f"Saved by {actor.username}",
            due_on=dt.date(2026, 12, 1),
            **owner,
        )

    outcomes = run_together(
        save(allocated, owner_user=allocated), save(colleague, owner_organisation=school)
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["EditConflict", "PlanAction"]
    winner = next(o for o in outcomes if isinstance(o, PlanAction))
    action.refresh_from_db()
    assert action.description == winner.description
    assert (action.owner_user_id, action.owner_organisation_id) == (
        winner.owner_user_id,
        winner.owner_organisation_id,
    )


def test_two_reviews_recorded_at_once_both_land_in_order(family, personas):
    allocated, colleague = personas["allocated"], personas["colleague"]
    plan, action = world.plan_with_action(family, allocated)

    def record(actor, held_on):
        return lambda: services.review_record(
            actor=actor,
            plan=plan,
            held_on=held_on,
            progress=[services.NeedProgress(need=action.need, rating="improved")],
        )

    run_together(record(allocated, dt.date(2026, 10, 1)), record(colleague, dt.date(2026, 10, 2)))

    plan.refresh_from_db()
    assert Review.objects.filter(plan=plan).count() == 2
    assert plan.version == 4  # created, an action, two reviews: no update was lost
    assert plan.next_review_on == dt.date(2026, 11, 13)  # from the later meeting, whichever won
