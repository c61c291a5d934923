"""Matching proposes existing people with a score and reasons; triage decides, never the code."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cases import matching, services
from cases.matching import Facts
from cases.models import FamilyMembership, MatchCandidate, Person, SubmittedPerson
from tests import factories
from tests.api.conftest import post

ADA = Facts("Ada", "Example", dt.date(2016, 5, 14), "", frozenset({"LS14AP"}))


@pytest.mark.parametrize(
    ("existing", "expected", "reason"),
    [
        (ADA, Decimal(100), "date of birth identical"),
        (Facts("Ada", "Example", dt.date(2016, 5, 14)), Decimal(90), "surname identical (100%)"),
        (Facts("Ada", "Exampel", ADA.born_on, "", ADA.postcodes), Decimal(85), "surname similar"),
        (
            Facts("ada", "EXAMPLE", dt.date(2016, 5, 15), "", ADA.postcodes),
            Decimal(85),
            "date of birth within two days",
        ),
        (Facts("Ada", "Example", None, "", ADA.postcodes), Decimal(70), "postcode identical"),
        (
            Facts("Ada", "Example", ADA.born_on, "", frozenset({"LS29JT"})),
            Decimal(90),
            "forename identical",
        ),
        (
            Facts("Ada", "Example", ADA.born_on, "", frozenset({"LS14ZZ"})),
            Decimal(95),
            "same postcode district",
        ),
        (
            Facts("Bea", "Example", ADA.born_on, "", ADA.postcodes),
            Decimal(60),
            "forename different",
        ),
        (Facts("Bob", "Smith", dt.date(2001, 1, 1)), Decimal(0), "surname different"),
    ],
    ids=[
        "same",
        "no postcode",
        "typo",
        "a day out",
        "no birth date",
        "moved",
        "nearby",
        "twin",
        "stranger",
    ],
)
def test_scores_weigh_names_birth_date_and_postcode(existing, expected, reason):
    score, reasons = matching.score(ADA, existing)

    assert score == expected
    assert any(r.startswith(reason) for r in reasons), reasons


def test_swapped_day_and_month_is_a_near_miss():
    submitted = Facts("Ada", "Example", dt.date(2016, 5, 4))
    score, reasons = matching.score(submitted, Facts("Ada", "Example", dt.date(2016, 4, 5)))

    assert score == Decimal(80) and "date of birth with day and month swapped" in reasons


def test_nhs_numbers_decide():
    with_nhs = Facts("Ada", "Example", dt.date(2016, 5, 14), "9434765919")

    assert matching.score(with_nhs, Facts("Zed", "Other", None, "9434765919")) == (
        Decimal(100),
        ("NHS number identical",),
    )
    assert (
        matching.score(with_nhs, Facts("Ada", "Example", dt.date(2016, 5, 14), "9434765870"))[0]
        == 0
    )


def test_names_are_compared_without_accents_case_or_punctuation():
    assert matching.normalise_name("  Zoë-Anne  O'Brien ") == "zoeanne obrien"


def test_reasons_never_repeat_the_facts():
    _, reasons = matching.score(ADA, Facts("Ada", "Exampel", dt.date(2016, 5, 14)))

    assert not any("Ada" in r or "Exampel" in r or "2016" in r for r in reasons)


@pytest.fixture
def known(db):
    family = factories.FamilyFactory(postcode="LS1 4AP")
    people = {
        "ada": factories.PersonFactory(
            forename="Ada", surname="Example", date_of_birth=dt.date(2016, 5, 14)
        ),
        "ada_nhs": factories.PersonFactory(
            forename="A",
            surname="Elsewhere",
            date_of_birth=dt.date(2000, 1, 1),
            nhs_number="9434765919",
        ),
        "twin": factories.PersonFactory(
            forename="Bea", surname="Example", date_of_birth=dt.date(2016, 5, 14)
        ),
        "stranger": factories.PersonFactory(
            forename="Cy", surname="Other", date_of_birth=dt.date(2016, 5, 14)
        ),
    }
    family.memberships.create(person=people["ada"], role="child")
    return people


def test_candidates_come_from_nhs_number_and_birth_date(known):
    submitted = Facts("Ada", "Example", dt.date(2016, 5, 14), "9434765919", frozenset({"LS14AP"}))

    found = matching.find_candidates(submitted)

    # the same NHS number, and the same name and date of birth; not the twin or the stranger
    assert {m.person_id: m.reasons[0] for m in found} == {
        known["ada_nhs"].pk: "NHS number identical",
        known["ada"].pk: "surname identical (100%)",
    }
    without_nhs = Facts("Ada", "Example", dt.date(2016, 5, 14), "", frozenset({"LS14AP"}))
    assert [m.person_id for m in matching.find_candidates(without_nhs)] == [known["ada"].pk]


def test_finding_candidates_takes_a_fixed_number_of_queries(known, django_assert_num_queries):
    for n in range(30):
        factories.PersonFactory(surname="Example", date_of_birth=dt.date(2016, 1 + n % 12, 1))
    submitted = Facts("Ada", "Example", dt.date(2016, 5, 14), "", frozenset({"LS14AP"}))

    with django_assert_num_queries(3):
        matching.find_candidates(submitted)


@pytest.fixture
def submitted_ada(api, body, known):
    """A partner request for Ada, followed up, so triage has candidates to decide."""
    del body["children"][0]["nhs_number"]
    response = post(api, body)
    assert response.status_code == 201
    submitted = SubmittedPerson.objects.get(role="child")
    services.partner_follow_up_run(submission_id=submitted.submission_id)
    return submitted


def test_confirming_links_the_existing_person_family_and_child(submitted_ada, known, practitioner):
    candidate = submitted_ada.candidates.get(person=known["ada"])

    services.match_candidate_confirm(actor=practitioner, candidate=candidate)

    submitted_ada.refresh_from_db()
    assert (submitted_ada.resolution, submitted_ada.person) == ("matched", known["ada"])
    referral = submitted_ada.submission.referral
    referral.refresh_from_db()
    assert referral.family == known["ada"].family_memberships.get().family
    assert list(referral.children.all()) == [known["ada"]]
    assert referral.family.events.filter(kind="partner_person_resolved").exists()
    # nothing about the existing record was overwritten by what the partner sent
    assert Person.objects.get(pk=known["ada"].pk).nhs_number == ""


def test_confirming_rejects_the_other_candidates(submitted_ada, known, practitioner):
    other = MatchCandidate.objects.create(
        submitted_person=submitted_ada, person=known["twin"], score=71, reasons=[]
    )
    candidate = submitted_ada.candidates.get(person=known["ada"])

    services.match_candidate_confirm(actor=practitioner, candidate=candidate)

    other.refresh_from_db()
    assert other.status == "rejected" and other.decided_by == practitioner
    with pytest.raises(ValidationError, match="already"):
        services.match_candidate_confirm(actor=practitioner, candidate=other)


def test_a_new_person_needs_every_candidate_rejected_first(submitted_ada, practitioner):
    with pytest.raises(ValidationError, match="Confirm or reject each possible match first"):
        services.submitted_person_create_new(actor=practitioner, submitted=submitted_ada)

    for candidate in submitted_ada.candidates.all():
        services.match_candidate_reject(actor=practitioner, candidate=candidate)
    person = services.submitted_person_create_new(actor=practitioner, submitted=submitted_ada)

    referral = submitted_ada.submission.referral
    referral.refresh_from_db()
    assert referral.family.postcode == "LS1 4AP"
    assert FamilyMembership.objects.get(person=person).family == referral.family
    assert list(referral.children.all()) == [person]
    with pytest.raises(ValidationError, match="already resolved"):
        services.submitted_person_create_new(actor=practitioner, submitted=submitted_ada)


def test_adults_join_the_family_without_becoming_children_of_the_request(
    submitted_ada, practitioner
):
    for candidate in submitted_ada.candidates.all():
        services.match_candidate_reject(actor=practitioner, candidate=candidate)
    services.submitted_person_create_new(actor=practitioner, submitted=submitted_ada)
    parent = SubmittedPerson.objects.get(role="parent")

    person = services.submitted_person_create_new(actor=practitioner, submitted=parent)

    assert FamilyMembership.objects.get(person=person).role == "parent"
    assert person not in submitted_ada.submission.referral.children.all()
