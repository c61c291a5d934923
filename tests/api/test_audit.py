"""Every API call is audited: organisation, key, endpoint, outcome, and no personal data."""

import datetime as dt

import pytest
import time_machine
from django.db import DatabaseError
from django.test import override_settings
from rest_framework.test import APIClient

from cases import services
from cases.models import ApiRequestLog, PartnerSubmission, Referral
from tests.api.conftest import REFERRALS, client_for, post


def rows() -> list[dict]:
    fields = ("organisation__code", "key_prefix", "method", "endpoint", "status", "replayed")
    return [dict(row) for row in ApiRequestLog.objects.order_by("pk").values(*fields)]


@pytest.mark.django_db
def test_each_call_and_its_outcome_is_recorded(api, school_key, body):
    key, _ = school_key
    created = post(api, body, "k-1").json()
    post(api, body, "k-1")
    api.get(f"{REFERRALS}{created['id']}/")
    api.get("/api/v1/reference/levels/")
    post(api, {"source": "2A"})

    expected = [
        ("POST", "api-v1:referral-list", 201, False),
        ("POST", "api-v1:referral-list", 201, True),
        ("GET", "api-v1:referral-detail", 200, False),
        ("GET", "api-v1:levels", 200, False),
        ("POST", "api-v1:referral-list", 422, False),
    ]
    assert rows() == [
        {
            "organisation__code": "SCHOOL1",
            "key_prefix": key.prefix,
            "method": method,
            "endpoint": endpoint,
            "status": status,
            "replayed": replayed,
        }
        for method, endpoint, status, replayed in expected
    ]


@pytest.mark.django_db
def test_refused_calls_are_recorded_with_the_presented_prefix():
    APIClient().get(REFERRALS)
    client_for("badprefix.secret-part").get(REFERRALS)

    assert [(r["key_prefix"], r["status"], r["organisation__code"]) for r in rows()] == [
        ("", 401, None),
        ("badprefi", 401, None),
    ]


@pytest.mark.django_db
@override_settings(API_PARTNER_RATE="1/min")
def test_throttled_calls_are_recorded(api):
    with time_machine.travel(dt.datetime(2026, 5, 1, 9, 0, 1, tzinfo=dt.UTC), tick=False):
        api.get(REFERRALS)
        api.get(REFERRALS)

    assert [r["status"] for r in rows()] == [200, 429]


@pytest.mark.django_db
def test_audit_rows_hold_no_personal_data(api, body):
    created = post(api, body, "k-2").json()
    api.get(f"{REFERRALS}{created['id']}/", {"partner_reference": "SCH-2026-0042"})
    body["children"][0]["nhs_number"] = "0000000000"
    post(api, body)

    stored = " ".join(
        str(value) for row in ApiRequestLog.objects.values() for value in row.values()
    )
    for personal in ("Ada", "Example", "9434765919", "LS1 4AP", "SCH-2026-0042", created["id"]):
        assert personal not in stored


@pytest.mark.django_db
def test_a_referral_and_its_audit_row_commit_together(api, body, monkeypatch):
    def audit_fails(**fields):
        raise DatabaseError("the audit table is unavailable")

    monkeypatch.setattr(services, "api_request_audit", audit_fails)

    with pytest.raises(DatabaseError):
        post(api, body, "k-audit")

    # no request for support without the row saying who sent it
    assert not Referral.objects.exists()
    assert not PartnerSubmission.objects.exists()


@pytest.mark.django_db
def test_a_created_referral_is_recorded_once(api, body):
    post(api, body, "k-once")

    assert [(r["status"], r["replayed"]) for r in rows()] == [(201, False)]
