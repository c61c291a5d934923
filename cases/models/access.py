"""Who may see a family beyond its team (Team Around the Family) and who did see it."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .family import Family, Person


class TafMember(models.Model):
    """A professional in the Team Around the Family, with the family's consent to share.

    Partner users see a family only through a current membership whose consent is recorded
    (or as lead practitioner of one of its episodes); see ``cases.selectors``.
    """

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="taf_members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="taf_memberships",
    )
    organisation = models.ForeignKey(
        "earlyhelp.Organisation", on_delete=models.PROTECT, related_name="taf_memberships"
    )
    role = models.CharField(max_length=200, blank=True, help_text="For example, school DSL")
    consent_given_by = models.CharField(max_length=200)
    consent_given_on = models.DateField()
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = "TAF member"
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="taf_member_end_not_before_start",
            ),
            models.UniqueConstraint(
                fields=["family", "user"],
                condition=Q(ended_on__isnull=True, user__isnull=False),
                name="taf_member_one_current_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.organisation} on {self.family}"


class AccessLog(models.Model):
    """One view of a family's or child's record: who, what, when. Never edited."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_logs"
    )
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="access_logs")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="access_logs"
    )
    what = models.CharField(max_length=64, help_text="The page or export, by URL name")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["family", "at"])]

    def __str__(self) -> str:
        return f"{self.user} viewed {self.family} ({self.what}) at {self.at:%Y-%m-%d %H:%M}"
