"""Reference data: coded lists seeded by migrations and edited in the admin, never constants."""

from django.db import models


class ReferenceData(models.Model):
    code = models.CharField(max_length=32, unique=True)
    label = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        abstract = True
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.label


class LevelOfNeed(ReferenceData):
    rank = models.PositiveSmallIntegerField(help_text="Position on the local ladder, 1 = lowest")
    is_statutory = models.BooleanField(default=False, help_text="Children's social care level")
    colour = models.CharField(max_length=32, blank=True)

    class Meta(ReferenceData.Meta):
        verbose_name_plural = "levels of need"


class Service(ReferenceData):
    pass


class ReferralSource(ReferenceData):
    """Where a request for support came from (CIN census source codes by default)."""


class EpisodeStartReason(ReferenceData):
    pass


class EpisodeEndReason(ReferenceData):
    class Category(models.TextChoices):
        NEEDS_MET = "needs_met", "Needs met"
        STEPPED_UP = "stepped_up", "Stepped up to children's social care"
        TRANSFERRED = "transferred", "Transferred to another service"
        MOVED_AWAY = "moved_away", "Moved away"
        DECLINED = "declined", "Family declined"
        DISENGAGED = "disengaged", "Family disengaged"
        OTHER = "other", "Other"

    category = models.CharField(max_length=16, choices=Category.choices)


class HeadlineOutcome(ReferenceData):
    """A Supporting Families headline outcome."""


class CscClosureReason(ReferenceData):
    """CIN census reason for closure (RC1–RC9)."""
