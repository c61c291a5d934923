"""Partner API fixtures: partner organisations with keys, clients, and a valid request body."""

import copy
import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.utils import timezone
from kombu import pools as kombu_pools
from rest_framework.test import APIClient

from cases import services
from cases.api import reference_cache
from cases.api.authentication import key_rows
from cases.api.examples import REQUEST_BODY
from earlyhelp.celery import app
from tests import factories

REFERRALS = "/api/v1/referrals/"
BROKER_VARIABLE = "CELERY_BROKER_URL"


def partner(code: str, **kwargs):
    return factories.OrganisationFactory(
        code=code, name=f"{code} school", kind="school", api_access_enabled=True, **kwargs
    )


def client_for(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    return client


@pytest.fixture(autouse=True)
def fresh_reference_codes():
    """Each test sees its own database's codes and keys, not another test's cached copy."""
    reference_cache.clear()
    key_rows.clear()


@pytest.fixture
def school(db):
    return partner("SCHOOL1")


@pytest.fixture
def school_key(school):
    return services.partner_api_key_create(organisation=school, name="MIS connector")


@pytest.fixture
def api(school_key):
    """A client authenticated with the school's key."""
    return client_for(school_key[1])


@pytest.fixture
def other_school(db):
    return partner("SCHOOL2")


@pytest.fixture
def other_api(other_school):
    _, plaintext = services.partner_api_key_create(organisation=other_school, name="Other MIS")
    return client_for(plaintext)


def valid_body() -> dict:
    """The documented example, with dates that are valid today."""
    body = copy.deepcopy(REQUEST_BODY)
    body["consent"]["given_on"] = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    return body


@pytest.fixture
def body():
    return valid_body()


def post(client: APIClient, body: dict, key: str | None = None):
    if key is None:
        return client.post(REFERRALS, body, format="json")
    return client.post(REFERRALS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _reset_connections() -> None:
    """Drop pooled broker connections, so the next publish connects to the new URL."""
    kombu_pools.reset()
    setattr(app, "_pool", None)  # noqa: B010  (private: what Celery resets after a fork)
    setattr(app.amqp, "_producer_pool", None)  # noqa: B010


@contextmanager
def broker(url: str | None) -> Iterator[None]:
    """Point Celery at ``url`` (None: run tasks in-process), then put everything back.

    Celery reads the CELERY_BROKER_URL environment variable before its own setting, so both
    are changed.
    """
    saved = (app.conf.broker_url, app.conf.task_always_eager, os.environ.get(BROKER_VARIABLE))
    if url is not None:
        os.environ[BROKER_VARIABLE] = url
    app.conf.update(broker_url=url or saved[0], task_always_eager=url is None)
    _reset_connections()
    try:
        yield
    finally:
        if saved[2] is None:
            os.environ.pop(BROKER_VARIABLE, None)
        else:
            os.environ[BROKER_VARIABLE] = saved[2]
        app.conf.update(broker_url=saved[0], task_always_eager=saved[1])
        _reset_connections()
