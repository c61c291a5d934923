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
REPORT_POST_ONLY = {**dict.fromkeys(REPORT_READERS, 405), "anonymous": 302}
# A claim shows a family's data: those who may not see the family get 404 whatever their
# role; of the rest, report readers read it and only officers who submit claims act on it.
CLAIM_RECORD = {
    **REPORT_READERS,
    "outsider": 404,
    "stranger_partner": 404,
}
CLAIM_DECISION = {**CLAIM_RECORD, "manager": 403}
REPORT_GET_ONLY = REPORT_POST_ONLY  # the other way round: 405 for any signed-in POST

# Council casework on a family: practitioners and managers of its team; read-only staff and
# partner users may look at the record but not act.
FAMILY_CASEWORK = FAMILY_RECORD | {"readonly": 403, "partner": 403, "performance": 403}
# The episode's lead practitioner or a manager of its team.
EPISODE_LEAD_OR_MANAGER = FAMILY_CASEWORK | {"colleague": 403}
# A manager of the team that holds the work.
TEAM_MANAGER_DECIDES = EPISODE_LEAD_OR_MANAGER | {"allocated": 403}
MANAGERS_ONLY = dict.fromkeys(PERSONAS, 403) | {"manager": 200, "anonymous": 302}
POST_ONLY = dict.fromkeys(PERSONAS, 405) | {"anonymous": 302}

FAMILY_CHANGE = {**FAMILY_RECORD, "readonly": 403, "performance": 403}
TEAM_MANAGER_ONLY = {**FAMILY_CHANGE, "allocated": 403, "colleague": 403, "partner": 403}
FRONT_DOOR = {  # council staff triage every request awaiting it; partners use the API
    "allocated": 200,
    "colleague": 200,
    "manager": 200,
    "readonly": 200,
    "outsider": 200,
    "partner": 403,
    "stranger_partner": 403,
    "anonymous": 302,
    "performance": 403,
}
A_REQUEST = {
    **FRONT_DOOR,
    "stranger_partner": 404,
    "performance": 404,
}  # the partner sent it; the stranger did not
TRIAGE = {**A_REQUEST, "readonly": 403}
NEW_FAMILY = {**FRONT_DOOR, "readonly": 403}
CHANGE_FAMILY = {**FAMILY_RECORD, "readonly": 403, "performance": 403}
MANAGERS = dict.fromkeys(FAMILY_RECORD, 403) | {"manager": 200, "anonymous": 302}
ALLOCATE = {**MANAGERS, "outsider": 404, "stranger_partner": 404}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "cases:caseload": ("", ALL_STAFF_AND_PARTNER),
    "cases:family": ("family", FAMILY_RECORD),
    "cases:episode_open": ("family", FAMILY_CASEWORK),
    "cases:closure_propose": ("episode", EPISODE_LEAD_OR_MANAGER),
    "cases:closure_decide": ("closure", TEAM_MANAGER_DECIDES),
    "cases:step_up_request": ("family", FAMILY_CASEWORK),
    "cases:step_down_request": ("family", FAMILY_CASEWORK),
    "cases:step_decide": ("step_up", TEAM_MANAGER_DECIDES),
    "cases:step_decisions": ("", MANAGERS_ONLY),
    # Anyone who may change the family's record answers a manager's question on a step.
    "cases:step_information": ("step_question", FAMILY_CASEWORK),
    "cases:taf": ("family", FAMILY_RECORD),
    "cases:taf_member_end": ("family", POST_ONLY),
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
    "cases:referral_inbox": ("", FRONT_DOOR),
    "cases:referral": ("referral", A_REQUEST),
    "cases:referral_triage": ("referral", TRIAGE),
    "cases:referral_person": ("submitted_person", A_REQUEST),
    "cases:search": ("", ALL_STAFF_AND_PARTNER),
    "cases:family_create": ("", NEW_FAMILY),
    "cases:person_add": ("family", CHANGE_FAMILY),
    "cases:team": ("", MANAGERS),
    "cases:episode_allocate": ("allocate_episode", ALLOCATE),
    "reporting:dashboard": ("", REPORT_READERS),
    "reporting:measure": ("measure", REPORT_READERS),
    "reporting:drill_down": ("kpi_value", REPORT_READERS),
    "reporting:run_start": ("", REPORT_POST_ONLY),
    "reporting:run": ("report_run", REPORT_READERS),
    "reporting:run_progress": ("report_run", REPORT_READERS),
    "reporting:pbr": ("claimable_claims", REPORT_READERS),
    "reporting:claim_batch": ("claim_batch", REPORT_RUNNERS),
    "reporting:claim": ("eligible_claim", CLAIM_RECORD),
    "reporting:claim_claimable": ("eligible_claim", REPORT_POST_ONLY),
    "reporting:claim_validate": ("submitted_claim", REPORT_POST_ONLY),
    "reporting:claim_pay": ("validated_claim", REPORT_POST_ONLY),
    "reporting:claim_reject": ("submitted_claim", REPORT_POST_ONLY),
}

