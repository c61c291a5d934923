"""Worked examples for the OpenAPI documentation (synthetic people, valid check digits)."""

from typing import Any

from drf_spectacular.utils import OpenApiExample

REQUEST_BODY: dict[str, Any] = {
    "partner_reference": "SCH-2026-0042",
    "source": "2A",
    "needs": ["EDUCATION", "HEALTH"],
    "reason": "Attendance has dropped to 70% this term and Mum has asked for help with routines.",
    "family": {"address": "1 Example Street, Leeds", "postcode": "LS1 4AP"},
    "children": [
        {
            "forename": "Ada",
            "surname": "Example",
            "date_of_birth": "2016-05-14",
            "sex": "F",
            "nhs_number": "943 476 5919",
            "upn": "H801200001001",
            "school": "Example Primary School",
        }
    ],
    "adults": [
        {
            "forename": "Grace",
            "surname": "Example",
            "date_of_birth": "1988-02-01",
            "relationship": "parent",
        }
    ],
    "consent": {
        "given": True,
        "given_by": "Grace Example (mother)",
        "given_on": "2026-10-01",
        "scope": "Share with the early help team and the school nurse.",
    },
    "referrer": {
        "name": "Sam Teacher",
        "role": "Designated safeguarding lead",
        "email": "dsl@example-primary.sch.uk",
        "phone": "0113 496 0000",
    },
}

REQUEST = OpenApiExample("School request", value=REQUEST_BODY, request_only=True)

CREATED = OpenApiExample(
    "Recorded",
    response_only=True,
    status_codes=["201"],
    value={
        "id": "5b0e6a4c-2f7e-4d7b-9a53-0c1f2d3e4a5b",
        "reference": "R-000123",
        "partner_reference": "SCH-2026-0042",
        "received_at": "2026-10-02T09:15:00+01:00",
        "status": "received",
        "status_label": "Received",
        "outcome": None,
        "url": "https://earlyhelp.example.gov.uk/api/v1/referrals/5b0e6a4c-2f7e-4d7b-9a53-0c1f2d3e4a5b/",
    },
)

ACCEPTED = OpenApiExample(
    "Accepted for early help",
    response_only=True,
    status_codes=["200"],
    value={
        "id": "5b0e6a4c-2f7e-4d7b-9a53-0c1f2d3e4a5b",
        "reference": "R-000123",
        "partner_reference": "SCH-2026-0042",
        "received_at": "2026-10-02T09:15:00+01:00",
        "status": "accepted",
        "status_label": "Accepted for early help",
        "outcome": {
            "decided_on": "2026-10-05",
            "reason": "",
            "contact": {
                "team": "North Leeds Family Support",
                "email": "north.earlyhelp@example.org",
                "phone": "020 7946 0101",
            },
        },
        "url": "https://earlyhelp.example.gov.uk/api/v1/referrals/5b0e6a4c-2f7e-4d7b-9a53-0c1f2d3e4a5b/",
    },
)

INVALID = OpenApiExample(
    "Invalid fields",
    response_only=True,
    status_codes=["422"],
    media_type="application/problem+json",
    value={
        "type": "https://earlyhelp.example.gov.uk/api/problems/validation-failed/",
        "title": "The request has invalid fields",
        "status": 422,
        "detail": "2 fields are invalid: see errors.",
        "errors": [
            {
                "field": "children[0].nhs_number",
                "pointer": "#/children/0/nhs_number",
                "reason": "Enter a valid NHS number: 10 digits, correct check digit.",
                "code": "invalid",
            },
            {
                "field": "family.postcode",
                "pointer": "#/family/postcode",
                "reason": "Enter a UK postcode, such as LS1 4AP.",
                "code": "invalid",
            },
        ],
    },
)
