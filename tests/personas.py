"""The personas of the access matrix, around one family whose child has an open episode.

- ``allocated``: practitioner in the team, lead practitioner of the episode
- ``colleague``: practitioner in the same team
- ``manager``: manager of the team
- ``readonly``: read-only member of the team (may look, never change)
- ``outsider``: practitioner in another team of the same council (gets 404)
- ``partner``: a school's user, a TAF member with the family's consent
- ``stranger_partner``: a user of another school, not on the TAF (gets 404)
- ``anonymous``: not signed in (sent to sign in)
- ``performance``: performance officer of the council (reads reports, no caseload)
"""

import datetime as dt

import pytest
from django.test import Client

from cases import services
from cases.models import Episode
from tests import factories

D = dt.date
PASSWORD = "correct-horse-battery"


@pytest.fixture
def other_team(council):
    return factories.TeamFactory(organisation=council)


@pytest.fixture
def school(db):
    return factories.OrganisationFactory(code="URN100001", name="Example Primary", kind="school")


@pytest.fixture
def personas(team, other_team, school, council):
    other_school = factories.OrganisationFactory(
        code="URN100002", name="Another Primary", kind="school"
    )
    return {
        "allocated": factories.UserFactory.with_role("practitioner", team=team),
        "colleague": factories.UserFactory.with_role("practitioner", team=team),
        "manager": factories.UserFactory.with_role("team_manager", team=team),
        "readonly": factories.UserFactory.with_role("read_only", team=team),
        "outsider": factories.UserFactory.with_role("practitioner", team=other_team),
        "partner": factories.UserFactory.with_role("partner_user", organisation=school),
        "stranger_partner": factories.UserFactory.with_role(
            "partner_user", organisation=other_school
        ),
        "anonymous": None,
        "performance": factories.UserFactory.with_role("performance_officer", organisation=council),
    }


@pytest.fixture
def family(personas, team, school, ref):
    allocated = personas["allocated"]
    family = family_with_child(
        allocated,
        team,
        ref,
        forename="Ava",
        surname="Example",
        born=D(2016, 3, 4),
        postcode="LS6 2AB",
        level="L3",
        lead=allocated,
    )
    services.taf_member_add(
        actor=allocated,
        family=family,
        organisation=school,
        user=personas["partner"],
        role="Designated safeguarding lead",
        consent_given_by="Parent, Jo Example",
        consent_given_on=D(2026, 9, 1),
    )
    return family


@pytest.fixture
def client_for(personas):
    """A signed-in test client for a persona name (anonymous: not signed in)."""

    def make(name: str) -> Client:
        client = Client()
        user = personas[name]
        if user is not None:
            client.force_login(user)
        return client

    return make


def family_with_child(
    actor, team, ref, *, forename, surname, born, postcode="LS7 3QQ", level="L2", lead=None, **more
):
    """A family of ``team`` (an open episode, led by ``lead`` if given), with one child."""
    family = services.family_create(actor=actor, postcode=postcode)
    child = services.person_create(
        actor=actor,
        family=family,
        forename=forename,
        surname=surname,
        date_of_birth=born,
        **more,
    )
    services.episode_open(
        actor=actor,
        family=family,
        child=child,
        service=ref.service(),
        level=ref.level(level),
        started_on=D(2026, 9, 1),
        origin=Episode.Origin.FRONT_DOOR,
        team=team,
        lead_practitioner=lead,
    )
    return family
