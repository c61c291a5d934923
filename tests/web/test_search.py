"""Find a family or person, and adding people and families without creating duplicates."""

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from cases.models import CaseEvent, Family, FamilyMembership, Person
from cases.selectors import family_search
from tests import factories
from tests.personas import family_with_child

D = dt.date
NHS = "9434765919"  # synthetic, valid check digit
PERSONAS = ("allocated", "readonly", "outsider", "partner", "stranger_partner", "anonymous")


def search(client, **params):
    return client.get(reverse("cases:search"), params).content.decode()


# --- Search --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"surname": "exA"},
        {"surname": "Example", "forename": "av"},
        {"date_of_birth_0": "4", "date_of_birth_1": "3", "date_of_birth_2": "2016"},
        {"postcode": "ls6"},
        {"postcode": "LS6 2AB"},
        {"reference": "{reference}"},
        {"reference": "{digits}"},
    ],
    ids=["surname prefix", "forename", "birth date", "district", "postcode", "reference", "digits"],
)
def test_search_finds_the_family_with_its_members(family, client_for, params):
    # References come from a PostgreSQL sequence that tests do not reset: use the real one.
    digits = str(int(family.reference.removeprefix("F-")))
    params = {
        key: value.format(reference=family.reference, digits=digits)
        for key, value in params.items()
    }
    page = search(client_for("colleague"), **params)

    assert "1 family found" in page
    assert f"Family {family.reference}" in page
    assert "Ava Example" in page and "born 4 Mar 2016" in page


def test_search_by_nhs_number_as_typed_with_spaces(family, personas, team, ref, client_for):
    other = family_with_child(
        personas["allocated"], team, ref, forename="Noor", surname="Other", born=D(2015, 1, 2),
        nhs_number=NHS,
    )  # fmt: skip

    page = search(client_for("colleague"), nhs_number="943 476 5919")

    assert f"Family {other.reference}" in page and "Ava Example" not in page


def test_search_only_finds_families_the_user_may_see(family, personas, other_team, ref, client_for):
    elsewhere = family_with_child(
        personas["outsider"], other_team, ref, forename="Ava", surname="Exampleton",
        born=D(2016, 3, 4),
    )  # fmt: skip

    mine = search(client_for("colleague"), surname="example")
    theirs = search(client_for("outsider"), surname="example")

    assert family.reference in mine and elsewhere.reference not in mine
    assert elsewhere.reference in theirs and family.reference not in theirs


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"surname": ""}, "Enter a name, date of birth, NHS number, reference or postcode"),
        ({"surname": "E"}, "Enter at least 2 letters of the surname"),
        ({"nhs_number": "9434765918"}, "Enter a valid NHS number"),
        ({"reference": "X-1"}, "Enter a family reference like F-000123"),
        (
            {"date_of_birth_0": "30", "date_of_birth_1": "2", "date_of_birth_2": "2016"},
            "Date of birth must be a real date",
        ),
    ],
    ids=["nothing", "one letter", "check digit", "reference", "date"],
)
def test_search_explains_what_to_fix(family, client_for, params, message):
    response = client_for("colleague").get(reverse("cases:search"), params)

    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page and message in page
    assert "<title>Error:" in page
    assert "families found" not in page


def test_search_query_count_does_not_grow(
    family, personas, team, ref, client_for, django_assert_max_num_queries
):
    client = client_for("colleague")
    with django_assert_max_num_queries(12) as small:
        search(client, surname="exa")
    baseline = len(small.captured_queries)
    for n in range(12):
        family_with_child(
            personas["allocated"], team, ref, forename=f"Child{n}", surname="Example",
            born=D(2015, 1, 1 + n),
        )  # fmt: skip
    with django_assert_max_num_queries(baseline):
        page = search(client, surname="exa")
    assert "13 families found" in page


@pytest.mark.postgres
def test_search_criteria_can_use_their_indexes_on_postgresql(family, personas):
    """Each criterion's SQL matches an index of migration 0005 (on a tiny table PostgreSQL
    would scan anyway, so sequential scans are switched off to ask whether it *could*)."""
    user = personas["colleague"]
    expected: dict[str, tuple[str, dict[str, Any]]] = {
        "surname": ("person_surname_forename_prefix", {"surname": "exa"}),
        "forename": ("person_forename_prefix", {"forename": "av"}),
        "date_of_birth": ("person_date_of_birth", {"date_of_birth": D(2016, 3, 4)}),
        "nhs_number": ("person_nhs_number_unique", {"nhs_number": NHS}),
        "postcode": ("family_postcode_prefix", {"postcode": "LS62"}),
        "reference": ("cases_family_reference", {"reference": "F-000001"}),
    }
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for criterion, (index, criteria) in expected.items():
                plan = family_search(user, **criteria).explain()
                assert index in plan, (criterion, plan)
        finally:
            cursor.execute("SET enable_seqscan = on")


# --- Add a person to a family ----------------------------------------------------------------


