"""rows_insert stores what the ORM would, with SQL built once per shape."""

import datetime as dt

import pytest
from django.db.models.signals import post_save

from cases.inserts import rows_insert
from cases.models import ApiRequestLog, PartnerSubmission, Referral, SubmittedPerson
from tests import factories


def stored(row) -> dict:
    """Every column of the row as the database holds it now."""
    fresh = type(row).objects.get(pk=row.pk)
    return {field.attname: getattr(fresh, field.attname) for field in fresh._meta.concrete_fields}


@pytest.fixture
def submission(db, ref):
    organisation = factories.OrganisationFactory(code="SCH", kind="school")
    referral = Referral.objects.create(
        reference="R-999001", source=ref.source("2A"), received_at=dt.datetime.now(dt.UTC)
    )
    return PartnerSubmission.objects.create(
        referral=referral, organisation=organisation, address="1 Road", postcode="LS1 4AP"
    )


def person(submission, position: int) -> SubmittedPerson:
    return SubmittedPerson(
        submission=submission,
        position=position,
        role="child",
        forename="Ada",
        surname="Example",
        date_of_birth=dt.date(2016, 5, 14),
        nhs_number="9434765919",
    )


@pytest.mark.django_db
def test_rows_are_stored_as_the_orm_stores_them(submission):
    by_orm = person(submission, 0)
    by_orm.save()
    by_insert = person(submission, 1)

    rows_insert([by_insert], returning_pk=True)

    assert by_insert.pk is not None and by_insert.pk != by_orm.pk
    assert not by_insert._state.adding
    ours, theirs = stored(by_insert), stored(by_orm)
    assert ours.pop("uuid") != theirs.pop("uuid")  # each its own default
    for key in ("id", "position"):
        ours.pop(key), theirs.pop(key)
    assert ours == theirs


@pytest.mark.django_db
def test_json_and_creation_times_are_stored(submission, ref):
    log = ApiRequestLog(method="POST", endpoint="x", status=201, duration_ms=3)
    referral = Referral.objects.create(
        reference="R-999002", source=ref.source("2A"), received_at=dt.datetime.now(dt.UTC)
    )
    body = {"id": "abc", "outcome": None, "list": [1, "two"]}
    keyed = PartnerSubmission(
        referral=referral,
        organisation=submission.organisation,
        address="2 Road",
        postcode="LS1 4AP",
        idempotency_key="k",
        response_body=body,
    )

    rows_insert([log, ApiRequestLog(method="GET", endpoint="y", status=200, duration_ms=1)])
    rows_insert([keyed], returning_pk=True)

    assert log.created_at is not None  # auto_now_add, as save() sets it
    assert list(ApiRequestLog.objects.order_by("pk").values_list("endpoint", "status")) == [
        ("x", 201),
        ("y", 200),
    ]
    assert stored(keyed)["response_body"] == body
    assert stored(keyed)["created_at"] == keyed.created_at


@pytest.mark.django_db
def test_many_rows_get_their_keys_in_order(submission):
    people = [person(submission, n) for n in range(5)]

    rows_insert(people, returning_pk=True)

    assert [p.position for p in SubmittedPerson.objects.order_by("pk")] == [0, 1, 2, 3, 4]
    keys = SubmittedPerson.objects.order_by("pk").values_list("pk", flat=True)
    assert [p.pk for p in people] == list(keys)
    rows_insert([])  # nothing to do is no statement, and no error


@pytest.mark.django_db
def test_a_model_with_save_receivers_is_refused(db):
    def receiver(**kwargs):
        pass

    post_save.connect(receiver, sender=ApiRequestLog)
    try:
        with pytest.raises(TypeError, match="receivers"):
            rows_insert([ApiRequestLog(method="GET", endpoint="x", status=200, duration_ms=1)])
    finally:
        post_save.disconnect(receiver, sender=ApiRequestLog)
    assert not ApiRequestLog.objects.exists()
