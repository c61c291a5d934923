"""Schema-driven fuzzing: schemathesis sends valid and invalid requests generated from our
OpenAPI schema to the app in-process, and checks each response against the same schema.

No 5xx, every status and content type documented, every body matching its schema, and
invalid input refused with a 4xx. A bounded number of examples keeps the run short.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis import checks

from cases import services
from tests.api.conftest import partner

checks.load_all_checks()
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def keep_test_connection():
    """Requests go straight to the WSGI app, not through Django's test client, so stop Django
    closing the database connection (and with it the test's transaction) after each one, as
    the test client does."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def partner_headers(db, keep_test_connection):
    organisation = partner("FUZZ1")
    _, plaintext = services.partner_api_key_create(organisation=organisation, name="fuzz")
    return {"Authorization": f"Api-Key {plaintext}"}


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("API_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@override_settings(API_PARTNER_RATE="100000/min")
def test_no_server_errors_and_no_schema_violations(case, partner_headers):
    case.call_and_validate(headers=partner_headers, checks=CHECKS)
