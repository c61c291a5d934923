"""Assessments, identified needs, plans, actions and reviews."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Assessment(models.Model):
    class Kind(models.TextChoices):
        MY_PLAN = "my_plan", "My Plan"
        MY_PLAN_PLUS = "my_plan_plus", "My Assessment + My Plan Plus"
        EHA = "eha", "Early Help Assessment"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        COMPLETED = "completed", "Completed"
        SIGNED_OFF = "signed_off", "Signed off by manager"

    TRANSITIONS = {
        Status.DRAFT: {Status.COMPLETED},
        Status.COMPLETED: {Status.SIGNED_OFF, Status.DRAFT},
        Status.SIGNED_OFF: set(),
    }

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=48, unique=True, null=True, blank=True)
    family = models.ForeignKey("cases.Family", on_delete=models.PROTECT, related_name="assessments")
    episode = models.ForeignKey(
        "cases.Episode", on_delete=models.PROTECT, null=True, blank=True, related_name="assessments"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    is_whole_family = models.BooleanField(default=True)
    started_on = models.DateField()
    completed_on = models.DateField(null=True, blank=True)
    signed_off_on = models.DateField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lead_practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lead_organisation = models.ForeignKey(
        "earlyhelp.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    child_voice = models.TextField(blank=True)
    family_voice = models.TextField(blank=True)
    consent_given_by = models.CharField(max_length=200, blank=True)
    consent_given_on = models.DateField(null=True, blank=True)
    consent_scope = models.TextField(blank=True)
    consent_share_with = models.ManyToManyField(
        "earlyhelp.Organisation",
        blank=True,
        related_name="assessments_shared_with",
        help_text="The organisations the family agreed information may be shared with",
    )
    sign_off_notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who saved the current version",
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Optimistic lock for concurrent edits"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True) | Q(completed_on__gte=F("started_on")),
                name="assessment_completed_not_before_started",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(completed_on__isnull=False),
                name="assessment_completed_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="signed_off") | Q(signed_off_on__isnull=False),
                name="assessment_signed_off_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_on}"


class IdentifiedNeed(models.Model):
    class Outcome(models.TextChoices):
        MET = "met", "Met"
        PARTLY_MET = "partly_met", "Partly met"
        NOT_MET = "not_met", "Not met"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=48, unique=True, null=True, blank=True)
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="needs")
    headline_outcome = models.ForeignKey(
        "cases.HeadlineOutcome", on_delete=models.PROTECT, related_name="needs"
    )
    person = models.ForeignKey(
        "cases.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="needs",
        help_text="Empty for a whole-family need",
    )
    description = models.TextField(blank=True)
    level_at_assessment = models.ForeignKey(
        "cases.LevelOfNeed", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    level_at_closure = models.ForeignKey(
        "cases.LevelOfNeed", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_recorded_on = models.DateField(null=True, blank=True)
    evidence = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(outcome="") & Q(outcome_recorded_on__isnull=True))
                | (~Q(outcome="") & Q(outcome_recorded_on__isnull=False)),
                name="need_outcome_has_date",
            ),
        ]

    def __str__(self) -> str:
        return str(self.headline_outcome)


class Plan(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assessment = models.OneToOneField(Assessment, on_delete=models.PROTECT, related_name="plan")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    started_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    review_interval_days = models.PositiveSmallIntegerField(default=42)
    next_review_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who saved the current version",
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Optimistic lock: bumped by every change to the plan or its actions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_review_on"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="open") & Q(closed_on__isnull=True))
                | (Q(status="closed") & Q(closed_on__gte=F("started_on"))),
                name="plan_closed_has_valid_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Plan for {self.assessment}"


class PlanAction(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="actions")
    need = models.ForeignKey(IdentifiedNeed, on_delete=models.CASCADE, related_name="actions")
    description = models.TextField()
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    owner_organisation = models.ForeignKey(
        "earlyhelp.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField()
    completed_on = models.DateField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_user__isnull=False) | Q(owner_organisation__isnull=False),
                name="plan_action_has_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.description[:60]


class Review(models.Model):
    """A plan review; a Team Around the Family meeting when is_taf_meeting is set."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reviews")
    held_on = models.DateField()
    is_taf_meeting = models.BooleanField(default=False)
    family_present = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    next_review_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(next_review_on__isnull=True) | Q(next_review_on__gt=F("held_on")),
                name="review_next_after_held",
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.held_on}"


class ReviewAttendee(models.Model):
    """Someone at a review or TAF meeting: a family member, a professional (by account or by
    organisation), or somebody named in free text."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="attendees")
    person = models.ForeignKey(
        "cases.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    organisation = models.ForeignKey(
        "earlyhelp.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False)
                | Q(user__isnull=False)
                | Q(organisation__isnull=False)
                | ~Q(name=""),
                name="review_attendee_is_someone",
            ),
        ]

    def __str__(self) -> str:
        return self.name or str(self.person or self.user or self.organisation)


class NeedProgress(models.Model):
    class Rating(models.TextChoices):
        IMPROVED = "improved", "Improved"
        NO_CHANGE = "no_change", "No change"
        WORSE = "worse", "Worse"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="progress")
    need = models.ForeignKey(IdentifiedNeed, on_delete=models.CASCADE, related_name="progress")
    rating = models.CharField(max_length=16, choices=Rating.choices)
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "need"], name="need_progress_once_per_review")
        ]

    def __str__(self) -> str:
        return self.get_rating_display()
