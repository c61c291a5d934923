"""Who may call the API: partner keys (hashed, revocable), partner users; nobody else."""

import datetime as dt
import time

import pytest
import redis
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cases import services
from cases.models import PartnerAPIKey
from tests import factories
from tests.api.conftest import REFERRALS, client_for, partner

ENDPOINTS = [
    REFERRALS,
    "/api/v1/reference/referral-sources/",
    "/api/v1/reference/headline-outcomes/",
    "/api/v1/reference/levels/",
]


@pytest.mark.django_db
def test_keys_are_stored_hashed_and_shown_once(school):
    api_key, plaintext = services.partner_api_key_create(organisation=school, name="MIS")

    stored = PartnerAPIKey.objects.get(pk=api_key.pk)
    assert plaintext.startswith(f"{stored.prefix}.")
    assert plaintext.partition(".")[2] not in stored.hashed_key
    assert stored.hashed_key.startswith("sha512$$")
    assert stored.organisation == school


@pytest.mark.django_db
def test_keys_need_an_organisation_with_api_access():
    closed = factories.OrganisationFactory(code="CLOSED", api_access_enabled=False)

    with pytest.raises(ValidationError, match="Enable API access"):
        services.partner_api_key_create(organisation=closed, name="MIS")


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_key_is_401_with_the_scheme_to_use(endpoint):
    response = APIClient().get(endpoint)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/api/problems/not-authenticated/")


def _revoked(key: PartnerAPIKey, plaintext: str) -> str:
    services.partner_api_key_revoke(api_key=key)
    return plaintext


def _expired(key: PartnerAPIKey, plaintext: str) -> str:
    key.expiry_date = timezone.now() - dt.timedelta(minutes=1)
    key.save()
    return plaintext


def _organisation_closed(key: PartnerAPIKey, plaintext: str) -> str:
    key.organisation.api_access_enabled = False
    key.organisation.save()
    return plaintext


def _organisation_inactive(key: PartnerAPIKey, plaintext: str) -> str:
    key.organisation.is_active = False
    key.organisation.save()
    return plaintext


def _tampered(key: PartnerAPIKey, plaintext: str) -> str:
    return plaintext[:-1] + ("a" if plaintext[-1] != "a" else "b")


def _unknown_prefix(key: PartnerAPIKey, plaintext: str) -> str:
    return "nobody00.secret"


@pytest.mark.django_db
@pytest.mark.parametrize("used_before", [False, True], ids=["new key", "key read lately"])
@pytest.mark.parametrize(
    "spoil",
    [_revoked, _expired, _organisation_closed, _organisation_inactive, _tampered, _unknown_prefix],
)
def test_a_bad_key_is_refused_with_one_message(school_key, spoil, used_before):
    if used_before:  # this process now holds the key's row
        assert client_for(school_key[1]).get(REFERRALS).status_code == 200
    plaintext = spoil(*school_key)

    response = client_for(plaintext).get(REFERRALS)

    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid, revoked or expired API key."


@pytest.mark.django_db
def test_a_key_revoked_elsewhere_stops_working_within_the_cache_time(school_key):
    api_key, plaintext = school_key
    with override_settings(API_KEY_CACHE_SECONDS=0.2):
        assert client_for(plaintext).get(REFERRALS).status_code == 200
        # as another web process would revoke it: this process hears nothing
        PartnerAPIKey.objects.filter(pk=api_key.pk).update(revoked=True)
        assert client_for(plaintext).get(REFERRALS).status_code == 200
        time.sleep(0.3)

        assert client_for(plaintext).get(REFERRALS).status_code == 401


