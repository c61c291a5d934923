"""My caseload's team and level filters: what they keep, what they refuse, and their queries."""

import datetime as dt

from django.urls import reverse

from cases import services
from cases.models import Episode

D = dt.date


def test_team_and_level_filters_keep_matching_episodes(family, team, ref, client_for):
    client = client_for("allocated")
    url = reverse("cases:caseload")

    matching = client.get(url, {"team": team.pk, "level": ref.level("L3").pk}).content.decode()
    other_level = client.get(url, {"level": ref.level("L2").pk}).content.decode()

    assert "Ava Example" in matching
    assert "Ava Example" not in other_level


def test_a_team_the_user_is_not_in_is_not_a_choice(family, other_team, client_for):
    page = client_for("allocated").get(reverse("cases:caseload"), {"team": other_team.pk})

    assert page.status_code == 200
    assert "Select a valid choice" in page.content.decode()
    assert other_team.name not in page.content.decode()


def test_filtered_caseload_queries_do_not_grow(
    family, personas, team, ref, client_for, django_assert_max_num_queries
):
    client = client_for("allocated")
    params = {"team": team.pk, "level": ref.level("L3").pk, "sort": "-started"}
    # 11th: the steps on which a manager asked this practitioner for more information
    with django_assert_max_num_queries(11):
        first = client.get(reverse("cases:caseload"), params)
    for n in range(1, 6):
        _open_another_episode(family, personas["allocated"], team, ref, n)

    with django_assert_max_num_queries(11):
        later = client.get(reverse("cases:caseload"), params)

    assert first.content.decode().count("Example</td>") == 1
    assert later.content.decode().count("Example</td>") == 6


def _open_another_episode(family, lead, team, ref, n):
    child = services.person_create(
        actor=lead,
        family=family,
        forename=f"Kid{n}",
        surname="Example",
        date_of_birth=D(2015, 2, n),
    )
    services.episode_open(
        actor=lead,
        family=family,
        child=child,
        service=ref.service(),
        level=ref.level("L3"),
        started_on=D(2026, 9, 10),
        origin=Episode.Origin.FRONT_DOOR,
        team=team,
        lead_practitioner=lead,
    )
