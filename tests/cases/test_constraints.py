"""Each invariant is a database constraint: a write that breaks it raises, whoever makes it."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from assessments.models import Assessment, IdentifiedNeed, NeedProgress, Plan, PlanAction, Review
from cases.models import (
    Address,
    CscInvolvement,
    Episode,
    FamilyMembership,
    Person,
    Referral,
    Transition,
    TransitionNote,
)
from earlyhelp.models import Membership
from tests import factories

D = dt.date
pytestmark = pytest.mark.django_db


def violates(write) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


@pytest.fixture
def family():
    return factories.FamilyFactory()


@pytest.fixture
def child(family):
    child = factories.PersonFactory()
    FamilyMembership.objects.create(family=family, person=child, role="child")
    return child


def make_episode(family, child, ref, **kwargs) -> Episode:
    fields = {
        "family": family,
        "child": child,
        "service": ref.service(),
        "level": ref.level("L2"),
        "origin": "front_door",
        "started_on": D(2024, 1, 1),
    } | kwargs
    return Episode.objects.create(**fields)


class TestEpisodeConstraints:
    def test_one_open_episode_per_child_and_service(self, family, child, ref):
        make_episode(family, child, ref)
        violates(lambda: make_episode(family, child, ref, started_on=D(2024, 2, 1)))

    def test_closed_and_open_episodes_may_coexist(self, family, child, ref):
        make_episode(family, child, ref, ended_on=D(2024, 1, 5), end_reason=ref.end_reason("MOVED"))
        assert make_episode(family, child, ref, started_on=D(2024, 2, 1)).pk

    def test_end_not_before_start(self, family, child, ref):
        violates(
            lambda: make_episode(
                family, child, ref, ended_on=D(2023, 12, 31), end_reason=ref.end_reason("MOVED")
            )
        )

    def test_closed_episode_has_end_reason(self, family, child, ref):
        violates(lambda: make_episode(family, child, ref, ended_on=D(2024, 2, 1)))

    def test_open_episode_has_no_end_reason(self, family, child, ref):
        violates(lambda: make_episode(family, child, ref, end_reason=ref.end_reason("MOVED")))


class TestPersonConstraints:
    def test_nhs_number_is_unique(self):
        factories.PersonFactory(nhs_number="9434765919")
        violates(lambda: factories.PersonFactory(nhs_number="9434765919"))

    def test_blank_nhs_numbers_do_not_clash(self):
        factories.PersonFactory(nhs_number="")
        assert factories.PersonFactory(nhs_number="").pk

    def test_nhs_number_is_ten_digits(self):
        violates(lambda: factories.PersonFactory(nhs_number="94347659"))

    def test_death_not_before_birth(self):
        violates(
            lambda: factories.PersonFactory(
                date_of_birth=D(2015, 1, 1), date_of_death=D(2014, 1, 1)
            )
        )

    def test_external_id_is_unique(self):
        factories.PersonFactory(external_id="P1")
        violates(lambda: factories.PersonFactory(external_id="P1"))


class TestFamilyConstraints:
    def test_one_current_membership_per_person_and_family(self, family, child):
        violates(lambda: FamilyMembership.objects.create(family=family, person=child, role="child"))

    def test_membership_end_not_before_start(self, family):
        violates(
            lambda: FamilyMembership.objects.create(
                family=family,
                person=factories.PersonFactory(),
                role="parent",
                started_on=D(2024, 1, 1),
                ended_on=D(2023, 1, 1),
            )
        )

    def test_family_reference_is_unique(self, family):
        violates(lambda: factories.FamilyFactory(reference=family.reference))

    def test_address_end_not_before_start(self, child):
        violates(
            lambda: Address.objects.create(
                person=child, started_on=D(2024, 1, 1), ended_on=D(2023, 1, 1)
            )
        )


class TestReferralConstraints:
    def make(self, ref, **kwargs) -> Referral:
        fields = {
            "reference": "R-1",
            "received_at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            "source": ref.source(),
            "reason": "x",
        } | kwargs
        return Referral.objects.create(**fields)

    def test_decided_referral_has_decision_and_date(self, ref):
        violates(lambda: self.make(ref, status="decided"))

    def test_received_referral_has_no_decision(self, ref):
        violates(lambda: self.make(ref, decision="advice", decided_on=D(2024, 1, 2)))

    def test_early_help_decision_has_level_and_service(self, ref):
        violates(
            lambda: self.make(
                ref, status="decided", decision="early_help", decided_on=D(2024, 1, 2)
            )
        )


class TestCscAndTransitionConstraints:
    def test_csc_end_not_before_start(self, child):
        violates(
            lambda: CscInvolvement.objects.create(
                person=child, kind="cin_plan", started_on=D(2024, 1, 1), ended_on=D(2023, 1, 1)
            )
        )

    def test_csc_closure_reason_only_when_closed(self, child):
        from cases.models import CscClosureReason

        violates(
            lambda: CscInvolvement.objects.create(
                person=child,
                kind="referral",
                started_on=D(2024, 1, 1),
                closure_reason=CscClosureReason.objects.get(code="RC8"),
            )
        )

    def test_csc_external_id_unique_per_kind(self, child):
        CscInvolvement.objects.create(
            person=child, kind="cp_plan", started_on=D(2024, 1, 1), external_id="X"
        )
        CscInvolvement.objects.create(
            person=child, kind="cla", started_on=D(2024, 1, 1), external_id="X"
        )
        violates(
            lambda: CscInvolvement.objects.create(
                person=child, kind="cp_plan", started_on=D(2024, 1, 1), external_id="X"
            )
        )

    def test_step_down_needs_a_csc_origin(self, family, child):
        violates(
            lambda: Transition.objects.create(
                direction="step_down", family=family, child=child, requested_on=D(2024, 1, 1)
            )
        )

    def test_step_up_needs_an_episode_origin(self, family, child):
        violates(
            lambda: Transition.objects.create(
                direction="step_up", family=family, child=child, requested_on=D(2024, 1, 1)
            )
        )

    def test_decided_transition_has_a_date_not_before_request(self, family, child):
        csc = factories.CscInvolvementFactory(person=child)

        def make(**kwargs):
            return Transition.objects.create(
                direction="step_down",
                family=family,
                child=child,
                from_csc=csc,
                requested_on=D(2024, 1, 10),
                **kwargs,
            )

        violates(lambda: make(decision="accepted"))
        violates(lambda: make(decision="accepted", decided_on=D(2024, 1, 9)))
        violates(lambda: make(decision="pending", decided_on=D(2024, 1, 11)))

    def test_a_note_of_the_exchange_has_text_and_only_a_question_comes_from_a_panel(
        self, family, child
    ):
        step = Transition.objects.create(
            direction="step_down",
            family=family,
            child=child,
            from_csc=factories.CscInvolvementFactory(person=child),
            requested_on=D(2024, 1, 10),
        )

        def note(**kwargs):
            fields = {
                "transition": step,
                "kind": "answer",
                "text": "x",
                "written_on": D(2024, 1, 12),
            }
            return TransitionNote.objects.create(**(fields | kwargs))

        note(kind="question", by_panel=True)
        violates(lambda: note(text=""))
        violates(lambda: note(by_panel=True))


class TestAssessmentConstraints:
    def test_completed_not_before_started(self, family):
        violates(
            lambda: Assessment.objects.create(
                family=family,
                kind="my_plan",
                status="completed",
                started_on=D(2024, 2, 1),
                completed_on=D(2024, 1, 1),
            )
        )

    def test_completed_assessment_has_completion_date(self, family):
        violates(
            lambda: Assessment.objects.create(
                family=family, kind="my_plan", status="completed", started_on=D(2024, 2, 1)
            )
        )

    def test_need_outcome_has_date(self, ref):
        violates(lambda: factories.IdentifiedNeedFactory(outcome="met"))

    def test_plan_closed_has_valid_date(self):
        assessment = factories.AssessmentFactory()
        violates(
            lambda: Plan.objects.create(
                assessment=assessment,
                started_on=D(2024, 2, 1),
                status="closed",
                closed_on=D(2024, 1, 1),
            )
        )

    def test_plan_action_has_an_owner(self):
        need = factories.IdentifiedNeedFactory()
        plan = Plan.objects.create(assessment=need.assessment, started_on=D(2024, 2, 1))
        violates(
            lambda: PlanAction.objects.create(
                plan=plan, need=need, description="Attend parenting course", due_on=D(2024, 3, 1)
            )
        )

    def test_review_next_date_after_held(self):
        plan = Plan.objects.create(
            assessment=factories.AssessmentFactory(), started_on=D(2024, 2, 1)
        )
        violates(
            lambda: Review.objects.create(
                plan=plan, held_on=D(2024, 3, 1), next_review_on=D(2024, 3, 1)
            )
        )

    def test_progress_once_per_need_per_review(self):
        need: IdentifiedNeed = factories.IdentifiedNeedFactory()
        plan = Plan.objects.create(assessment=need.assessment, started_on=D(2024, 2, 1))
        review = Review.objects.create(plan=plan, held_on=D(2024, 3, 1))
        NeedProgress.objects.create(review=review, need=need, rating="improved")
        violates(lambda: NeedProgress.objects.create(review=review, need=need, rating="worse"))


def test_membership_end_not_before_start(team):
    user = factories.UserFactory()
    violates(
        lambda: Membership.objects.create(
            user=user,
            organisation=team.organisation,
            team=team,
            role="practitioner",
            started_on=D(2024, 1, 1),
            ended_on=D(2023, 1, 1),
        )
    )


def test_person_model_validation_rejects_bad_check_digit():
    person = Person(forename="A", surname="B", nhs_number="9434765918")
    with pytest.raises(Exception, match="NHS number"):
        person.full_clean()
