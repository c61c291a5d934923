"""GET /api/v1/referrals/ and /{id}/: a partner sees its own requests' progress, nothing else."""

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from cases import services
from cases.api.selectors import partner_view, referrals_visible_to_partner
from cases.api.serializers import ReferralSerializer, referral_represent
from cases.models import PartnerSubmission, Referral
from tests import factories
from tests.api.conftest import REFERRALS, post, valid_body


def submit(client, body, **changes) -> dict:
    response = post(client, body | changes)
    assert response.status_code == 201, response.json()
    return response.json()


def followed_up(referral_id: str) -> Referral:
    referral = Referral.objects.get(uuid=referral_id)
    services.partner_follow_up_run(submission_id=referral.partner_submission.pk)
    return referral


def triaged(practitioner, referral_id: str, decision: str, **kwargs) -> Referral:
    """Decide a partner referral the way triage does: link the family and children first."""
    referral = followed_up(referral_id)
    for submitted in referral.partner_submission.people.filter(role="child"):
        for candidate in submitted.candidates.all():
            services.match_candidate_reject(actor=practitioner, candidate=candidate)
        services.submitted_person_create_new(actor=practitioner, submitted=submitted)
    return services.referral_triage(
        actor=practitioner,
        referral=referral,
        decision=decision,
        decided_on=timezone.localdate(),
        notes="Case note: mum disclosed worries about her new partner.",
        **kwargs,
    )


@pytest.mark.django_db
def test_a_partner_lists_only_its_own_referrals(api, other_api, body):
    mine = submit(api, body, partner_reference="MINE-1")
    submit(other_api, body, partner_reference="THEIRS-1")

    response = api.get(REFERRALS)

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [mine["id"]]


@pytest.mark.django_db
def test_another_organisations_referral_is_not_found(api, other_api, body):
    theirs = submit(other_api, body)

    response = api.get(f"{REFERRALS}{theirs['id']}/")

    # the same answer as for an id that does not exist: nothing can be inferred
    assert response.status_code == 404
    assert response.json()["type"].endswith("/api/problems/not-found/")
    assert api.get(f"{REFERRALS}00000000-0000-0000-0000-000000000000/").json() == response.json()
    assert api.get(f"{REFERRALS}not-a-uuid/").status_code == 404


@pytest.mark.django_db
def test_filtering_by_partner_reference_cannot_reveal_others(api, other_api, body):
    submit(other_api, body, partner_reference="SHARED-REF")

    response = api.get(REFERRALS, {"partner_reference": "SHARED-REF"})

    assert response.json()["results"] == []


@pytest.mark.django_db
def test_a_new_referral_is_received_then_in_triage_once_followed_up(api, body):
    created = submit(api, body)
    url = f"{REFERRALS}{created['id']}/"
    assert api.get(url).json()["status"] == "received"

    followed_up(created["id"])

    detail = api.get(url).json()
    assert (detail["status"], detail["status_label"]) == ("in_triage", "With the triage team")
    assert detail["outcome"] is None


@pytest.mark.django_db
def test_accepted_shows_the_team_contact_and_no_case_notes(api, body, practitioner, team, ref):
    team.contact_email, team.contact_phone = "north.fs@example.org", "020 7946 0101"
    team.save()
    practitioner.first_name, practitioner.last_name = "Alex", "Worker"
    practitioner.email = "alex.worker@example.gov.uk"
    practitioner.save()
    created = submit(api, body)
    triaged(
        practitioner,
        created["id"],
        "early_help",
        level=ref.level("L2"),
        service=ref.service(),
        team=team,
        lead_practitioner=practitioner,
    )

    response = api.get(f"{REFERRALS}{created['id']}/")

    detail = response.json()
    assert detail["status"] == "accepted"
    assert detail["outcome"]["decided_on"] == timezone.localdate().isoformat()
    assert detail["outcome"]["contact"] == {
        "team": team.name,
        "email": "north.fs@example.org",
        "phone": "020 7946 0101",
    }
    content = response.content.decode()
    assert "Case note" not in content
    assert "Ada" not in content  # no people either
    assert "Alex" not in content and "alex.worker" not in content  # nor staff


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("decision", "status"),
    [
        ("advice", "signposted"),
        ("no_further_action", "declined"),
        ("escalate_csc", "passed_to_csc"),
    ],
)
def test_each_decision_has_a_partner_status(api, body, practitioner, decision, status):
    created = submit(api, body)
    referral = triaged(practitioner, created["id"], decision)

    detail = api.get(f"{REFERRALS}{created['id']}/").json()

    assert detail["status"] == status
    assert detail["outcome"]["contact"] is None
    assert detail["outcome"]["reason"] == ""
    # the reason the partner may see is recorded apart from the case notes
    services.partner_outcome_explain(
        actor=practitioner, referral=referral, reason="Signposted to the family hub."
    )
    assert api.get(f"{REFERRALS}{created['id']}/").json()["outcome"]["reason"] == (
        "Signposted to the family hub."
    )


