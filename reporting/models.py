"""Stored reporting: runs of the recompute, KPI values and their drill-down, and Supporting
Families payment-by-results rule sets, targets and claims.

Pages and the API read these rows; only Celery runs (``reporting.services``) write them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from reporting.measures import RuleSet


class ReportRun(models.Model):
    """One recompute: who or what started it, with which parameters, and how far it got."""

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", "Nightly (scheduled)"
        ON_DEMAND = "on_demand", "On demand"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    # Which status may follow which; services consult this map.
    TRANSITIONS = {
        Status.QUEUED: {Status.RUNNING, Status.FAILED},
        Status.RUNNING: {Status.SUCCEEDED, Status.FAILED},
        Status.SUCCEEDED: set(),
        Status.FAILED: set(),
    }
    ACTIVE = (Status.QUEUED, Status.RUNNING)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="report_runs",
    )
    rerun_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reruns"
    )
    parameters = models.JSONField(default=dict, blank=True)
    data_cutoff = models.DateField(help_text="Records up to and including this day are counted")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life; a silent running run is abandoned"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="What went wrong; never personal data")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_done__lte=F("progress_total")),
                name="report_run_progress_within_total",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="queued", started_at__isnull=True, finished_at__isnull=True)
                    | Q(status="running", started_at__isnull=False, finished_at__isnull=True)
                    | Q(
                        status="succeeded",
                        started_at__isnull=False,
                        finished_at__isnull=False,
                        progress_done=F("progress_total"),
                    )
                    | Q(status="failed", finished_at__isnull=False)
                ),
                name="report_run_timings_match_status",
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True)
                | Q(started_at__isnull=True)
                | Q(finished_at__gte=F("started_at")),
                name="report_run_finished_not_before_started",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error=""),
                name="report_run_failure_has_error",
            ),
            models.CheckConstraint(
                condition=~Q(trigger="nightly") | Q(started_by__isnull=True),
                name="report_run_nightly_has_no_user",
            ),
        ]

    def __str__(self) -> str:
        return f"Report run {self.uuid} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def duration(self) -> dt.timedelta | None:
        if self.started_at is None:
            return None
        return (self.finished_at or self.started_at) - self.started_at


# The most months one drill-down row stands for: the drill-down looks this far back for the
# rows covering a month, and a longer run of months is cut into rows of this many.
MAX_SPAN_MONTHS = 12
# A month's period, by its dates: labels cannot tell "2026-10" (a month) from "2026-27" (a
# reporting year).
MONTHLY = Q(period_start__year=F("period_end__year"), period_start__month=F("period_end__month"))


class KpiPartition(models.Model):
    """One measure, with one parameter set, over one period: what a partition of a run
    computes and stores, the key its values and drill-down rows share."""

    measure = models.CharField(max_length=16)
    params_hash = models.CharField(max_length=16, help_text="Digest of the parameters")
    period_label = models.CharField(max_length=32)
    period_start = models.DateField()
    period_end = models.DateField()

    class Meta:
        ordering = ["measure", "period_start", "period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "params_hash", "period_start", "period_end"],
                name="kpi_partition_natural_key",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="kpi_partition_period_end_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.period_label}"


class KpiValue(models.Model):
    """One number of one measure: a period × breakdown × category line, with its parameters.

    The natural key is unique, so a rerun updates the row in place (and leaves an unchanged
    row untouched).
    """

    # No database constraints on the two foreign keys (Django still protects and nulls them):
    # a run writes a hundred thousand values beside the partitions it has just made, and each
    # constraint checked every row at commit, a locking lookup per row (2.8 s on the bench).
    partition = models.ForeignKey(
        KpiPartition, on_delete=models.PROTECT, related_name="values", db_constraint=False
    )
    measure = models.CharField(max_length=16)
    params_hash = models.CharField(max_length=16, help_text="Digest of ``params``")
    params = models.JSONField(default=dict)
    period_label = models.CharField(max_length=32)
    period_start = models.DateField()
    period_end = models.DateField()
    breakdown = models.CharField(max_length=32, help_text="all, locality, team, service…")
    breakdown_value = models.CharField(max_length=100)
    category = models.CharField(max_length=64)
    category_bit = models.PositiveSmallIntegerField(
        help_text="This category's bit in KpiMember masks"
    )
    numerator = models.BigIntegerField()
    denominator = models.BigIntegerField(null=True, blank=True)
    value = models.DecimalField(max_digits=12, decimal_places=1, null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True, help_text="target, medians…")
    run = models.ForeignKey(
        ReportRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="kpi_values",
        db_constraint=False,
    )
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["measure", "period_start", "breakdown", "breakdown_value", "category"]
        indexes = [models.Index(fields=["measure", "params_hash", "period_end"])]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "measure",
                    "params_hash",
                    "period_start",
                    "period_end",
                    "breakdown",
                    "breakdown_value",
                    "category",
                ],
                name="kpi_value_natural_key",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="kpi_value_period_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(numerator__gte=0)
                & (Q(denominator__isnull=True) | Q(denominator__gte=0)),
                name="kpi_value_counts_not_negative",
            ),
            # An empty denominator gives "no value", never 0 %.
            models.CheckConstraint(
                condition=Q(denominator__gt=0) | Q(value__isnull=True),
                name="kpi_value_no_value_without_denominator",
            ),
            models.CheckConstraint(
                condition=(Q(breakdown="all") & Q(breakdown_value="all"))
                | (~Q(breakdown="all") & ~Q(breakdown_value="all")),
                name="kpi_value_all_breakdown_consistent",
            ),
            models.CheckConstraint(
                condition=Q(category_bit__lt=63), name="kpi_value_category_bit_fits"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.period_label} {self.breakdown_value} {self.category}"


class KpiMember(models.Model):
    """Drill-down: one record (episode, referral, assessment…) counted by a measure in a period,
    or in a run of consecutive months where it counts alike.

    One row per record per partition (measure × period), whatever the number of lines it
    appears on: bit
    ``KpiValue.category_bit`` of ``numerator_mask`` / ``denominator_mask`` says whether it is
    in that line's numerator / denominator. A row of a monthly partition also stands for the
    following months up to ``span_end`` (at most ``MAX_SPAN_MONTHS``): a caseload
    counts an open episode every month. ``reporting.dashboards.members_of`` finds a number's
    rows. The breakdown columns are as the run saw them, so a breakdown's drill-down matches
    its number.
    """

    # The natural key is the primary key: it is the one index the drill-down needs (a
    # partition's rows), and rows copied in its order append to it instead of scattering
    # inserts over a surrogate id's index and a second index on the partition.
    pk = models.CompositePrimaryKey("partition_id", "record_type", "record_id")
    # Rows are copied in millions: a foreign key checked row by row would cost more than the
    # copy, so the partition is an unchecked reference that services write and delete with it.
    partition = models.ForeignKey(
        KpiPartition,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the primary key leads with it
        related_name="members",
    )
    record_type = models.CharField(max_length=24)
    record_id = models.BigIntegerField()
    # No constraint and no index of their own: the drill-down is a snapshot written millions
    # of rows at a time, and it is always read one partition (measure, period) at a time.
    family = models.ForeignKey(
        "cases.Family",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    child = models.ForeignKey(
        "cases.Person",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    numerator_mask = models.BigIntegerField(default=0)
    denominator_mask = models.BigIntegerField(default=0)
    locality = models.CharField(max_length=100, blank=True)
    team = models.CharField(max_length=100, blank=True)
    service = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=100, blank=True)
    practitioner = models.CharField(max_length=100, blank=True)
    record_on = models.DateField(null=True, blank=True, help_text="The date that placed it")
    related_type = models.CharField(max_length=24, blank=True)
    related_id = models.BigIntegerField(null=True, blank=True)
    related_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=100, blank=True, help_text="status, kind, reason…")
    span_end = models.DateField(help_text="The end of the last period the row counts in")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(numerator_mask__gte=0) & Q(denominator_mask__gte=0),
                name="kpi_member_masks_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id}"


class ClaimRuleSet(models.Model):
    """One version of the Supporting Families payment-by-results rules, as data.

    ``as_rules()`` gives the measures' ``RuleSet``; fields mirror it one for one.
    """

    code = models.CharField(max_length=32)
    version = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True, help_text="Scanned by the nightly run")
    programme_start = models.DateField()
    programme_end = models.DateField()
    headline_outcomes = models.JSONField(help_text="[[code, label], …]")
    min_needs = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    min_headline_outcomes = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1)]
    )
    require_dependent_child_or_expectant_parent = models.BooleanField(default=True)
    dependent_child_max_age = models.PositiveSmallIntegerField(default=18)
    require_lead_practitioner = models.BooleanField(default=True)
    require_whole_family_assessment = models.BooleanField(default=True)
    require_plan_covers_needs = models.BooleanField(default=True)
    require_needs_met_closure = models.BooleanField(default=True)
    require_all_needs_met = models.BooleanField(default=True)
    sustain_months = models.PositiveSmallIntegerField(default=6)
    payment_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    employment_route = models.BooleanField(
        default=False, help_text="Earlier programmes: an adult into continuous employment"
    )
    employment_sustain_weeks = models.PositiveSmallIntegerField(default=26)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="claim_rule_set_version"),
            models.CheckConstraint(
                condition=Q(programme_end__gte=F("programme_start")),
                name="claim_rule_set_programme_dates",
            ),
            models.CheckConstraint(
                condition=Q(min_headline_outcomes__gte=1)
                & Q(min_needs__gte=F("min_headline_outcomes")),
                name="claim_rule_set_needs_span_outcomes",
            ),
            models.CheckConstraint(
                condition=Q(payment_amount__gte=0), name="claim_rule_set_payment_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    def as_rules(self) -> RuleSet:
        return RuleSet(
            code=self.code,
            name=self.name,
            version=self.version,
            programme_start=self.programme_start,
            programme_end=self.programme_end,
            headline_outcomes=tuple((code, label) for code, label in self.headline_outcomes),
            min_needs=self.min_needs,
            min_headline_outcomes=self.min_headline_outcomes,
            require_dependent_child_or_expectant_parent=(
                self.require_dependent_child_or_expectant_parent
            ),
            dependent_child_max_age=self.dependent_child_max_age,
            require_lead_practitioner=self.require_lead_practitioner,
            require_whole_family_assessment=self.require_whole_family_assessment,
            require_plan_covers_needs=self.require_plan_covers_needs,
            require_needs_met_closure=self.require_needs_met_closure,
            require_all_needs_met=self.require_all_needs_met,
            sustain_months=self.sustain_months,
            payment_amount=Decimal(self.payment_amount),
            employment_route=self.employment_route,
            employment_sustain_weeks=self.employment_sustain_weeks,
        )


class ProgrammeTarget(models.Model):
    """How many families a council aims to claim for in one programme year."""

    rule_set = models.ForeignKey(ClaimRuleSet, on_delete=models.CASCADE, related_name="targets")
    label = models.CharField(max_length=32, help_text='e.g. "2023-24"')
    year_start = models.DateField()
    year_end = models.DateField()
    target_families = models.PositiveIntegerField()

    class Meta:
        ordering = ["rule_set", "year_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "year_start"], name="programme_target_one_per_year"
            ),
            models.CheckConstraint(
                condition=Q(year_end__gte=F("year_start")), name="programme_target_year_dates"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_set} {self.label}: {self.target_families}"


class ClaimBatch(models.Model):
    """Claims sent to the programme together."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=32, unique=True)
    rule_set = models.ForeignKey(ClaimRuleSet, on_delete=models.PROTECT, related_name="batches")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "claim batches"

    def __str__(self) -> str:
        return self.reference


