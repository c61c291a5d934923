"""Closing an episode in two steps: the lead practitioner proposes, a team manager signs off.

The episode itself closes only at sign-off (``cases.services.closure_sign_off`` calls
``episode_close``); until then the proposal, its end reason and the outcome of every identified
need wait here, so a manager can read what they are agreeing to and send it back with a reason.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from assessments.models import IdentifiedNeed

from .reference import EpisodeEndReason, LevelOfNeed
from .work import Episode


class ClosureRequest(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Awaiting sign-off"
        SIGNED_OFF = "signed_off", "Signed off"
        RETURNED = "returned", "Returned to the practitioner"

    # Which status may follow which; services consult this map.
    TRANSITIONS = {
        Status.PROPOSED: {Status.SIGNED_OFF, Status.RETURNED},
        Status.SIGNED_OFF: set(),
        Status.RETURNED: set(),
    }

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="closure_requests")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    end_reason = models.ForeignKey(EpisodeEndReason, on_delete=models.PROTECT, related_name="+")
    ended_on = models.DateField(help_text="The date the work ended, as proposed")
    summary = models.TextField(blank=True, help_text="What changed for the family")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode"],
                condition=Q(status="proposed"),
                name="closure_one_awaiting_sign_off_per_episode",
                violation_error_message="A closure of this episode is already awaiting sign-off.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="proposed") & Q(decided_by__isnull=True) & Q(decided_at__isnull=True)
                )
                | (
                    ~Q(status="proposed")
                    & Q(decided_by__isnull=False)
                    & Q(decided_at__isnull=False)
                ),
                name="closure_decided_has_decider",
            ),
            models.CheckConstraint(
                condition=~Q(status="returned") | ~Q(return_reason=""),
                name="closure_returned_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Closure of {self.episode} ({self.get_status_display()})"


class ClosureOutcome(models.Model):
    """The proposed outcome of one identified need, written to the need at sign-off."""

    closure = models.ForeignKey(ClosureRequest, on_delete=models.CASCADE, related_name="outcomes")
    need = models.ForeignKey(IdentifiedNeed, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=16, choices=IdentifiedNeed.Outcome.choices)
    level_at_closure = models.ForeignKey(LevelOfNeed, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["closure", "need"], name="closure_outcome_once_per_need"
            )
        ]

    def __str__(self) -> str:
        return f"{self.need}: {self.get_outcome_display()}"
