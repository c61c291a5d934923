"""The lifecycle services: each rule and each refusal, and the chronology they write."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from assessments.models import Plan
from cases import services
from cases.models import (
    CaseEvent,
    CscInvolvement,
    Episode,
    Referral,
    Transition,
    TransitionNote,
)
from tests import factories

D = dt.date


@pytest.fixture
def family(practitioner):
    return services.family_create(actor=practitioner, postcode="LS6 2AB")


@pytest.fixture
def child(family, practitioner):
    return services.person_create(
        actor=practitioner,
        family=family,
        forename="Ava",
        surname="Test",
        date_of_birth=D(2016, 3, 4),
    )


@pytest.fixture
def episode(family, child, practitioner, ref):
    return services.episode_open(
        actor=practitioner,
        family=family,
        child=child,
        service=ref.service(),
        level=ref.level("L2"),
        started_on=D(2024, 1, 15),
        origin=Episode.Origin.FRONT_DOOR,
    )


def kinds(family) -> list[str]:
    return list(
        CaseEvent.objects.filter(family=family).order_by("id").values_list("kind", flat=True)
    )


def refusal(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


class TestFamilyAndPeople:
    def test_family_gets_sequential_references(self, practitioner):
        first = services.family_create(actor=practitioner)
        second = services.family_create(actor=practitioner)
        assert re.fullmatch(r"F-\d{6,}", first.reference)
        assert int(second.reference[2:]) == int(first.reference[2:]) + 1

    def test_person_joins_family_and_chronology_records_it(self, family, child):
        assert family.memberships.get().person == child
        assert kinds(family) == ["family_created", "member_added"]

    def test_person_without_any_birth_date_is_refused(self, family, practitioner):
        with pytest.raises(ValidationError) as excinfo:
            services.person_create(actor=practitioner, family=family, forename="A", surname="B")
        assert "date_of_birth" in refusal(excinfo)

    def test_unborn_child_with_expected_date_is_accepted(self, family, practitioner):
        unborn = services.person_create(
            actor=practitioner,
            family=family,
            forename="Baby",
            surname="Test",
            expected_date_of_birth=timezone.localdate() + dt.timedelta(days=60),
        )
        assert unborn.date_of_birth is None

    def test_invalid_nhs_number_is_refused(self, family, practitioner):
        with pytest.raises(ValidationError) as excinfo:
            services.person_create(
                actor=practitioner,
                family=family,
                forename="A",
                surname="B",
                date_of_birth=D(2015, 1, 1),
                nhs_number="9434765918",  # check digit should be 9
            )
        assert "nhs_number" in refusal(excinfo)

    def test_valid_nhs_number_and_upn_are_accepted(self, family, practitioner):
        person = services.person_create(
            actor=practitioner,
            family=family,
            forename="A",
            surname="B",
            date_of_birth=D(2015, 1, 1),
            nhs_number="9434765919",
            upn="H801200001001",
        )
        assert person.nhs_number == "9434765919"

    def test_invalid_upn_is_refused(self, family, practitioner):
        with pytest.raises(ValidationError) as excinfo:
            services.person_create(
                actor=practitioner,
                family=family,
                forename="A",
                surname="B",
                date_of_birth=D(2015, 1, 1),
                upn="A801200001001",
            )
        assert "upn" in refusal(excinfo)

    def test_adding_a_member_twice_is_refused(self, family, child, practitioner):
        with pytest.raises(ValidationError):
            services.family_member_add(
                actor=practitioner, family=family, person=child, role="child"
            )


class TestReferralAndTriage:
    def record(self, family, child, practitioner, ref, **kwargs):
        return services.referral_record(
            actor=practitioner,
            family=family,
            children=[child],
            source=ref.source("2A"),
            received_at=timezone.make_aware(dt.datetime(2024, 1, 10, 9, 30)),
            reason="Attendance has dropped and the family asked for help.",
            **kwargs,
        )

    def test_record_then_triage_to_early_help_opens_an_episode_per_child(
        self, family, child, practitioner, manager, ref
    ):
        referral = self.record(family, child, practitioner, ref)
        assert referral.status == Referral.Status.RECEIVED

        services.referral_triage(
            actor=manager,
            referral=referral,
            decision=Referral.Decision.EARLY_HELP,
            decided_on=D(2024, 1, 12),
            level=ref.level("L3"),
            service=ref.service(),
        )

        referral.refresh_from_db()
        assert referral.status == Referral.Status.DECIDED
        episode = Episode.objects.get(child=child)
        assert (episode.started_on, episode.level.code, episode.referral) == (
            D(2024, 1, 12),
            "L3",
            referral,
        )
        assert episode.origin == Episode.Origin.FRONT_DOOR
        assert kinds(family)[-3:] == ["referral_received", "episode_opened", "referral_triaged"]

    def test_partner_referral_opens_episode_with_partner_origin(
        self, family, child, practitioner, manager, ref
    ):
        school = factories.OrganisationFactory(kind="school")
        referral = self.record(family, child, practitioner, ref, referring_organisation=school)
        services.referral_triage(
            actor=manager,
            referral=referral,
            decision=Referral.Decision.EARLY_HELP,
            decided_on=D(2024, 1, 12),
            level=ref.level("L2"),
            service=ref.service(),
        )
        assert Episode.objects.get(child=child).origin == Episode.Origin.PARTNER

    @pytest.mark.parametrize(
        "decision", [Referral.Decision.ADVICE, Referral.Decision.NO_FURTHER_ACTION]
    )
    def test_advice_and_nfa_open_nothing(self, family, child, practitioner, manager, ref, decision):
        referral = self.record(family, child, practitioner, ref)
        services.referral_triage(
            actor=manager, referral=referral, decision=decision, decided_on=D(2024, 1, 11)
        )
        assert not Episode.objects.exists()
        assert not CscInvolvement.objects.exists()

    def test_escalation_records_a_csc_referral(self, family, child, practitioner, manager, ref):
        referral = self.record(family, child, practitioner, ref)
        services.referral_triage(
            actor=manager,
            referral=referral,
            decision=Referral.Decision.ESCALATE_CSC,
            decided_on=D(2024, 1, 10),
        )
        csc = CscInvolvement.objects.get(person=child)
        assert (csc.kind, csc.source, csc.started_on) == ("referral", "front_door", D(2024, 1, 10))

    def test_triaging_twice_is_refused(self, family, child, practitioner, manager, ref):
        referral = self.record(family, child, practitioner, ref)
        services.referral_triage(
            actor=manager, referral=referral, decision="advice", decided_on=D(2024, 1, 11)
        )
        with pytest.raises(ValidationError, match="already been triaged"):
            services.referral_triage(
                actor=manager, referral=referral, decision="advice", decided_on=D(2024, 1, 11)
            )

    def test_early_help_without_level_is_refused_and_nothing_is_written(
        self, family, child, practitioner, manager, ref
    ):
        referral = self.record(family, child, practitioner, ref)
        with pytest.raises(ValidationError) as excinfo:
            services.referral_triage(
                actor=manager,
                referral=referral,
                decision="early_help",
                decided_on=D(2024, 1, 11),
                service=ref.service(),
            )
        assert "level" in refusal(excinfo)
        referral.refresh_from_db()
        assert referral.status == Referral.Status.RECEIVED

    def test_decision_before_receipt_is_refused(self, family, child, practitioner, manager, ref):
        referral = self.record(family, child, practitioner, ref)
        with pytest.raises(ValidationError) as excinfo:
            services.referral_triage(
                actor=manager, referral=referral, decision="advice", decided_on=D(2024, 1, 9)
            )
        assert "decided_on" in refusal(excinfo)

    def test_referral_received_in_the_future_is_refused(self, family, child, practitioner, ref):
        with pytest.raises(ValidationError) as excinfo:
            services.referral_record(
                actor=practitioner,
                family=family,
                children=[child],
                source=ref.source(),
                received_at=timezone.now() + dt.timedelta(days=1),
                reason="x",
            )
        assert "received_at" in refusal(excinfo)

    def test_children_must_belong_to_the_family(self, family, practitioner, ref):
        stranger = factories.PersonFactory()
        with pytest.raises(ValidationError) as excinfo:
            self.record(family, stranger, practitioner, ref)
        assert "children" in refusal(excinfo)

    def test_consent_needs_who_and_when(self, family, child, practitioner, ref):
        with pytest.raises(ValidationError) as excinfo:
            self.record(family, child, practitioner, ref, consent_given=True)
        assert set(refusal(excinfo)) == {"consent_given_by", "consent_given_on"}

    def test_consent_cannot_be_given_in_the_future(self, family, child, practitioner, ref):
        with pytest.raises(ValidationError) as excinfo:
            self.record(
                family,
                child,
                practitioner,
                ref,
                consent_given=True,
                consent_given_by="Mum",
                consent_given_on=timezone.localdate() + dt.timedelta(days=1),
            )
        assert refusal(excinfo) == {"consent_given_on": ["The date cannot be in the future."]}

    def test_a_refused_request_writes_nothing(self, family, child, practitioner, ref):
        with pytest.raises(ValidationError):
            self.record(family, child, practitioner, ref, consent_given=True)
        assert not Referral.objects.exists()
        assert kinds(family) == ["family_created", "member_added"]


class TestEpisodes:
    def test_open_writes_the_chronology(self, family, episode):
        assert kinds(family)[-1] == "episode_opened"
        assert episode.start_reason is not None and episode.start_reason.code == "FRONT_DOOR"

    def test_second_open_episode_for_same_child_and_service_is_refused(
        self, family, child, practitioner, ref, episode
    ):
        with pytest.raises(ValidationError) as excinfo:
            services.episode_open(
                actor=practitioner,
                family=family,
                child=child,
                service=ref.service(),
                level=ref.level("L3"),
                started_on=D(2024, 2, 1),
                origin="front_door",
            )
        assert "service" in refusal(excinfo)

    def test_open_episode_with_another_service_is_allowed(
        self, family, child, practitioner, ref, episode
    ):
        other = services.episode_open(
            actor=practitioner,
            family=family,
            child=child,
            service=ref.service("YOUTH_SUPPORT"),
            level=ref.level("L2"),
            started_on=D(2024, 2, 1),
            origin="front_door",
        )
        assert other.pk != episode.pk

    def test_child_outside_the_family_is_refused(self, family, practitioner, ref):
        with pytest.raises(ValidationError) as excinfo:
            services.episode_open(
                actor=practitioner,
                family=family,
                child=factories.PersonFactory(),
                service=ref.service(),
                level=ref.level("L2"),
                started_on=D(2024, 2, 1),
                origin="front_door",
            )
        assert "child" in refusal(excinfo)

    def test_close_records_reason_outcomes_and_closes_the_plan(
        self, family, episode, practitioner, ref
    ):
        assessment = factories.AssessmentFactory(family=family, episode=episode)
        need = factories.IdentifiedNeedFactory(assessment=assessment)
        plan = Plan.objects.create(assessment=assessment, started_on=D(2024, 2, 1))

        services.episode_close(
            actor=practitioner,
            episode=episode,
            ended_on=D(2024, 6, 30),
            end_reason=ref.end_reason("NEEDS_MET"),
            need_outcomes={need: "met"},
        )

        episode.refresh_from_db()
        need.refresh_from_db()
        plan.refresh_from_db()
        assert (episode.ended_on, episode.end_reason.code) == (D(2024, 6, 30), "NEEDS_MET")
        assert (need.outcome, need.outcome_recorded_on) == ("met", D(2024, 6, 30))
        assert (plan.status, plan.closed_on) == ("closed", D(2024, 6, 30))
        assert kinds(family)[-1] == "episode_closed"

    def test_closing_twice_is_refused(self, episode, practitioner, ref):
        services.episode_close(
            actor=practitioner,
            episode=episode,
            ended_on=D(2024, 3, 1),
            end_reason=ref.end_reason("MOVED"),
        )
        with pytest.raises(ValidationError, match="already closed"):
            services.episode_close(
                actor=practitioner,
                episode=episode,
                ended_on=D(2024, 3, 2),
                end_reason=ref.end_reason("MOVED"),
            )

    def test_closing_without_a_reason_is_refused(self, episode, practitioner):
        with pytest.raises(ValidationError) as excinfo:
            services.episode_close(
                actor=practitioner, episode=episode, ended_on=D(2024, 3, 1), end_reason=None
            )
        assert "end_reason" in refusal(excinfo)
        episode.refresh_from_db()
        assert episode.ended_on is None

    def test_end_before_start_is_refused(self, episode, practitioner, ref):
        with pytest.raises(ValidationError) as excinfo:
            services.episode_close(
                actor=practitioner,
                episode=episode,
                ended_on=D(2024, 1, 14),
                end_reason=ref.end_reason("MOVED"),
            )
        assert "ended_on" in refusal(excinfo)

    def test_end_on_start_day_is_allowed(self, episode, practitioner, ref):
        services.episode_close(
            actor=practitioner,
            episode=episode,
            ended_on=D(2024, 1, 15),
            end_reason=ref.end_reason("DECLINED"),
        )
        episode.refresh_from_db()
        assert episode.ended_on == D(2024, 1, 15)

    def test_needs_met_closure_requires_every_need_outcome(
        self, family, episode, practitioner, ref
    ):
        assessment = factories.AssessmentFactory(family=family, episode=episode)
        factories.IdentifiedNeedFactory(assessment=assessment)
        with pytest.raises(ValidationError) as excinfo:
            services.episode_close(
                actor=practitioner,
                episode=episode,
                ended_on=D(2024, 6, 30),
                end_reason=ref.end_reason("NEEDS_MET"),
            )
        assert "need_outcomes" in refusal(excinfo)

    def test_outcome_for_another_episodes_need_is_refused(self, family, episode, practitioner, ref):
        foreign_need = factories.IdentifiedNeedFactory()
        with pytest.raises(ValidationError, match="another episode"):
            services.episode_close(
                actor=practitioner,
                episode=episode,
                ended_on=D(2024, 6, 30),
                end_reason=ref.end_reason("MOVED"),
                need_outcomes={foreign_need: "met"},
            )

    def test_reopening_after_closure_is_allowed(self, family, child, episode, practitioner, ref):
        services.episode_close(
            actor=practitioner,
            episode=episode,
            ended_on=D(2024, 3, 1),
            end_reason=ref.end_reason("MOVED"),
        )
        again = services.episode_open(
            actor=practitioner,
            family=family,
            child=child,
            service=ref.service(),
            level=ref.level("L2"),
            started_on=D(2024, 5, 1),
            origin="self",
        )
        assert again.is_open


class TestStepUp:
    def test_accepted_step_up_opens_csc_referral_and_closes_episode(
        self, family, child, episode, practitioner, manager
    ):
        transition = services.step_up_request(
            actor=practitioner,
            episode=episode,
            requested_on=D(2024, 3, 1),
            reason="Risk has risen.",
        )
        services.step_up_decide(
            actor=manager,
            transition=transition,
            decision="accepted",
            decided_on=D(2024, 3, 4),
            rationale="Threshold for a CSC assessment is met.",
        )

        transition.refresh_from_db()
        episode.refresh_from_db()
        assert transition.decision == "accepted" and transition.decided_by == manager
        assert transition.opened_csc is not None
        assert (transition.opened_csc.kind, transition.opened_csc.source) == ("referral", "step_up")
        assert (episode.ended_on, episode.end_reason.category) == (D(2024, 3, 4), "stepped_up")
        assert kinds(family)[-4:] == [
            "step_up_requested",
            "csc_recorded",
            "episode_closed",
            "step_up_decided",
        ]

    def test_declined_step_up_leaves_the_episode_open(self, episode, practitioner, manager):
        transition = services.step_up_request(
            actor=practitioner, episode=episode, requested_on=D(2024, 3, 1), reason="Risk."
        )
        services.step_up_decide(
            actor=manager,
            transition=transition,
            decision="declined",
            decided_on=D(2024, 3, 2),
            rationale="Continue under early help with a TAF.",
        )
        episode.refresh_from_db()
        assert episode.is_open
        assert not CscInvolvement.objects.exists()

    def test_step_up_of_a_closed_episode_is_refused(self, episode, practitioner, ref):
        services.episode_close(
            actor=practitioner,
            episode=episode,
            ended_on=D(2024, 2, 1),
            end_reason=ref.end_reason("MOVED"),
        )
        with pytest.raises(ValidationError, match="open episode"):
            services.step_up_request(
                actor=practitioner, episode=episode, requested_on=D(2024, 3, 1), reason="Risk."
            )

    def test_second_pending_step_up_is_refused(self, episode, practitioner):
        services.step_up_request(
            actor=practitioner, episode=episode, requested_on=D(2024, 3, 1), reason="Risk."
        )
        with pytest.raises(ValidationError, match="awaiting a decision"):
            services.step_up_request(
                actor=practitioner, episode=episode, requested_on=D(2024, 3, 2), reason="Risk."
            )

    def test_more_information_then_accept(self, episode, practitioner, manager):
        transition = services.step_up_request(
            actor=practitioner, episode=episode, requested_on=D(2024, 3, 1), reason="Risk."
        )
        services.step_up_decide(
            actor=manager,
            transition=transition,
            decision="more_information",
            decided_on=D(2024, 3, 2),
            rationale="Send the latest school report.",
        )
        services.step_up_decide(
            actor=manager,
            transition=transition,
            decision="accepted",
            decided_on=D(2024, 3, 5),
            rationale="Report received.",
        )
        transition.refresh_from_db()
        assert transition.decision == "accepted"

    def test_decision_before_request_is_refused(self, episode, practitioner, manager):
        transition = services.step_up_request(
            actor=practitioner, episode=episode, requested_on=D(2024, 3, 1), reason="Risk."
        )
        with pytest.raises(ValidationError) as excinfo:
            services.step_up_decide(
                actor=manager,
                transition=transition,
                decision="accepted",
                decided_on=D(2024, 2, 28),
                rationale="x",
            )
        assert "decided_on" in refusal(excinfo)


class TestStepDown:
    @pytest.fixture
    def cin_plan(self, child, practitioner):
        return services.csc_involvement_record(
            actor=practitioner, person=child, kind="cin_plan", started_on=D(2023, 6, 1)
        )

    def request(self, family, child, practitioner, **kwargs):
        return services.step_down_request(
            actor=practitioner,
            family=family,
            child=child,
            requested_on=D(2024, 4, 1),
            reason="CIN plan ending; family agrees to early help.",
            **kwargs,
        )

    def test_accepted_step_down_opens_a_step_down_episode(
        self, family, child, cin_plan, practitioner, manager, ref
    ):
        transition = self.request(family, child, practitioner)
        assert transition.from_csc == cin_plan

        services.step_down_decide(
            actor=manager,
            transition=transition,
            decision="accepted",
            decided_on=D(2024, 4, 8),
            rationale="Needs can be met at level 3.",
            service=ref.service(),
            level=ref.level("L3"),
        )

        transition.refresh_from_db()
        episode = transition.opened_episode
        assert episode is not None
        assert (episode.origin, episode.started_on, episode.start_reason.code) == (
            "step_down",
            D(2024, 4, 8),
            "STEP_DOWN",
        )
        assert "step_down_decided" in kinds(family)

    def test_step_down_for_child_without_csc_involvement_is_refused(
        self, family, child, practitioner
    ):
        with pytest.raises(ValidationError, match="no children's social care involvement"):
            self.request(family, child, practitioner)
        assert not Transition.objects.exists()

    def test_step_down_from_another_childs_csc_record_is_refused(
        self, family, child, cin_plan, practitioner
    ):
        other = factories.CscInvolvementFactory()
        with pytest.raises(ValidationError) as excinfo:
            self.request(family, child, practitioner, from_csc=other)
        assert "from_csc" in refusal(excinfo)

    @pytest.mark.parametrize("first", ["accepted", "declined"])
    def test_deciding_an_already_decided_step_down_is_refused(
        self, family, child, cin_plan, practitioner, manager, ref, first
    ):
        transition = self.request(family, child, practitioner)
        services.step_down_decide(
            actor=manager,
            transition=transition,
            decision=first,
            decided_on=D(2024, 4, 8),
            rationale="Decided at panel.",
            service=ref.service(),
            level=ref.level("L3"),
        )
        with pytest.raises(ValidationError, match="already decided"):
            services.step_down_decide(
                actor=manager,
                transition=transition,
                decision="accepted",
                decided_on=D(2024, 4, 9),
                rationale="Again.",
                service=ref.service(),
                level=ref.level("L3"),
            )
        assert Episode.objects.filter(child=child).count() == (1 if first == "accepted" else 0)

    def test_accepting_without_service_is_refused(
        self, family, child, cin_plan, practitioner, manager
    ):
        transition = self.request(family, child, practitioner)
        with pytest.raises(ValidationError) as excinfo:
            services.step_down_decide(
                actor=manager,
                transition=transition,
                decision="accepted",
                decided_on=D(2024, 4, 8),
                rationale="x",
            )
        assert "service" in refusal(excinfo)

    def test_deciding_a_step_up_as_step_down_is_refused(self, episode, practitioner, manager, ref):
        step_up = services.step_up_request(
            actor=practitioner, episode=episode, requested_on=D(2024, 3, 1), reason="Risk."
        )
        with pytest.raises(ValidationError) as excinfo:
            services.step_down_decide(
                actor=manager,
                transition=step_up,
                decision="declined",
                decided_on=D(2024, 3, 2),
                rationale="x",
            )
        assert "transition" in refusal(excinfo)


class TestMoreInformation:
    """A manager asks for more information; whoever answers sends the request back to them."""

    @pytest.fixture
    def asked(self, episode, practitioner, manager):
        transition = services.step_up_request(
            actor=practitioner, episode=episode, requested_on=D(2024, 3, 1), reason="Risk."
        )
        return services.step_up_decide(
            actor=manager,
            transition=transition,
            decision="more_information",
            decided_on=D(2024, 3, 2),
            rationale="Send the school's attendance record.",
            by_panel=True,
        )

    def exchange(self, transition) -> list[tuple[str, str, object, dt.date, bool]]:
        return [
            (note.kind, note.text, note.written_by, note.written_on, note.by_panel)
            for note in transition.notes.order_by("created_at", "pk")
        ]

    def test_the_answer_returns_the_request_to_the_manager_with_the_exchange_kept(
        self, family, asked, practitioner, manager
    ):
        supplied = services.transition_information_supply(
            actor=practitioner, transition=asked, information="  Attendance is 62% this term.  "
        )

        supplied.refresh_from_db()
        assert (supplied.decision, supplied.decided_on, supplied.decided_by) == (
            "pending",
            None,
            None,
        )
        assert (supplied.rationale, supplied.decided_by_panel) == ("", False)
        assert self.exchange(supplied) == [
            ("question", "Send the school's attendance record.", manager, D(2024, 3, 2), True),
            ("answer", "Attendance is 62% this term.", practitioner, timezone.localdate(), False),
        ]
        assert kinds(family)[-1] == "step_up_information_supplied"
        event = CaseEvent.objects.filter(family=family).latest("id")
        assert (event.actor, event.person, event.data["transition"]) == (
            practitioner,
            asked.child,
            str(asked.uuid),
        )

    def test_the_manager_then_decides_and_every_turn_is_still_there(
        self, asked, practitioner, manager
    ):
        services.transition_information_supply(
            actor=practitioner, transition=asked, information="Attendance is 62%."
        )
        services.step_up_decide(
            actor=manager,
            transition=asked,
            decision="more_information",
            decided_on=D(2024, 3, 9),
            rationale="And the GP's view?",
        )
        services.transition_information_supply(
            actor=practitioner, transition=asked, information="GP shares the concern."
        )
        services.step_up_decide(
            actor=manager,
            transition=asked,
            decision="accepted",
            decided_on=D(2024, 3, 12),
            rationale="Threshold met.",
        )

        asked.refresh_from_db()
        assert (asked.decision, asked.rationale) == ("accepted", "Threshold met.")
        assert [(kind, text) for kind, text, *_ in self.exchange(asked)] == [
            ("question", "Send the school's attendance record."),
            ("answer", "Attendance is 62%."),
            ("question", "And the GP's view?"),
            ("answer", "GP shares the concern."),
        ]

    def test_deciding_again_before_an_answer_keeps_the_unanswered_question(self, asked, manager):
        services.step_up_decide(
            actor=manager,
            transition=asked,
            decision="declined",
            decided_on=D(2024, 3, 5),
            rationale="Panel met again: continue with a TAF.",
        )
        asked.refresh_from_db()
        assert asked.rationale == "Panel met again: continue with a TAF."
        assert self.exchange(asked) == [
            ("question", "Send the school's attendance record.", manager, D(2024, 3, 2), True)
        ]

    def test_a_step_down_is_answered_the_same_way(self, family, child, practitioner, manager):
        services.csc_involvement_record(
            actor=practitioner, person=child, kind="cin_plan", started_on=D(2023, 6, 1)
        )
        transition = services.step_down_request(
            actor=practitioner,
            family=family,
            child=child,
            requested_on=D(2024, 4, 1),
            reason="CIN plan ending.",
        )
        services.step_down_decide(
            actor=manager,
            transition=transition,
            decision="more_information",
            decided_on=D(2024, 4, 2),
            rationale="What does the family want?",
        )
        services.transition_information_supply(
            actor=practitioner, transition=transition, information="They agree to early help."
        )
        transition.refresh_from_db()
        assert transition.decision == "pending"
        assert kinds(family)[-1] == "step_down_information_supplied"

    def test_an_empty_answer_is_refused_and_nothing_changes(self, family, asked, practitioner):
        before = kinds(family)
        with pytest.raises(ValidationError) as excinfo:
            services.transition_information_supply(
                actor=practitioner, transition=asked, information=" \n "
            )
        assert refusal(excinfo) == {"information": ["Enter the information the manager asked for."]}
        asked.refresh_from_db()
        assert asked.decision == "more_information"
        assert not TransitionNote.objects.exists()
        assert kinds(family) == before

    @pytest.mark.parametrize("state", ["pending", "accepted", "declined"])
    def test_only_a_request_waiting_for_information_can_be_answered(
        self, episode, practitioner, manager, state
    ):
        transition = services.step_up_request(
            actor=practitioner, episode=episode, requested_on=D(2024, 3, 1), reason="Risk."
        )
        if state != "pending":
            services.step_up_decide(
                actor=manager,
                transition=transition,
                decision=state,
                decided_on=D(2024, 3, 2),
                rationale="Decided.",
            )
        with pytest.raises(ValidationError) as excinfo:
            services.transition_information_supply(
                actor=practitioner, transition=transition, information="Here it is."
            )
        assert "transition" in refusal(excinfo)
        transition.refresh_from_db()
        assert transition.decision == state
        assert not TransitionNote.objects.exists()

    def test_an_imported_question_with_no_text_or_decider_can_be_answered(
        self, family, child, episode, practitioner
    ):
        # imported decisions are stored as they came: no decider here, perhaps no reason
        imported = Transition.objects.create(
            direction=Transition.Direction.STEP_UP,
            family=family,
            child=child,
            from_episode=episode,
            requested_on=D(2024, 3, 1),
            decision=Transition.Decision.MORE_INFORMATION,
            decided_on=D(2024, 3, 2),
        )
        services.transition_information_supply(
            actor=practitioner, transition=imported, information="Here it is."
        )
        assert self.exchange(imported) == [
            ("question", "No question was recorded.", None, D(2024, 3, 2), False),
            ("answer", "Here it is.", practitioner, timezone.localdate(), False),
        ]

    def test_a_second_answer_to_the_same_question_is_refused(self, asked, practitioner):
        services.transition_information_supply(
            actor=practitioner, transition=asked, information="First answer."
        )
        with pytest.raises(ValidationError, match="awaiting decision"):
            services.transition_information_supply(
                actor=practitioner, transition=asked, information="Second answer."
            )
        assert asked.notes.filter(kind="answer").count() == 1


class TestCscInvolvement:
    def test_end_before_start_is_refused(self, child, practitioner):
        with pytest.raises(ValidationError) as excinfo:
            services.csc_involvement_record(
                actor=practitioner,
                person=child,
                kind="cp_plan",
                started_on=D(2024, 3, 1),
                ended_on=D(2024, 2, 1),
            )
        assert "ended_on" in refusal(excinfo)

    def test_recorded_in_the_family_chronology(self, family, child, practitioner):
        services.csc_involvement_record(
            actor=practitioner, person=child, kind="cp_plan", started_on=D(2024, 3, 1)
        )
        assert kinds(family)[-1] == "csc_recorded"