def details(**fields):
    return {
        "forename": "Noah",
        "surname": "Sample",
        "date_of_birth_0": "9",
        "date_of_birth_1": "10",
        "date_of_birth_2": "2018",
        "role": "child",
        "sex": "M",
        "nhs_number": "",
        **fields,
    }


def add_url(family):
    return reverse("cases:person_add", kwargs={"reference": family.reference})


def test_a_new_person_with_no_likely_match_is_added_at_once(family, personas, client_for):
    response = client_for("colleague").post(add_url(family), details(nhs_number="943 476 5919"))

    assert response.status_code == 302
    assert response["Location"] == reverse("cases:family", kwargs={"reference": family.reference})
    noah = Person.objects.get(forename="Noah")
    assert noah.nhs_number == NHS
    assert FamilyMembership.objects.get(person=noah).family == family
    assert CaseEvent.objects.filter(family=family, kind="member_added", person=noah).exists()


@pytest.fixture
def noah_elsewhere(personas, team, ref):
    """Noah Sample, already recorded in another family the team works with."""
    return family_with_child(
        personas["allocated"], team, ref, forename="Noah", surname="Sample", born=D(2018, 10, 9)
    )


def test_a_likely_match_is_offered_before_anyone_is_created(
    family, noah_elsewhere, personas, client_for
):
    client = client_for("colleague")

    response = client.post(add_url(family), details(forename="noah "))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Check if this person is already recorded" in page
    assert "Noah Sample, born 9 October 2018" in page
    assert f"Family {noah_elsewhere.reference}. 90% likely" in page  # another postcode
    assert "None of these: create a new record" in page
    assert Person.objects.filter(forename="Noah").count() == 1  # nothing created yet
    # what was typed travels with the choice
    assert 'name="forename" value="noah "' in page


def test_choosing_the_existing_person_adds_them_not_a_copy(
    family, noah_elsewhere, personas, client_for
):
    noah = Person.objects.get(forename="Noah")

    response = client_for("colleague").post(
        add_url(family), details(checked="", match=str(noah.uuid), role="sibling")
    )

    assert response.status_code == 302
    assert Person.objects.filter(forename="Noah").count() == 1
    assert set(noah.family_memberships.values_list("family__reference", "role")) == {
        (noah_elsewhere.reference, "child"),
        (family.reference, "sibling"),
    }


def test_none_of_these_creates_a_new_record(family, noah_elsewhere, client_for):
    response = client_for("colleague").post(add_url(family), details(checked="", match="new"))

    assert response.status_code == 302
    assert Person.objects.filter(forename="Noah").count() == 2


def test_the_match_step_needs_an_answer_and_can_go_back(family, noah_elsewhere, client_for):
    client = client_for("colleague")

    unanswered = client.post(add_url(family), details(checked=""))
    assert "Select the person, or that none of these is them" in unanswered.content.decode()
    assert "<title>Error:" in unanswered.content.decode()

    back = client.post(add_url(family), details(change="", surname="Samples"))
    page = back.content.decode()
    assert "Add a person to this family" in page and 'value="Samples"' in page


def test_people_the_user_may_not_see_are_never_offered(
    family, personas, other_team, ref, client_for
):
    family_with_child(
        personas["outsider"], other_team, ref, forename="Noah", surname="Sample",
        born=D(2018, 10, 9),
    )  # fmt: skip

    response = client_for("colleague").post(add_url(family), details())

    assert response.status_code == 302  # no visible match, so created straight away
    assert Person.objects.filter(forename="Noah").count() == 2


def test_someone_already_in_the_family_is_pointed_out(family, client_for):
    response = client_for("colleague").post(
        add_url(family),
        details(forename="Ava", surname="Example", date_of_birth_0="4", date_of_birth_1="3",
                date_of_birth_2="2016"),
    )  # fmt: skip

    page = response.content.decode()
    assert "Ava Example, born 4 March 2016 is already a member of this family" in page
    assert not re.search(r'type="radio"[^>]*name="match"[^>]*value="[0-9a-f-]{36}"', page)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"date_of_birth_0": "", "date_of_birth_1": "", "date_of_birth_2": ""},
            "date_of_birth",
            "Enter the date of birth, or an expected date of birth if the baby is not born yet",
        ),
        ({"date_of_birth_0": "31", "date_of_birth_1": "2"}, "date_of_birth", "must be a real date"),
        ({"date_of_birth_2": "2999"}, "date_of_birth", "must be today or in the past"),
        ({"date_of_birth_1": ""}, "date_of_birth", "Date of birth must include a month"),
        ({"nhs_number": "943 476 5918"}, "nhs_number", "Enter a valid NHS number"),
        ({"forename": ""}, "forename", "Enter the first name"),
    ],
    ids=["no date", "31 February", "future", "no month", "check digit", "no name"],
)
def test_details_errors_keep_everything_typed(family, client_for, fields, field, message):
    response = client_for("colleague").post(add_url(family), details(surname="Keepme", **fields))

    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page and message in page
    assert any(message in error for error in response.context["form"].errors[field])
    assert 'value="Keepme"' in page
    assert not Person.objects.filter(surname="Keepme").exists()


