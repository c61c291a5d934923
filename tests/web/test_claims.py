"""Supporting Families claims in the browser: a batch of claimable claims submitted from the
payment-by-results page, and a claim's page with its evidence pack and next step (mark
claimable, validate, pay, reject). Each action's stored state and chronology event, each
refusal on its field, who may see and who may act, the access log and the query counts."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import AccessLog, CaseEvent
from reporting import services
from reporting.models import ClaimBatch, ClaimRuleSet, FamilyClaim
from reporting.selectors import reporting_data
from tests import factories
from tests.personas import family_with_child
from tests.reporting.conftest import world  # noqa: F401  (fixture)
from tests.web.reporting_rows import family_claim

pytestmark = pytest.mark.django_db
D = dt.date


def _family_in(team, actor, ref):
    """Another family with an open episode in ``team``: the performance officer sees it."""
    return family_with_child(
        actor,
        team,
        ref,
        forename="Sam",
        surname="Example",
        born=D(2017, 1, 2),
        level="L3",
        postcode="LS6 2AB",
        lead=actor,
    )


def _events(claim, kind):
    return CaseEvent.objects.filter(family=claim.family, kind=kind, data__claim=str(claim.uuid))


def _url(name, claim):
    return reverse(f"reporting:{name}", kwargs={"claim_uuid": claim.uuid})


def _summary(response) -> str:
    """The error summary's text: the refusal must be there, linked to its field."""
    page = response.content.decode()
    start = page.find('class="govuk-error-summary"')
    assert start != -1, "no error summary"
    return page[start : page.find("</ul>", start)]


# --- The claim page ----------------------------------------------------------------------------


def test_claim_page_lays_out_the_evidence_pack_and_logs_the_view(world, client_for, personas):  # noqa: F811
    services.pbr_scan(data=reporting_data(), as_of=D(2026, 10, 31))
    claim = FamilyClaim.objects.get(family=world["families"]["c"])
    client = client_for("performance")

    response = client.get(_url("claim", claim))

    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(rf"<h1[^>]*>Claim for family .*{claim.family.reference}.*</h1>", page)
    assert "Supporting Families 2022-25 national outcome framework" in page
    for outcome in (
        "Getting a good education",
        "Improved mental and physical health",
        "Secure housing",
    ):
        assert f'<th scope="row" class="govuk-table__header">{outcome}</th>' in page
    evidence = response.context["evidence"]
    assert [need["result"] for need in evidence["needs"]] == ["Met", "Met", "Met"]
    assert len(evidence["actions"]) == 3 and evidence["actions"][0]["due_on"] == D(2024, 9, 1)
    assert evidence["episodes"] == [
        {"started_on": D(2024, 5, 20), "ended_on": D(2024, 11, 15), "end_reason": "Needs met"}
    ]
    assert all(check["passed"] for check in evidence["checks"]) and len(evidence["checks"]) == 6
    assert (evidence["closed_on"], evidence["sustain_end"]) == (D(2024, 11, 15), D(2025, 5, 15))
    # a claimable claim is submitted from the list, in a batch
    assert reverse("reporting:pbr") + "?status=claimable" in page
    # the view of the family's data is in the access log, as on every family page
    log = AccessLog.objects.get(user=personas["performance"])
    assert (log.family, log.what) == (claim.family, "reporting:claim")


def test_a_manager_reads_the_claim_but_is_offered_no_action(family, client_for):
    claim = family_claim(family, "submitted")
    page = client_for("manager").get(_url("claim", claim)).content.decode()
    assert "Evidence pack" in page
    assert "Validate claim" not in page and "Reject claim" not in page
    assert 'action="' + _url("claim_validate", claim) not in page


def test_an_officer_is_offered_what_the_status_allows(client_for, personas, ref, team):
    client = client_for("performance")
    offered = {}
    for status in ("eligible", "claimable", "submitted", "validated", "paid", "rejected"):
        claim = family_claim(_family_in(team, personas["allocated"], ref), status)
        page = client.get(_url("claim", claim)).content.decode()
        offered[status] = [
            name
            for name in ("claimable", "validate", "pay", "reject")
            if f'action="{_url(f"claim_{name}", claim)}"' in page
        ]
    assert offered == {
        "eligible": ["claimable"],
        "claimable": [],
        "submitted": ["validate", "reject"],
        "validated": ["pay", "reject"],
        "paid": [],
        "rejected": [],
    }


