"""Seed the default payment-by-results rule set: the 2022-25 national outcome framework.

The payment amount comes from each council's grant agreement, so it starts at 0.00 and is set
in the admin. Reversing removes the seeded version only if no claim uses it.
"""

import datetime as dt
from decimal import Decimal

from django.db import migrations

CODE = "SF-2022-25"
HEADLINE_OUTCOMES = [
    ["EDUCATION", "Getting a good education"],
    ["EARLY_YEARS", "Good early years development"],
    ["HEALTH", "Improved mental and physical health"],
    ["SUBSTANCE_USE", "Promoting recovery and reducing harm from substance use"],
    ["RELATIONSHIPS", "Improved family relationships"],
    ["SAFE_FROM_ABUSE", "Children safe from abuse and exploitation"],
    ["CRIME", "Crime prevention and tackling crime"],
    ["DOMESTIC_ABUSE", "Safe from domestic abuse"],
    ["HOUSING", "Secure housing"],
    ["FINANCE", "Financial stability"],
]


def seed(apps, schema_editor):
    ClaimRuleSet = apps.get_model("reporting", "ClaimRuleSet")
    ClaimRuleSet.objects.get_or_create(
        code=CODE,
        version=1,
        defaults={
            "name": "Supporting Families 2022-25 national outcome framework",
            "is_active": True,
            "programme_start": dt.date(2022, 4, 1),
            "programme_end": dt.date(2025, 3, 31),
            "headline_outcomes": HEADLINE_OUTCOMES,
            "min_needs": 3,
            "min_headline_outcomes": 3,
            "require_dependent_child_or_expectant_parent": True,
            "dependent_child_max_age": 18,
            "require_lead_practitioner": True,
            "require_whole_family_assessment": True,
            "require_plan_covers_needs": True,
            "require_needs_met_closure": True,
            "require_all_needs_met": True,
            "sustain_months": 6,
            "payment_amount": Decimal("0.00"),
            "employment_route": False,
            "employment_sustain_weeks": 26,
        },
    )


def unseed(apps, schema_editor):
    ClaimRuleSet = apps.get_model("reporting", "ClaimRuleSet")
    ClaimRuleSet.objects.filter(code=CODE, version=1, claims__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_reports_kpis_and_claims")]

    operations = [migrations.RunPython(seed, unseed)]