def test_an_nhs_number_recorded_for_someone_unseen_is_refused_kindly(
    family, personas, other_team, ref, client_for
):
    family_with_child(
        personas["outsider"], other_team, ref, forename="Zed", surname="Unseen",
        born=D(2001, 1, 1), nhs_number=NHS,
    )  # fmt: skip

    response = client_for("colleague").post(add_url(family), details(nhs_number=NHS))

    page = response.content.decode()
    assert response.status_code == 200
    assert "A person with this NHS number is already recorded" in page
    assert not Person.objects.filter(forename="Noah").exists()


POST_ADD = {
    "allocated": 302,
    "readonly": 403,
    "outsider": 404,
    "partner": 302,  # a TAF member may add a household member
    "stranger_partner": 404,
    "anonymous": 302,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_adding_a_person_by_persona(family, persona, client_for):
    response = client_for(persona).post(add_url(family), details())

    assert response.status_code == POST_ADD[persona]
    created = Person.objects.filter(forename="Noah").exists()
    assert created is (persona in {"allocated", "partner"})


# --- Create a new family -------------------------------------------------------------------


def new_family(**fields):
    return details(**{"postcode": "ls9 7aa", "address": "2 New Road", **fields})


def test_a_new_family_is_created_with_its_first_person_and_its_creator_keeps_it(
    personas, family, client_for
):
    client = client_for("colleague")

    response = client.post(reverse("cases:family_create"), new_family())

    assert response.status_code == 302
    created = Family.objects.get(postcode="LS9 7AA")
    assert response["Location"] == reverse("cases:family", kwargs={"reference": created.reference})
    assert created.created_by == personas["colleague"] and created.address == "2 New Road"
    assert [m.person.forename for m in created.memberships.all()] == ["Noah"]
    # no team holds it yet: its creator can open it, a colleague cannot until work opens
    assert client.get(response["Location"]).status_code == 200
    assert client_for("allocated").get(response["Location"]).status_code == 404


def test_a_new_family_can_start_with_someone_already_recorded(personas, noah_elsewhere, client_for):
    noah = Person.objects.get(forename="Noah")
    client = client_for("colleague")

    offered = client.post(reverse("cases:family_create"), new_family())
    assert "Check if this person is already recorded" in offered.content.decode()
    response = client.post(
        reverse("cases:family_create"), new_family(checked="", match=str(noah.uuid))
    )

    assert response.status_code == 302
    created = Family.objects.get(postcode="LS9 7AA")
    assert list(created.memberships.values_list("person", flat=True)) == [noah.pk]
    assert Person.objects.filter(forename="Noah").count() == 1


def test_a_new_family_needs_a_real_postcode_and_nothing_is_half_made(
    personas, other_team, ref, client_for
):
    family_with_child(
        personas["outsider"], other_team, ref, forename="Zed", surname="Unseen",
        born=D(2001, 1, 1), nhs_number=NHS,
    )  # fmt: skip
    client = client_for("colleague")
    families = Family.objects.count()

    bad_postcode = client.post(reverse("cases:family_create"), new_family(postcode="nowhere"))
    taken_nhs = client.post(reverse("cases:family_create"), new_family(nhs_number=NHS))

    assert "Enter a real postcode, like LS6 2AB" in bad_postcode.content.decode()
    assert "A person with this NHS number is already recorded" in taken_nhs.content.decode()
    assert 'value="ls9 7aa"' in taken_nhs.content.decode()
    assert Family.objects.count() == families  # the family was not kept without its person


POST_CREATE = {
    "allocated": 302,
    "readonly": 403,
    "outsider": 302,
    "partner": 403,
    "stranger_partner": 403,
    "anonymous": 302,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_creating_a_family_by_persona(family, persona, client_for):
    response = client_for(persona).post(reverse("cases:family_create"), new_family())

    assert response.status_code == POST_CREATE[persona]
    created = Family.objects.filter(postcode="LS9 7AA").exists()
    assert created is (persona in {"allocated", "outsider"})
    if persona == "anonymous":
        assert response["Location"].startswith("/sign-in/")


def test_factories_person_is_invisible_without_a_family(personas):
    """People in no family are nobody's to see, so matching never offers them."""
    factories.PersonFactory(forename="Noah", surname="Sample", date_of_birth=D(2018, 10, 9))
    from cases.selectors import people_visible_to

    assert not people_visible_to(personas["colleague"]).exists()


@pytest.mark.parametrize(("persona", "offered"), [("colleague", True), ("readonly", False)])
def test_the_family_record_offers_to_add_a_person(family, client_for, persona, offered):
    page = (
        client_for(persona)
        .get(reverse("cases:family", kwargs={"reference": family.reference}))
        .content.decode()
    )

    assert (add_url(family) in page) is offered
