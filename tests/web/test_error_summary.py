"""Every link in a form's error summary lands on a field the user can type into or choose.

The GOV.UK error summary links each message to its field: a radio group to its first radio, a
date input to its day input (or to the part in error), checkboxes to the first box. A link to
an id that is missing, or to the wrapper around the inputs, moves nobody's focus. Each page
with radios, checkboxes or a date input is sent an empty form and, where it has dates, dates
that are incomplete and impossible; every summary link must then name a real input, and a
date input in error must be marked ``govuk-input--error``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.db import transaction
from django.urls import reverse

from cases import services
from tests.web import test_access_matrix as matrix

D = dt.date
FIELDS = {"input", "select", "textarea"}
CHOICE_OR_DATE = {"govuk-radios__input", "govuk-checkboxes__input", "govuk-date-input__input"}
# A browser's POST always carries the CSRF token, so even an empty form is a bound one.
BROWSER_POST = {"csrfmiddlewaretoken": "sent-by-the-browser"}
# "Mark as done" from the plan page posts no date, which means today: not an error.
EMPTY_IS_VALID = {"assessments:action_complete"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class Page(HTMLParser):
    """The elements of a page by id, its inputs, its labels and its error summary's links."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, Element] = {}
        self.inputs: list[Element] = []
        self.labelled: set[str] = set()
        self.summary_links: list[str] = []
        # the form holding the choices or dates: its method, where it posts, whether by htmx
        self.form: dict[str, str] = {}
        self._open_form: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        if "id" in element.attrs:
            assert element.attrs["id"] not in self.ids, f"id {element.attrs['id']} is repeated"
            self.ids[element.attrs["id"]] = element
        if tag == "form":
            self._open_form = element.attrs
        if tag == "input":
            self.inputs.append(element)
            if CHOICE_OR_DATE & element.classes and self._open_form:
                self.form = self._open_form
        if tag == "label" and element.attrs.get("for"):
            self.labelled.add(element.attrs["for"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open_form = {}

    @classmethod
    def of(cls, html: str) -> Page:
        page = cls()
        page.feed(html)
        summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
        page.summary_links = re.findall(r'href="([^"]*)"', summary.group(1)) if summary else []
        return page

    def date_inputs(self) -> dict[str, list[Element]]:
        """Date input name (``started_on``) → its day, month and year inputs."""
        groups: dict[str, list[Element]] = {}
        for element in self.inputs:
            if "govuk-date-input__input" in element.classes:
                groups.setdefault(element.attrs["name"].rsplit("_", 1)[0], []).append(element)
        return groups

    def choice_groups(self) -> set[str]:
        return {
            element.attrs["name"]
            for element in self.inputs
            if element.attrs.get("type") in {"radio", "checkbox"}
            and {"govuk-radios__input", "govuk-checkboxes__input"} & element.classes
        }


# --- The pages --------------------------------------------------------------------------------
# (url name, what to build for it, who fills it in). ``build`` is an access-matrix builder or
# one of the extra cases below.
PAGES: list[tuple[str, str, str]] = [
    ("cases:episode_open", "family", "allocated"),
    ("cases:closure_propose", "episode_with_needs", "allocated"),
    ("cases:closure_decide", "closure", "manager"),
    ("cases:step_up_request", "family", "allocated"),
    ("cases:step_down_request", "child_in_csc", "allocated"),
    ("cases:step_decide", "step_up", "manager"),
    ("cases:step_decide", "step_down", "manager"),
    ("cases:taf", "family", "allocated"),
    ("cases:referral_triage", "referral", "allocated"),
    ("cases:referral_triage", "linked_referral", "allocated"),
    ("cases:search", "", "allocated"),
    ("cases:person_add", "family", "allocated"),
    ("cases:family_create", "", "allocated"),
    ("assessments:start", "family", "allocated"),
    ("assessments:detail", "assessments:draft", "allocated"),
    ("assessments:consent", "assessments:draft", "allocated"),
    ("assessments:need_add", "assessments:draft", "allocated"),
    ("assessments:need_edit", "assessments:need", "allocated"),
    ("assessments:complete", "assessments:draft", "allocated"),
    ("assessments:sign_off", "assessments:completed", "manager"),
    ("assessments:plan_create", "assessments:completed", "allocated"),
    ("assessments:action_add", "assessments:plan", "allocated"),
    ("assessments:action_edit", "assessments:action", "allocated"),
    ("assessments:action_complete", "assessments:action", "allocated"),
    ("assessments:review_record", "assessments:plan", "allocated"),
    ("reporting:pbr", "claimable_claims", "performance"),
    ("reporting:claim", "eligible_claim", "performance"),
]


def _url(name: str, build: str, family, personas, ref, team) -> str:
    allocated, manager = personas["allocated"], personas["manager"]
    episode = family.episodes.get()
    if build == "episode_with_needs":
        from tests import factories

        assessment = factories.AssessmentFactory(family=family, episode=episode)
        factories.IdentifiedNeedFactory(
            assessment=assessment,
            headline_outcome=ref.outcome("EDUCATION"),
            level_at_assessment=ref.level("L3"),
        )
        return reverse(name, kwargs={"uuid": episode.uuid})
    if build in {"child_in_csc", "step_down"}:
        services.csc_involvement_record(
            actor=None, person=episode.child, kind="cin_plan", started_on=episode.started_on
        )
        if build == "child_in_csc":
            return reverse(name, kwargs={"reference": family.reference})
        step = services.step_down_request(
            actor=allocated,
            family=family,
            child=episode.child,
            requested_on=episode.started_on,
            reason="CIN plan ended.",
            team=team,
        )
        return reverse(name, kwargs={"uuid": step.uuid})
    if build == "linked_referral":
        from tests.web.test_referrals import linked_request

        referral = linked_request(
            matrix_referral(family), manager
        )  # the children are known: their boxes show
        return reverse(name, kwargs={"reference": referral.reference})
    return matrix._url(name, build, family)


def matrix_referral(family):
    from tests.web.frontdoor_data import partner_request

    return partner_request(family.taf_members.get().organisation)


def _invalid_posts(name: str, page: Page) -> list[dict[str, str]]:
    """An empty form, and where there are dates: each date incomplete, then impossible."""
    posts: list[dict[str, str]] = [] if name in EMPTY_IS_VALID else [{}]
    dates = page.date_inputs()
    if dates:
        posts.append({f"{name}_0": "31" for name in dates})
        posts.append(
            {key: value for name in dates for key, value in date_parts(name, "31", "2", "2025")}
        )
    return posts


def date_parts(name: str, day: str, month: str, year: str) -> list[tuple[str, str]]:
    return [(f"{name}_0", day), (f"{name}_1", month), (f"{name}_2", year)]


def _check_summary(response, where: str) -> int:
    """Check the summary's links; return how many of them name a part of a date input."""
    html = response.content.decode()
    assert response.status_code == 200, where
    page = Page.of(html)
    assert page.summary_links, f"{where}: no error summary"
    for href in page.summary_links:
        assert href.startswith("#"), f"{where}: {href}"
        target = page.ids.get(href[1:])
        assert target is not None, f"{where}: the error summary links to {href}, not on the page"
        assert target.tag in FIELDS and target.attrs.get("type") != "hidden", (
            f"{where}: the error summary links {href} to a <{target.tag}>, not to an input"
        )
    linked = {href[1:] for href in page.summary_links}
    date_links = 0
    for parts in page.date_inputs().values():
        for part in parts:
            if part.attrs["id"] in linked:
                date_links += 1
                assert "govuk-input--error" in part.classes, (
                    f"{where}: {part.attrs['id']} is in error but not marked as such"
                )
    for element in page.inputs:
        if element.attrs.get("type") in {"radio", "checkbox", "text"}:
            assert element.attrs.get("id") in page.labelled, (
                f"{where}: no label for {element.attrs.get('id')} ({element.attrs['name']})"
            )
    return date_links


@pytest.mark.parametrize(("name", "build", "persona"), PAGES, ids=lambda v: v or "-")
def test_every_error_summary_link_lands_on_a_field(
    name, build, persona, family, personas, ref, team, client_for
):
    client = client_for(persona)
    url = _url(name, build, family, personas, ref, team)
    blank = client.get(url)
    assert blank.status_code == 200
    page = Page.of(blank.content.decode())
    assert page.date_inputs() or page.choice_groups(), f"{name} has no radios or dates"
    form = page.form
    date_links = 0
    for data in _invalid_posts(name, page):
        if form.get("method", "get").lower() == "post":
            # where the form posts (the assessment page's "Add a need" posts by htmx)
            response = client.post(
                form.get("hx-post") or form.get("action") or url,
                BROWSER_POST | data,
                headers={"HX-Request": "true"} if "hx-post" in form else {},
            )
        else:  # the search form: a name too short to search by, or a date that is not one
            response = client.get(url, data or {"surname": "x"})
        date_links += _check_summary(response, f"{name} ({build}) with {data}")
    if page.date_inputs():  # the wrong dates were reported, on their inputs
        assert date_links, f"{name}: no error summary link to a date input"


def test_the_pages_are_every_form_with_choices_or_dates(family, personas, client_for):
    """A new form with radios, checkboxes or a date input belongs in PAGES."""
    listed = {name for name, _, _ in PAGES}
    found = set()
    for name, (build, expected) in matrix.MATRIX.items():
        # reporting's forms are the performance officer's: a manager only reads them
        candidates = ("performance",) if name.startswith("reporting:") else ("allocated", "manager")
        persona = next((p for p in candidates if expected[p] == 200), None)
        if persona is None:
            continue
        with transaction.atomic():  # each page's records are undone, as each builds its own
            url = matrix._url(name, build, family)
            page = Page.of(client_for(persona).get(url).content.decode())
            transaction.set_rollback(True)
        if page.date_inputs() or page.choice_groups():
            found.add(name)
    assert found <= listed, f"add these pages to PAGES: {sorted(found - listed)}"
    # the pages whose form shows only in a state the matrix does not build
    assert listed - found <= {"cases:closure_propose", "cases:step_down_request"}
