"""Everything is browsable, searchable and filterable in the admin."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from tests import factories

MODELS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _superuser_request():
    request = RequestFactory().get("/")
    request.user = factories.UserFactory.build(is_staff=True, is_superuser=True)
    return request


@pytest.fixture
def admin_client(client, db):
    user = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.fixture
def some_casework(db):
    family = factories.FamilyFactory()
    need = factories.IdentifiedNeedFactory(assessment__family=family)
    factories.CscInvolvementFactory(person__surname="Example")
    return family, need


@pytest.mark.parametrize(
    "model_admin", [m for _, m in MODELS], ids=[m._meta.label for m, _ in MODELS]
)
def test_changelist_add_and_search_pages_load(admin_client, some_casework, model_admin):
    meta = model_admin.model._meta
    changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")

    assert admin_client.get(changelist).status_code == 200
    if model_admin.search_fields:
        assert admin_client.get(changelist, {"q": "Example"}).status_code == 200
    add = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
    # Records written only by the system (audit, match proposals) cannot be added by hand.
    expected = 200 if model_admin.has_add_permission(_superuser_request()) else 403
    assert admin_client.get(add).status_code == expected


def test_family_change_page_shows_members(admin_client, some_casework):
    family, _ = some_casework
    url = reverse("admin:cases_family_change", args=[family.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert family.reference in response.content.decode()


def test_reference_data_is_listed(admin_client):
    response = admin_client.get(reverse("admin:cases_headlineoutcome_changelist"))
    assert "Safe from domestic abuse" in response.content.decode()


def test_outsiders_cannot_reach_the_admin(client, practitioner):
    client.force_login(practitioner)
    response = client.get(reverse("admin:cases_person_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
