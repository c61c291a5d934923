"""manage.py seed_demo: the demo council, its logins and synthetic families, via the importer."""

from io import StringIO

import pytest
from django.core.management import call_command

from assessments.models import Assessment
from cases.management.commands.seed_demo import DEMO_LOGINS, DEMO_PASSWORD
from cases.models import CscInvolvement, Episode, Family, Person, Referral, Transition
from cases.selectors import families_visible_to
from earlyhelp.models import Membership, Organisation, Team, User

pytestmark = pytest.mark.django_db


def seed(tmp_path, *extra: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--children", "60", "--out", str(tmp_path), *extra, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Family,
            Person,
            Episode,
            CscInvolvement,
            Transition,
            Assessment,
            Referral,
            User,
            Membership,
        )
    }


def test_seed_demo_creates_a_login_for_every_role_and_families(tmp_path):
    output = seed(tmp_path)

    for login in DEMO_LOGINS:
        user = User.objects.get(username=login.username)
        assert user.check_password(DEMO_PASSWORD)
        assert user.memberships.get().role == login.role
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == set(Membership.Role.values)
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert Organisation.objects.get(code="URN107890").api_access_enabled
    for team in Team.objects.all():  # synthetic contacts: example.org, Ofcom's drama numbers
        assert team.contact_email.endswith("@example.org")
        assert team.contact_phone.startswith("020 7946 0")
    assert Family.objects.exists() and Episode.objects.exists()
    assert Person.objects.filter(family_memberships__role="child").count() == 60
    assert User.objects.get(username="practitioner").episodes_led.exists()
    # Each login has something to see: the partner through the Team Around the Family, the
    # read-only auditor through the demo team.
    partner = User.objects.get(username="partner")
    assert families_visible_to(partner).count() == partner.taf_memberships.count() > 0
    assert families_visible_to(User.objects.get(username="readonly")).exists()
    assert "http://127.0.0.1:8000/" in output
    for login in DEMO_LOGINS:
        assert login.username in output
    assert DEMO_PASSWORD in output


def test_seed_demo_prints_nothing_about_the_synthetic_people(tmp_path):
    output = seed(tmp_path)

    people = Person.objects.values_list("forename", "surname", "nhs_number", "upn")
    assert people
    for forename, surname, nhs_number, upn in people:
        assert f"{forename} {surname}" not in output
        assert not nhs_number or nhs_number not in output
        assert not upn or upn not in output


def test_seed_demo_records_requests_for_support_through_the_referral_services(tmp_path):
    seed(tmp_path)

    referrals = Referral.objects.filter(external_id__startswith="DEMO-REQ-")
    assert referrals.filter(status="received").exists()
    assert referrals.filter(decision="early_help").get().episodes.exists()


def test_if_empty_leaves_existing_data_alone_and_prints_the_logins(tmp_path):
    seed(tmp_path)
    before = counts()

    output = seed(tmp_path / "again", "--if-empty")

    assert counts() == before
    assert not (tmp_path / "again").exists()
    assert "admin" in output and DEMO_PASSWORD in output


def test_seeding_twice_with_the_same_seed_changes_nothing(tmp_path):
    seed(tmp_path)
    before = counts()

    seed(tmp_path)

    assert counts() == before


def test_seed_demo_prints_a_working_api_key_and_revokes_the_previous_one(tmp_path, client):
    from cases.models import PartnerAPIKey

    first = seed(tmp_path).split("Demo partner API key")[1].split()[-1]
    second = seed(tmp_path, "--if-empty").split("Demo partner API key")[1].split()[-1]

    assert first != second
    assert PartnerAPIKey.objects.filter(revoked=True).count() == 1
    response = client.get("/api/v1/referrals/", HTTP_AUTHORIZATION=f"Api-Key {second}")
    assert response.status_code == 200
    stale = client.get("/api/v1/referrals/", HTTP_AUTHORIZATION=f"Api-Key {first}")
    assert stale.status_code in {401, 403}


def test_seed_demo_plans_every_need_and_requests_a_first_report_run(tmp_path):
    from assessments.models import IdentifiedNeed, Plan
    from reporting.models import ReportRun

    output = seed(tmp_path)

    completed = IdentifiedNeed.objects.filter(assessment__completed_on__isnull=False)
    assert completed.exists()
    # every need of a completed assessment has an action in its assessment's plan
    assert not completed.filter(actions__isnull=True).exists()
    assert Plan.objects.count() == completed.values("assessment").distinct().count()
    closed = Plan.objects.filter(status=Plan.Status.CLOSED)
    assert closed.exists() and not closed.filter(closed_on__isnull=True).exists()
    assert f"{Plan.objects.count():,} plans" in output
    # the first run of the KPIs and the Supporting Families scan
    run = ReportRun.objects.get()
    assert run.trigger == ReportRun.Trigger.NIGHTLY and run.started_by is None
    assert "First KPI and Supporting Families run:" in output
