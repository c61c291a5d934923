"""GET /api/v1/kpis/: who may read stored KPI values, the filters, and the schema."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from cases import services as case_services
from reporting.models import KpiPartition, KpiValue
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/api/v1/kpis/"


def kpi(measure="RR1", period=dt.date(2026, 10, 1), breakdown="all", value_code="all", **extra):
    end = (period.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    partition, _ = KpiPartition.objects.get_or_create(
        measure=measure,
        params_hash="abc",
        period_start=period,
        period_end=end,
        defaults={"period_label": period.strftime("%Y-%m")},
    )
    return KpiValue.objects.create(
        partition=partition,
        measure=measure,
        params_hash="abc",
        params={"window_days": 42},
        period_label=period.strftime("%Y-%m"),
        period_start=period,
        period_end=end,
        breakdown=breakdown,
        breakdown_value=value_code,
        category="rate",
        category_bit=0,
        numerator=1,
        denominator=2,
        value=Decimal("50.0"),
        computed_at=timezone.now(),
        **extra,
    )


@pytest.fixture
def values(db):
    return [
        kpi(),
        kpi(breakdown="locality", value_code="NORTH"),
        kpi(measure="T2"),
        kpi(period=dt.date(2026, 9, 1)),
    ]


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def personas(council, team):
    school = factories.OrganisationFactory(code="SCHOOL9", kind="school", api_access_enabled=True)
    return {
        "performance_officer": factories.UserFactory.with_role(
            "performance_officer", organisation=council
        ),
        "team_manager": factories.UserFactory.with_role("team_manager", team=team),
        "administrator": factories.UserFactory.with_role("administrator", organisation=council),
        "practitioner": factories.UserFactory.with_role("practitioner", team=team),
        "read_only": factories.UserFactory.with_role("read_only", organisation=council),
        "partner_user": factories.UserFactory.with_role("partner_user", organisation=school),
        "school": school,
    }


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", 403),
        ("partner_key", 403),
        ("partner_user", 403),
        ("practitioner", 403),
        ("read_only", 403),
        ("team_manager", 200),
        ("administrator", 200),
        ("performance_officer", 200),
    ],
)
def test_who_may_read_kpis(personas, values, persona, expected):
    if persona == "anonymous":
        client = APIClient()
    elif persona == "partner_key":
        _, key = case_services.partner_api_key_create(organisation=personas["school"], name="MIS")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    else:
        client = signed_in(personas[persona])
    response = client.get(URL)
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["count"] == 4
    else:
        assert response["Content-Type"].startswith("application/problem+json")


def test_filters_by_measure_period_and_breakdown(personas, values):
    client = signed_in(personas["performance_officer"])
    rows = client.get(URL, {"measure": "RR1", "period": "2026-10", "breakdown": "locality"}).json()
    assert rows["count"] == 1
    row = rows["results"][0]
    assert (row["breakdown_value"], row["numerator"], row["denominator"], row["value"]) == (
        "NORTH",
        1,
        2,
        50.0,
    )
    assert row["params"] == {"window_days": 42}
    assert client.get(URL, {"period_end_to": "2026-09-30"}).json()["count"] == 1


def test_a_bad_filter_is_a_problem_not_an_empty_list(personas, values):
    client = signed_in(personas["performance_officer"])
    response = client.get(URL, {"breakdown": "planet"})
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["breakdown"]


def test_the_list_takes_a_fixed_number_of_queries(personas, values, django_assert_max_num_queries):
    client = signed_in(personas["performance_officer"])
    for number in range(20):
        kpi(period=dt.date(2024, 1, 1) + dt.timedelta(days=31 * number))
    # 6 for the page, 2 for the session's idle-expiry refresh (SESSION_SAVE_EVERY_REQUEST).
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200


def test_the_schema_documents_the_kpi_list(db):
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = response.json()
    operation = schema["paths"]["/api/v1/kpis/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"measure", "period", "breakdown", "breakdown_value", "page"} <= names
    assert "200" in operation["responses"] and "403" in operation["responses"]
