"""Supporting Families claims: the nightly scan, the lifecycle services and their refusals."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cases.models import CaseEvent
from reporting import services
from reporting.models import ClaimRuleSet, FamilyClaim, ProgrammeTarget
from reporting.selectors import reporting_data

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def rule_set():
    return ClaimRuleSet.objects.get(code="SF-2022-25", version=1)


@pytest.fixture
def scanned(world, rule_set):
    services.pbr_scan(data=reporting_data(), as_of=D(2026, 10, 31))
    return FamilyClaim.objects.get(family=world["families"]["c"])


def test_the_default_rule_set_is_seeded_as_data(rule_set):
    rules = rule_set.as_rules()
    assert (rules.min_needs, rules.min_headline_outcomes, rules.sustain_months) == (3, 3, 6)
    assert len(rules.headline_outcomes) == 10 and rules.employment_route is False


def test_an_earlier_programme_with_the_employment_route_is_just_another_row(rule_set):
    earlier = ClaimRuleSet.objects.create(
        code="TF-2015-20",
        name="Troubled Families 2015-20",
        programme_start=D(2015, 4, 1),
        programme_end=D(2020, 3, 31),
        headline_outcomes=[["WORK", "Worklessness"], ["SCHOOL", "School attendance"]],
        min_needs=2,
        min_headline_outcomes=2,
        sustain_months=6,
        employment_route=True,
        employment_sustain_weeks=13,
        payment_amount=Decimal("800.00"),
    )
    rules = earlier.as_rules()
    assert rules.employment_route and rules.employment_sustain_weeks == 13
    assert rules.payment_amount == Decimal("800.00")


def test_the_scan_finds_the_claimable_family_with_its_evidence(scanned, world):
    assert scanned.status == FamilyClaim.Status.CLAIMABLE
    assert scanned.claimable_on == D(2025, 5, 16)  # closed 15 Nov 2024 + 6 months + 1 day
    assert (scanned.attached_on, scanned.period_label) == (D(2024, 6, 1), "2024-25")
    assert scanned.route == "outcomes"
    assert scanned.evidence["closed_on"] == "2024-11-15"
    assert scanned.evidence["sustain_end"] == "2025-05-15"
    assert all(scanned.evidence[check] for check in services.EVIDENCE_CHECKS)
    # families a and b have no needs: no claim
    assert FamilyClaim.objects.count() == 1


def test_a_second_scan_changes_nothing(scanned):
    before = list(FamilyClaim.objects.values())
    services.pbr_scan(data=reporting_data(), as_of=D(2026, 10, 31))
    assert list(FamilyClaim.objects.values()) == before


def test_the_scan_never_touches_a_submitted_claim(scanned, officer, world):
    services.claim_submit(actor=officer, claims=[scanned], reference="BATCH-1")
    world["episodes"]["c"].__class__.objects.filter(pk=world["episodes"]["c"].pk).update(
        end_reason=None, ended_on=None
    )
    services.pbr_scan(data=reporting_data(), as_of=D(2026, 10, 31))
    scanned.refresh_from_db()
    assert scanned.status == FamilyClaim.Status.SUBMITTED


def test_the_whole_lifecycle_to_paid(scanned, officer, rule_set):
    rule_set.payment_amount = Decimal("1000.00")
    rule_set.save()
    batch = services.claim_submit(actor=officer, claims=[scanned], reference="BATCH-1")
    claim = services.claim_validate(actor=officer, claim=scanned)
    claim = services.claim_pay(actor=officer, claim=claim)
    assert (claim.status, claim.batch, claim.payment_amount) == ("paid", batch, Decimal("1000.00"))
    kinds = list(
        CaseEvent.objects.filter(family=claim.family).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds[-3:] == ["claim_submitted", "claim_validated", "claim_paid"]


def test_a_rejected_claim_keeps_its_history_and_is_never_scanned_again(scanned, officer):
    services.claim_submit(actor=officer, claims=[scanned], reference="BATCH-1")
    claim = services.claim_reject(actor=officer, claim=scanned, reason="Evidence incomplete")
    assert (claim.status, claim.rejection_reason) == ("rejected", "Evidence incomplete")
    services.pbr_scan(data=reporting_data(), as_of=D(2026, 10, 31))
    assert list(FamilyClaim.objects.values_list("status", flat=True)) == ["rejected"]


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        ([], "validate"),  # claimable → validated skips submission
        ([], "pay"),
        (["submit"], "pay"),  # submitted → paid skips validation
        (["submit", "validate", "pay"], "reject"),  # paid is final
    ],
)
def test_illegal_transitions_are_refused(scanned, officer, steps, refused):
    actions = {
        "submit": lambda c: services.claim_submit(actor=officer, claims=[c], reference="B-1"),
        "validate": lambda c: services.claim_validate(actor=officer, claim=c),
        "pay": lambda c: services.claim_pay(actor=officer, claim=c),
        "reject": lambda c: services.claim_reject(actor=officer, claim=c, reason="No"),
    }
    for step in steps:
        actions[step](scanned)
        scanned.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        actions[refused](scanned)
    assert "status" in error.value.message_dict


def test_submission_refuses_what_is_not_ready(scanned, officer, world, rule_set):
    with pytest.raises(ValidationError) as error:
        services.claim_submit(actor=officer, claims=[], reference="B-1")
    assert "claims" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.claim_submit(actor=officer, claims=[scanned], reference=" ")
    assert "reference" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.claim_reject(actor=officer, claim=scanned, reason="")
    assert "rejection_reason" in error.value.message_dict


def test_the_database_holds_a_family_to_one_claim_per_programme(scanned, rule_set):
    with pytest.raises(IntegrityError), transaction.atomic():
        FamilyClaim.objects.create(
            rule_set=rule_set,
            family=scanned.family,
            period_label="2023-24",
            period_start=D(2023, 4, 1),
            period_end=D(2024, 3, 31),
            attached_on=D(2023, 5, 1),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        FamilyClaim.objects.filter(pk=scanned.pk).update(status="paid")  # no amount, no batch


def test_the_evidence_pack_shows_needs_plan_closure_and_checks(scanned):
    pack = services.claim_evidence_pack(scanned)
    assert pack["family"] == scanned.family.reference
    assert {need["headline_outcome__code"] for need in pack["needs"]} == {
        "EDUCATION",
        "HEALTH",
        "HOUSING",
    }
    assert all(need["outcome"] == "met" for need in pack["needs"])
    assert len(pack["plan_actions"]) == 3
    assert pack["episodes"][0]["ended_on"] == D(2024, 11, 15)
    assert pack["checks"]["sustained"] is True
    assert pack["rule_set"]["code"] == "SF-2022-25"


def test_programme_targets_are_one_per_year(rule_set):
    ProgrammeTarget.objects.create(
        rule_set=rule_set,
        label="2022-23",
        year_start=D(2022, 4, 1),
        year_end=D(2023, 3, 31),
        target_families=487,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgrammeTarget.objects.create(
            rule_set=rule_set,
            label="again",
            year_start=D(2022, 4, 1),
            year_end=D(2023, 3, 31),
            target_families=1,
        )


def test_claim_uuids_are_random_version_4_and_never_repeat():
    texts = services._uuid4_texts(5000)
    parsed = [uuid.UUID(text) for text in texts]
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in parsed)
    # the database form: what Django stores on SQLite, and PostgreSQL reads
    assert [u.hex for u in parsed] == list(texts)
    assert len(set(parsed)) == 5000


def test_a_scanned_claim_is_found_by_its_uuid(scanned):
    # the claim page looks claims up by uuid, on SQLite (make run) as on PostgreSQL
    assert FamilyClaim.objects.get(uuid=scanned.uuid) == scanned