@pytest.mark.django_db
def test_filters_by_status_date_and_reference(api, body, practitioner):
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)):
        march = submit(api, valid_body(), partner_reference="MARCH")
    april = submit(api, body, partner_reference="APRIL")
    followed_up(april["id"])
    declined = submit(api, body, partner_reference="NOPE")
    triaged(practitioner, declined["id"], "no_further_action")

    def ids(**params) -> list[str]:
        response = api.get(REFERRALS, params)
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert ids(status="received") == [march["id"]]
    assert ids(status="in_triage") == [april["id"]]
    assert ids(status="declined") == [declined["id"]]
    assert ids(status="accepted") == []
    assert ids(received_before="2026-03-31") == [march["id"]]
    assert set(ids(received_after="2026-04-01")) == {april["id"], declined["id"]}
    assert ids(partner_reference="APRIL") == [april["id"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"status": "lost"}, "status"),
        ({"received_after": "2026-02-30"}, "received_after"),
        ({"partner_reference": "x" * 65}, "partner_reference"),
    ],
)
def test_bad_filter_values_are_named(api, params, parameter):
    response = api.get(REFERRALS, params)

    assert response.status_code == 422
    assert [e["parameter"] for e in response.json()["errors"]] == [parameter]


@pytest.mark.django_db
def test_pages_by_cursor_newest_first(api, body):
    ids = [submit(api, body)["id"] for _ in range(3)]

    first = api.get(REFERRALS, {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    assert [r["id"] for r in first["results"]] == ids[::-1][:2]
    assert [r["id"] for r in second["results"]] == ids[::-1][2:]
    assert second["next"] is None
    assert api.get(REFERRALS, {"cursor": "garbage"}).status_code == 404


@pytest.mark.django_db
def test_the_list_takes_a_fixed_number_of_queries(
    api, body, practitioner, team, ref, django_assert_max_num_queries
):
    del body["children"][0]["nhs_number"]  # each request is a different child
    for decision in ("advice", "early_help", "no_further_action"):
        created = submit(api, body)
        extra = (
            {"level": ref.level("L2"), "service": ref.service(), "team": team}
            if decision == "early_help"
            else {}
        )
        triaged(practitioner, created["id"], decision, **extra)
    for _ in range(3):
        submit(api, body)

    # key, page of referrals with their submissions, their episodes, and the audit row
    with django_assert_max_num_queries(4):
        response = api.get(REFERRALS)
    assert len(response.json()["results"]) == 6


@pytest.mark.django_db
def test_the_detail_takes_a_fixed_number_of_queries(api, body, django_assert_max_num_queries):
    created = submit(api, body)

    with django_assert_max_num_queries(4):
        assert api.get(f"{REFERRALS}{created['id']}/").status_code == 200


@pytest.mark.django_db
def test_referrals_recorded_by_staff_for_the_partner_are_listed_as_in_triage(api, school, ref):
    services.referral_record(
        actor=None,
        source=ref.source("2A"),
        received_at=timezone.now(),
        reason="Phoned in by the school",
        referring_organisation=school,
    )

    (listed,) = api.get(REFERRALS).json()["results"]

    assert listed["status"] == "in_triage"
    assert not PartnerSubmission.objects.exists()


@pytest.mark.django_db
def test_session_partner_users_see_their_organisations_referrals(client, api, body, school):
    created = submit(api, body)
    user = factories.UserFactory.with_role("partner_user", organisation=school)
    client.force_login(user)

    response = client.get(REFERRALS)

    assert [r["id"] for r in response.json()["results"]] == [created["id"]]


@pytest.mark.django_db
def test_responses_are_what_the_documented_serializer_renders(
    api, body, school, practitioner, team, ref
):
    # given referrals in every shape a partner sees: received, in triage, accepted with the
    # team's contact, and declined with a reason
    received = submit(api, body)
    in_triage = submit(api, body)
    followed_up(in_triage["id"])
    team.contact_email, team.contact_phone = "north.fs@example.org", "020 7946 0101"
    team.save()
    accepted = submit(api, body)
    level, service = ref.level("L2"), ref.service()
    triaged(practitioner, accepted["id"], "early_help", level=level, service=service, team=team)
    child = {k: v for k, v in body["children"][0].items() if k != "nhs_number"}
    declined = submit(api, body, children=[child])  # a new person: no NHS number twice
    services.partner_outcome_explain(
        actor=practitioner,
        referral=triaged(practitioner, declined["id"], "no_further_action"),
        reason="Signposted to the family hub.",
    )
    request = Request(APIRequestFactory().get(REFERRALS))

    statuses = []
    for created in (received, in_triage, accepted, declined):
        view = partner_view(referrals_visible_to_partner(school).get(uuid=created["id"]))
        statuses.append(view.status)
        # then the API renders exactly what ReferralSerializer (the schema's description) does
        expected = ReferralSerializer(view, context={"request": request}).data
        assert referral_represent(view, request) == expected
        detail = api.get(f"{REFERRALS}{created['id']}/").json()
        assert detail == json.loads(json.dumps(expected))
    assert statuses == ["received", "in_triage", "accepted", "declined"]
