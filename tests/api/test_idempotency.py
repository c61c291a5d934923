"""Idempotency-Key: a retry replays the original response; a reused key is refused."""

import pytest

from cases.models import PartnerSubmission, Referral
from tests.api.conftest import post


@pytest.mark.django_db
def test_a_retry_replays_the_original_response(api, body):
    first = post(api, body, "retry-me")
    body_reordered = dict(reversed(list(body.items())))  # key order does not matter

    second = post(api, body_reordered, "retry-me")

    assert (second.status_code, second.json()) == (first.status_code, first.json())
    assert second["Idempotent-Replayed"] == "true"
    assert second["Location"] == first["Location"]
    assert "Idempotent-Replayed" not in first
    assert Referral.objects.count() == 1
    stored = PartnerSubmission.objects.select_related("referral").get()
    assert stored.idempotency_key == "retry-me"
    assert str(stored.referral.uuid) == first.json()["id"]
    assert stored.response_body == first.json()


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused(api, body):
    post(api, body, "once")
    body["reason"] = "Something else entirely"

    response = post(api, body, "once")

    assert response.status_code == 422
    assert response.json()["type"].endswith("/api/problems/idempotency-key-reused/")
    assert Referral.objects.count() == 1


@pytest.mark.django_db
def test_keys_belong_to_one_organisation(api, other_api, body):
    mine = post(api, body, "shared-key").json()
    theirs = post(other_api, body, "shared-key").json()

    assert mine["id"] != theirs["id"]
    assert Referral.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["x" * 256, "has space", "tab\tkey", "ünïcode"])
def test_a_malformed_key_is_refused(api, body, key):
    response = api.post(
        "/api/v1/referrals/",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"),
    )

    assert response.status_code == 400
    assert response.json()["type"].endswith("/api/problems/idempotency-key-invalid/")
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_without_a_key_each_request_is_new(api, body):
    post(api, body)
    post(api, body)

    assert Referral.objects.count() == 2
    assert list(PartnerSubmission.objects.values_list("idempotency_key", "response_body")) == [
        (None, None),
        (None, None),
    ]