@pytest.mark.django_db
@override_settings(API_KEY_CACHE_SECONDS=0)
def test_with_no_cache_time_every_request_reads_the_key(school_key, django_assert_num_queries):
    client = client_for(school_key[1])
    client.get("/api/v1/reference/levels/")

    with django_assert_num_queries(3):  # the key, the levels, the audit row
        client.get("/api/v1/reference/levels/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "referrals", "reference"),
    [
        ("partner key", 200, 200),
        ("partner user", 200, 200),
        ("practitioner", 403, 200),
        ("partner user of a closed organisation", 403, 200),
        ("former partner user", 403, 200),
        ("anonymous", 401, 401),
    ],
)
def test_access_by_persona(api, school, practitioner, persona, referrals, reference):
    client = APIClient()
    if persona == "partner key":
        client = api
    elif persona == "partner user":
        client.force_login(factories.UserFactory.with_role("partner_user", organisation=school))
    elif persona == "practitioner":
        client.force_login(practitioner)
    elif persona == "partner user of a closed organisation":
        closed = partner("GONE", is_active=False)
        client.force_login(factories.UserFactory.with_role("partner_user", organisation=closed))
    elif persona == "former partner user":
        user = factories.UserFactory.with_role("partner_user", organisation=school)
        user.memberships.update(ended_on=dt.date(2021, 1, 1))
        client.force_login(user)

    assert client.get(REFERRALS).status_code == referrals
    assert client.get("/api/v1/reference/levels/").status_code == reference


@pytest.mark.django_db
def test_session_posts_need_the_csrf_token(school, body):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(factories.UserFactory.with_role("partner_user", organisation=school))

    response = client.post(REFERRALS, body, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.mark.django_db
def test_the_admin_creates_a_key_and_shows_it_once(client, school):
    admin_user = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:cases_partnerapikey_add"),
        {"name": "MIS connector", "organisation": school.pk},
        follow=True,
    )

    assert response.status_code == 200
    (message,) = [
        str(m) for m in get_messages(response.wsgi_request) if "cannot be shown again" in str(m)
    ]
    plaintext = message.split("is: ")[1].split(". ")[0]
    assert client_for(plaintext).get(REFERRALS).status_code == 200
    assert plaintext not in PartnerAPIKey.objects.get().hashed_key


@pytest.mark.django_db
def test_the_admin_revokes_a_key(client, school_key):
    key, plaintext = school_key
    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:cases_partnerapikey_change", args=[key.pk]),
        {"name": key.name, "revoked": "on"},
        follow=True,
    )

    assert response.status_code == 200
    assert PartnerAPIKey.objects.get().revoked
    assert client_for(plaintext).get(REFERRALS).status_code == 401


@pytest.mark.django_db
@override_settings(API_PARTNER_RATE="3/min")
def test_a_key_over_its_rate_gets_429_with_retry_after(api, other_api):
    with time_machine.travel(dt.datetime(2026, 5, 1, 9, 0, 15, tzinfo=dt.UTC), tick=False):
        statuses = [api.get(REFERRALS).status_code for _ in range(4)]
        response = api.get(REFERRALS)

    assert statuses == [200, 200, 200, 429]
    assert response.status_code == 429
    assert response["Retry-After"] == "45"  # the rest of the minute
    assert response.json()["type"].endswith("/api/problems/rate-limited/")
    # the limit is per key: another partner is unaffected
    assert other_api.get(REFERRALS).status_code == 200


@pytest.mark.django_db
@override_settings(API_PARTNER_RATE="2/min")
def test_the_limit_resets_with_the_next_window(api):
    start = dt.datetime(2026, 5, 1, 9, 0, 50, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        assert [api.get(REFERRALS).status_code for _ in range(3)] == [200, 200, 429]
        clock.shift(dt.timedelta(seconds=11))
        assert api.get(REFERRALS).status_code == 200


@pytest.mark.redis
@pytest.mark.django_db
@override_settings(API_PARTNER_RATE="5/min")
def test_rate_counters_in_redis_expire_with_their_window(api, school_key):
    api_key, _ = school_key

    for _ in range(3):
        assert api.get(REFERRALS).status_code == 200

    client = redis.Redis.from_url(settings.CACHE_URL)
    (key,) = client.keys(f"earlyhelp:throttle:partner:key:{api_key.prefix}:*")
    assert client.get(key) == b"3"
    assert 0 < client.ttl(key) <= 61  # the rest of the minute, and a second to spare