def test_a_report_reader_who_may_not_see_the_family_gets_404(family, client_for, other_team):
    claim = family_claim(family, "submitted")
    stranger = factories.UserFactory.with_role("team_manager", team=other_team)
    client = client_for("anonymous")
    client.force_login(stranger)
    assert client.get(reverse("reporting:pbr")).status_code == 200  # a report reader
    assert client.get(_url("claim", claim)).status_code == 404
    assert client.post(_url("claim_validate", claim)).status_code == 404
    assert not AccessLog.objects.filter(user=stranger).exists()


# --- Mark claimable ----------------------------------------------------------------------------


def _date(name, day):
    return {f"{name}_0": day.day, f"{name}_1": day.month, f"{name}_2": day.year}


def test_marking_an_eligible_claim_claimable(family, client_for, personas):
    claim = family_claim(family, "eligible")
    client = client_for("performance")

    response = client.post(
        _url("claim_claimable", claim), _date("claimable_on", D(2025, 5, 16)), follow=True
    )

    claim.refresh_from_db()
    assert (claim.status, claim.claimable_on) == ("claimable", D(2025, 5, 16))
    assert _events(claim, "claim_claimable").get().actor == personas["performance"]
    assert response.redirect_chain == [(_url("claim", claim), 302)]
    assert "marked as claimable from 16 May 2025" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Enter the date the claim became claimable"),
        ({"claimable_on_0": "31", "claimable_on_1": "2", "claimable_on_2": "2025"}, "real date"),
        (_date("claimable_on", D(2099, 1, 1)), "must be today or in the past"),
    ],
)
def test_marking_claimable_is_refused_without_a_good_date(family, client_for, data, message):
    claim = family_claim(family, "eligible")
    response = client_for("performance").post(_url("claim_claimable", claim), data)
    assert response.status_code == 200
    summary = _summary(response)
    assert message in summary and 'href="#id_claimable_on_0"' in summary
    claim.refresh_from_db()
    assert claim.status == "eligible" and not _events(claim, "claim_claimable").exists()


# --- Validate ----------------------------------------------------------------------------------


def test_validating_a_submitted_claim(family, client_for, personas):
    claim = family_claim(family, "submitted")
    response = client_for("performance").post(_url("claim_validate", claim), follow=True)
    claim.refresh_from_db()
    assert claim.status == "validated" and claim.validated_at is not None
    assert _events(claim, "claim_validated").get().actor == personas["performance"]
    assert f"Claim for {family.reference} validated." in response.content.decode()


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("validated", "validate"),
        ("submitted", "pay"),
        ("paid", "reject"),
        ("claimable", "validate"),
    ],
)
def test_a_step_the_status_no_longer_allows_is_refused_with_the_current_state(
    family, client_for, status, action
):
    """The page was drawn before someone else moved the claim on."""
    claim = family_claim(family, status)
    events = CaseEvent.objects.filter(family=family).count()
    data = {"payment_amount": "10.00", "rejection_reason": "No"}

    response = client_for("performance").post(_url(f"claim_{action}", claim), data, follow=True)

    page = response.content.decode()
    assert response.redirect_chain == [(_url("claim", claim), 302)]
    assert f"This claim is {claim.get_status_display().lower()} now" in page
    claim.refresh_from_db()
    assert claim.status == status
    assert CaseEvent.objects.filter(family=family).count() == events


# --- Pay ---------------------------------------------------------------------------------------


@pytest.fixture
def amount_set():
    ClaimRuleSet.objects.filter(code="SF-2022-25").update(payment_amount=Decimal("1000.00"))


def test_paying_defaults_to_the_rule_sets_amount(family, client_for, personas, amount_set):
    claim = family_claim(family, "validated")
    client = client_for("performance")
    form = client.get(_url("claim", claim)).content.decode()
    assert re.search(r'<input[^>]*name="payment_amount"[^>]*value="1000.00"', form)

    response = client.post(_url("claim_pay", claim), {"payment_amount": "1000.00"}, follow=True)

    claim.refresh_from_db()
    assert (claim.status, claim.payment_amount) == ("paid", Decimal("1000.00"))
    assert _events(claim, "claim_paid").get().actor == personas["performance"]
    assert "marked as paid: £1,000.00" in response.content.decode()


