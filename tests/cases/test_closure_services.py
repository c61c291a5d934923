"""Closure with a manager's sign-off, and the step and TAF rules the practitioner pages rely on."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from cases import services
from cases.models import CaseEvent, ClosureRequest, Episode, Transition
from tests import factories

D = dt.date


@pytest.fixture
def other_manager(team):
    return factories.UserFactory.with_role("team_manager", team=team)


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
def episode(family, child, practitioner, team, ref):
    return services.episode_open(
        actor=practitioner,
        family=family,
        child=child,
        service=ref.service(),
        level=ref.level("L3"),
        started_on=D(2024, 1, 15),
        origin=Episode.Origin.FRONT_DOOR,
        team=team,
        lead_practitioner=practitioner,
    )


@pytest.fixture
def needs(family, episode, ref):
    assessment = factories.AssessmentFactory(family=family, episode=episode)
    return [
        factories.IdentifiedNeedFactory(
            assessment=assessment,
            headline_outcome=ref.outcome(code),
            level_at_assessment=ref.level("L3"),
        )
        for code in ("EDUCATION", "HEALTH", "HOUSING")
    ]


def propose(actor, episode, needs, ref, **overrides):
    arguments = {
        "actor": actor,
        "episode": episode,
        "end_reason": ref.end_reason("NEEDS_MET"),
        "ended_on": D(2024, 6, 30),
        "need_outcomes": dict.fromkeys(needs, "met"),
        "need_levels": {need: ref.level("L1") for need in needs},
        "summary": "Attendance back above 95%; housing secured.",
    }
    return services.closure_propose(**(arguments | overrides))


def kinds(family) -> list[str]:
    return list(
        CaseEvent.objects.filter(family=family).order_by("id").values_list("kind", flat=True)
    )


class TestClosurePropose:
    def test_proposal_waits_for_sign_off_and_leaves_the_episode_open(
        self, family, episode, needs, practitioner, ref
    ):
        closure = propose(practitioner, episode, needs, ref)

        episode.refresh_from_db()
        assert episode.is_open
        assert closure.status == ClosureRequest.Status.PROPOSED
        assert sorted(closure.outcomes.values_list("need_id", flat=True)) == sorted(
            need.pk for need in needs
        )
        for need in needs:
            need.refresh_from_db()
            assert need.outcome == ""  # written only at sign-off
        assert kinds(family)[-1] == "closure_proposed"

    def test_cannot_propose_twice(self, episode, needs, practitioner, ref):
        propose(practitioner, episode, needs, ref)
        with pytest.raises(ValidationError, match="already awaiting sign-off"):
            propose(practitioner, episode, needs, ref)
        assert ClosureRequest.objects.count() == 1

    def test_end_reason_is_required(self, episode, needs, practitioner, ref):
        with pytest.raises(ValidationError) as excinfo:
            propose(practitioner, episode, needs, ref, end_reason=None)
        assert "end_reason" in excinfo.value.message_dict
        assert not ClosureRequest.objects.exists()

    def test_stepped_up_is_not_a_closure_reason(self, episode, needs, practitioner, ref):
        with pytest.raises(ValidationError, match="request a step-up"):
            propose(practitioner, episode, needs, ref, end_reason=ref.end_reason("STEP_UP"))

    @pytest.mark.parametrize("end_reason", ["NEEDS_MET", "MOVED"])
    def test_every_need_must_have_an_outcome_whatever_the_reason(
        self, episode, needs, practitioner, ref, end_reason
    ):
        with pytest.raises(ValidationError, match="1 missing") as excinfo:
            propose(
                practitioner,
                episode,
                needs,
                ref,
                end_reason=ref.end_reason(end_reason),
                need_outcomes=dict.fromkeys(needs[:2], "met"),
            )
        assert "need_outcomes" in excinfo.value.message_dict

    def test_every_need_must_have_a_level_at_closure(self, episode, needs, practitioner, ref):
        with pytest.raises(ValidationError, match="1 missing"):
            propose(
                practitioner,
                episode,
                needs,
                ref,
                need_levels={need: ref.level("L1") for need in needs[1:]},
            )

    def test_an_unknown_outcome_is_refused(self, episode, needs, practitioner, ref):
        with pytest.raises(ValidationError, match="met, partly met or not met"):
            propose(practitioner, episode, needs, ref, need_outcomes=dict.fromkeys(needs, "great"))

    def test_outcome_for_another_episodes_need_is_refused(self, episode, needs, practitioner, ref):
        stranger = factories.IdentifiedNeedFactory()
        with pytest.raises(ValidationError, match="another episode"):
            propose(
                practitioner,
                episode,
                needs,
                ref,
                need_outcomes=dict.fromkeys([*needs, stranger], "met"),
            )

    def test_end_date_before_the_start_is_refused(self, episode, needs, practitioner, ref):
        with pytest.raises(ValidationError) as excinfo:
            propose(practitioner, episode, needs, ref, ended_on=D(2024, 1, 14))
        assert "ended_on" in excinfo.value.message_dict

    def test_closed_episode_cannot_be_proposed_for_closure(self, episode, practitioner, ref):
        services.episode_close(
            actor=practitioner,
            episode=episode,
            ended_on=D(2024, 2, 1),
            end_reason=ref.end_reason("MOVED"),
        )
        with pytest.raises(ValidationError, match="already closed"):
            propose(practitioner, episode, [], ref, end_reason=ref.end_reason("MOVED"))

    def test_waiting_step_up_blocks_a_proposal(self, episode, needs, practitioner, ref):
        services.step_up_request(
            actor=practitioner, episode=episode, requested_on=D(2024, 3, 1), reason="Risk."
        )
        with pytest.raises(ValidationError, match="step-up"):
            propose(practitioner, episode, needs, ref)

    def test_an_episode_without_a_team_has_nobody_to_sign_off(
        self, family, child, practitioner, ref
    ):
        teamless = services.episode_open(
            actor=practitioner,
            family=family,
            child=child,
            service=ref.service("YOUTH_SUPPORT"),
            level=ref.level("L2"),
            started_on=D(2024, 1, 15),
            origin=Episode.Origin.FRONT_DOOR,
        )
        with pytest.raises(ValidationError, match="Give the episode a team"):
            propose(practitioner, teamless, [], ref, end_reason=ref.end_reason("MOVED"))

    def test_episode_without_needs_can_be_proposed(self, episode, practitioner, ref):
        closure = propose(practitioner, episode, [], ref, end_reason=ref.end_reason("DECLINED"))
        assert not closure.outcomes.exists()


class TestClosureSignOff:
    def test_sign_off_closes_the_episode_with_outcomes_and_levels(
        self, family, episode, needs, practitioner, manager, ref
    ):
        closure = propose(
            practitioner,
            episode,
            needs,
            ref,
            need_outcomes={needs[0]: "met", needs[1]: "partly_met", needs[2]: "not_met"},
        )

        services.closure_sign_off(actor=manager, closure=closure)

        closure.refresh_from_db()
        episode.refresh_from_db()
        assert (closure.status, closure.decided_by) == ("signed_off", manager)
        assert (episode.ended_on, episode.end_reason.code) == (D(2024, 6, 30), "NEEDS_MET")
        assert episode.closure_summary == "Attendance back above 95%; housing secured."
        recorded = []
        for need in needs:
            need.refresh_from_db()
            recorded.append((need.outcome, need.outcome_recorded_on, need.level_at_closure.code))
        assert recorded == [
            ("met", D(2024, 6, 30), "L1"),
            ("partly_met", D(2024, 6, 30), "L1"),
            ("not_met", D(2024, 6, 30), "L1"),
        ]
        assert kinds(family)[-3:] == ["closure_proposed", "episode_closed", "closure_signed_off"]

    def test_proposer_cannot_sign_off_their_own_closure(
        self, episode, needs, manager, other_manager, ref
    ):
        closure = propose(manager, episode, needs, ref)
        with pytest.raises(ValidationError, match="Another manager"):
            services.closure_sign_off(actor=manager, closure=closure)
        episode.refresh_from_db()
        assert episode.is_open

        services.closure_sign_off(actor=other_manager, closure=closure)
        episode.refresh_from_db()
        assert not episode.is_open

    def test_cannot_sign_off_twice(self, episode, needs, practitioner, manager, ref):
        closure = propose(practitioner, episode, needs, ref)
        services.closure_sign_off(actor=manager, closure=closure)
        with pytest.raises(ValidationError, match="already decided: signed off"):
            services.closure_sign_off(actor=manager, closure=closure)

    def test_a_need_added_after_the_proposal_blocks_sign_off(
        self, episode, needs, practitioner, manager, ref
    ):
        closure = propose(practitioner, episode, needs, ref)
        factories.IdentifiedNeedFactory(assessment=needs[0].assessment)
        with pytest.raises(ValidationError, match="needs changed"):
            services.closure_sign_off(actor=manager, closure=closure)
        episode.refresh_from_db()
        assert episode.is_open

    def test_episode_stepped_up_meanwhile_cannot_be_signed_off(
        self, episode, practitioner, manager, ref
    ):
        closure = propose(practitioner, episode, [], ref, end_reason=ref.end_reason("DECLINED"))
        step_up = services.step_up_request(
            actor=practitioner, episode=episode, requested_on=D(2024, 3, 1), reason="Risk."
        )
        services.step_up_decide(
            actor=manager,
            transition=step_up,
            decision="accepted",
            decided_on=D(2024, 3, 2),
            rationale="Threshold met.",
        )
        with pytest.raises(ValidationError, match="closed in another way"):
            services.closure_sign_off(actor=manager, closure=closure)


class TestClosureReturn:
    def test_returned_closure_keeps_the_episode_open_and_may_be_proposed_again(
        self, family, episode, needs, practitioner, manager, ref
    ):
        closure = propose(practitioner, episode, needs, ref)

        services.closure_return(
            actor=manager,
            closure=closure,
            reason="Housing is not secure yet: check with the landlord.",
        )

        closure.refresh_from_db()
        episode.refresh_from_db()
        assert (closure.status, closure.decided_by) == ("returned", manager)
        assert episode.is_open
        assert kinds(family)[-1] == "closure_returned"
        again = propose(practitioner, episode, needs, ref)
        assert again.status == "proposed"

    def test_a_reason_is_required(self, episode, needs, practitioner, manager, ref):
        closure = propose(practitioner, episode, needs, ref)
        with pytest.raises(ValidationError) as excinfo:
            services.closure_return(actor=manager, closure=closure, reason="  ")
        assert "return_reason" in excinfo.value.message_dict
        closure.refresh_from_db()
        assert closure.status == "proposed"

    def test_a_signed_off_closure_cannot_be_returned(
        self, episode, needs, practitioner, manager, ref
    ):
        closure = propose(practitioner, episode, needs, ref)
        services.closure_sign_off(actor=manager, closure=closure)
        with pytest.raises(ValidationError, match="already decided"):
            services.closure_return(actor=manager, closure=closure, reason="Too late.")


class TestStepsAsThePagesUseThem:
    def test_a_panel_decision_is_recorded_as_such(self, episode, practitioner, manager):
        transition = services.step_up_request(
            actor=practitioner, episode=episode, requested_on=D(2024, 3, 1), reason="Risk."
        )
        services.step_up_decide(
            actor=manager,
            transition=transition,
            decision="declined",
            decided_on=D(2024, 3, 2),
            rationale="Panel: continue with a TAF.",
            by_panel=True,
        )
        transition.refresh_from_db()
        assert (transition.decided_by, transition.decided_by_panel) == (manager, True)

    def test_accepted_step_down_opens_the_episode_in_the_team_asked(
        self, family, child, practitioner, manager, team, ref
    ):
        services.csc_involvement_record(
            actor=practitioner, person=child, kind="cin_plan", started_on=D(2023, 6, 1)
        )
        transition = services.step_down_request(
            actor=practitioner,
            family=family,
            child=child,
            requested_on=D(2024, 4, 1),
            reason="CIN plan ending.",
            team=team,
        )
        services.step_down_decide(
            actor=manager,
            transition=transition,
            decision="accepted",
            decided_on=D(2024, 4, 8),
            rationale="Level 3 support.",
            service=ref.service(),
            level=ref.level("L3"),
        )
        transition.refresh_from_db()
        assert transition.opened_episode.team == team

    def test_second_waiting_step_down_for_a_child_is_refused(self, family, child, practitioner):
        services.csc_involvement_record(
            actor=practitioner, person=child, kind="cin_plan", started_on=D(2023, 6, 1)
        )
        arguments = {
            "actor": practitioner,
            "family": family,
            "child": child,
            "requested_on": D(2024, 4, 1),
            "reason": "CIN plan ending.",
        }
        services.step_down_request(**arguments)
        with pytest.raises(ValidationError, match="already awaiting a decision"):
            services.step_down_request(**arguments)
        assert Transition.objects.count() == 1


class TestTafMembers:
    def test_the_same_person_cannot_join_twice(self, family, practitioner):
        school = factories.OrganisationFactory(code="URN1", kind="school")
        dsl = factories.UserFactory.with_role("partner_user", organisation=school)
        arguments = {
            "actor": practitioner,
            "family": family,
            "organisation": school,
            "user": dsl,
            "consent_given_by": "Parent",
            "consent_given_on": D(2024, 1, 1),
        }
        services.taf_member_add(**arguments)
        with pytest.raises(ValidationError) as excinfo:
            services.taf_member_add(**arguments)
        assert "user" in excinfo.value.message_dict

    def test_the_same_organisation_cannot_join_twice(self, family, practitioner):
        school = factories.OrganisationFactory(code="URN1", kind="school")
        arguments = {
            "actor": practitioner,
            "family": family,
            "organisation": school,
            "consent_given_by": "Parent",
            "consent_given_on": D(2024, 1, 1),
        }
        services.taf_member_add(**arguments)
        with pytest.raises(ValidationError) as excinfo:
            services.taf_member_add(**arguments)
        assert "organisation" in excinfo.value.message_dict