# Pages that change something: an empty POST gets the same refusals as a GET (or, for those
# allowed, the form back with its errors: nothing is written).
POST_MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "cases:episode_open": ("family", FAMILY_CASEWORK),
    "cases:closure_propose": ("episode", EPISODE_LEAD_OR_MANAGER),
    "cases:closure_decide": ("closure", TEAM_MANAGER_DECIDES),
    "cases:step_up_request": ("family", FAMILY_CASEWORK),
    "cases:step_down_request": ("family", FAMILY_CASEWORK),
    "cases:step_decide": ("step_up", TEAM_MANAGER_DECIDES),
    "cases:step_information": ("step_question", FAMILY_CASEWORK),
    "cases:taf": ("family", FAMILY_CASEWORK),
    # an unknown member is answered with a message on the TAF page
    "cases:taf_member_end": (
        "family",
        FAMILY_CASEWORK | {"allocated": 302, "colleague": 302, "manager": 302},
    ),
    # An empty batch is refused on the page; so are a claimable date, an amount and a reason
    # left out. Validating needs nothing typed, so the officer's empty POST validates.
    "reporting:pbr": ("claimable_claims", REPORT_RUNNERS),
    "reporting:claim": ("eligible_claim", REPORT_GET_ONLY),  # its actions have their own URLs
    "reporting:claim_claimable": ("eligible_claim", CLAIM_DECISION),
    "reporting:claim_validate": ("submitted_claim", CLAIM_DECISION | {"performance": 302}),
    "reporting:claim_pay": ("validated_claim", CLAIM_DECISION),
    "reporting:claim_reject": ("submitted_claim", CLAIM_DECISION),
}

# Pages that change a record, POSTed with an empty form. 200 here means the page answered the
# persona (a form with errors, or a redirect after the change that is not to sign-in).
ASSESSMENT_WRITE_MATRIX: dict[str, tuple[str, dict[str, int]]] = {
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
    if build in {"episode", "closure", "step_up"}:
        return reverse(name, kwargs={"uuid": _casework(build, family).uuid})
    if build == "step_question":
        step = _casework(build, family)
        return reverse(name, kwargs={"reference": family.reference, "uuid": step.uuid})
    if build.startswith("assessments:"):
        from tests.assessments.world import matrix_kwargs

        return reverse(name, kwargs=matrix_kwargs(build, family))
    if build in {"referral", "submitted_person"}:
        from tests.web.frontdoor_data import partner_request

        referral = partner_request(family.taf_members.get().organisation)
        if build == "referral":
            return reverse(name, kwargs={"reference": referral.reference})
        submitted = referral.partner_submission.people.first()
        return reverse(name, kwargs={"reference": referral.reference, "person": submitted.uuid})
    if build == "allocate_episode":
        return reverse(name, kwargs={"episode": family.episodes.get().uuid})
    if build in reporting_rows.FAMILY_BUILDERS:
        return reverse(name, kwargs=reporting_rows.FAMILY_BUILDERS[build](family))
    if build in reporting_rows.BUILDERS:
        return reverse(name, kwargs=reporting_rows.BUILDERS[build]())
    return reverse(name)


def _casework(build: str, family):
    """The episode, a closure proposed by its lead, a step-up they requested, or one on which
    the team's manager asked them for more information."""
    from cases import services
    from cases.models import EpisodeEndReason

    episode = family.episodes.get()
    if build == "closure":
        return services.closure_propose(
            actor=episode.lead_practitioner,
            episode=episode,
            end_reason=EpisodeEndReason.objects.get(code="NEEDS_MET"),
            ended_on=episode.started_on,
        )
    if build in {"step_up", "step_question"}:
        step = services.step_up_request(
            actor=episode.lead_practitioner,
            episode=episode,
            requested_on=episode.started_on,
            reason="Risk has risen.",
        )
        if build == "step_question":
            from earlyhelp.models import Membership

            manager = Membership.objects.get(team=episode.team, role="team_manager").user
            step = services.step_up_decide(
                actor=manager,
                transition=step,
                decision="more_information",
                decided_on=episode.started_on,
                rationale="Send the school's chronology.",
            )
        return step
    return episode


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_get_access(name, persona, family, client_for):
    build, expected = MATRIX[name]
    response = client_for(persona).get(_url(name, build, family))
    assert response.status_code == expected[persona], (name, persona)
    if expected[persona] == 302:
        assert response["Location"].startswith("/sign-in/")


def test_post_matrix_names_pages_of_the_matrix():
    assert set(POST_MATRIX) <= set(MATRIX)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(POST_MATRIX))
def test_post_access(name, persona, family, client_for):
    build, expected = POST_MATRIX[name]
    response = client_for(persona).post(_url(name, build, family), {})
    assert response.status_code == expected[persona], (name, persona)
    if persona == "anonymous":
        assert response["Location"].startswith("/sign-in/")


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(ASSESSMENT_WRITE_MATRIX))
def test_assessment_post_access(name, persona, family, client_for):
    build, expected = ASSESSMENT_WRITE_MATRIX[name]
    response = client_for(persona).post(_url(name, build, family), {})
    if expected[persona] == 200:
        assert response.status_code in (200, 302), (name, persona)
        assert not response.get("Location", "").startswith("/sign-in/"), (name, persona)
    else:
        assert response.status_code == expected[persona], (name, persona)
    if expected[persona] == 302:
        assert response["Location"].startswith("/sign-in/")
