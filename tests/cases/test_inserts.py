"""rows_insert and InsertBatch store what the ORM would, with SQL built once per shape."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from cases.inserts import InsertBatch, rows_insert
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


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_batch_reserves_keys_and_sends_its_rows_in_one_round_trip(submission, ref):
    batch = InsertBatch()
    referral = Referral(reference="R-999003", source=ref.source("2A"), received_at=log_time())
    people = [person(submission, 5), person(submission, 6)]

    (number,) = batch.reserve([referral], ["cases_reference_r"])
    batch.add([referral])
    batch.add([Referral.needs.through(referral=referral, headlineoutcome=ref.outcome("HEALTH"))])
    batch.add(people)
    with CaptureQueriesContext(connection) as sent:
        batch.send()

    assert number > 0 and referral.pk is not None
    assert len(sent.captured_queries) == 1
    assert Referral.objects.get(pk=referral.pk).needs.get().code == "HEALTH"
    assert list(
        SubmittedPerson.objects.filter(submission=submission).values_list("position", flat=True)
    ) == [5, 6]


@pytest.mark.postgres
@pytest.mark.django_db
def test_one_failing_statement_fails_the_whole_batch(ref):
    organisation = factories.OrganisationFactory(code="SCH2", kind="school")
    batch = InsertBatch()
    fresh = Referral(reference="R-999005", source=ref.source("2A"), received_at=log_time())
    batch.reserve([fresh])
    batch.add([fresh])
    for address in ("1 Road", "2 Road"):  # a second submission for one referral: refused
        batch.add([PartnerSubmission(referral=fresh, organisation=organisation, address=address)])

    with pytest.raises(IntegrityError), transaction.atomic():
        batch.send()

    assert not Referral.objects.filter(reference="R-999005").exists()
    assert not PartnerSubmission.objects.exists()


def log_time() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
