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

FAMILY_CHANGE = {**FAMILY_RECORD, "readonly": 403}
TEAM_MANAGER_ONLY = {**FAMILY_CHANGE, "allocated": 403, "colleague": 403, "partner": 403}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "cases:caseload": ("", ALL_STAFF_AND_PARTNER),
    "cases:family": ("family", FAMILY_RECORD),
    # Assessments, plans and reviews: "assessments:<thing>" builds one of each for the family
    # (tests/assessments/world.py) and puts the named one in the URL.
    "assessments:start": ("family", FAMILY_CHANGE),
    "assessments:detail": ("assessments:draft", FAMILY_RECORD),
    "assessments:voice": ("assessments:draft", FAMILY_CHANGE),
    "assessments:consent": ("assessments:draft", FAMILY_CHANGE),
    "assessments:need_add": ("assessments:draft", FAMILY_CHANGE),
    "assessments:need_edit": ("assessments:need", FAMILY_CHANGE),
    "assessments:need_remove": ("assessments:need", FAMILY_CHANGE),
    "assessments:complete": ("assessments:draft", FAMILY_CHANGE),
    "assessments:sign_off": ("assessments:completed", TEAM_MANAGER_ONLY),
    "assessments:plan_create": ("assessments:completed", FAMILY_CHANGE),
    "assessments:plan": ("assessments:plan", FAMILY_RECORD),
    "assessments:action_add": ("assessments:plan", FAMILY_CHANGE),
    "assessments:action_edit": ("assessments:action", FAMILY_CHANGE),
    "assessments:action_complete": ("assessments:action", FAMILY_CHANGE),
    "assessments:review_record": ("assessments:plan", FAMILY_CHANGE),
}

# Pages that change a record, POSTed with an empty form. 200 here means the page answered the
# persona (a form with errors, or a redirect after the change that is not to sign-in).
WRITE_MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    name: (build, expected)
    for name, (build, expected) in MATRIX.items()
    if name.startswith("assessments:") and expected is not FAMILY_RECORD
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
    if build.startswith("assessments:"):
        from tests.assessments.world import matrix_kwargs

        return reverse(name, kwargs=matrix_kwargs(build, family))
    return reverse(name)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_get_access(name, persona, family, client_for):
    build, expected = MATRIX[name]
    response = client_for(persona).get(_url(name, build, family))
    assert response.status_code == expected[persona], (name, persona)
    if expected[persona] == 302:
        assert response["Location"].startswith("/sign-in/")


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(WRITE_MATRIX))
def test_post_access(name, persona, family, client_for):
    build, expected = WRITE_MATRIX[name]
    response = client_for(persona).post(_url(name, build, family), {})
    if expected[persona] == 200:
        assert response.status_code in (200, 302), (name, persona)
        assert not response.get("Location", "").startswith("/sign-in/"), (name, persona)
    else:
        assert response.status_code == expected[persona], (name, persona)
    if expected[persona] == 302:
        assert response["Location"].startswith("/sign-in/")