def test_paying_another_amount(family, client_for, amount_set):
    claim = family_claim(family, "validated")
    client_for("performance").post(_url("claim_pay", claim), {"payment_amount": "850.50"})
    claim.refresh_from_db()
    assert (claim.status, claim.payment_amount) == ("paid", Decimal("850.50"))


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Enter the amount paid"),
        ("a thousand", "must be a number of pounds"),
        ("-5", "must be £0 or more"),
        ("10.555", "in pounds and pence"),
    ],
)
def test_paying_is_refused_without_a_good_amount(family, client_for, amount, message):
    claim = family_claim(family, "validated")
    response = client_for("performance").post(_url("claim_pay", claim), {"payment_amount": amount})
    assert response.status_code == 200
    summary = _summary(response)
    assert message in summary and 'href="#id_payment_amount"' in summary
    claim.refresh_from_db()
    assert claim.status == "validated" and not _events(claim, "claim_paid").exists()


# --- Reject ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["submitted", "validated"])
def test_rejecting_with_a_reason(family, client_for, personas, status):
    claim = family_claim(family, status)
    response = client_for("performance").post(
        _url("claim_reject", claim),
        {"rejection_reason": "  Sustain window not evidenced  "},
        follow=True,
    )
    claim.refresh_from_db()
    assert (claim.status, claim.rejection_reason) == ("rejected", "Sustain window not evidenced")
    assert _events(claim, "claim_rejected").get().actor == personas["performance"]
    page = response.content.decode()
    assert f"Claim for {family.reference} rejected." in page
    assert "Sustain window not evidenced" in page  # the page keeps the reason


@pytest.mark.parametrize("reason", ["", "   "])
def test_rejecting_is_refused_without_a_reason(family, client_for, reason):
    claim = family_claim(family, "submitted")
    response = client_for("performance").post(
        _url("claim_reject", claim), {"rejection_reason": reason}
    )
    assert response.status_code == 200
    summary = _summary(response)
    assert "Enter why the claim is rejected" in summary
    assert 'href="#id_rejection_reason"' in summary
    claim.refresh_from_db()
    assert claim.status == "submitted" and not _events(claim, "claim_rejected").exists()


# --- Submitting a batch from the list ----------------------------------------------------------


@pytest.fixture
def two_claimable(family, personas, ref, team):
    other = _family_in(team, personas["allocated"], ref)
    return [family_claim(family, "claimable"), family_claim(other, "claimable")]


def test_the_list_links_each_claim_to_its_page(two_claimable, client_for):
    page = client_for("manager").get(reverse("reporting:pbr")).content.decode()
    for claim in two_claimable:
        assert f'href="{_url("claim", claim)}"' in page
    assert 'name="claims"' not in page  # a manager reads; only officers submit


def test_submitting_claimable_claims_in_a_batch(two_claimable, client_for, personas):
    client = client_for("performance")
    form = client.get(reverse("reporting:pbr")).content.decode()
    assert form.count('name="claims"') == 2

    response = client.post(
        reverse("reporting:pbr"),
        {"claims": [str(c.uuid) for c in two_claimable], "reference": " SF-2025-Q3 "},
        follow=True,
    )

    batch = ClaimBatch.objects.get(reference="SF-2025-Q3")
    assert batch.created_by == personas["performance"]
    for claim in two_claimable:
        claim.refresh_from_db()
        assert (claim.status, claim.batch) == ("submitted", batch)
        assert (
            _events(claim, "claim_submitted").get().summary == "Claim submitted in batch SF-2025-Q3"
        )
    page = response.content.decode()
    assert "Batch SF-2025-Q3 submitted with 2 claims." in page
    assert 'name="claims"' not in page  # nothing left to submit


def _refused(client, data, field, message):
    response = client.post(reverse("reporting:pbr"), data)
    assert response.status_code == 200
    summary = _summary(response)
    assert message in summary and f'href="#id_{field}"' in summary
    return response


