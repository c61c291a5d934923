"""POST /api/v1/referrals/: a valid request is recorded as sent; every mistake is named."""

import copy
import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework import serializers

from cases import services
from cases.api.authentication import key_rows
from cases.api.serializers import (
    PRINTABLE,
    CheckedCharField,
    ReferralSubmissionSerializer,
    TextField,
    _accepted,
    submission_validate,
)
from cases.models import PartnerSubmission, Referral, SubmittedPerson
from tests.api.conftest import REFERRALS, post, valid_body

PROBLEM = "application/problem+json"


def today_plus(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


@pytest.mark.django_db
def test_a_valid_request_is_recorded_with_the_people_as_submitted(api, body, school):
    # when the school sends the documented example
    response = post(api, body, "first-try")

    # then it is recorded, received, and its address is given
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "received" and data["outcome"] is None
    assert response["Location"] == data["url"]
    referral = Referral.objects.get(uuid=data["id"])
    assert referral.reference == data["reference"]
    assert referral.referring_organisation == school
    assert referral.source.code == "2A"
    assert sorted(referral.needs.values_list("code", flat=True)) == ["EDUCATION", "HEALTH"]
    assert referral.partner_reference == "SCH-2026-0042"
    assert referral.consent_given and referral.consent_given_by == "Grace Example (mother)"
    assert referral.referrer_email == "dsl@example-primary.sch.uk"
    # and the people are kept as sent, linked to nobody until triage decides
    assert referral.family is None and not referral.children.exists()
    submission = PartnerSubmission.objects.get(referral=referral)
    assert (submission.address, submission.postcode) == ("1 Example Street, Leeds", "LS1 4AP")
    child, adult = SubmittedPerson.objects.filter(submission=submission).order_by("position")
    assert (child.role, child.nhs_number, child.upn) == ("child", "9434765919", "H801200001001")
    assert (adult.role, adult.forename, adult.person) == ("parent", "Grace", None)


@pytest.mark.django_db
def test_an_unborn_child_is_accepted_with_an_expected_date(api, body):
    child = body["children"][0]
    del child["date_of_birth"], child["nhs_number"], child["upn"]
    child["expected_date_of_birth"] = today_plus(90)
    body["adults"] = []

    response = post(api, body)

    assert response.status_code == 201, response.json()
    person = SubmittedPerson.objects.get()
    assert person.date_of_birth is None and person.expected_date_of_birth is not None


@pytest.mark.django_db
def test_optional_parts_may_be_left_out(api, body):
    for name in ("partner_reference", "adults"):
        del body[name]
    body["consent"] = {"given": False}
    body["referrer"] = {"name": "Sam Teacher"}
    child = body["children"][0]
    for name in ("sex", "nhs_number", "upn", "school"):
        del child[name]

    response = post(api, body)

    assert response.status_code == 201, response.json()


@pytest.mark.django_db
def test_submitting_takes_a_fixed_number_of_queries(api, body, django_assert_max_num_queries):
    body["children"] *= 5  # more people, same number of queries
    assert post(api, body, "warm-up").status_code == 201
    key_rows.clear()  # the worst case: this process has not read the key lately

    # key, reference (PostgreSQL: nextval; SQLite: the counter, 4 statements), referral,
    # needs, submission, people, idempotency row, the transaction (here a savepoint and its
    # release), audit row
    with django_assert_max_num_queries(10 if connection.vendor == "postgresql" else 13):
        assert post(api, body, "measured").status_code == 201


@pytest.mark.django_db
def test_submitting_reads_no_key_while_it_is_fresh(api, body, django_assert_max_num_queries):
    assert post(api, body, "warm-up").status_code == 201

    with django_assert_max_num_queries(9 if connection.vendor == "postgresql" else 12):
        assert post(api, body, "measured").status_code == 201


def _set(body: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    target = body
    for step in parents:
        target = target[int(step)] if step.isdigit() else target[step]
    if value is _DELETE:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value


_DELETE = object()

# (what is wrong, where in the body, value, field path reported, error code)
INVALID = [
    (
        "NHS number check digit",
        "children.0.nhs_number",
        "9434765918",
        "children[0].nhs_number",
        "invalid",
    ),
    ("NHS number too short", "children.0.nhs_number", "12345", "children[0].nhs_number", "invalid"),
    ("UPN check letter", "children.0.upn", "A801200001001", "children[0].upn", "invalid"),
    ("UPN length", "children.0.upn", "H80120000100", "children[0].upn", "invalid"),
    ("postcode shape", "family.postcode", "LS1 4A", "family.postcode", "invalid"),
    ("postcode letters", "family.postcode", "QQ1 1AA", "family.postcode", "invalid"),
    (
        "date of birth in the future",
        "children.0.date_of_birth",
        today_plus(1),
        "children[0].date_of_birth",
        "future",
    ),
    (
        "date of birth not a real date",
        "children.0.date_of_birth",
        "2016-02-30",
        "children[0].date_of_birth",
        "invalid",
    ),
    (
        "date of birth before 1900",
        "children.0.date_of_birth",
        "1899-12-31",
        "children[0].date_of_birth",
        "too_early",
    ),
    (
        "adult born in the future",
        "adults.0.date_of_birth",
        today_plus(3),
        "adults[0].date_of_birth",
        "future",
    ),
    (
        "consent given in the future",
        "consent.given_on",
        today_plus(1),
        "consent.given_on",
        "future",
    ),
    ("consent without who", "consent.given_by", _DELETE, "consent.given_by", "invalid"),
    ("consent without when", "consent.given_on", _DELETE, "consent.given_on", "invalid"),
    ("unknown referral source", "source", "ZZ", "source", "invalid"),
    ("unknown need", "needs.1", "NOT_A_NEED", "needs[1]", "invalid"),
    ("no needs", "needs", [], "needs", "min_length"),
    ("need listed twice", "needs", ["HEALTH", "HEALTH"], "needs", "invalid"),
    ("too many needs", "needs", ["HEALTH"] * 11, "needs", "max_length"),
    ("no children", "children", [], "children", "min_length"),
    ("blank reason", "reason", "   ", "reason", "blank"),
    ("reason too long", "reason", "x" * 5001, "reason", "max_length"),
    ("forename too long", "children.0.forename", "x" * 101, "children[0].forename", "max_length"),
    ("forename missing", "children.0.forename", _DELETE, "children[0].forename", "required"),
    (
        "control character in a name",
        "children.0.surname",
        "Ex\x07ample",
        "children[0].surname",
        "invalid",
    ),
    ("null character", "reason", "a\x00b", "reason", "null_characters_not_allowed"),
    ("unknown sex", "children.0.sex", "X", "children[0].sex", "invalid_choice"),
    (
        "unknown relationship",
        "adults.0.relationship",
        "child",
        "adults[0].relationship",
        "invalid_choice",
    ),
    ("referrer email", "referrer.email", "not-an-email", "referrer.email", "invalid"),
    ("referrer phone", "referrer.phone", "call me", "referrer.phone", "invalid"),
    ("referrer missing", "referrer", _DELETE, "referrer", "required"),
    ("family missing", "family", _DELETE, "family", "required"),
    ("address blank", "family.address", "", "family.address", "blank"),
    (
        "partner reference too long",
        "partner_reference",
        "x" * 65,
        "partner_reference",
        "max_length",
    ),
    ("consent not a boolean", "consent.given", "perhaps", "consent.given", "invalid"),
    ("children not a list", "children", {"forename": "Ada"}, "children", "not_a_list"),
    ("unknown field", "favourite_colour", "blue", "favourite_colour", "invalid"),
    ("unknown nested field", "children.0.shoe_size", 3, "children[0].shoe_size", "invalid"),
    (
        "both birth dates",
        "children.0.expected_date_of_birth",
        today_plus(30),
        "children[0].date_of_birth",
        "invalid",
    ),
    (
        "expected birth too far ahead",
        "children.0.expected_date_of_birth",
        today_plus(400),
        "children[0].date_of_birth",
        "invalid",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "value", "field", "code"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_each_invalid_field_is_refused_with_its_path(api, body, path, value, field, code):
    _set(body, path, value)

    response = post(api, body, "bad")

    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["type"].endswith("/api/problems/validation-failed/")
    assert problem["status"] == 422
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in problem["errors"]
    ], problem["errors"]
    pointer = next(e["pointer"] for e in problem["errors"] if e["field"] == field)
    assert pointer.startswith("#/")
    # nothing was written, and the key was not spent on a refused request
    assert not Referral.objects.exists()
    assert not PartnerSubmission.objects.exists()


@pytest.mark.django_db
def test_an_expected_date_alone_must_be_near(api, body):
    child = body["children"][0]
    del child["date_of_birth"]
    child["expected_date_of_birth"] = today_plus(400)

    problem = post(api, body).json()

    assert [e["field"] for e in problem["errors"]] == ["children[0].expected_date_of_birth"]


@pytest.mark.django_db
def test_every_error_is_listed_at_once(api, body):
    body["children"][0]["nhs_number"] = "1"
    body["children"][0]["upn"] = "1"
    body["family"]["postcode"] = "nowhere"
    body["colour"] = "blue"

    problem = post(api, body).json()

    assert sorted(e["field"] for e in problem["errors"]) == [
        "children[0].nhs_number",
        "children[0].upn",
        "colour",
        "family.postcode",
    ]
    assert problem["detail"] == "4 fields are invalid: see errors."


@pytest.mark.django_db
def test_postcode_and_nhs_number_are_normalised(api, body):
    body["family"]["postcode"] = " ls14ap "
    body["children"][0]["nhs_number"] = "943-476-5919"

    assert post(api, body).status_code == 201

    assert PartnerSubmission.objects.get().postcode == "LS1 4AP"
    assert SubmittedPerson.objects.get(role="child").nhs_number == "9434765919"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "content_type", "status", "problem_type"),
    [
        ('{"source": ', "application/json", 400, "malformed-request"),
        ("[" * 50_000 + "]" * 50_000, "application/json", 413, "payload-too-large"),
        ("[" * 20_000 + "]" * 20_000, "application/json", 400, "malformed-request"),
        ('{"a": NaN}', "application/json", 400, "malformed-request"),
        (b'{"reason": "\xff"}', "application/json", 400, "malformed-request"),
        ("{}", "application/json; charset=klingon", 422, "validation-failed"),
        ("source=2A", "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
        ("<referral/>", "application/xml", 415, "unsupported-media-type"),
        ("[]", "application/json", 422, "validation-failed"),
        ('"text"', "application/json", 422, "validation-failed"),
        ("", "application/json", 422, "validation-failed"),
    ],
    ids=[
        "truncated",
        "oversized",
        "nested too deeply",
        "NaN",
        "not UTF-8",
        "unknown charset",
        "form",
        "xml",
        "array",
        "string",
        "empty",
    ],
)
def test_malformed_bodies_get_a_4xx_problem(api, content, content_type, status, problem_type):
    response = api.generic("POST", REFERRALS, content, content_type=content_type)

    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"].endswith(f"/api/problems/{problem_type}/")
    assert not Referral.objects.exists()


@pytest.mark.django_db
@override_settings(API_MAX_BODY_BYTES=2_000)
def test_the_body_limit_is_a_setting(api, body):
    body["reason"] = "x" * 2_000

    response = post(api, body)

    assert response.status_code == 413
    assert "2000 bytes" in response.json()["detail"]


@pytest.mark.django_db
def test_the_api_answers_json_only(api):
    response = api.get(REFERRALS, HTTP_ACCEPT="text/html")

    assert response.status_code == 406
    assert response["Content-Type"] == PROBLEM


@pytest.mark.django_db
def test_problem_types_are_documented(client, api, body):
    body["source"] = "??"
    problem = post(api, body).json()

    page = client.get(problem["type"].replace("http://testserver", ""))

    assert page.status_code == 200
    assert page.json()["title"] == problem["title"]
    assert client.get("/api/problems/no-such-problem/").status_code == 404


@pytest.mark.django_db
def test_methods_other_than_get_and_post_are_refused(api):
    response = api.delete(REFERRALS)

    assert response.status_code == 405
    assert response.json()["type"].endswith("/method-not-allowed/")


def test_problem_documents_are_json_serialisable():
    from cases.api.problems import PROBLEM_TYPES

    assert json.dumps({slug: p.title for slug, p in PROBLEM_TYPES.items()})


@pytest.mark.django_db
def test_unknown_api_paths_are_problem_documents(api):
    response = api.get("/api/v2/referrals/")

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


@pytest.mark.django_db
def test_the_service_applies_the_referral_rules_to_partner_submissions(school, body):
    # given data that skipped the serializer, as another interface might send it
    incoming = ReferralSubmissionSerializer(data=body)
    assert incoming.is_valid(), incoming.errors
    data = dict(incoming.validated_data)
    data["consent"] = {"given": True, "given_by": "Grace Example (mother)"}

    # then the rule of referral_record refuses it, and nothing is written
    with pytest.raises(DjangoValidationError) as refused:
        services.partner_referral_submit(
            organisation=school,
            api_key=None,
            data=data,
            idempotency_key="k",
            request_hash="h",
            render=lambda referral: {},
        )
    assert set(refused.value.message_dict) == {"consent_given_on"}
    assert not Referral.objects.exists() and not PartnerSubmission.objects.exists()


@pytest.mark.django_db
def test_one_refused_request_leaves_nothing_behind_for_the_next(api, body):
    # the serializer that checks bodies is built once per thread and reused
    bad = copy.deepcopy(body)
    bad["children"][0]["nhs_number"] = "1"
    bad["consent"] = {"given": True}

    first = post(api, bad).json()["errors"]
    assert post(api, body).status_code == 201
    again = post(api, bad).json()["errors"]

    assert first == again
    assert sorted(e["field"] for e in first) == [
        "children[0].nhs_number",
        "consent.given_by",
        "consent.given_on",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data", [None, [], "text", {}, {"children": [{"forename": "x" * 101}]}], ids=repr
)
def test_the_reused_checker_refuses_exactly_as_a_new_serializer(data):
    with pytest.raises(serializers.ValidationError) as refused:
        submission_validate(data)

    fresh = ReferralSubmissionSerializer(data=data)
    assert not fresh.is_valid()
    assert refused.value.detail == fresh.errors


@pytest.mark.django_db
def test_each_thread_checks_with_its_own_serializer(body):
    def check(data):
        try:
            return submission_validate(data)["reason"]
        except serializers.ValidationError as exc:
            return sorted(exc.detail)

    bad = {**body, "reason": ""}
    submission_validate(body)  # the codes are now cached: the threads need no database
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(check, [body, bad] * 20))

    assert results == [body["reason"], ["reason"]] * 20


def _outcome(field: serializers.CharField, value: object) -> tuple[str, object]:
    try:
        return "accepted", field.run_validation(value)
    except serializers.ValidationError as exc:
        return "refused", exc.detail


@pytest.mark.parametrize(
    "value",
    [
        *("fine", "", " padded ", "x" * 10, "x" * 11, "a", "a\x00b", "a\ud800b"),
        *("tab\there", "line\nbreak", "trailing\n", "\x7fdel", "émoji 🙂", 42),
    ],
)
def test_checked_text_fields_accept_and_refuse_exactly_what_drf_does(value):
    # given DRF's own fields with the same options and validators
    plain = serializers.CharField(min_length=2, max_length=10, allow_blank=True)
    printable = serializers.CharField(max_length=10, allow_blank=True)
    printable.validators.append(RegexValidator(PRINTABLE, "Remove control characters.", "invalid"))

    # then the precompiled check changes nothing a partner can see
    checked = CheckedCharField(min_length=2, max_length=10, allow_blank=True)
    assert _outcome(checked, value) == _outcome(plain, value)
    assert _outcome(TextField(max_length=10, allow_blank=True), value) == _outcome(printable, value)


def test_a_lone_surrogate_is_refused_with_drfs_reason(api, db):
    raw = json.dumps({"reason": "a\ud800b"})  # escaped: a JSON text that decodes to one

    response = api.post(REFERRALS, raw, content_type="application/json")

    assert response.status_code == 422
    errors = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert errors["reason"] == "surrogate_characters_not_allowed"


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_submission_writes_everything_in_one_round_trip(api, body, django_assert_num_queries):
    post(api, body, "warm-up")  # the key and the reference codes are now cached

    # the transaction's start and end, the reference and keys, then every row at once
    with django_assert_num_queries(4) as captured:
        assert post(api, body, "counted").status_code == 201

    inserts = captured.captured_queries[2]["sql"]
    for table in ("referral", "referral_needs", "partnersubmission", "submittedperson"):
        assert f'INSERT INTO "cases_{table}"' in inserts
    assert 'INSERT INTO "cases_apirequestlog"' in inserts


def _variants() -> dict[str, dict]:
    """Valid bodies of every shape the checker meets."""
    full = valid_body()
    bare = valid_body()
    for optional in ("partner_reference", "adults"):
        del bare[optional]
    bare["children"][0] = {"forename": "Ada", "surname": "Example", "date_of_birth": "2016-05-14"}
    bare["consent"] = {"given": False}
    bare["referrer"] = {"name": "Sam Teacher"}
    unborn = valid_body()
    unborn["children"] = [
        {"forename": "Baby", "surname": "Example", "expected_date_of_birth": today_plus(60)},
        full["children"][0] | {"forename": "Ben", "nhs_number": "", "upn": ""},
    ]
    unborn["adults"] = []
    padded = valid_body()
    padded["family"]["postcode"] = " ls14ap "
    padded["reason"] = "  spaces around are trimmed  "
    return {"full": full, "bare": bare, "unborn and a sibling": unborn, "padded": padded}


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(_variants()))
def test_the_quick_check_accepts_what_drf_accepts_with_the_same_result(name):
    body = _variants()[name]
    drf = ReferralSubmissionSerializer(data=copy.deepcopy(body))
    assert drf.is_valid(), drf.errors

    # the quick walk itself (no fallback) gives DRF's validated data, value for value
    assert _accepted(ReferralSubmissionSerializer(), copy.deepcopy(body)) == drf.validated_data
