"""Step-up and step-down requests and decisions through the pages, and the manager's queue."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import CscInvolvement, Episode, Family, Transition
from tests import factories
from tests.web.test_episodes import date_data, page_of

D = dt.date


@pytest.fixture
def episode(family):
    return family.episodes.get()


def step_up(episode, by):
    return services.step_up_request(
        actor=by, episode=episode, requested_on=episode.started_on, reason="Risk has risen."
    )


def cin_plan(child):
    return services.csc_involvement_record(
        actor=None, person=child, kind="cin_plan", started_on=D(2026, 9, 2)
    )


def decide_url(transition) -> str:
    return reverse("cases:step_decide", kwargs={"uuid": transition.uuid})


class TestStepUpRequest:
    def url(self, family):
        return reverse("cases:step_up_request", kwargs={"reference": family.reference})

    def test_request_goes_to_the_family_record(self, family, episode, client_for, personas):
        response = client_for("colleague").post(
            self.url(family),
            {
                "episode": str(episode.uuid),
                "reason": "Disclosure at school.",
                **date_data("requested_on", timezone.localdate()),
            },
            follow=True,
        )
        transition = Transition.objects.get()
        assert (transition.from_episode, transition.requested_by) == (
            episode,
            personas["colleague"],
        )
        page = page_of(response)
        assert "Step-up requested for Ava Example." in page
        assert "Awaiting decision" in page

    def test_a_missing_reason_is_asked_for_and_the_choice_kept(self, family, episode, client_for):
        response = client_for("allocated").post(self.url(family), {"episode": str(episode.uuid)})
        page = page_of(response)
        assert response.status_code == 200
        assert "Enter why the child needs children" in page
        assert not Transition.objects.exists()

    def test_a_second_request_is_refused_by_the_service(
        self, family, episode, client_for, personas
    ):
        step_up(episode, personas["allocated"])
        response = client_for("allocated").post(
            self.url(family),
            {
                "episode": str(episode.uuid),
                "reason": "Again.",
                **date_data("requested_on", timezone.localdate()),
            },
        )
        assert "already awaiting a decision" in page_of(response)
        assert Transition.objects.count() == 1

    def test_an_episode_without_a_team_cannot_be_sent_for_a_decision(
        self, family, episode, client_for
    ):
        Episode.objects.filter(pk=episode.pk).update(team=None)
        response = client_for("allocated").post(
            self.url(family),
            {
                "episode": str(episode.uuid),
                "reason": "Risk.",
                **date_data("requested_on", timezone.localdate()),
            },
        )
        assert "No team holds this child" in page_of(response)
        assert not Transition.objects.exists()

    def test_no_open_episode_means_no_form(self, family, episode, ref, client_for, personas):
        services.episode_close(
            actor=personas["allocated"],
            episode=episode,
            ended_on=episode.started_on,
            end_reason=ref.end_reason("MOVED"),
        )
        page = page_of(client_for("allocated").get(self.url(family)))
        assert "nothing to step up" in page and 'name="episode"' not in page


class TestStepUpDecision:
    def test_manager_accepts_and_the_child_is_referred_to_csc(
        self, family, episode, client_for, personas
    ):
        transition = step_up(episode, personas["allocated"])
        response = client_for("manager").post(
            decide_url(transition),
            {
                "decision": "accepted",
                "rationale": "Threshold met.",
                "by_panel": "on",
                **date_data("decided_on", timezone.localdate()),
            },
            follow=True,
        )
        transition.refresh_from_db()
        assert (transition.decision, transition.decided_by_panel) == ("accepted", True)
        assert transition.opened_csc.source == CscInvolvement.Source.STEP_UP
        assert "Step-up accepted." in page_of(response)

    def test_more_information_keeps_it_in_the_queue(self, family, episode, client_for, personas):
        transition = step_up(episode, personas["allocated"])
        client = client_for("manager")
        client.post(
            decide_url(transition),
            {
                "decision": "more_information",
                "rationale": "Send the school's chronology.",
                **date_data("decided_on", timezone.localdate()),
            },
        )
        queue = page_of(client.get(reverse("cases:step_decisions")))
        assert "More information requested" in queue
        page = page_of(client.get(decide_url(transition)))
        assert "Send the school&#x27;s chronology." in page and 'name="decision"' in page

    def test_a_decided_step_up_shows_its_decision_without_a_form(
        self, episode, client_for, personas
    ):
        transition = step_up(episode, personas["allocated"])
        services.step_up_decide(
            actor=personas["manager"],
            transition=transition,
            decision="declined",
            decided_on=timezone.localdate(),
            rationale="Continue with a TAF.",
        )
        page = page_of(client_for("manager").get(decide_url(transition)))
        assert "Continue with a TAF." in page and 'name="decision"' not in page

    def test_a_manager_of_another_team_gets_404(self, family, episode, other_team, personas):
        from django.test import Client

        transition = step_up(episode, personas["allocated"])
        other_manager = factories.UserFactory.with_role("team_manager", team=other_team)
        client = Client()
        client.force_login(other_manager)
        assert client.get(decide_url(transition)).status_code == 404


class TestStepDown:
    @pytest.fixture
    def stepped_up(self, family, episode, ref, personas):
        """Ava's episode ended with a step-up; children's social care holds a CIN plan."""
        services.episode_close(
            actor=personas["allocated"],
            episode=episode,
            ended_on=episode.started_on,
            end_reason=ref.end_reason("STEP_UP"),
        )
        return cin_plan(episode.child)

    def request_url(self, family):
        return reverse("cases:step_down_request", kwargs={"reference": family.reference})

    def test_request_names_the_team_asked(self, family, episode, stepped_up, team, client_for):
        response = client_for("allocated").post(
            self.request_url(family),
            {
                "child": str(episode.child.uuid),
                "team": str(team.pk),
                "reason": "CIN plan ended.",
                **date_data("requested_on", timezone.localdate()),
            },
        )
        assert response.status_code == 302
        transition = Transition.objects.get()
        assert (transition.direction, transition.from_csc, transition.to_team) == (
            "step_down",
            stepped_up,
            team,
        )

    def test_teams_offered_are_those_that_worked_with_the_family(
        self, family, stepped_up, other_team, team, client_for
    ):
        page = page_of(client_for("allocated").get(self.request_url(family)))
        assert team.name in page and other_team.name not in page

    def test_without_csc_involvement_there_is_no_form(self, family, client_for):
        page = page_of(client_for("allocated").get(self.request_url(family)))
        assert "no child in this family has a children" in page.lower()
        assert 'name="child"' not in page

    def test_accepting_opens_the_episode_shown_on_the_family_record(
        self, family, episode, stepped_up, team, ref, client_for, personas
    ):
        transition = services.step_down_request(
            actor=personas["allocated"],
            family=family,
            child=episode.child,
            requested_on=timezone.localdate(),
            reason="CIN plan ended.",
            team=team,
        )
        response = client_for("manager").post(
            decide_url(transition),
            {
                "decision": "accepted",
                "service": str(ref.service().pk),
                "level": str(ref.level("L2").pk),
                "team": str(team.pk),
                "lead_practitioner": str(personas["allocated"].pk),
                "rationale": "Level 2 support at school.",
                **date_data("decided_on", timezone.localdate()),
            },
            follow=True,
        )
        opened = Episode.objects.get(ended_on__isnull=True)
        assert (opened.origin, opened.team, opened.lead_practitioner) == (
            "step_down",
            team,
            personas["allocated"],
        )
        page = page_of(response)
        assert "Step-down accepted. Early help episode opened for Ava Example." in page
        assert response.redirect_chain[-1][0].endswith("#episodes")
        assert "Early help episode opened from" in page

    def test_accepting_without_the_service_and_level_writes_nothing(
        self, family, episode, stepped_up, team, client_for, personas
    ):
        transition = services.step_down_request(
            actor=personas["allocated"],
            family=family,
            child=episode.child,
            requested_on=timezone.localdate(),
            reason="CIN plan ended.",
            team=team,
        )
        response = client_for("manager").post(
            decide_url(transition),
            {
                "decision": "accepted",
                "rationale": "Yes.",
                **date_data("decided_on", timezone.localdate()),
            },
        )
        page = page_of(response)
        assert "Choose the early help service that will take over" in page
        assert "Choose the level of need" in page
        transition.refresh_from_db()
        assert transition.decision == "pending"

    def test_only_a_manager_of_the_team_asked_decides(
        self, family, episode, stepped_up, team, other_team, personas
    ):
        from django.test import Client

        # the other team once worked with the family too, so its manager can see it
        services.episode_open(
            actor=personas["allocated"],
            family=family,
            child=episode.child,
            service=factories.Ref().service("YOUTH_SUPPORT"),
            level=factories.Ref().level("L2"),
            started_on=episode.started_on,
            origin="front_door",
            team=other_team,
        )
        transition = services.step_down_request(
            actor=personas["allocated"],
            family=family,
            child=episode.child,
            requested_on=timezone.localdate(),
            reason="CIN plan ended.",
            team=team,
        )
        other_manager = factories.UserFactory.with_role("team_manager", team=other_team)
        client = Client()
        client.force_login(other_manager)
        assert client.get(decide_url(transition)).status_code == 403
        assert "Ava Example" not in page_of(client.get(reverse("cases:step_decisions")))


class TestDecisionsQueue:
    def test_lists_what_waits_for_this_managers_teams(
        self, family, episode, other_team, team, ref, client_for, personas
    ):
        transition = step_up(episode, personas["allocated"])
        elsewhere = self.family_elsewhere(other_team, ref)
        step_up(elsewhere, elsewhere.lead_practitioner)

        page = page_of(client_for("manager").get(reverse("cases:step_decisions")))

        assert decide_url(transition) in page
        assert elsewhere.family.reference not in page

    def test_query_count_does_not_grow_with_the_queue(
        self, family, episode, team, ref, client_for, personas, django_assert_max_num_queries
    ):
        client = client_for("manager")
        url = reverse("cases:step_decisions")
        step_up(episode, personas["allocated"])
        with django_assert_max_num_queries(8) as few:
            client.get(url)
        for n in range(6):
            other = self.family_in(team, ref, personas["allocated"], n)
            step_up(other, personas["allocated"])
            services.closure_propose(
                actor=personas["allocated"],
                episode=self.episode_in(other.family, team, ref, personas["allocated"], n),
                end_reason=ref.end_reason("MOVED"),
                ended_on=timezone.localdate(),
            )
            child = services.person_create(
                actor=personas["allocated"],
                family=other.family,
                forename=f"Csc{n}",
                surname="Example",
                date_of_birth=D(2012, 1, 1),
            )
            cin_plan(child)
            services.step_down_request(
                actor=personas["allocated"],
                family=other.family,
                child=child,
                requested_on=timezone.localdate(),
                reason="CIN ended.",
                team=team,
            )
        with django_assert_max_num_queries(len(few.captured_queries)):
            page = page_of(client.get(url))
        assert page.count("(decide the step-up)") == 7
        assert page.count("(decide the step-down)") == 6
        assert page.count("(review the closure)") == 6

    @staticmethod
    def family_in(team, ref, lead, n):
        family = services.family_create(actor=lead)
        child = services.person_create(
            actor=lead,
            family=family,
            forename=f"Kid{n}",
            surname="Example",
            date_of_birth=D(2015, 1, 1),
        )
        return services.episode_open(
            actor=lead,
            family=family,
            child=child,
            service=ref.service(),
            level=ref.level("L3"),
            started_on=D(2026, 9, 1),
            origin="front_door",
            team=team,
            lead_practitioner=lead,
        )

    @staticmethod
    def episode_in(family, team, ref, lead, n):
        child = services.person_create(
            actor=lead,
            family=family,
            forename=f"Sib{n}",
            surname="Example",
            date_of_birth=D(2014, 1, 1),
        )
        return services.episode_open(
            actor=lead,
            family=family,
            child=child,
            service=ref.service(),
            level=ref.level("L2"),
            started_on=D(2026, 9, 1),
            origin="front_door",
            team=team,
            lead_practitioner=lead,
        )

    def family_elsewhere(self, other_team, ref):
        lead = factories.UserFactory.with_role("practitioner", team=other_team)
        return self.family_in(other_team, ref, lead, 99)


def ask_for_more(transition, manager, question="Send the school's attendance record."):
    return services.step_up_decide(
        actor=manager,
        transition=transition,
        decision="more_information",
        decided_on=timezone.localdate(),
        rationale=question,
    )


def information_url(transition) -> str:
    return reverse(
        "cases:step_information",
        kwargs={"reference": transition.family.reference, "uuid": transition.uuid},
    )


class TestMoreInformation:
    """The manager's question reaches the practitioner, whose answer goes back to the manager."""

    @pytest.fixture
    def asked(self, episode, personas):
        return ask_for_more(step_up(episode, personas["allocated"]), personas["manager"])

    def family_page(self, client, family) -> str:
        return page_of(client.get(reverse("cases:family", kwargs={"reference": family.reference})))

    def test_the_question_is_on_the_family_record_with_a_way_to_answer(
        self, family, asked, client_for
    ):
        page = self.family_page(client_for("allocated"), family)
        assert "A manager has asked for more information about the step-up for Ava Example" in (
            page
        )
        assert "Send the school&#x27;s attendance record." in page
        assert page.count(f'href="{information_url(asked)}"') == 2  # the banner and the step

    def test_read_only_staff_see_the_question_but_cannot_answer(self, family, asked, client_for):
        page = self.family_page(client_for("readonly"), family)
        assert "Send the school&#x27;s attendance record." in page
        assert information_url(asked) not in page

    def test_the_manager_who_asked_is_not_told_to_answer(self, family, asked, client_for):
        page = self.family_page(client_for("manager"), family)
        assert "A manager has asked for more information" not in page
        assert "Send the school&#x27;s attendance record." in page
        assert information_url(asked) not in page

    def test_the_requesters_caseload_lists_the_question(self, asked, client_for):
        mine = page_of(client_for("allocated").get(reverse("cases:caseload")))
        assert "A manager has asked you for more information" in mine
        assert f'href="{information_url(asked)}"' in mine
        theirs = page_of(client_for("colleague").get(reverse("cases:caseload")))
        assert "asked you for more information" not in theirs

    def test_the_caseload_forgets_a_question_once_its_family_is_out_of_sight(
        self, family, episode, asked, other_team, client_for
    ):
        # the family moved to another team, and the practitioner did not create its record
        Episode.objects.filter(pk=episode.pk).update(team=other_team, lead_practitioner=None)
        Family.objects.filter(pk=family.pk).update(created_by=None)
        page = page_of(client_for("allocated").get(reverse("cases:caseload")))
        assert "asked you for more information" not in page

    def test_the_answer_goes_back_to_the_manager(self, family, asked, client_for, personas):
        response = client_for("colleague").post(
            information_url(asked), {"information": "Attendance is 62% this term."}, follow=True
        )

        assert response.redirect_chain[-1][0].endswith("#transitions")
        page = page_of(response)
        team = asked.from_episode.team.name
        assert f"Information sent for the step-up for Ava Example. A manager of {team} will" in page
        asked.refresh_from_db()
        assert (asked.decision, asked.decided_on) == ("pending", None)
        assert list(asked.notes.values_list("kind", "written_by")) == [
            ("question", personas["manager"].pk),
            ("answer", personas["colleague"].pk),
        ]
        assert "A manager has asked for more information" not in page
        assert "Information supplied" in page and "Attendance is 62% this term." in page

    def test_an_empty_answer_is_asked_for_again(self, asked, client_for):
        response = client_for("allocated").post(information_url(asked), {"information": "  "})
        page = page_of(response)
        assert response.status_code == 200
        assert "Enter the information the manager asked for" in page
        assert 'href="#id_information"' in page
        asked.refresh_from_db()
        assert asked.decision == "more_information" and not asked.notes.exists()

    def test_an_answer_too_long_is_refused(self, asked, client_for):
        page = page_of(
            client_for("allocated").post(information_url(asked), {"information": "x" * 5001})
        )
        assert "Your answer must be 5,000 characters or fewer" in page
        asked.refresh_from_db()
        assert asked.decision == "more_information"

    def test_once_answered_there_is_nothing_to_answer(self, asked, client_for, personas):
        services.transition_information_supply(
            actor=personas["allocated"], transition=asked, information="Done."
        )
        client = client_for("allocated")
        page = page_of(client.get(information_url(asked)))
        assert "Nothing to answer: this request is awaiting decision." in page
        assert 'name="information"' not in page
        assert "Done." in page  # the exchange so far
        client.post(information_url(asked), {"information": "Again."})
        assert asked.notes.filter(kind="answer").count() == 1

    def test_a_step_of_another_family_is_not_found_here(
        self, family, asked, other_team, ref, client_for
    ):
        elsewhere = TestDecisionsQueue().family_elsewhere(other_team, ref)
        url = reverse(
            "cases:step_information",
            kwargs={"reference": elsewhere.family.reference, "uuid": asked.uuid},
        )
        assert client_for("allocated").get(url).status_code == 404
        # and this family's reference with a step of another family
        other_step = step_up(elsewhere, elsewhere.lead_practitioner)
        url = reverse(
            "cases:step_information",
            kwargs={"reference": family.reference, "uuid": other_step.uuid},
        )
        assert client_for("allocated").get(url).status_code == 404

    def test_the_queue_flags_the_answer_and_the_decide_page_shows_the_exchange(
        self, asked, client_for, personas
    ):
        client = client_for("manager")
        queue = page_of(client.get(reverse("cases:step_decisions")))
        assert "More information requested" in queue and "Information supplied" not in queue

        services.transition_information_supply(
            actor=personas["allocated"], transition=asked, information="Attendance is 62%."
        )
        queue = page_of(client.get(reverse("cases:step_decisions")))
        assert "Information supplied" in queue and "More information requested" not in queue

        page = page_of(client.get(decide_url(asked)))
        question = page.index("Send the school&#x27;s attendance record.")
        answer = page.index("Attendance is 62%.")
        assert question < answer < page.index('name="decision"')
        assert personas["allocated"].get_full_name() in page[question : answer + 200]

    def test_a_question_waiting_is_shown_on_the_decide_page(self, asked, client_for):
        page = page_of(client_for("manager").get(decide_url(asked)))
        assert "Waiting for an answer" in page
        assert "Send the school&#x27;s attendance record." in page

    def test_the_caseload_asks_no_more_queries_for_more_questions(
        self, asked, team, ref, client_for, personas, django_assert_max_num_queries
    ):
        client = client_for("allocated")
        with django_assert_max_num_queries(12) as one:
            client.get(reverse("cases:caseload"))
        for n in range(5):
            other = TestDecisionsQueue.family_in(team, ref, personas["allocated"], n)
            ask_for_more(step_up(other, personas["allocated"]), personas["manager"])
        with django_assert_max_num_queries(len(one.captured_queries)):
            page = page_of(client.get(reverse("cases:caseload")))
        assert page.count("/information/") == 6
