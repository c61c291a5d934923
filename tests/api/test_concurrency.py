"""Simultaneous retries with one Idempotency-Key create exactly one referral (PostgreSQL)."""

import threading
from collections import Counter

import pytest
from django.db import connection

from cases import services
from cases.models import PartnerSubmission, Referral
from tests.api.conftest import REFERRALS, client_for, valid_body

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def send_together(plaintext: str, requests: list[tuple[dict, str]]) -> list:
    """POST every (body, key) from its own thread and connection, released at one moment."""
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)

    def send(index: int, body: dict, key: str) -> None:
        client = client_for(plaintext)
        try:
            barrier.wait()
            responses[index] = client.post(REFERRALS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=(i, body, key)) for i, (body, key) in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


@pytest.fixture(autouse=True)
def no_follow_up(monkeypatch):
    """Follow-ups are not under test here; Celery's in-process mode is not thread-safe, and a
    real broker would be left holding tasks for a database that is about to be emptied."""
    monkeypatch.setattr(services, "_follow_ups_publish", lambda submission_ids: True)


def test_twenty_simultaneous_retries_create_one_referral(school_key):
    _, plaintext = school_key
    body = valid_body()

    responses = send_together(plaintext, [(body, "retry-storm")] * 20)

    assert Referral.objects.count() == 1
    assert PartnerSubmission.objects.count() == 1
    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.json()["id"] for r in responses}) == 1
    assert Counter(r.get("Idempotent-Replayed") for r in responses) == {None: 1, "true": 19}


def test_one_key_with_two_bodies_at_once_keeps_the_first_and_refuses_the_other(school_key):
    _, plaintext = school_key
    first, second = valid_body(), valid_body()
    second["reason"] = "A different request"

    responses = send_together(plaintext, [(first, "clash")] * 10 + [(second, "clash")] * 10)

    referral = Referral.objects.get()
    winner = first if referral.reason == first["reason"] else second
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 10 and statuses.count(422) == 10
    assert all(
        (r.status_code == 201) == (body is winner)
        for r, body in zip(responses, [first] * 10 + [second] * 10, strict=True)
    )


def test_twenty_different_requests_at_once_get_twenty_references(school_key):
    _, plaintext = school_key

    responses = send_together(plaintext, [(valid_body(), f"key-{n}") for n in range(20)])

    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.json()["reference"] for r in responses}) == 20
    assert Referral.objects.count() == 20
