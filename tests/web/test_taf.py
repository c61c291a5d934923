"""The Team Around the Family page: who is in it, with whose consent, and what that lets
partner users see."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import AccessLog, TafMember
from cases.selectors import families_visible_to
from tests import factories
from tests.web.test_episodes import date_data, page_of


@pytest.fixture
def nursing(db):
    return factories.OrganisationFactory(code="RXX01", name="School nursing", kind="health")


@pytest.fixture
def nurse(nursing):
    return factories.UserFactory.with_role(
        "partner_user", organisation=nursing, first_name="Sam", last_name="Nurse"
    )


def taf_url(family) -> str:
    return reverse("cases:taf", kwargs={"reference": family.reference})


def end_url(family) -> str:
    return reverse("cases:taf_member_end", kwargs={"reference": family.reference})


def add(client, family, **data):
    return client.post(
        taf_url(family),
        {
            "consent_given_by": "Parent, Jo Example",
            **date_data("consent_given_on", timezone.localdate()),
        }
        | data,
    )


def test_lists_current_members_with_their_consent(family, client_for, personas):
    page = page_of(client_for("partner").get(taf_url(family)))
    assert personas["partner"].get_full_name() in page
    assert "Given by Parent, Jo Example" in page
    assert 'name="consent_given_by"' not in page  # a partner member may look, not change


def test_adding_a_professional_lets_them_see_the_family(family, nursing, nurse, client_for):
    assert not families_visible_to(nurse).filter(pk=family.pk).exists()

    response = add(
        client_for("allocated"), family, organisation=str(nursing.pk), user=str(nurse.pk)
    )

    assert response.status_code == 302
    assert families_visible_to(nurse).filter(pk=family.pk).exists()
    member = TafMember.objects.get(user=nurse)
    assert (member.consent_given_by, member.organisation) == ("Parent, Jo Example", nursing)


def test_a_whole_organisation_lets_each_of_its_partner_users_see_the_family(
    family, nursing, nurse, client_for
):
    add(client_for("allocated"), family, organisation=str(nursing.pk))
    assert families_visible_to(nurse).filter(pk=family.pk).exists()


def test_a_professional_of_another_organisation_is_refused(
    family, nursing, school, client_for, personas
):
    response = add(
        client_for("allocated"),
        family,
        organisation=str(nursing.pk),
        user=str(personas["stranger_partner"].pk),
    )
    assert response.status_code == 200
    assert "Choose a professional who works for the organisation chosen" in page_of(response)
    assert not TafMember.objects.filter(user=personas["stranger_partner"]).exists()


def test_the_same_professional_twice_is_refused_next_to_the_field(
    family, school, client_for, personas
):
    response = add(
        client_for("allocated"),
        family,
        organisation=str(school.pk),
        user=str(personas["partner"].pk),
    )
    page = page_of(response)
    assert response.status_code == 200
    assert "already in the Team Around the Family" in page
    assert "Parent, Jo Example" in page  # what was typed is kept


def test_missing_consent_is_asked_for(family, nursing, nurse, client_for):
    response = client_for("allocated").post(
        taf_url(family), {"organisation": str(nursing.pk), "user": str(nurse.pk)}
    )
    page = page_of(response)
    assert "Enter who gave consent" in page and "Enter the date consent was given" in page
    assert "<title>Error: Team Around the Family" in page


def test_choosing_an_organisation_narrows_the_professionals(
    family, nursing, nurse, client_for, personas
):
    client = client_for("allocated")
    everyone = page_of(client.get(taf_url(family)))
    assert "Sam Nurse" in everyone and personas["stranger_partner"].get_full_name() in everyone

    narrowed = page_of(
        client.get(taf_url(family), {"organisation": nursing.pk}, headers={"HX-Request": "true"})
    )
    assert "Sam Nurse" in narrowed
    assert personas["stranger_partner"].get_full_name() not in narrowed


def test_the_organisation_picker_refresh_is_not_logged_as_a_view(family, nursing, client_for):
    client = client_for("allocated")
    client.get(taf_url(family))
    client.get(taf_url(family), {"organisation": nursing.pk}, headers={"HX-Request": "true"})
    assert AccessLog.objects.filter(family=family, what="cases:taf").count() == 1


def test_removing_a_member_ends_what_they_see(family, client_for, personas):
    member = family.taf_members.get()
    response = client_for("colleague").post(end_url(family), {"member": member.pk}, follow=True)

    member.refresh_from_db()
    assert member.ended_on == timezone.localdate()
    assert not families_visible_to(personas["partner"]).filter(pk=family.pk).exists()
    assert "has left the Team Around the Family" in page_of(response)


def test_a_member_of_another_family_cannot_be_removed_from_here(
    family, school, client_for, personas
):
    other = services.family_create(actor=personas["allocated"])
    stranger = services.taf_member_add(
        actor=personas["allocated"],
        family=other,
        organisation=school,
        consent_given_by="Parent",
        consent_given_on=timezone.localdate(),
    )
    response = client_for("allocated").post(end_url(family), {"member": stranger.pk}, follow=True)
    stranger.refresh_from_db()
    assert stranger.ended_on is None
    assert "no longer in the Team Around the Family" in page_of(response)


def test_a_partner_who_leads_an_episode_may_change_the_taf(
    family, school, nursing, nurse, personas, ref
):
    lead = factories.UserFactory.with_role("partner_user", organisation=school)
    child = family.episodes.get().child
    services.episode_open(
        actor=personas["allocated"],
        family=family,
        child=child,
        service=ref.service("SCHOOL_EARLY_HELP"),
        level=ref.level("L2"),
        started_on=family.episodes.get().started_on,
        origin="partner",
        lead_practitioner=lead,
    )
    client = Client()
    client.force_login(lead)
    response = add(client, family, organisation=str(nursing.pk), user=str(nurse.pk))
    assert response.status_code == 302
    assert TafMember.objects.filter(user=nurse, added_by=lead).exists()