class FamilyClaim(models.Model):
    """A family's payment-by-results claim under one rule set, from eligible to paid or rejected.

    The nightly scan creates and advances eligible/claimable rows; people do the rest through
    the ``claim_*`` services. A rejected claim is kept with its reason.
    """

    class Status(models.TextChoices):
        ELIGIBLE = "eligible", "Eligible (attached)"
        CLAIMABLE = "claimable", "Claimable"
        SUBMITTED = "submitted", "Submitted"
        VALIDATED = "validated", "Validated"
        PAID = "paid", "Paid"
        REJECTED = "rejected", "Rejected"

    class Route(models.TextChoices):
        OUTCOMES = "outcomes", "Sustained outcomes"
        EMPLOYMENT = "employment", "Continuous employment"

    TRANSITIONS = {
        Status.ELIGIBLE: {Status.CLAIMABLE},
        # Back to eligible only by the nightly scan, when corrected records no longer hold.
        Status.CLAIMABLE: {Status.SUBMITTED, Status.ELIGIBLE},
        Status.SUBMITTED: {Status.VALIDATED, Status.REJECTED},
        Status.VALIDATED: {Status.PAID, Status.REJECTED},
        Status.PAID: set(),
        Status.REJECTED: set(),
    }
    # Statuses the nightly scan may still change; later ones belong to people.
    SCANNED = (Status.ELIGIBLE, Status.CLAIMABLE)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No single-column indexes: (rule_set, status) and the unique (family, rule_set, period)
    # lead with these columns already, and the nightly scan writes claims by the hundred
    # thousand.
    rule_set = models.ForeignKey(
        ClaimRuleSet, on_delete=models.PROTECT, related_name="claims", db_index=False
    )
    family = models.ForeignKey(
        "cases.Family", on_delete=models.PROTECT, related_name="claims", db_index=False
    )
    period_label = models.CharField(max_length=32, help_text="Programme year")
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ELIGIBLE)
    attached_on = models.DateField()
    claimable_on = models.DateField(null=True, blank=True)
    route = models.CharField(max_length=16, choices=Route.choices, blank=True)
    evidence = models.JSONField(default=dict, blank=True, help_text="Snapshot of the checks")
    # Indexed only where set (below): the scan writes claims by the hundred thousand, none in
    # a batch yet.
    batch = models.ForeignKey(
        ClaimBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
        db_index=False,
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["period_start", "family"]
        indexes = [
            models.Index(fields=["rule_set", "status"]),
            models.Index(
                fields=["batch"], condition=Q(batch__isnull=False), name="family_claim_batch"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["family", "rule_set", "period_start"],
                name="family_claim_once_per_rule_set_and_period",
            ),
            # At most once per programme: only a rejected claim may sit beside another.
            models.UniqueConstraint(
                fields=["family", "rule_set"],
                condition=~Q(status="rejected"),
                name="family_claim_one_live_per_rule_set",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="family_claim_period_dates",
            ),
            models.CheckConstraint(
                condition=Q(status="eligible") | Q(claimable_on__isnull=False),
                name="family_claim_claimable_has_date",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["eligible", "claimable"])
                | Q(batch__isnull=False, submitted_at__isnull=False),
                name="family_claim_submitted_in_batch",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid")
                | Q(payment_amount__isnull=False, paid_at__isnull=False),
                name="family_claim_paid_has_amount",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="rejected") & Q(rejected_at__isnull=False) & ~Q(rejection_reason="")
                )
                | (~Q(status="rejected") & Q(rejected_at__isnull=True)),
                name="family_claim_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Claim {self.uuid} ({self.get_status_display()})"
