"""Every practitioner page, for every persona: 404 outside need-to-know, 403 for a role that
may not do this, a sign-in redirect for the anonymous, 200 for the rest.

``MATRIX`` must name every URL the practitioner pages serve; ``test_matrix_covers_every_url``
fails when a page is added without its row.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

PERSONAS = (
    "allocated",
    "colleague",
    "manager",
    "readonly",
    "outsider",
    "partner",
    "stranger_partner",
    "anonymous",
)

# url name → (how to build its kwargs from the family, {persona: expected GET status})
ALL_STAFF_AND_PARTNER = {
    "allocated": 200,
    "colleague": 200,
    "manager": 200,
    "readonly": 200,
    "outsider": 200,
    "partner": 200,
    "stranger_partner": 200,
    "anonymous": 302,
}
FAMILY_RECORD = {
    "allocated": 200,
    "colleague": 200,
    "manager": 200,
    "readonly": 200,
    "outsider": 404,
    "partner": 200,
    "stranger_partner": 404,
    "anonymous": 302,
}

FRONT_DOOR = {  # council staff triage every request awaiting it; partners use the API
    "allocated": 200,
    "colleague": 200,
    "manager": 200,
    "readonly": 200,
    "outsider": 200,
    "partner": 403,
    "stranger_partner": 403,
    "anonymous": 302,
}
A_REQUEST = {**FRONT_DOOR, "stranger_partner": 404}  # the partner sent it; the stranger did not
TRIAGE = {**A_REQUEST, "readonly": 403}
NEW_FAMILY = {**FRONT_DOOR, "readonly": 403}
CHANGE_FAMILY = {**FAMILY_RECORD, "readonly": 403}
MANAGERS = dict.fromkeys(FAMILY_RECORD, 403) | {"manager": 200, "anonymous": 302}
ALLOCATE = {**MANAGERS, "outsider": 404, "stranger_partner": 404}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "cases:caseload": ("", ALL_STAFF_AND_PARTNER),
    "cases:family": ("family", FAMILY_RECORD),
    "cases:referral_inbox": ("", FRONT_DOOR),
    "cases:referral": ("referral", A_REQUEST),
    "cases:referral_triage": ("referral", TRIAGE),
    "cases:referral_person": ("submitted_person", A_REQUEST),
    "cases:search": ("", ALL_STAFF_AND_PARTNER),
    "cases:family_create": ("", NEW_FAMILY),
    "cases:person_add": ("family", CHANGE_FAMILY),
    "cases:team": ("", MANAGERS),
    "cases:episode_allocate": ("episode", ALLOCATE),
}

# The namespaces of the browser pages; the API and the admin have their own access tests.
PAGE_NAMESPACES = {"cases", "assessments", "reporting"}


def _url_names(resolver: URLResolver, namespace: str = "") -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_matrix_covers_every_url():
    names = {name for name in _url_names(get_resolver()) if name.split(":")[0] in PAGE_NAMESPACES}
    assert names - set(MATRIX) == set(), "add these pages to the access matrix"


def _url(name: str, build: str, family) -> str:
    from django.urls import reverse

    if build == "family":
        return reverse(name, kwargs={"reference": family.reference})
    if build in {"referral", "submitted_person"}:
        from tests.web.frontdoor_data import partner_request

        referral = partner_request(family.taf_members.get().organisation)
        if build == "referral":
            return reverse(name, kwargs={"reference": referral.reference})
        submitted = referral.partner_submission.people.first()
        return reverse(name, kwargs={"reference": referral.reference, "person": submitted.uuid})
    if build == "episode":
        return reverse(name, kwargs={"episode": family.episodes.get().uuid})
    return reverse(name)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_get_access(name, persona, family, client_for):
    build, expected = MATRIX[name]
    response = client_for(persona).get(_url(name, build, family))
    assert response.status_code == expected[persona], (name, persona)
    if expected[persona] == 302:
        assert response["Location"].startswith("/sign-in/")
