"""families_visible_to: each route by which someone may see a family, and nobody else.

The access matrix covers the personas around one team's family; these add the routes it does
not: leading an episode from another team or a partner, and performance officers.
"""

import datetime as dt

import pytest

from cases import services
from cases.models import Episode
from cases.selectors import episodes_visible_to, families_visible_to
from tests import factories

D = dt.date


def sees(user, family) -> bool:
    return families_visible_to(user).filter(pk=family.pk).exists()


@pytest.fixture
def sibling_led_by(family, personas, ref):
    """Open an episode for a second child of ``family``, led by someone outside its team."""

    def open_for(lead, team=None):
        child = services.person_create(
            actor=personas["allocated"],
            family=family,
            forename="Ben",
            surname="Example",
            date_of_birth=D(2018, 5, 6),
        )
        return services.episode_open(
            actor=personas["allocated"],
            family=family,
            child=child,
            service=ref.service(),
            level=ref.level("L2"),
            started_on=D(2026, 9, 3),
            origin=Episode.Origin.PARTNER,
            team=team,
            lead_practitioner=lead,
        )

    return open_for


def test_leading_an_episode_shows_the_family_from_another_team(
    family, personas, other_team, sibling_led_by
):
    outsider = personas["outsider"]
    assert not sees(outsider, family)

    sibling_led_by(outsider, team=other_team)

    assert sees(outsider, family)
    assert families_visible_to(personas["colleague"]).filter(pk=family.pk).count() == 1


def test_a_partner_who_leads_an_episode_sees_the_family(family, personas, sibling_led_by):
    stranger = personas["stranger_partner"]
    assert not sees(stranger, family)

    sibling_led_by(stranger)

    assert sees(stranger, family)
    assert episodes_visible_to(stranger).filter(family=family).count() == 2


def test_performance_officers_see_families_of_their_own_organisation_only(family, council):
    analyst = factories.UserFactory.with_role("performance_officer", organisation=council)
    elsewhere = factories.OrganisationFactory(code="OTHER-LA", name="Other", kind="council")
    stranger = factories.UserFactory.with_role("performance_officer", organisation=elsewhere)

    assert sees(analyst, family)
    assert not sees(stranger, family)
