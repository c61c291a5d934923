"""Requests for support as partners send them, for the front door tests: through the partner
API (as a school's system would), then followed up so triage has match candidates."""

import copy

from cases import services
from cases.api import reference_cache
from cases.models import Referral
from earlyhelp.models import Organisation
from tests.api.conftest import REFERRALS, broker, client_for, valid_body

# Ava Example of the personas' family, as a school would describe her (no NHS number).
AVA = {
    "forename": "Ava",
    "surname": "Example",
    "date_of_birth": "2016-03-04",
    "sex": "F",
    "school": "Example Primary School",
}
NEW_PARENT = {
    "forename": "Nia",
    "surname": "Newcomer",
    "date_of_birth": "1990-07-01",
    "relationship": "parent",
}


def partner_request(
    organisation: Organisation,
    *,
    children: list[dict] | None = None,
    adults: list[dict] | None = None,
    postcode: str = "LS6 2AB",
    partner_reference: str = "SCH-2026-0042",
) -> Referral:
    """POST a request with ``organisation``'s key and run its follow-up (matching)."""
    if not organisation.api_access_enabled:
        organisation.api_access_enabled = True
        organisation.save(update_fields=["api_access_enabled"])
    _, key = services.partner_api_key_create(organisation=organisation, name="Test MIS")
    body = valid_body()
    body["partner_reference"] = partner_reference
    body["family"]["postcode"] = postcode
    body["children"] = copy.deepcopy(children if children is not None else [AVA])
    body["adults"] = copy.deepcopy(adults if adults is not None else [NEW_PARENT])
    reference_cache.clear()
    with broker(None):  # follow-up in-process, never a message left on a shared broker
        response = client_for(key).post(REFERRALS, body, format="json")
    assert response.status_code == 201, response.content
    referral = Referral.objects.get(reference=response.json()["reference"])
    services.partner_follow_up_run(submission_id=referral.partner_submission.pk)
    return referral
