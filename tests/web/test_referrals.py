"""Requests for support: the triage inbox, a partner's request with its match candidates, and
the triage decision form, with the service rules behind them."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from time_machine import travel

from cases import services
from cases.models import (
    AccessLog,
    CaseEvent,
    Episode,
    FamilyMembership,
    MatchCandidate,
    Person,
    Referral,
    SubmittedPerson,
)
from tests import factories
from tests.web.frontdoor_data import partner_request

D = dt.date
PERSONAS = ("allocated", "readonly", "outsider", "partner", "stranger_partner", "anonymous")


def url(name, referral, **kwargs):
    return reverse(name, kwargs={"reference": referral.reference, **kwargs})


def record(family, actor, ref, *, received_at, source="2A", **kwargs):
    return services.referral_record(
        actor=actor,
        family=family,
        source=ref.source(source),
        received_at=received_at,
        reason="Family asked for help with routines.",
        **kwargs,
    )


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 30)))


@pytest.fixture
def request_for_ava(family, school):
    """A school's request for Ava (already recorded in the personas' family) and a new parent."""
    return partner_request(school)


def ava_candidate(referral):
    return MatchCandidate.objects.get(
        submitted_person__submission__referral=referral, submitted_person__role="child"
    )


# --- Inbox ---------------------------------------------------------------------------------


@travel(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))
def test_inbox_puts_the_longest_waiting_first_with_their_age(
    family, personas, ref, school, client_for
):
    allocated = personas["allocated"]
    newer = record(family, allocated, ref, received_at=at(D(2026, 11, 20)))
    older = record(family, allocated, ref, received_at=at(D(2026, 11, 9)))
    decided = record(family, allocated, ref, received_at=at(D(2026, 11, 1)))
    services.referral_triage(
        actor=allocated, referral=decided, decision="advice", decided_on=D(2026, 11, 2)
    )
    partner = partner_request(school, partner_reference="SCH-77")

    page = client_for("colleague").get(reverse("cases:referral_inbox")).content.decode()

    # awaiting triage only by default, oldest first, each with its age in days
    assert page.index(older.reference) < page.index(newer.reference) < page.index(partner.reference)
    assert decided.reference not in page
    assert "Waiting 14 days" in page and "Waiting 3 days" in page and "Waiting 0 days" in page
    # a partner's request names the organisation and its own reference
    assert "Example Primary" in page and "Their reference: SCH-77" in page

    everything = client_for("colleague").get(reverse("cases:referral_inbox"), {"status": ""})
    page = everything.content.decode()
    assert page.index(partner.reference) < page.index(decided.reference)  # awaiting first


@travel(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))
def test_inbox_filters_by_source_and_received_dates_and_sorts(family, personas, ref, client_for):
    allocated = personas["allocated"]
    school_request = record(family, allocated, ref, received_at=at(D(2026, 11, 10)))
    police_request = record(family, allocated, ref, source="5A", received_at=at(D(2026, 11, 12)))
    client = client_for("allocated")

    by_source = client.get(reverse("cases:referral_inbox"), {"source": "5A"}).content.decode()
    assert police_request.reference in by_source and school_request.reference not in by_source

    dated = client.get(
        reverse("cases:referral_inbox"),
        {"received_from": "11/11/2026", "received_to": "12/11/2026"},
    ).content.decode()
    assert police_request.reference in dated and school_request.reference not in dated

    newest_first = client.get(reverse("cases:referral_inbox"), {"sort": "-received"})
    page = newest_first.content.decode()
    assert page.index(police_request.reference) < page.index(school_request.reference)
    assert 'aria-sort="descending"' in page


def test_inbox_explains_a_date_it_cannot_read(family, client_for):
    response = client_for("allocated").get(
        reverse("cases:referral_inbox"), {"received_from": "31/02/2026"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page and "Received from must be a real date" in page
    assert page.count('value="31/02/2026"') == 1  # what was typed is still there
    assert "<title>Error:" in page


def test_inbox_query_count_does_not_grow(
    family, personas, ref, school, client_for, django_assert_max_num_queries
):
    client = client_for("manager")
    record(family, personas["allocated"], ref, received_at=at(D(2026, 1, 1)))
    with django_assert_max_num_queries(12) as small:
        client.get(reverse("cases:referral_inbox"), {"status": ""})
    baseline = len(small.captured_queries)  # before any other request clears the query log
    for n in range(12):
        record(family, personas["allocated"], ref, received_at=at(D(2026, 1, 2 + n)))
    partner_request(school)
    with django_assert_max_num_queries(baseline):
        response = client.get(reverse("cases:referral_inbox"), {"status": ""})
    assert response.content.decode().count("Awaiting triage</strong>") == 14


# --- A request and its people --------------------------------------------------------------


def test_request_shows_what_was_sent_and_the_match_candidates(
    request_for_ava, family, personas, client_for
):
    page = client_for("colleague").get(url("cases:referral", request_for_ava)).content.decode()

    assert "Attendance has dropped to 70% this term" in page  # in the referrer's words
    assert "Getting a good education" in page  # needs
    assert "Given by Grace Example (mother)" in page  # consent
    assert "Sam Teacher, Designated safeguarding lead" in page
    assert "Their reference: SCH-2026-0042" in page
    # the match candidate for Ava, with score and reasons, and what to do with it
    assert "100% likely" in page and "date of birth identical" in page
    assert f'Family <span class="app-nowrap">{family.reference}</span>.' in page
    assert "Same person" in page and "Not this person" in page
    # the new parent has no candidate; they are recorded as new once the children are checked,
    # so that they join the family the children are found in
    assert "No existing record looks like Nia" in page
    assert "Check the children first" in page and "Record as a new person" not in page
    # showing Ava's existing record to triage is a view of it
    ava = Person.objects.get(forename="Ava")
    assert AccessLog.objects.filter(
        user=personas["colleague"], family=family, person=ava, what="cases:referral"
    ).exists()


def test_read_only_sees_the_request_but_no_decisions(request_for_ava, client_for):
    page = client_for("readonly").get(url("cases:referral", request_for_ava)).content.decode()

    assert "100% likely" in page
    assert "Same person" not in page and "Make the triage decision" not in page


def test_confirming_a_match_links_the_family_and_child(request_for_ava, family, client_for):
    candidate = ava_candidate(request_for_ava)
    submitted = candidate.submitted_person

    response = client_for("colleague").post(
        url("cases:referral_person", request_for_ava, person=submitted.uuid),
        {"action": "confirm", "match": candidate.person.uuid},
    )

    assert response.status_code == 302
    assert response["Location"].endswith("#people")
    submitted.refresh_from_db()
    request_for_ava.refresh_from_db()
    assert submitted.resolution == "matched" and submitted.person == candidate.person
    assert request_for_ava.family == family
    assert list(request_for_ava.children.all()) == [candidate.person]
    assert Person.objects.filter(forename="Ava").count() == 1  # nobody was duplicated


def test_rejecting_then_recording_a_new_person(request_for_ava, family, client_for):
    candidate = ava_candidate(request_for_ava)
    submitted = candidate.submitted_person
    client = client_for("colleague")
    person_url = url("cases:referral_person", request_for_ava, person=submitted.uuid)

    client.post(person_url, {"action": "reject", "match": candidate.person.uuid})
    client.post(person_url, {"action": "create"})

    candidate.refresh_from_db()
    submitted.refresh_from_db()
    assert candidate.status == "rejected"
    assert submitted.resolution == "created" and submitted.person != candidate.person
    request_for_ava.refresh_from_db()
    assert request_for_ava.family != family  # a new household, from the submitted address
    assert request_for_ava.family.postcode == "LS6 2AB"


def test_recording_new_before_rejecting_matches_is_refused_and_explained(
    request_for_ava, client_for
):
    submitted = ava_candidate(request_for_ava).submitted_person
    client = client_for("colleague")

    response = client.post(
        url("cases:referral_person", request_for_ava, person=submitted.uuid),
        {"action": "create"},
        follow=True,
    )

    assert "Confirm or reject each possible match first" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.resolution == "pending"
    assert Person.objects.filter(forename="Ava").count() == 1


def test_a_candidate_of_another_person_is_not_found(request_for_ava, client_for):
    parent = request_for_ava.partner_submission.people.get(role="parent")
    candidate = ava_candidate(request_for_ava)

    response = client_for("colleague").post(
        url("cases:referral_person", request_for_ava, person=parent.uuid),
        {"action": "confirm", "match": candidate.person.uuid},
    )

    assert response.status_code == 404
    candidate.refresh_from_db()
    assert candidate.status == "pending"


POST_PERSON = {
    "allocated": 302,
    "readonly": 403,
    "outsider": 302,  # every council practitioner triages requests awaiting it
    "partner": 403,
    "stranger_partner": 404,
    "anonymous": 302,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_resolving_a_person_by_persona(request_for_ava, persona, client_for):
    submitted = ava_candidate(request_for_ava).submitted_person

    response = client_for(persona).post(
        url("cases:referral_person", request_for_ava, person=submitted.uuid), {"action": "create"}
    )

    assert response.status_code == POST_PERSON[persona]
    if persona == "anonymous":
        assert response["Location"].startswith("/sign-in/")
    submitted.refresh_from_db()
    assert submitted.resolution == "pending"  # refused: the match is still to be decided


# --- Triage decision -----------------------------------------------------------------------


def linked_request(request_for_ava, actor):
    services.match_candidate_confirm(actor=actor, candidate=ava_candidate(request_for_ava))
    parent = request_for_ava.partner_submission.people.get(role="parent")
    services.submitted_person_create_new(actor=actor, submitted=parent)
    request_for_ava.refresh_from_db()
    return request_for_ava


def decision_form(**fields):
    today = timezone.localdate()
    return {
        "decided_on_0": today.day,
        "decided_on_1": today.month,
        "decided_on_2": today.year,
        "notes": "",
        **fields,
    }


@pytest.fixture
def second_child(family, personas):
    return services.person_create(
        actor=personas["allocated"],
        family=family,
        forename="Ben",
        surname="Example",
        date_of_birth=D(2019, 6, 1),
    )


def test_triage_to_early_help_opens_an_episode_for_the_chosen_child(
    request_for_ava, family, personas, team, ref, second_child, client_for
):
    referral = linked_request(request_for_ava, personas["colleague"])
    client = client_for("colleague")
    page = client.get(url("cases:referral_triage", referral)).content.decode()
    assert "Ben Example" in page and "Ava Example" in page  # the family's children to choose

    response = client.post(
        url("cases:referral_triage", referral),
        decision_form(
            decision="early_help",
            level="L2",
            service="YOUTH_SUPPORT",
            team=team.code,
            lead_practitioner=personas["colleague"].uuid,
            children=[second_child.uuid],
            notes="Ben's routines at home.",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == url("cases:referral", referral)
    referral.refresh_from_db()
    assert (referral.status, referral.decision, referral.decision_notes) == (
        "decided",
        "early_help",
        "Ben's routines at home.",
    )
    episode = Episode.objects.get(referral=referral)
    assert episode.child == second_child
    assert (episode.team, episode.lead_practitioner, episode.level.code) == (
        team,
        personas["colleague"],
        "L2",
    )
    assert episode.origin == Episode.Origin.PARTNER
    assert list(referral.children.all()) == [second_child]


def test_triage_errors_keep_what_was_typed(request_for_ava, personas, client_for):
    referral = linked_request(request_for_ava, personas["colleague"])

    response = client_for("colleague").post(
        url("cases:referral_triage", referral),
        decision_form(decision="early_help", level="L3", notes="Keep this note", decided_on_0="32"),
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.startswith("<!DOCTYPE html>") and "<title>Error:" in page
    assert "govuk-error-summary" in page
    for message in (
        "Select the service",
        "Select the team that will hold the work",
        "Date of the decision must be a real date",
    ):
        assert message in page
    assert "Keep this note" in page
    assert re.search(r'value="L3"\s+checked="checked"', page)
    assert 'name="decided_on_0" value="32"' in page
    referral.refresh_from_db()
    assert referral.status == "received"


def test_triage_refusal_from_the_service_lands_on_its_field(
    request_for_ava, personas, team, other_team, client_for
):
    referral = linked_request(request_for_ava, personas["colleague"])

    response = client_for("colleague").post(
        url("cases:referral_triage", referral),
        decision_form(
            decision="early_help",
            level="L3",
            service="FAMILY_SUPPORT",
            team=other_team.code,
            lead_practitioner=personas["colleague"].uuid,  # works in `team`, not other_team
            children=[ava_candidate(referral).person.uuid],
        ),
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["lead_practitioner"] == [f"Choose someone who works in {other_team}."]
    assert not Episode.objects.filter(referral=referral).exists()


def test_partner_request_cannot_open_work_before_its_children_are_checked(
    request_for_ava, team, personas, client_for
):
    response = client_for("colleague").post(
        url("cases:referral_triage", request_for_ava),
        decision_form(decision="escalate_csc"),
    )

    assert response.status_code == 200
    assert "Check each child in the request first" in response.content.decode()


def test_signposting_a_partner_request_tells_the_partner_why(request_for_ava, client_for):
    response = client_for("colleague").post(
        url("cases:referral_triage", request_for_ava),
        decision_form(decision="advice", partner_reason="Signposted to the family hub."),
    )

    assert response.status_code == 302
    request_for_ava.refresh_from_db()
    assert request_for_ava.decision == "advice"
    assert request_for_ava.partner_submission.partner_visible_reason == (
        "Signposted to the family hub."
    )


def test_a_decided_request_sends_the_form_back_to_the_request(
    request_for_ava, personas, client_for
):
    services.referral_decide(
        actor=personas["colleague"],
        referral=request_for_ava,
        decision="no_further_action",
        decided_on=timezone.localdate(),
    )

    response = client_for("colleague").get(url("cases:referral_triage", request_for_ava))

    assert response.status_code == 302
    page = client_for("colleague").get(url("cases:referral", request_for_ava)).content.decode()
    assert "No further action" in page and "Make the triage decision" not in page


POST_TRIAGE = {
    "allocated": 200,  # an empty decision: the form comes back with its errors
    "readonly": 403,
    "outsider": 200,
    "partner": 403,
    "stranger_partner": 404,
    "anonymous": 302,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_posting_a_triage_decision_by_persona(request_for_ava, persona, client_for):
    response = client_for(persona).post(url("cases:referral_triage", request_for_ava), {})

    assert response.status_code == POST_TRIAGE[persona]
    request_for_ava.refresh_from_db()
    assert request_for_ava.status == "received"


# --- The service behind the form: referral_decide -------------------------------------------


class TestReferralDecide:
    def test_sets_the_chosen_children_and_opens_their_episodes(
        self, family, personas, team, ref, second_child
    ):
        referral = record(
            family, personas["allocated"], ref, received_at=at(D(2026, 1, 5)), children=[]
        )

        services.referral_decide(
            actor=personas["manager"],
            referral=referral,
            decision="early_help",
            decided_on=D(2026, 1, 6),
            children=[second_child],
            level=ref.level("L2"),
            service=ref.service("YOUTH_SUPPORT"),
            team=team,
        )

        episode = Episode.objects.get(referral=referral)
        assert (episode.child, episode.team, episode.lead_practitioner) == (
            second_child,
            team,
            None,
        )
        assert CaseEvent.objects.filter(family=family, kind="referral_triaged").exists()

    def test_a_child_outside_the_family_is_refused(self, family, personas, team, ref):
        referral = record(family, personas["allocated"], ref, received_at=at(D(2026, 1, 5)))
        stranger = factories.PersonFactory()

        with pytest.raises(ValidationError) as refused:
            services.referral_decide(
                actor=personas["manager"],
                referral=referral,
                decision="escalate_csc",
                decided_on=D(2026, 1, 6),
                children=[stranger],
            )

        assert "children" in refused.value.message_dict
        referral.refresh_from_db()
        assert referral.status == "received"

    def test_an_adult_of_the_family_is_not_a_child_for_triage(self, family, personas, ref):
        referral = record(family, personas["allocated"], ref, received_at=at(D(2026, 1, 5)))
        parent = services.person_create(
            actor=personas["allocated"],
            family=family,
            role=FamilyMembership.Role.PARENT,
            forename="Jo",
            surname="Example",
            date_of_birth=D(1985, 1, 1),
        )

        with pytest.raises(ValidationError, match="child of the family"):
            services.referral_decide(
                actor=personas["manager"],
                referral=referral,
                decision="escalate_csc",
                decided_on=D(2026, 1, 6),
                children=[parent],
            )

    def test_acting_needs_at_least_one_child(self, family, personas, ref):
        referral = record(family, personas["allocated"], ref, received_at=at(D(2026, 1, 5)))

        with pytest.raises(ValidationError) as refused:
            services.referral_decide(
                actor=personas["manager"],
                referral=referral,
                decision="escalate_csc",
                decided_on=D(2026, 1, 6),
                children=[],
            )

        assert "children" in refused.value.message_dict

    def test_early_help_needs_a_team(self, family, personas, ref, second_child):
        referral = record(family, personas["allocated"], ref, received_at=at(D(2026, 1, 5)))

        with pytest.raises(ValidationError) as refused:
            services.referral_decide(
                actor=personas["manager"],
                referral=referral,
                decision="early_help",
                decided_on=D(2026, 1, 6),
                children=[second_child],
                level=ref.level("L2"),
                service=ref.service("YOUTH_SUPPORT"),
            )

        assert "team" in refused.value.message_dict
        assert not Episode.objects.filter(referral=referral).exists()

    def test_the_lead_practitioner_must_work_in_the_team(
        self, family, personas, team, ref, second_child
    ):
        referral = record(family, personas["allocated"], ref, received_at=at(D(2026, 1, 5)))

        with pytest.raises(ValidationError) as refused:
            services.referral_decide(
                actor=personas["manager"],
                referral=referral,
                decision="early_help",
                decided_on=D(2026, 1, 6),
                children=[second_child],
                level=ref.level("L2"),
                service=ref.service("YOUTH_SUPPORT"),
                team=team,
                lead_practitioner=personas["outsider"],
            )

        assert "lead_practitioner" in refused.value.message_dict

    def test_a_partners_unchecked_child_blocks_opening_work(self, request_for_ava, personas):
        with pytest.raises(ValidationError, match="Check each child"):
            services.referral_decide(
                actor=personas["colleague"],
                referral=request_for_ava,
                decision="escalate_csc",
                decided_on=timezone.localdate(),
            )

        assert SubmittedPerson.objects.filter(resolution="pending").count() == 2

    def test_advice_opens_nothing_and_ignores_the_team(self, family, personas, team, ref):
        referral = record(family, personas["allocated"], ref, received_at=at(D(2026, 1, 5)))

        services.referral_decide(
            actor=personas["manager"],
            referral=referral,
            decision="advice",
            decided_on=D(2026, 1, 6),
            team=team,
        )

        referral.refresh_from_db()
        assert referral.decision == Referral.Decision.ADVICE
        assert not Episode.objects.filter(referral=referral).exists()
