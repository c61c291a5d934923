from typing import Any

from django.db import migrations

BATCH = 1000


def records_to_submissions(apps: Any, schema_editor: Any) -> None:
    """Copy each remembered key onto the submission of its referral, a batch at a time."""
    record_model = apps.get_model("cases", "IdempotencyRecord")
    submission_model = apps.get_model("cases", "PartnerSubmission")
    last = 0
    while True:
        records = list(
            record_model.objects.filter(pk__gt=last, referral__isnull=False).order_by("pk")[:BATCH]
        )
        if not records:
            return
        last = records[-1].pk
        by_referral = {record.referral_id: record for record in records}
        submissions = list(submission_model.objects.filter(referral_id__in=by_referral))
        for submission in submissions:
            record = by_referral[submission.referral_id]
            submission.idempotency_key = record.key
            submission.request_hash = record.request_hash
            submission.response_body = record.response_body
        submission_model.objects.bulk_update(
            submissions, ["idempotency_key", "request_hash", "response_body"]
        )


def submissions_to_records(apps: Any, schema_editor: Any) -> None:
    """Back to a row per key (their retention restarts: created_at is the time of copying)."""
    record_model = apps.get_model("cases", "IdempotencyRecord")
    submission_model = apps.get_model("cases", "PartnerSubmission")
    last = 0
    while True:
        submissions = list(
            submission_model.objects.filter(pk__gt=last, idempotency_key__isnull=False).order_by(
                "pk"
            )[:BATCH]
        )
        if not submissions:
            return
        last = submissions[-1].pk
        record_model.objects.bulk_create(
            record_model(
                organisation_id=submission.organisation_id,
                key=submission.idempotency_key,
                request_hash=submission.request_hash,
                response_status=201,
                response_body=submission.response_body,
                referral_id=submission.referral_id,
            )
            for submission in submissions
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_partner_submission_idempotency_key")]

    operations = [migrations.RunPython(records_to_submissions, submissions_to_records)]
