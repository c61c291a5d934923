"""Opening an episode, proposing its closure and a manager signing it off, through the pages."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import AccessLog, CaseEvent, ClosureRequest, Episode
from tests import factories

D = dt.date


def date_data(name: str, value: dt.date) -> dict[str, str]:
    return {
        f"{name}_0": str(value.day),
        f"{name}_1": str(value.month),
        f"{name}_2": str(value.year),
    }


def page_of(response) -> str:
    return response.content.decode()


def is_checked(page: str, value: object) -> bool:
    """Whether the radio button with this value is checked in the page."""
    return re.search(rf'value="{value}"\s+checked', page) is not None


@pytest.fixture
def episode(family):
    return family.episodes.get()


@pytest.fixture
def second_child(family, personas):
    return services.person_create(
        actor=personas["allocated"],
        family=family,
        forename="Ben",
        surname="Example",
        date_of_birth=D(2019, 5, 6),
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
        for code in ("EDUCATION", "HOUSING")
    ]


def closure_data(needs, ref, **overrides) -> dict[str, str]:
    data = {
        "end_reason": str(ref.end_reason("NEEDS_MET").pk),
        **date_data("ended_on", timezone.localdate()),
        "summary": "Attendance back to 96%.",
    }
    for need in needs:
        data[f"outcome_{need.uuid.hex}"] = "met"
        data[f"level_{need.uuid.hex}"] = str(ref.level("L1").pk)
    return data | overrides


class TestEpisodeOpen:
    def url(self, family):
        return reverse("cases:episode_open", kwargs={"reference": family.reference})

    def test_opens_an_episode_and_returns_to_the_family_record(
        self, family, second_child, team, ref, client_for, personas
    ):
        response = client_for("colleague").post(
            self.url(family),
            {
                "child": str(second_child.uuid),
                "service": str(ref.service().pk),
                "level": str(ref.level("L2").pk),
                "team": str(team.pk),
                "lead_practitioner": str(personas["colleague"].pk),
                **date_data("started_on", timezone.localdate()),
                "origin": "self",
            },
            follow=True,
        )

        episode = Episode.objects.get(child=second_child)
        assert (episode.team, episode.lead_practitioner, episode.origin) == (
            team,
            personas["colleague"],
            "self",
        )
        assert episode.lead_organisation == team.organisation  # the lead's own
        assert response.redirect_chain[-1][0].endswith("#episodes")
        assert "Episode opened for Ben Example with Family support" in page_of(response)

    def test_errors_keep_what_was_typed(self, family, second_child, client_for):
        response = client_for("allocated").post(
            self.url(family), {"child": str(second_child.uuid), "origin": "partner"}
        )

        page = page_of(response)
        assert response.status_code == 200
        assert "<title>Error: Open an early help episode" in page
        assert "Choose the service" in page and "Choose the team that holds the work" in page
        assert is_checked(page, second_child.uuid)
        assert not Episode.objects.filter(child=second_child).exists()

    def test_a_service_refusal_is_shown_next_to_its_field(
        self, family, episode, team, ref, client_for
    ):
        response = client_for("allocated").post(
            self.url(family),
            {
                "child": str(episode.child.uuid),
                "service": str(episode.service_id),
                "level": str(ref.level("L2").pk),
                "team": str(team.pk),
                **date_data("started_on", timezone.localdate()),
                "origin": "front_door",
            },
        )
        assert response.status_code == 200
        assert "already has an open episode with Family support" in page_of(response)

    def test_a_lead_from_another_organisation_than_the_lead_organisation_is_refused(
        self, family, second_child, team, ref, school, client_for, personas
    ):
        response = client_for("allocated").post(
            self.url(family),
            {
                "child": str(second_child.uuid),
                "service": str(ref.service().pk),
                "level": str(ref.level("L2").pk),
                "team": str(team.pk),
                "lead_practitioner": str(personas["allocated"].pk),
                "lead_organisation": str(school.pk),
                **date_data("started_on", timezone.localdate()),
                "origin": "partner",
            },
        )
        assert "does not work for this organisation" in page_of(response)

    def test_a_partner_on_the_taf_may_be_chosen_as_lead(self, family, client_for, personas):
        page = page_of(client_for("allocated").get(self.url(family)))
        assert personas["partner"].get_full_name() in page
        assert personas["stranger_partner"].get_full_name() not in page

    def test_the_page_is_logged_as_a_view_of_the_family(self, family, client_for, personas):
        client_for("manager").get(self.url(family))
        assert AccessLog.objects.filter(
            user=personas["manager"], family=family, what="cases:episode_open"
        ).exists()


class TestClosurePropose:
    def url(self, episode):
        return reverse("cases:closure_propose", kwargs={"uuid": episode.uuid})

    def test_form_asks_for_every_needs_outcome_and_level(self, episode, needs, client_for):
        page = page_of(client_for("allocated").get(self.url(episode)))
        assert "Need 1: Getting a good education (whole family)" in page
        assert "Need 2: Secure housing (whole family)" in page
        assert "At assessment: Intensive / targeted" in page
        assert "Stepped up to children" not in page  # a step-up is its own journey

    def test_proposal_waits_for_sign_off(self, episode, needs, ref, client_for, personas):
        response = client_for("allocated").post(self.url(episode), closure_data(needs, ref))

        assert response.status_code == 302
        closure = ClosureRequest.objects.get()
        assert (closure.status, closure.proposed_by) == ("proposed", personas["allocated"])
        assert sorted(closure.outcomes.values_list("outcome", flat=True)) == ["met", "met"]
        episode.refresh_from_db()
        assert episode.is_open

    def test_a_missing_outcome_is_named_and_nothing_is_saved(self, episode, needs, ref, client_for):
        data = closure_data(needs, ref)
        del data[f"outcome_{needs[1].uuid.hex}"]

        response = client_for("allocated").post(self.url(episode), data)

        page = page_of(response)
        assert response.status_code == 200
        assert "Choose the outcome for need 2: Secure housing (whole family)" in page
        assert "Attendance back to 96%." in page  # the summary typed is kept
        assert not ClosureRequest.objects.exists()

    def test_a_person_named_in_a_need_is_escaped(self, family, episode, ref, client_for):
        person = factories.PersonFactory(forename="<b>Ava</b>")
        factories.IdentifiedNeedFactory(
            assessment=factories.AssessmentFactory(family=family, episode=episode),
            person=person,
        )
        page = page_of(client_for("allocated").get(self.url(episode)))
        assert "&lt;b&gt;Ava&lt;/b&gt;" in page and "<b>Ava</b>" not in page

    def test_a_waiting_proposal_replaces_the_form(self, episode, needs, ref, client_for):
        client_for("allocated").post(self.url(episode), closure_data(needs, ref))
        page = page_of(client_for("manager").get(self.url(episode)))
        assert "waiting for a manager of" in page
        assert 'name="end_reason"' not in page
        assert (
            reverse("cases:closure_decide", kwargs={"uuid": ClosureRequest.objects.get().uuid})
            in page
        )

    def test_a_returned_proposal_shows_why_and_keeps_the_answers(
        self, episode, needs, ref, client_for, personas
    ):
        client_for("allocated").post(
            self.url(episode),
            closure_data(needs, ref, **{f"outcome_{needs[0].uuid.hex}": "partly_met"}),
        )
        services.closure_return(
            actor=personas["manager"],
            closure=ClosureRequest.objects.get(),
            reason="Check the housing outcome with the landlord.",
        )

        page = page_of(client_for("allocated").get(self.url(episode)))

        assert "Check the housing outcome with the landlord." in page
        assert is_checked(page, "partly_met")
        assert "Attendance back to 96%." in page


class TestClosureDecide:
    @pytest.fixture
    def closure(self, episode, needs, ref, personas):
        return services.closure_propose(
            actor=personas["allocated"],
            episode=episode,
            end_reason=ref.end_reason("NEEDS_MET"),
            ended_on=timezone.localdate(),
            need_outcomes=dict.fromkeys(needs, "met"),
            need_levels=dict.fromkeys(needs, ref.level("L1")),
        )

    def url(self, closure):
        return reverse("cases:closure_decide", kwargs={"uuid": closure.uuid})

    def test_sign_off_closes_the_episode(self, closure, episode, needs, client_for, personas):
        response = client_for("manager").post(
            self.url(closure), {"decision": "sign_off"}, follow=True
        )

        episode.refresh_from_db()
        assert episode.end_reason.code == "NEEDS_MET"
        assert [need.outcome for need in episode.assessments.get().needs.all()] == ["met", "met"]
        assert "Closure signed off. The episode for Ava Example is closed." in page_of(response)
        assert CaseEvent.objects.filter(kind="closure_signed_off", actor=personas["manager"])

    def test_returning_needs_a_reason(self, closure, client_for):
        response = client_for("manager").post(self.url(closure), {"decision": "return"})
        assert "Explain what the practitioner needs to change" in page_of(response)
        closure.refresh_from_db()
        assert closure.status == "proposed"

    def test_return_with_a_reason_shows_on_the_family_record(self, closure, family, client_for):
        client_for("manager").post(
            self.url(closure), {"decision": "return", "return_reason": "Housing not secure yet."}
        )
        record = page_of(
            client_for("allocated").get(reverse("cases:family", args=[family.reference]))
        )
        assert "returned by" in record and "Housing not secure yet." in record

    def test_a_manager_cannot_sign_off_their_own_proposal(self, episode, ref, client_for, personas):
        own = services.closure_propose(
            actor=personas["manager"],
            episode=episode,
            end_reason=ref.end_reason("MOVED"),
            ended_on=timezone.localdate(),
        )
        client = client_for("manager")
        page = page_of(client.get(self.url(own)))
        assert "You proposed this closure" in page and 'name="decision"' not in page
        client.post(self.url(own), {"decision": "sign_off"})
        episode.refresh_from_db()
        assert episode.is_open

    def test_a_decided_closure_shows_the_decision_without_a_form(
        self, closure, client_for, personas
    ):
        services.closure_sign_off(actor=personas["manager"], closure=closure)
        page = page_of(client_for("manager").get(self.url(closure)))
        assert "signed this closure off" in page and 'name="decision"' not in page

    def test_the_review_is_logged_against_the_child(self, closure, episode, client_for, personas):
        client_for("manager").get(self.url(closure))
        log = AccessLog.objects.get(user=personas["manager"], what="cases:closure_decide")
        assert log.person == episode.child
