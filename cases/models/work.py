"""Requests for support, early help episodes, CSC involvement and step-up/step-down."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .family import Family, Person
from .reference import (
    CscClosureReason,
    EpisodeEndReason,
    EpisodeStartReason,
    HeadlineOutcome,
    LevelOfNeed,
    ReferralSource,
    Service,
)


class Referral(models.Model):
    """A request for support, and its triage decision."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        DECIDED = "decided", "Triage decided"

    class Decision(models.TextChoices):
        ADVICE = "advice", "Advice or signposting"
        NO_FURTHER_ACTION = "no_further_action", "No further action"
        EARLY_HELP = "early_help", "Open to early help"
        ESCALATE_CSC = "escalate_csc", "Escalate to children's social care"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=16, unique=True)
    external_id = models.CharField(max_length=48, unique=True, null=True, blank=True)
    family = models.ForeignKey(
        Family, on_delete=models.PROTECT, related_name="referrals", null=True, blank=True
    )
    children = models.ManyToManyField(Person, related_name="referrals", blank=True)
    needs = models.ManyToManyField(HeadlineOutcome, related_name="referrals", blank=True)
    received_at = models.DateTimeField()
    source = models.ForeignKey(ReferralSource, on_delete=models.PROTECT, related_name="referrals")
    referring_organisation = models.ForeignKey(
        "earlyhelp.Organisation",
        on_delete=models.PROTECT,
        related_name="referrals",
        null=True,
        blank=True,
    )
    referrer_name = models.CharField(max_length=200, blank=True)
    referrer_role = models.CharField(max_length=200, blank=True)
    referrer_email = models.EmailField(blank=True)
    referrer_phone = models.CharField(max_length=32, blank=True)
    partner_reference = models.CharField(max_length=64, blank=True)
    reason = models.TextField(help_text="The reason, in the referrer's words")
    consent_given = models.BooleanField(default=False)
    consent_given_by = models.CharField(max_length=200, blank=True)
    consent_given_on = models.DateField(null=True, blank=True)
    consent_scope = models.TextField(blank=True)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    decision = models.CharField(max_length=24, choices=Decision.choices, blank=True)
    decided_on = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="referrals_decided",
        null=True,
        blank=True,
    )
    decision_level = models.ForeignKey(
        LevelOfNeed, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Which status may follow which; services consult this map.
    TRANSITIONS = {Status.RECEIVED: {Status.DECIDED}, Status.DECIDED: set()}

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "received_at"], name="referral_inbox")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="received") & Q(decision="") & Q(decided_on__isnull=True))
                | (Q(status="decided") & ~Q(decision="") & Q(decided_on__isnull=False)),
                name="referral_decided_has_decision",
            ),
            models.CheckConstraint(
                condition=~Q(decision="early_help")
                | (Q(decision_level__isnull=False) & Q(decision_service__isnull=False)),
                name="referral_early_help_has_level_and_service",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class Episode(models.Model):
    """One child's period of early help involvement."""

    class Origin(models.TextChoices):
        FRONT_DOOR = "front_door", "Front door / MASH"
        PARTNER = "partner", "Partner request"
        SELF = "self", "Self-referral"
        STEP_DOWN = "step_down", "Step-down from children's social care"

    class PlanType(models.TextChoices):
        MY_PLAN = "my_plan", "My Plan"
        MY_PLAN_PLUS = "my_plan_plus", "My Assessment + My Plan Plus"
        EHA = "eha", "Early Help Assessment"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=48, unique=True, null=True, blank=True)
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="episodes")
    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="episodes")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="episodes")
    team = models.ForeignKey(
        "earlyhelp.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="episodes"
    )
    level = models.ForeignKey(LevelOfNeed, on_delete=models.PROTECT, related_name="episodes")
    plan_type = models.CharField(max_length=16, choices=PlanType.choices, blank=True)
    lead_practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="episodes_led",
    )
    lead_worker_external_id = models.CharField(max_length=100, blank=True)
    lead_organisation = models.ForeignKey(
        "earlyhelp.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="episodes_led",
    )
    origin = models.CharField(max_length=16, choices=Origin.choices)
    start_reason = models.ForeignKey(
        EpisodeStartReason, on_delete=models.PROTECT, null=True, blank=True, related_name="episodes"
    )
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="episodes"
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.ForeignKey(
        EpisodeEndReason, on_delete=models.PROTECT, null=True, blank=True, related_name="episodes"
    )
    closure_summary = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_on"]
        indexes = [
            models.Index(fields=["ended_on"]),
            models.Index(fields=["started_on"]),
            # My caseload: a practitioner's open episodes, found directly rather than by
            # intersecting all their episodes with every open episode of the council.
            models.Index(
                fields=["lead_practitioner"],
                condition=Q(ended_on__isnull=True),
                name="episode_open_by_lead",
            ),
            # The team view's unallocated work: open episodes nobody leads, oldest first.
            models.Index(
                fields=["team", "started_on"],
                condition=Q(ended_on__isnull=True, lead_practitioner__isnull=True),
                name="episode_unallocated",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["child", "service"],
                condition=Q(ended_on__isnull=True),
                name="episode_one_open_per_child_and_service",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="episode_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=(Q(ended_on__isnull=True) & Q(end_reason__isnull=True))
                | (Q(ended_on__isnull=False) & Q(end_reason__isnull=False)),
                name="episode_closed_iff_end_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Episode {self.uuid} ({self.started_on}–{self.ended_on or 'open'})"

    @property
    def is_open(self) -> bool:
        return self.ended_on is None


class CscInvolvement(models.Model):
    """A statutory children's social care record: referral, assessment, CIN, CP or CLA."""

    class Kind(models.TextChoices):
        REFERRAL = "referral", "CSC referral"
        ASSESSMENT = "assessment", "CSC assessment"
        CIN_PLAN = "cin_plan", "Child in need plan"
        CP_PLAN = "cp_plan", "Child protection plan"
        CLA = "cla", "Child looked after"

    class Source(models.TextChoices):
        FRONT_DOOR = "front_door", "Front door"
        STEP_UP = "step_up", "Stepped up by early help"
        OTHER = "other", "Other"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=48, null=True, blank=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="csc_involvements")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.OTHER)
    referral = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ons",
        limit_choices_to={"kind": "referral"},
        help_text="The CSC referral this plan or episode belongs to",
    )
    closure_reason = models.ForeignKey(
        CscClosureReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    primary_need_code = models.CharField(max_length=3, blank=True, help_text="N0–N9")
    referral_source_code = models.CharField(max_length=48, blank=True)
    category = models.CharField(max_length=100, blank=True, help_text="CP category or CLA reason")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on"]
        verbose_name = "CSC involvement"
        indexes = [models.Index(fields=["person", "started_on"])]
        constraints = [
            models.UniqueConstraint(fields=["kind", "external_id"], name="csc_external_id_unique"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="csc_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(closure_reason__isnull=True) | Q(ended_on__isnull=False),
                name="csc_closure_reason_only_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_on}"


class Transition(models.Model):
    """A step-up (early help → CSC) or step-down (CSC → early help), with its decision."""

    class Direction(models.TextChoices):
        STEP_UP = "step_up", "Step-up to children's social care"
        STEP_DOWN = "step_down", "Step-down to early help"

    class Decision(models.TextChoices):
        PENDING = "pending", "Awaiting decision"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        MORE_INFORMATION = "more_information", "More information requested"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=48, unique=True, null=True, blank=True)
    direction = models.CharField(max_length=16, choices=Direction.choices)
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="transitions")
    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="transitions")
    from_episode = models.ForeignKey(
        Episode, on_delete=models.PROTECT, null=True, blank=True, related_name="step_ups"
    )
    from_csc = models.ForeignKey(
        CscInvolvement, on_delete=models.PROTECT, null=True, blank=True, related_name="step_downs"
    )
    to_team = models.ForeignKey(
        "earlyhelp.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Step-down: the early help team asked to take over; its manager decides",
    )
    reason = models.TextField(blank=True)
    requested_on = models.DateField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    decided_on = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rationale = models.TextField(blank=True)
    decided_by_panel = models.BooleanField(
        default=False, help_text="A panel decided; decided_by is the manager who recorded it"
    )
    opened_episode = models.ForeignKey(
        Episode, on_delete=models.PROTECT, null=True, blank=True, related_name="opened_by_step_down"
    )
    opened_csc = models.ForeignKey(
        CscInvolvement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opened_by_step_up",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    _OPEN_DECISIONS = {Decision.ACCEPTED, Decision.DECLINED, Decision.MORE_INFORMATION}
    DECISIONS_FROM = {
        Decision.PENDING: _OPEN_DECISIONS,
        Decision.MORE_INFORMATION: _OPEN_DECISIONS,
        Decision.ACCEPTED: set(),
        Decision.DECLINED: set(),
    }

    class Meta:
        ordering = ["-requested_on"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(direction="step_up") & Q(from_episode__isnull=False))
                | (Q(direction="step_down") & Q(from_csc__isnull=False)),
                name="transition_has_origin_record",
            ),
            models.CheckConstraint(
                condition=(Q(decision="pending") & Q(decided_on__isnull=True))
                | (~Q(decision="pending") & Q(decided_on__isnull=False)),
                name="transition_decided_has_date",
            ),
            models.CheckConstraint(
                condition=Q(decided_on__isnull=True) | Q(decided_on__gte=F("requested_on")),
                name="transition_decided_not_before_requested",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.requested_on} ({self.get_decision_display()})"


