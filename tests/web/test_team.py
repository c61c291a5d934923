"""The team view for managers: caseloads against the target, overdue reviews, unallocated work
and allocating it, with the rules of ``episode_allocate``."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from time_machine import travel

from assessments.models import Assessment, Plan
from cases import services
from cases.models import CaseEvent, Episode
from tests import factories

D = dt.date
PERSONAS = ("allocated", "readonly", "outsider", "partner", "stranger_partner", "anonymous")


BORN = D(2015, 1, 1)


def open_episode(family_actor, team, ref, *, lead=None, forename="Child", born=BORN):
    family = services.family_create(actor=family_actor, postcode="LS8 1AA")
    child = services.person_create(
        actor=family_actor, family=family, forename=forename, surname="Example", date_of_birth=born
    )
    return services.episode_open(
        actor=family_actor,
        family=family,
        child=child,
        service=ref.service(),
        level=ref.level("L2"),
        started_on=D(2026, 9, 1),
        origin=Episode.Origin.FRONT_DOOR,
        team=team,
        lead_practitioner=lead,
    )


def overdue_plan(family, next_review_on):
    assessment = factories.AssessmentFactory(
        family=family, status=Assessment.Status.COMPLETED, completed_on=D(2026, 9, 10)
    )
    return Plan.objects.create(
        assessment=assessment, started_on=D(2026, 9, 10), next_review_on=next_review_on
    )


@pytest.fixture
def unallocated(personas, team, ref):
    return open_episode(personas["manager"], team, ref, forename="Una", born=D(2017, 2, 2))


def row_for(page: str, name: str) -> str:
    start = page.index(f">{name}</th>")
    return page[start : page.index("</tr>", start)]


@travel(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))
def test_caseloads_against_target_with_overdue_reviews(family, personas, team, ref, client_for):
    team.caseload_target = 2
    team.save(update_fields=["caseload_target"])
    allocated = personas["allocated"]
    for n in range(2):  # allocated now leads three children: over the target of two
        open_episode(allocated, team, ref, lead=allocated, forename=f"Extra{n}")
    overdue_plan(family, D(2026, 11, 1))
    overdue_plan(family, D(2026, 11, 10))  # the same family twice counts once

    page = client_for("manager").get(reverse("cases:team")).content.decode()

    allocated_row = row_for(page, allocated.get_full_name())
    assert ">3</td>" in allocated_row and "Over target" in allocated_row
    assert '<span class="app-overdue">1</span>' in allocated_row
    colleague_row = row_for(page, personas["colleague"].get_full_name())
    assert ">0</td>" in colleague_row and "Under target" in colleague_row
    assert "Caseload target: 2 open children per practitioner" in page


def test_unallocated_work_is_listed_and_allocated(unallocated, family, personas, client_for):
    client = client_for("manager")
    page = client.get(reverse("cases:team")).content.decode()
    assert "Una Example" in page and "1 open episode without a lead practitioner" in page

    response = client.post(
        reverse("cases:episode_allocate", kwargs={"episode": unallocated.uuid}),
        {"lead_practitioner": personas["colleague"].uuid},
    )

    assert response.status_code == 302 and response["Location"] == reverse("cases:team")
    unallocated.refresh_from_db()
    assert unallocated.lead_practitioner == personas["colleague"]
    after = client.get(reverse("cases:team")).content.decode()
    assert "All open work has a lead practitioner" in after
    assert f"Una Example allocated to {personas['colleague'].get_full_name()}" in after
    assert ">1</td>" in row_for(after, personas["colleague"].get_full_name())


def test_allocating_without_a_choice_is_explained(unallocated, client_for):
    response = client_for("manager").post(
        reverse("cases:episode_allocate", kwargs={"episode": unallocated.uuid}),
        {"lead_practitioner": ""},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error:" in page and "Select the lead practitioner" in page
    unallocated.refresh_from_db()
    assert unallocated.lead_practitioner is None


def test_only_the_teams_practitioners_are_offered(unallocated, personas, client_for):
    page = (
        client_for("manager")
        .get(reverse("cases:episode_allocate", kwargs={"episode": unallocated.uuid}))
        .content.decode()
    )

    assert personas["colleague"].get_full_name() in page
    assert personas["outsider"].get_full_name() not in page
    assert personas["readonly"].get_full_name() not in page


def test_team_view_query_count_does_not_grow(
    family, personas, team, ref, client_for, django_assert_max_num_queries
):
    client = client_for("manager")
    open_episode(personas["manager"], team, ref)
    with django_assert_max_num_queries(12) as small:
        client.get(reverse("cases:team"))
    baseline = len(small.captured_queries)
    for n in range(6):
        worker = factories.UserFactory.with_role("practitioner", team=team)
        open_episode(worker, team, ref, lead=worker, forename=f"Led{n}")
        open_episode(worker, team, ref, forename=f"Waiting{n}")
    with django_assert_max_num_queries(baseline):
        page = client.get(reverse("cases:team")).content.decode()
    assert page.count("Allocate<span") == 7


POST_ALLOCATE = {
    "allocated": 403,
    "readonly": 403,
    "outsider": 404,
    "partner": 403,
    "stranger_partner": 404,
    "anonymous": 302,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_allocating_by_persona(family, personas, persona, client_for):
    episode = family.episodes.get()

    response = client_for(persona).post(
        reverse("cases:episode_allocate", kwargs={"episode": episode.uuid}),
        {"lead_practitioner": personas["colleague"].uuid},
    )

    assert response.status_code == POST_ALLOCATE[persona]
    episode.refresh_from_db()
    assert episode.lead_practitioner == personas["allocated"]


# --- episode_allocate ----------------------------------------------------------------------


class TestEpisodeAllocate:
    def test_allocates_and_writes_the_chronology(self, unallocated, personas):
        services.episode_allocate(
            actor=personas["manager"], episode=unallocated, lead_practitioner=personas["colleague"]
        )

        unallocated.refresh_from_db()
        assert unallocated.lead_practitioner == personas["colleague"]
        assert unallocated.lead_organisation == personas["colleague"].organisation
        event = CaseEvent.objects.get(family=unallocated.family, kind="episode_allocated")
        assert event.actor == personas["manager"] and event.person == unallocated.child

    def test_reallocating_is_recorded_as_such(self, family, personas):
        episode = family.episodes.get()

        services.episode_allocate(
            actor=personas["manager"], episode=episode, lead_practitioner=personas["colleague"]
        )

        assert CaseEvent.objects.filter(family=family, kind="episode_reallocated").exists()

    @pytest.mark.parametrize("actor", ["allocated", "outsider", "readonly"])
    def test_only_a_manager_of_the_team_allocates(self, unallocated, personas, actor):
        with pytest.raises(PermissionDenied):
            services.episode_allocate(
                actor=personas[actor], episode=unallocated, lead_practitioner=personas["colleague"]
            )

    def test_a_manager_of_another_team_may_not(self, unallocated, personas, other_team):
        elsewhere = factories.UserFactory.with_role("team_manager", team=other_team)

        with pytest.raises(PermissionDenied):
            services.episode_allocate(
                actor=elsewhere, episode=unallocated, lead_practitioner=personas["colleague"]
            )

    @pytest.mark.parametrize("lead", ["outsider", "readonly", "partner"])
    def test_the_lead_must_work_in_the_team(self, unallocated, personas, lead):
        with pytest.raises(ValidationError) as refused:
            services.episode_allocate(
                actor=personas["manager"], episode=unallocated, lead_practitioner=personas[lead]
            )

        assert "lead_practitioner" in refused.value.message_dict
        unallocated.refresh_from_db()
        assert unallocated.lead_practitioner is None

    def test_the_same_lead_again_is_refused(self, family, personas):
        with pytest.raises(ValidationError, match="already the lead practitioner"):
            services.episode_allocate(
                actor=personas["manager"],
                episode=family.episodes.get(),
                lead_practitioner=personas["allocated"],
            )

    def test_closed_work_cannot_be_allocated(self, unallocated, personas, ref):
        services.episode_close(
            actor=personas["manager"],
            episode=unallocated,
            ended_on=D(2026, 10, 1),
            end_reason=ref.end_reason("NEEDS_MET"),
        )

        with pytest.raises(ValidationError, match="only open work"):
            services.episode_allocate(
                actor=personas["manager"],
                episode=unallocated,
                lead_practitioner=personas["colleague"],
            )
