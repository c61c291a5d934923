"""Accounts and organisations: who works where, and in which role."""

import re
import uuid

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

# A UK number: 0 or +44, then 9 or 10 digits (the first not 0); spaces, hyphens, brackets aside.
_UK_PHONE = re.compile(r"^(?:0|\+44)[1-9][0-9]{8,9}$")


def validate_uk_phone(value: str) -> None:
    """A UK telephone number as people write it: ``020 7946 0123``, ``+44 113 496 0000``."""
    if not _UK_PHONE.match(re.sub(r"[\s()-]", "", value)):
        raise ValidationError(
            "Enter a UK telephone number, such as 020 7946 0123.", code="invalid_phone"
        )


class Organisation(models.Model):
    """The council or a partner (school, health, police, voluntary sector)."""

    class Kind(models.TextChoices):
        COUNCIL = "council", "Council"
        SCHOOL = "school", "School or college"
        HEALTH = "health", "Health"
        POLICE = "police", "Police"
        VCS = "vcs", "Voluntary and community sector"
        OTHER = "other", "Other"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(max_length=32, unique=True, help_text="URN, ODS or local code")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    api_access_enabled = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Locality(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="localities"
    )
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "localities"

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="teams")
    locality = models.ForeignKey(
        Locality, on_delete=models.PROTECT, related_name="teams", null=True, blank=True
    )
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    caseload_target = models.PositiveSmallIntegerField(
        default=22, help_text="Open children per lead practitioner (KPI C1)"
    )
    # The team's own contact, never a person's: partners whose request the team accepted are
    # given it (GET /api/v1/referrals/{id}/).
    contact_email = models.EmailField(
        blank=True, help_text="The team's shared mailbox, shown to partners"
    )
    contact_phone = models.CharField(
        max_length=20,
        blank=True,
        validators=[validate_uk_phone],
        help_text="The team's duty line, shown to partners",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )

    class Meta:
        ordering = ["username"]


class Membership(models.Model):
    """A user's role, in an organisation and optionally a team, over a period."""

    class Role(models.TextChoices):
        PRACTITIONER = "practitioner", "Practitioner"
        TEAM_MANAGER = "team_manager", "Team manager"
        PERFORMANCE_OFFICER = "performance_officer", "Performance officer"
        PARTNER_USER = "partner_user", "Partner user"
        ADMINISTRATOR = "administrator", "Administrator"
        READ_ONLY = "read_only", "Read-only"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="memberships", null=True, blank=True
    )
    role = models.CharField(max_length=24, choices=Role.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "team", "role"],
                condition=Q(ended_on__isnull=True),
                name="membership_one_current_per_role",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="membership_end_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        where = self.team or self.organisation
        return f"{self.user} – {self.get_role_display()} – {where}"