class TransitionNote(models.Model):
    """One turn of the "more information" exchange on a step-up or step-down.

    A manager's question lives on the transition (decision "more information", its rationale,
    decider and date) while it waits; when it is answered, or the manager decides again, it is
    kept here as a question, and the answer follows it. The transition's own fields then hold
    only the latest decision, and these notes the whole exchange in order.
    """

    class Kind(models.TextChoices):
        QUESTION = "question", "More information requested"
        ANSWER = "answer", "Information supplied"

    transition = models.ForeignKey(Transition, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.TextField()
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    written_on = models.DateField(help_text="Question: the date of the decision; answer: sent")
    by_panel = models.BooleanField(
        default=False, help_text="A panel asked; written_by is the manager who recorded it"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="transition_note_has_text"),
            models.CheckConstraint(
                condition=Q(kind="question") | Q(by_panel=False),
                name="transition_note_only_questions_by_panel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.written_on}"


class CaseEvent(models.Model):
    """One line of a family's chronology: who did what, when."""

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="events")
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(max_length=48)
    summary = models.CharField(max_length=500)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["family", "occurred_at"])]

    def __str__(self) -> str:
        return self.summary


class ReferenceCounter(models.Model):
    """The last reference number per prefix, where the database has no sequences (SQLite).

    On PostgreSQL the numbers come from one sequence per prefix and these rows only seeded
    them: see ``cases/references.py``.
    """

    prefix = models.CharField(max_length=4, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}-{self.last_value:06d}"
