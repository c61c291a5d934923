"""Every practitioner page, for every persona: 404 outside need-to-know, 403 for a role that
may not do this, a sign-in redirect for the anonymous, 200 for the rest.

``MATRIX`` must name every URL the practitioner pages serve; ``test_matrix_covers_every_url``
fails when a page is added without its row.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.web import reporting_rows

PERSONAS = (
    "allocated",
    "colleague",
    "manager",
    "readonly",
    "outsider",
    "partner",
    "stranger_partner",
    "anonymous",
    "performance",
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
    "performance": 403,  # no caseload
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
    "performance": 200,  # any family with an episode in the council's teams
}
# Reporting: performance officers and managers read; everybody else is refused.
REPORT_READERS = {
    "allocated": 403,
    "colleague": 403,
    "manager": 200,
    "readonly": 403,
    "outsider": 403,
    "partner": 403,
    "stranger_partner": 403,
    "anonymous": 302,
    "performance": 200,
}
# Claim-batch downloads: the officers who submit claims only.
REPORT_RUNNERS = {**REPORT_READERS, "manager": 403}
# POST only: any signed-in GET is refused with 405.
POST_ONLY = {**dict.fromkeys(REPORT_READERS, 405), "anonymous": 302}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "cases:caseload": ("", ALL_STAFF_AND_PARTNER),
    "cases:family": ("family", FAMILY_RECORD),
    "reporting:dashboard": ("", REPORT_READERS),
    "reporting:measure": ("measure", REPORT_READERS),
    "reporting:drill_down": ("kpi_value", REPORT_READERS),
    "reporting:run_start": ("", POST_ONLY),
    "reporting:run": ("report_run", REPORT_READERS),
    "reporting:run_progress": ("report_run", REPORT_READERS),
    "reporting:pbr": ("", REPORT_READERS),
    "reporting:claim_batch": ("claim_batch", REPORT_RUNNERS),
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
    if build in reporting_rows.BUILDERS:
        return reverse(name, kwargs=reporting_rows.BUILDERS[build]())
    return reverse(name)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_get_access(name, persona, family, client_for):
    build, expected = MATRIX[name]
    if persona not in expected:
        pytest.skip("this row predates the persona")
    response = client_for(persona).get(_url(name, build, family))
    assert response.status_code == expected[persona], (name, persona)
    if expected[persona] == 302:
        assert response["Location"].startswith("/sign-in/")
