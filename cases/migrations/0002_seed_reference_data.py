"""Seed the default reference data. Councils edit these lists in the admin afterwards."""

from django.db import migrations

LEVELS = [
    # code, label, rank, is_statutory, colour
    ("L1", "Universal", 1, False, "green"),
    ("L2", "Additional (single agency, My Plan)", 2, False, "yellow"),
    ("L3", "Intensive / targeted (multi-agency, My Plan Plus)", 3, False, "orange"),
    ("L4", "Specialist / statutory (children's social care)", 4, True, "red"),
]
SERVICES = [
    ("FAMILY_SUPPORT", "Family support"),
    ("FAMILY_HUB_0_5", "Family hub 0–5"),
    ("YOUTH_SUPPORT", "Targeted youth support"),
    ("SCHOOL_EARLY_HELP", "School-led early help"),
]
# CIN census referral source codes.
REFERRAL_SOURCES = [
    ("1A", "Individual: family member, relative or carer"),
    ("1B", "Individual: acquaintance"),
    ("1C", "Individual: self"),
    ("1D", "Individual: other"),
    ("2A", "Schools"),
    ("2B", "Education services"),
    ("3A", "Health: GP"),
    ("3B", "Health: health visitor"),
    ("3C", "Health: school nurse"),
    ("3D", "Health: other primary health services"),
    ("3E", "Health: A&E"),
    ("3F", "Health: other"),
    ("4", "Housing"),
    ("5A", "Local authority services: social care"),
    ("5B", "Local authority services: other internal"),
    ("5C", "Local authority services: external"),
    ("5D", "Local authority services: early help"),
    ("6", "Police"),
    ("7", "Other legal agency"),
    ("8", "Other"),
    ("9", "Anonymous"),
    ("10", "Unknown"),
]
START_REASONS = [
    ("FRONT_DOOR", "Contact through the front door / MASH"),
    ("PARTNER", "Request for support from a partner"),
    ("SELF", "Self-referral by the family"),
    ("STEP_DOWN", "Step-down from children's social care"),
    ("TRANSFER_IN", "Transfer in from another area or service"),
]
END_REASONS = [
    # code, label, category
    ("NEEDS_MET", "Needs met: outcomes achieved", "needs_met"),
    ("STEP_UP", "Stepped up to children's social care", "stepped_up"),
    ("TRANSFER", "Transferred to another service", "transferred"),
    ("MOVED", "Moved out of the area", "moved_away"),
    ("DECLINED", "Family declined support", "declined"),
    ("DISENGAGED", "Family disengaged", "disengaged"),
    ("OTHER", "Other reason", "other"),
]
HEADLINE_OUTCOMES = [
    ("EDUCATION", "Getting a good education"),
    ("EARLY_YEARS", "Good early years development"),
    ("HEALTH", "Improved mental and physical health"),
    ("SUBSTANCE_USE", "Promoting recovery and reducing harm from substance use"),
    ("RELATIONSHIPS", "Improved family relationships"),
    ("SAFE_FROM_ABUSE", "Children safe from abuse and exploitation"),
    ("CRIME", "Crime prevention and tackling crime"),
    ("DOMESTIC_ABUSE", "Safe from domestic abuse"),
    ("HOUSING", "Secure housing"),
    ("FINANCE", "Financial stability"),
]
CSC_CLOSURE_REASONS = [
    ("RC1", "Adopted"),
    ("RC2", "Died"),
    ("RC3", "Child arrangements order"),
    ("RC4", "Special guardianship order"),
    ("RC5", "Transferred to services of another local authority"),
    ("RC6", "Transferred to adult social care services"),
    ("RC7", "Services ceased for any other reason, including child no longer in need"),
    ("RC8", "Case closed after assessment, no further action"),
    ("RC9", "Case closed after assessment, referred to early help"),
]


def seed(apps, schema_editor):
    def create(model_name, rows):
        model = apps.get_model("cases", model_name)
        model.objects.bulk_create(
            [model(code=code, label=label, sort_order=i, **extra) for i, (code, label, extra) in enumerate(rows)]
        )

    create(
        "LevelOfNeed",
        [(c, label, {"rank": r, "is_statutory": s, "colour": col}) for c, label, r, s, col in LEVELS],
    )
    create("Service", [(c, label, {}) for c, label in SERVICES])
    create("ReferralSource", [(c, label, {}) for c, label in REFERRAL_SOURCES])
    create("EpisodeStartReason", [(c, label, {}) for c, label in START_REASONS])
    create("EpisodeEndReason", [(c, label, {"category": cat}) for c, label, cat in END_REASONS])
    create("HeadlineOutcome", [(c, label, {}) for c, label in HEADLINE_OUTCOMES])
    create("CscClosureReason", [(c, label, {}) for c, label in CSC_CLOSURE_REASONS])


def unseed(apps, schema_editor):
    for model_name in (
        "LevelOfNeed",
        "Service",
        "ReferralSource",
        "EpisodeStartReason",
        "EpisodeEndReason",
        "HeadlineOutcome",
        "CscClosureReason",
    ):
        apps.get_model("cases", model_name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_families_people_and_casework")]

    operations = [migrations.RunPython(seed, unseed)]
