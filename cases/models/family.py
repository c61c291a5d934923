"""Families, people, their addresses and who belongs to which household."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.gb import nhs, upn


def validate_nhs_number(value: str) -> None:
    try:
        nhs.validate(value)
    except StdnumError as exc:
        raise ValidationError("Enter a valid NHS number: 10 digits, correct check digit") from exc


def validate_upn(value: str) -> None:
    try:
        upn.validate(value)
    except StdnumError as exc:
        raise ValidationError("Enter a valid UPN: 13 characters, correct check letter") from exc


class Family(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(
        max_length=16, unique=True, help_text="Human reference, e.g. F-000123"
    )
    external_id = models.CharField(max_length=48, unique=True, null=True, blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    locality = models.ForeignKey(
        "earlyhelp.Locality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="families",
    )
    # Until early help opens, nobody's team holds the family; its creator can still open it.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="families_created",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["reference"]
        verbose_name_plural = "families"

    def __str__(self) -> str:
        return self.reference


class Person(models.Model):
    class Sex(models.TextChoices):
        MALE = "M", "Male"
        FEMALE = "F", "Female"
        UNKNOWN = "U", "Not known"
        INDETERMINATE = "I", "Indeterminate"

    class Send(models.TextChoices):
        NONE = "none", "No special educational needs"
        SEN_SUPPORT = "sen_support", "SEN support"
        EHCP = "ehcp", "Education, health and care plan"
        UNKNOWN = "unknown", "Not known"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=48, unique=True, null=True, blank=True)
    legacy_id = models.CharField(max_length=48, blank=True)
    forename = models.CharField(max_length=100)
    surname = models.CharField(max_length=255)
    date_of_birth = models.DateField(null=True, blank=True)
    expected_date_of_birth = models.DateField(null=True, blank=True)
    date_of_death = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    gender = models.CharField(max_length=48, blank=True)
    ethnicity = models.CharField(max_length=8, blank=True, help_text="DfE ethnicity code")
    nhs_number = models.CharField(max_length=10, blank=True, validators=[validate_nhs_number])
    upn = models.CharField("UPN", max_length=13, blank=True, validators=[validate_upn])
    upn_unknown = models.CharField(max_length=6, blank=True, help_text="UN1–UN10 reason")
    send = models.CharField(max_length=16, choices=Send.choices, default=Send.UNKNOWN)
    young_carer = models.BooleanField(default=False)
    nationality = models.CharField(max_length=48, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["surname", "forename"]
        verbose_name_plural = "people"
        # Name prefix and postcode searches use PostgreSQL-only pattern indexes as well; see
        # migration 0005_search_and_inbox_indexes.
        indexes = [
            models.Index(fields=["surname", "forename", "date_of_birth"]),
            models.Index(fields=["date_of_birth"], name="person_date_of_birth"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["nhs_number"], condition=~Q(nhs_number=""), name="person_nhs_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(nhs_number="") | Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="person_nhs_number_ten_digits",
            ),
            models.CheckConstraint(
                condition=Q(date_of_death__isnull=True)
                | Q(date_of_birth__isnull=True)
                | Q(date_of_death__gte=F("date_of_birth")),
                name="person_death_not_before_birth",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.forename} {self.surname}"


class Address(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="addresses")
    external_id = models.CharField(max_length=48, unique=True, null=True, blank=True)
    address_type = models.CharField(max_length=48, blank=True)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    lines = models.JSONField(default=dict, blank=True, help_text="SSD address JSON")

    class Meta:
        verbose_name_plural = "addresses"
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(ended_on__gte=F("started_on")),
                name="address_end_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return self.postcode


class FamilyMembership(models.Model):
    class Role(models.TextChoices):
        CHILD = "child", "Child"
        PARENT = "parent", "Parent"
        STEP_PARENT = "step_parent", "Step-parent"
        CARER = "carer", "Carer"
        GRANDPARENT = "grandparent", "Grandparent"
        SIBLING = "sibling", "Sibling (adult)"
        OTHER = "other", "Other"

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="family_memberships")
    external_id = models.CharField(max_length=48, unique=True, null=True, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["family", "person"],
                condition=Q(ended_on__isnull=True),
                name="family_membership_one_current",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(ended_on__gte=F("started_on")),
                name="family_membership_end_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_role_display()}) in {self.family}"
