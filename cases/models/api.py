"""Partner API: organisation keys, submissions as sent (with their replay), candidates, audit.

A partner's request is kept exactly as submitted (``PartnerSubmission`` and its
``SubmittedPerson`` rows) beside the ``Referral`` it created. People are never merged into
existing records by the API: matching only proposes ``MatchCandidate`` rows, which a triage
practitioner confirms or rejects.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from rest_framework_api_key.models import AbstractAPIKey

from .work import Referral


class PartnerAPIKey(AbstractAPIKey):
    """An API key of one partner organisation. Only its hash is stored; the key is shown once."""

    organisation = models.ForeignKey(
        "earlyhelp.Organisation", on_delete=models.CASCADE, related_name="api_keys"
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "partner API key"
        verbose_name_plural = "partner API keys"


class PartnerSubmission(models.Model):
    """What a partner sent with a referral that the Referral row has no place for, and the
    durable state of the follow-up work (matching, notifying triage) that runs in Celery."""

    class FollowUp(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        DONE = "done", "Done"

    referral = models.OneToOneField(
        Referral, on_delete=models.CASCADE, related_name="partner_submission"
    )
    organisation = models.ForeignKey(
        "earlyhelp.Organisation", on_delete=models.PROTECT, related_name="partner_submissions"
    )
    api_key = models.ForeignKey(
        PartnerAPIKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    address = models.TextField()
    postcode = models.CharField(max_length=10)
    follow_up = models.CharField(max_length=8, choices=FollowUp.choices, default=FollowUp.PENDING)
    follow_up_queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When the follow-up was last handed to the broker"
    )
    follow_up_attempts = models.PositiveSmallIntegerField(default=0)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    partner_visible_reason = models.TextField(
        blank=True, help_text="Why the request was declined or where the family was signposted"
    )
    # The request's Idempotency-Key and the response to replay for it, kept on this row (one
    # insert fewer per request than a table of their own) until API_IDEMPOTENCY_DAYS pass.
    # The unique constraint makes a concurrent retry wait for the first request's commit,
    # then fail and replay it.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    request_hash = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the canonical JSON body"
    )
    response_body = models.JSONField(null=True, blank=True, help_text="The 201 response sent")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["follow_up_queued_at"],
                condition=Q(follow_up="pending"),
                name="partner_submission_pending",
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(idempotency_key__isnull=False),
                name="partner_submission_keyed",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(follow_up="pending", followed_up_at__isnull=True)
                | Q(follow_up="done", followed_up_at__isnull=False),
                name="partner_submission_done_has_time",
            ),
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"],
                name="partner_submission_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Submission for {self.referral_id}"


class SubmittedPerson(models.Model):
    """A child or adult as the partner described them; linked to a Person only by triage."""

    class Role(models.TextChoices):
        CHILD = "child", "Child"
        PARENT = "parent", "Parent"
        STEP_PARENT = "step_parent", "Step-parent"
        CARER = "carer", "Carer"
        GRANDPARENT = "grandparent", "Grandparent"
        SIBLING = "sibling", "Sibling (adult)"
        OTHER = "other", "Other"

    class Resolution(models.TextChoices):
        PENDING = "pending", "Not yet resolved"
        MATCHED = "matched", "Confirmed as an existing person"
        CREATED = "created", "Recorded as a new person"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    submission = models.ForeignKey(
        PartnerSubmission, on_delete=models.CASCADE, related_name="people"
    )
    position = models.PositiveSmallIntegerField(help_text="Order in the request")
    role = models.CharField(max_length=16, choices=Role.choices)
    forename = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    expected_date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, default="U")
    nhs_number = models.CharField(max_length=10, blank=True)
    upn = models.CharField("UPN", max_length=13, blank=True)
    school = models.CharField(max_length=200, blank=True)
    resolution = models.CharField(
        max_length=8, choices=Resolution.choices, default=Resolution.PENDING
    )
    person = models.ForeignKey(
        "cases.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submissions",
        help_text="The record triage linked this submitted person to",
    )

    class Meta:
        ordering = ["submission", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "position"], name="submitted_person_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(resolution="pending", person__isnull=True)
                | (~Q(resolution="pending") & Q(person__isnull=False)),
                name="submitted_person_resolved_has_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.forename} {self.surname} (submitted)"


class MatchCandidate(models.Model):
    """An existing person who may be the submitted person, with a score and the reasons."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting triage"
        CONFIRMED = "confirmed", "Confirmed"
        REJECTED = "rejected", "Rejected"

    submitted_person = models.ForeignKey(
        SubmittedPerson, on_delete=models.CASCADE, related_name="candidates"
    )
    person = models.ForeignKey("cases.Person", on_delete=models.CASCADE, related_name="+")
    score = models.DecimalField(max_digits=5, decimal_places=2, help_text="0–100")
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submitted_person", "-score"]
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_person", "person"], name="match_candidate_unique"
            ),
            models.UniqueConstraint(
                fields=["submitted_person"],
                condition=Q(status="confirmed"),
                name="match_candidate_one_confirmed",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="match_candidate_score_range"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="match_candidate_decided_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submitted_person} ~ {self.person_id} ({self.score})"


class ApiRequestLog(models.Model):
    """One API call: who (organisation, key prefix), what (endpoint, method), the outcome.

    Never the body, the query string or the path: those may carry personal data.
    """

    organisation = models.ForeignKey(
        "earlyhelp.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    key_prefix = models.CharField(max_length=8, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    method = models.CharField(max_length=8)
    endpoint = models.CharField(max_length=100, help_text="URL name, not the path")
    status = models.PositiveSmallIntegerField()
    duration_ms = models.PositiveIntegerField()
    replayed = models.BooleanField(default=False, help_text="Answered from an Idempotency-Key")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API request"

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint} {self.status}"
