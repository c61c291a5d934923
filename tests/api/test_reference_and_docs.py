"""Reference data partners validate against, and the documentation that describes the API."""

import pytest
from django.test import Client

from cases.models import HeadlineOutcome


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("endpoint", "first"),
    [
        ("/api/v1/reference/referral-sources/", {"code": "1A"}),
        ("/api/v1/reference/headline-outcomes/", {"code": "EDUCATION"}),
        ("/api/v1/reference/levels/", {"code": "L1", "rank": 1, "is_statutory": False}),
    ],
)
def test_reference_lists_are_served_in_order(api, endpoint, first, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # key, the list, the audit row
        response = api.get(endpoint)

    assert response.status_code == 200
    assert first.items() <= response.json()[0].items()


@pytest.mark.django_db
def test_retired_codes_are_not_offered_and_not_accepted(api, body):
    api.post("/api/v1/referrals/", body, format="json")  # the codes are now cached
    health = HeadlineOutcome.objects.get(code="HEALTH")
    health.is_active = False
    health.save()  # as the admin does: the cache is cleared

    codes = [o["code"] for o in api.get("/api/v1/reference/headline-outcomes/").json()]
    response = api.post("/api/v1/referrals/", body, format="json")

    assert "HEALTH" not in codes
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "needs[1]"


def test_the_schema_is_openapi_3_and_public(db):
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/referrals/", "/api/v1/referrals/{id}/"} <= set(schema["paths"])
    post = schema["paths"]["/api/v1/referrals/"]["post"]
    assert post["requestBody"]["content"]["application/json"]["examples"]
    assert "application/problem+json" in post["responses"]["422"]["content"]
    assert {p["name"] for p in post["parameters"]} == {"Idempotency-Key"}
    assert schema["components"]["securitySchemes"]["PartnerApiKey"]["in"] == "header"
    assert schema["components"]["schemas"]["ReferralSubmission"]["additionalProperties"] is False


def test_the_docs_page_loads_its_assets_from_this_server(db):
    response = Client().get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html and "https://" not in html
