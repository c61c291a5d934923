"""Organisation, locality, team and account services."""

import pytest
from django.core.exceptions import ValidationError

from earlyhelp.models import Locality, Membership, Organisation, Team, User, validate_uk_phone
from earlyhelp.services import locality_upsert, organisation_upsert, team_upsert, user_create

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "lantern-orchard-2026"


@pytest.fixture
def council() -> Organisation:
    return organisation_upsert(code="COUNCIL", name="Example Council", kind="council")


@pytest.fixture
def north(council) -> Team:
    locality = locality_upsert(organisation=council, code="NORTH", name="North")
    return team_upsert(organisation=council, locality=locality, code="NORTH-FS", name="North FS")


def test_organisation_upsert_creates_then_updates_the_same_row(council):
    updated = organisation_upsert(
        code="COUNCIL", name="Example Borough Council", kind="council", api_access_enabled=True
    )

    assert updated.pk == council.pk
    assert Organisation.objects.count() == 1
    stored = Organisation.objects.get()
    assert (stored.name, stored.api_access_enabled) == ("Example Borough Council", True)


def test_organisation_upsert_refuses_an_unknown_kind():
    with pytest.raises(ValidationError) as caught:
        organisation_upsert(code="X1", name="X", kind="bank")

    assert "kind" in caught.value.message_dict
    assert not Organisation.objects.exists()


def test_locality_and_team_upserts_are_repeatable(council, north):
    again = team_upsert(
        organisation=council,
        locality=north.locality,
        code="NORTH-FS",
        name="North family support",
        caseload_target=18,
    )

    assert again.pk == north.pk
    assert (Team.objects.get().name, Team.objects.get().caseload_target) == (
        "North family support",
        18,
    )
    assert locality_upsert(organisation=council, code="NORTH", name="North").pk == north.locality_id
    assert Locality.objects.count() == 1


def test_team_upsert_keeps_the_team_contact_partners_are_given(council, north):
    team_upsert(
        organisation=council,
        locality=north.locality,
        code="NORTH-FS",
        name="North FS",
        contact_email=" north.fs@example.org ",
        contact_phone="020 7946 0101",
    )

    stored = Team.objects.get()
    assert (stored.contact_email, stored.contact_phone) == ("north.fs@example.org", "020 7946 0101")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contact_email", "north.fs"),
        ("contact_phone", "call the office"),
        ("contact_phone", "12345"),
        ("contact_phone", "020 7946 01011 2"),
        ("contact_phone", "+1 212 555 0100"),
    ],
)
def test_team_upsert_refuses_a_contact_that_is_not_one(council, field, value):
    with pytest.raises(ValidationError) as caught:
        team_upsert(organisation=council, locality=None, code="T1", name="Team", **{field: value})

    assert field in caught.value.message_dict
    assert not Team.objects.exists()


@pytest.mark.parametrize(
    "number",
    ["020 7946 0101", "02079460101", "(0113) 496 0000", "+44 20 7946 0101", "0300-123-4567"],
)
def test_uk_telephone_numbers_are_accepted_as_people_write_them(number):
    validate_uk_phone(number)  # no error


def test_team_upsert_refuses_a_locality_of_another_organisation(council):
    other = organisation_upsert(code="OTHER", name="Other Council", kind="council")
    elsewhere = locality_upsert(organisation=other, code="EAST", name="East")

    with pytest.raises(ValidationError):
        team_upsert(organisation=council, locality=elsewhere, code="T1", name="Team")
    assert not Team.objects.exists()


def test_user_create_makes_the_account_and_its_membership(council, north):
    user = user_create(
        username="sam",
        password=GOOD_PASSWORD,
        first_name="Sam",
        last_name="Worker",
        organisation=council,
        role=Membership.Role.PRACTITIONER,
        team=north,
    )

    stored = User.objects.get(username="sam")
    assert stored.pk == user.pk
    assert stored.check_password(GOOD_PASSWORD)
    assert stored.organisation == council
    assert not stored.is_staff and not stored.is_superuser
    membership = stored.memberships.get()
    assert (membership.organisation, membership.team, membership.role) == (
        council,
        north,
        "practitioner",
    )
    assert membership.ended_on is None


@pytest.mark.parametrize(
    "password",
    ["short1", "password123456", "12345678901234", "sam-the-worker"],
    ids=["too-short", "common", "numeric", "like-username"],
)
def test_user_create_refuses_a_weak_password_and_creates_nothing(council, password):
    with pytest.raises(ValidationError) as caught:
        user_create(
            username="sam-the-worker",
            password=password,
            first_name="Sam",
            last_name="Worker",
            organisation=council,
            role=Membership.Role.PRACTITIONER,
        )

    assert "password" in caught.value.message_dict
    assert not User.objects.exists()
    assert not Membership.objects.exists()


def test_user_create_rolls_back_the_user_when_the_membership_is_invalid(council):
    with pytest.raises(ValidationError) as caught:
        user_create(
            username="sam",
            password=GOOD_PASSWORD,
            first_name="Sam",
            last_name="Worker",
            organisation=council,
            role="overlord",
        )

    assert "role" in caught.value.message_dict
    assert not User.objects.exists()


def test_user_create_refuses_a_team_of_another_organisation(north):
    school = organisation_upsert(code="URN1", name="A School", kind="school")

    with pytest.raises(ValidationError):
        user_create(
            username="dsl",
            password=GOOD_PASSWORD,
            first_name="Dee",
            last_name="Lead",
            organisation=school,
            role=Membership.Role.PARTNER_USER,
            team=north,
        )
    assert not User.objects.exists()


def test_user_create_refuses_a_taken_username(council):
    kwargs = {
        "password": GOOD_PASSWORD,
        "first_name": "Sam",
        "last_name": "Worker",
        "organisation": council,
        "role": Membership.Role.PRACTITIONER,
    }
    user_create(username="sam", **kwargs)

    with pytest.raises(ValidationError) as caught:
        user_create(username="sam", **kwargs)
    assert "username" in caught.value.message_dict
    assert User.objects.count() == 1


def test_user_create_can_make_an_administrator(council):
    admin = user_create(
        username="admin",
        password=GOOD_PASSWORD,
        first_name="Ada",
        last_name="Admin",
        organisation=council,
        role=Membership.Role.ADMINISTRATOR,
        is_staff=True,
        is_superuser=True,
    )

    assert admin.is_staff and admin.is_superuser
