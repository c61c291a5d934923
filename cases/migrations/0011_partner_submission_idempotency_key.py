from django.db import migrations, models


class Migration(migrations.Migration):
    """The Idempotency-Key and its stored response move onto the submission row."""

    dependencies = [
        ("cases", "0010_episode_unallocated_index"),
        ("earlyhelp", "0002_team_contact_details"),
    ]

    operations = [
        migrations.AddField(
            model_name="partnersubmission",
            name="idempotency_key",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
        migrations.AddField(
            model_name="partnersubmission",
            name="request_hash",
            field=models.CharField(
                blank=True, help_text="SHA-256 of the canonical JSON body", max_length=64
            ),
        ),
        migrations.AddField(
            model_name="partnersubmission",
            name="response_body",
            field=models.JSONField(blank=True, help_text="The 201 response sent", null=True),
        ),
        migrations.AddIndex(
            model_name="partnersubmission",
            index=models.Index(
                condition=models.Q(("idempotency_key__isnull", False)),
                fields=["created_at"],
                name="partner_submission_keyed",
            ),
        ),
        migrations.AddConstraint(
            model_name="partnersubmission",
            constraint=models.UniqueConstraint(
                fields=("organisation", "idempotency_key"),
                name="partner_submission_idempotency_key_unique",
            ),
        ),
    ]