def test_a_batch_is_refused_without_claims_or_reference(two_claimable, client_for):
    client = client_for("performance")
    _refused(client, {"reference": "SF-1"}, "claims", "Select at least one claim to submit")
    _refused(
        client, {"claims": [str(two_claimable[0].uuid)]}, "reference", "Enter a batch reference"
    )
    _refused(
        client,
        {"claims": [str(two_claimable[0].uuid)], "reference": "X" * 33},
        "reference",
        "32 characters or fewer",
    )
    assert not ClaimBatch.objects.exists()
    assert {c.status for c in FamilyClaim.objects.all()} == {"claimable"}


def test_a_batch_reference_is_used_once(two_claimable, client_for):
    first, second = two_claimable
    client = client_for("performance")
    client.post(reverse("reporting:pbr"), {"claims": [str(first.uuid)], "reference": "SF-1"})
    response = _refused(
        client,
        {"claims": [str(second.uuid)], "reference": "SF-1"},
        "reference",
        "A batch with this reference exists already.",
    )
    assert 'value="SF-1"' in response.content.decode()  # what was typed is kept
    second.refresh_from_db()
    assert second.status == "claimable" and not _events(second, "claim_submitted").exists()


def test_a_claim_no_longer_claimable_is_refused(two_claimable, client_for):
    """Chosen on a page drawn before another officer submitted it."""
    first, second = two_claimable
    client = client_for("performance")
    client.post(reverse("reporting:pbr"), {"claims": [str(first.uuid)], "reference": "SF-1"})
    _refused(
        client,
        {"claims": [str(first.uuid), str(second.uuid)], "reference": "SF-2"},
        "claims",
        "A claim you selected is no longer claimable",
    )
    second.refresh_from_db()
    assert second.status == "claimable" and not ClaimBatch.objects.filter(reference="SF-2").exists()


def test_a_batch_holds_claims_under_one_rule_set(two_claimable, client_for):
    first, second = two_claimable
    earlier = ClaimRuleSet.objects.create(
        code="TF-2015-20",
        name="Troubled Families 2015-20",
        programme_start=D(2015, 4, 1),
        programme_end=D(2020, 3, 31),
        headline_outcomes=[["WORK", "Worklessness"]],
        min_needs=1,
        min_headline_outcomes=1,
    )
    FamilyClaim.objects.filter(pk=second.pk).update(rule_set=earlier)
    client = client_for("performance")
    response = _refused(
        client,
        {"claims": [str(first.uuid), str(second.uuid)], "reference": "SF-1"},
        "claims",
        "A batch holds claims under one rule set.",
    )
    assert "rules TF-2015-20 v1" in response.content.decode()  # the boxes say which rules
    assert not ClaimBatch.objects.exists()


def test_with_nothing_claimable_a_post_explains_and_changes_nothing(family, client_for):
    response = client_for("performance").post(
        reverse("reporting:pbr"), {"reference": "SF-1"}, follow=True
    )
    assert "No claims are claimable now" in response.content.decode()
    assert not ClaimBatch.objects.exists()


# --- Queries -----------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_with_its_batch_form_costs_the_same_for_more_claims(
    two_claimable, client_for, personas, ref, team, django_assert_max_num_queries
):
    client = client_for("performance")
    url = reverse("reporting:pbr")
    with django_assert_max_num_queries(18):
        client.get(url)
    few = _queries(client, url)
    for _ in range(4):
        family_claim(_family_in(team, personas["allocated"], ref), "claimable")
    family_claim(_family_in(team, personas["allocated"], ref), "submitted")
    page = client.get(url).content.decode()
    assert page.count('name="claims"') == 6
    assert _queries(client, url) == few


def test_the_claim_page_costs_the_same_for_a_bigger_evidence_pack(
    family, client_for, ref, django_assert_max_num_queries
):
    claim = family_claim(family, "validated")
    client = client_for("performance")
    url = _url("claim", claim)
    with django_assert_max_num_queries(13):
        client.get(url)
    few = _queries(client, url)
    assessment = factories.AssessmentFactory(family=family, episode=family.episodes.get())
    for code in ("EDUCATION", "HEALTH", "HOUSING", "FINANCE"):
        factories.IdentifiedNeedFactory(assessment=assessment, headline_outcome=ref.outcome(code))
    page = client.get(url).content.decode()
    assert page.count('<th scope="row" class="govuk-table__header">') >= 4
    assert _queries(client, url) == few
