"""manage.py seed_demo: a demo council (organisations, teams, logins) and synthetic families.

The families come in through the same door as a council's real data: the generator writes a
synthetic SSD set and the importer reads it, so every demo also exercises the import. Only
logins and counts are printed, never anything about the (invented) people.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases.interchange.format import CODE_MAP_FILE
from cases.interchange.generator import (
    COUNCIL_CODE,
    DEFAULT_SEED,
    DEMO_LEAD_PRACTITIONERS,
    DEMO_LOCALITIES,
    DEMO_ORGANISATIONS,
    DEMO_TEAMS,
    GP_PRACTICE_CODE,
    MEAN_CHILDREN_PER_FAMILY,
    POLICE_CODE,
    PRIMARY_SCHOOL_CODE,
    generate_ssd,
)
from cases.models import (
    Episode,
    Family,
    FamilyMembership,
    HeadlineOutcome,
    LevelOfNeed,
    Person,
    Referral,
    ReferralSource,
    Service,
    TafMember,
)
from cases.services import referral_record, referral_triage, taf_member_add
from earlyhelp.models import Membership, Organisation, Team, User
from earlyhelp.services import locality_upsert, organisation_upsert, team_upsert, user_create

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (a published demo login, passes the validators)
DEMO_KEY_NAME = "Demo key (printed by seed_demo)"
DEFAULT_FAMILIES = 120
SIGN_IN_URL = "http://127.0.0.1:8000/"
SHOWN_ERRORS = 20


@dataclass(frozen=True)
class DemoLogin:
    username: str
    first_name: str
    last_name: str
    role: str  # Membership.Role value
    organisation_code: str
    team_code: str | None = None
    is_staff: bool = False
    is_superuser: bool = False


Role = Membership.Role
# The practitioners come from the generator, which makes them lead some episodes.
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    *(
        DemoLogin(username, "Demo", username.capitalize(), Role.PRACTITIONER, COUNCIL_CODE, team)
        for username, team in DEMO_LEAD_PRACTITIONERS
    ),
    DemoLogin("manager", "Demo", "Manager", Role.TEAM_MANAGER, COUNCIL_CODE, "NORTH-FS"),
    DemoLogin("performance", "Demo", "Analyst", Role.PERFORMANCE_OFFICER, COUNCIL_CODE),
    DemoLogin("partner", "Demo", "Partner", Role.PARTNER_USER, PRIMARY_SCHOOL_CODE),
    DemoLogin("readonly", "Demo", "Auditor", Role.READ_ONLY, COUNCIL_CODE, "NORTH-FS"),
    DemoLogin(
        "admin", "Demo", "Administrator", Role.ADMINISTRATOR, COUNCIL_CODE,
        is_staff=True, is_superuser=True,
    ),
)  # fmt: skip


def demo_accounts_setup() -> dict[str, User]:
    """Create (or update) the organisations, localities, teams and logins of the demo council.

    The generated SSD files use these codes, so this runs before any import of them; the
    benchmark calls it too. Existing logins are left as they are (a changed password stays).
    """
    organisations = {
        org.code: organisation_upsert(
            code=org.code,
            name=org.name,
            kind=org.kind,
            api_access_enabled=org.api_access_enabled,
        )
        for org in DEMO_ORGANISATIONS
    }
    council = organisations[COUNCIL_CODE]
    localities = {
        loc.code: locality_upsert(organisation=council, code=loc.code, name=loc.name)
        for loc in DEMO_LOCALITIES
    }
    teams = {
        team.code: team_upsert(
            organisation=council,
            locality=localities[team.locality_code] if team.locality_code else None,
            code=team.code,
            name=team.name,
            contact_email=team.contact_email,
            contact_phone=team.contact_phone,
        )
        for team in DEMO_TEAMS
    }
    users: dict[str, User] = {}
    for login in DEMO_LOGINS:
        existing = User.objects.filter(username=login.username).first()
        users[login.username] = existing or user_create(
            username=login.username,
            password=DEMO_PASSWORD,
            first_name=login.first_name,
            last_name=login.last_name,
            organisation=organisations[login.organisation_code],
            role=login.role,
            team=teams[login.team_code] if login.team_code else None,
            is_staff=login.is_staff,
            is_superuser=login.is_superuser,
        )
    return users


# --- Requests for support, through the referral services ---


@dataclass(frozen=True)
class DemoRequest:
    """A request for support in the triage queue (or already triaged) when the demo opens."""

    key: str  # external id, so a rerun does not add it twice
    source: str  # ReferralSource code
    organisation_code: str | None
    days_ago: int
    reason: str
    needs: tuple[str, ...]
    referrer_role: str
    decision: str = ""  # empty: left for triage
    decided_days_ago: int = 0


DEMO_REQUESTS: tuple[DemoRequest, ...] = (
    DemoRequest(
        "DEMO-REQ-1", "2A", PRIMARY_SCHOOL_CODE, 2,
        "Attendance has fallen below 80% this term and the family has asked for help with "
        "morning routines.",
        ("EDUCATION", "RELATIONSHIPS"), "Designated safeguarding lead",
    ),
    DemoRequest(
        "DEMO-REQ-2", "6", POLICE_CODE, 1,
        "Police attended a verbal argument at the home; no offences. Parent agreed to a "
        "referral for support.",
        ("DOMESTIC_ABUSE",), "Police officer",
    ),
    DemoRequest(
        "DEMO-REQ-3", "3A", GP_PRACTICE_CODE, 12,
        "Parent reports low mood and money worries affecting the children's routines.",
        ("HEALTH", "FINANCE", "HOUSING"), "GP",
        Referral.Decision.EARLY_HELP, 8,
    ),
    DemoRequest(
        "DEMO-REQ-4", "1C", None, 20,
        "Parent asked for advice about sleep and behaviour of a toddler.",
        ("EARLY_YEARS",), "Parent",
        Referral.Decision.ADVICE, 18,
    ),
    DemoRequest(
        "DEMO-REQ-5", "5C", None, 30,
        "Housing officer concerned about rent arrears; family already supported elsewhere.",
        ("FINANCE",), "Housing officer",
        Referral.Decision.NO_FURTHER_ACTION, 27,
    ),
)  # fmt: skip


def _quiet_families(count: int) -> list[tuple[Family, list[Person]]]:
    """Demo families with no open episode and with children under 17, to refer afresh."""
    today = timezone.localdate()
    young = Q(date_of_birth__gt=today - dt.timedelta(days=17 * 365)) | Q(date_of_birth__isnull=True)
    found: list[tuple[Family, list[Person]]] = []
    busy = Episode.objects.filter(ended_on__isnull=True).values("family_id")
    for family in Family.objects.exclude(pk__in=busy).filter(locality__code="NORTH")[: count * 4]:
        children = list(
            Person.objects.filter(
                young,
                family_memberships__family=family,
                family_memberships__role=FamilyMembership.Role.CHILD,
                family_memberships__ended_on__isnull=True,
            ).distinct()
        )
        if children:
            found.append((family, children))
        if len(found) == count:
            break
    return found


def demo_requests_record(users: dict[str, User]) -> int:
    """Record the demo requests for support through the referral services; returns how many.

    Requests already there (by external id) are skipped, so a rerun adds none.
    """
    wanted = [r for r in DEMO_REQUESTS if not Referral.objects.filter(external_id=r.key).exists()]
    families = _quiet_families(len(wanted))
    now = timezone.now()
    manager = users["manager"]
    created = 0
    for request, (family, children) in zip(wanted, families, strict=False):
        organisation = (
            Organisation.objects.get(code=request.organisation_code)
            if request.organisation_code
            else None
        )
        received_at = now - dt.timedelta(days=request.days_ago)
        with transaction.atomic():
            referral = referral_record(
                actor=manager,
                source=ReferralSource.objects.get(code=request.source),
                received_at=received_at,
                reason=request.reason,
                family=family,
                children=children,
                needs=HeadlineOutcome.objects.filter(code__in=request.needs),
                referring_organisation=organisation,
                consent_given=True,
                consent_given_by="Parent",
                consent_given_on=timezone.localdate(received_at),
                consent_scope="Share with the early help team and partners named in the plan",
                referrer_role=request.referrer_role,
                external_id=request.key,
            )
            if request.decision:
                referral_triage(
                    actor=manager,
                    referral=referral,
                    decision=request.decision,
                    decided_on=timezone.localdate() - dt.timedelta(days=request.decided_days_ago),
                    level=LevelOfNeed.objects.get(code="L2"),
                    service=Service.objects.get(code="FAMILY_SUPPORT"),
                    team=Team.objects.get(code="NORTH-FS"),
                    lead_practitioner=users[DEMO_LEAD_PRACTITIONERS[0][0]],
                    notes="Demo triage decision",
                )
        created += 1
    return created


DEMO_TAF_FAMILIES = 3


def demo_taf_members_add(users: dict[str, User]) -> int:
    """Put the demo partner (a school's designated safeguarding lead) on the Team Around the
    Family of a few families with open episodes led by the demo practitioner, so the partner
    login has something to see. A rerun adds none."""
    partner, practitioner = users["partner"], users[DEMO_LEAD_PRACTITIONERS[0][0]]
    if partner.organisation is None or TafMember.objects.filter(user=partner).exists():
        return 0
    families = Family.objects.filter(
        episodes__lead_practitioner=practitioner, episodes__ended_on__isnull=True
    ).distinct()[:DEMO_TAF_FAMILIES]
    for family in families:
        taf_member_add(
            actor=practitioner,
            family=family,
            organisation=partner.organisation,
            user=partner,
            role="Designated safeguarding lead",
            consent_given_by="Parent",
            consent_given_on=timezone.localdate() - dt.timedelta(days=30),
        )
    return len(families)


def demo_plans_add(users: dict[str, User]) -> int:
    """Give each completed assessment with needs a plan with an action per need (the SSD set
    carries no plans): family records show plans, and families whose needs were met and
    sustained become claimable under Supporting Families. A rerun adds none."""
    from assessments.models import Assessment, Plan, PlanAction

    assessments = list(
        Assessment.objects.filter(
            completed_on__isnull=False, plan__isnull=True, needs__isnull=False
        )
        .distinct()
        .select_related("episode")
        .prefetch_related("needs__headline_outcome")
    )
    fallback = users[DEMO_LEAD_PRACTITIONERS[0][0]]
    plans = []
    for assessment in assessments:
        ended = assessment.episode.ended_on if assessment.episode else None
        started = assessment.completed_on or assessment.started_on  # completed ones only
        closed = ended if ended and ended >= started else None
        plans.append(
            Plan(
                assessment=assessment,
                status=Plan.Status.CLOSED if closed else Plan.Status.OPEN,
                started_on=started,
                closed_on=closed,
                next_review_on=None if closed else started + dt.timedelta(days=42),
            )
        )
    Plan.objects.bulk_create(plans)
    actions = []
    for assessment, plan in zip(assessments, plans, strict=True):
        owner = assessment.lead_practitioner_id or fallback.pk
        for need in assessment.needs.all():
            met = need.outcome == need.Outcome.MET and need.outcome_recorded_on
            actions.append(
                PlanAction(
                    plan=plan,
                    need=need,
                    description=f"Agree support for {need.headline_outcome.label.lower()} "
                    "and review it with the family",
                    owner_user_id=owner,
                    due_on=plan.started_on + dt.timedelta(days=42),
                    completed_on=need.outcome_recorded_on if met else None,
                )
            )
    PlanAction.objects.bulk_create(actions)
    return len(plans)


def demo_first_recompute() -> str:
    """Compute the KPIs and the Supporting Families scan once, so the dashboards have numbers
    from the start (in process with the embedded default; queued for a worker otherwise)."""
    from reporting.models import ReportRun
    from reporting.services import report_run_request

    run = report_run_request(actor=None, trigger=ReportRun.Trigger.NIGHTLY)
    run.refresh_from_db()
    return run.get_status_display().lower()


# --- The command ---


def children_for(families: int) -> int:
    """How many children the generator needs for about ``families`` families."""
    return max(1, round(families * MEAN_CHILDREN_PER_FAMILY))


class Command(BaseCommand):
    help = (
        "Create the demo council (organisations, teams, one login per role) and import a "
        "synthetic SSD set of families. Prints the logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        size = parser.add_mutually_exclusive_group()
        size.add_argument(
            "--families", type=int, help=f"about this many families (default {DEFAULT_FAMILIES})"
        )
        size.add_argument("--children", type=int, help="exactly this many children")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="only print the logins when families already exist",
        )
        parser.add_argument(
            "--out",
            type=Path,
            default=Path(settings.BASE_DIR) / "var" / "demo-ssd",
            help="where to write the generated SSD files (default var/demo-ssd)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Family.objects.exists():
            self.stdout.write("Families already exist: demo data left as it is.")
            self._print_logins()
            return
        children = options["children"] or children_for(options["families"] or DEFAULT_FAMILIES)
        if children < 1:
            raise CommandError("--families and --children must be at least 1")

        users = demo_accounts_setup()
        directory: Path = options["out"]
        rows = generate_ssd(directory, children=children, seed=options["seed"])
        self.stdout.write(f"Generated {sum(rows.values()):,} rows of SSD files in {directory}")
        self._import(directory)
        requests = demo_requests_record(users)
        self.stdout.write(f"Recorded {requests} demo requests for support.")
        demo_taf_members_add(users)
        plans = demo_plans_add(users)
        self.stdout.write(
            f"Demo council: {Family.objects.count():,} families, "
            f"{Episode.objects.count():,} early help episodes, {plans:,} plans."
        )
        self.stdout.write(f"First KPI and Supporting Families run: {demo_first_recompute()}.")
        self._print_logins()

    def _import(self, directory: Path) -> None:
        # Imported here: the importer loads models and is not needed for --if-empty.
        from cases.interchange.importer import ImportRejected, import_ssd

        try:
            result = import_ssd(directory, code_map=directory / CODE_MAP_FILE)
        except ImportRejected as exc:
            for error in exc.errors[:SHOWN_ERRORS]:
                self.stderr.write(f"{error.file}:{error.line}:{error.column}: {error.reason}")
            raise CommandError(
                f"The generated set was rejected ({len(exc.errors)} problems): a generator bug."
            ) from exc
        self.stdout.write(f"Imported {sum(result.rows.values()):,} rows in {result.seconds:.1f}s")

    def _print_logins(self) -> None:
        self.stdout.write(
            f"\nOpen {SIGN_IN_URL} and sign in with a demo login (synthetic data only):"
        )
        width = max(len(login.username) for login in DEMO_LOGINS)
        self.stdout.write(f"  {'role':<20} {'username':<{width}}  password")
        for login in DEMO_LOGINS:
            role = Membership.Role(login.role).label
            self.stdout.write(f"  {role:<20} {login.username:<{width}}  {DEMO_PASSWORD}")
        self._print_api_key()

    def _print_api_key(self) -> None:
        """Issue a fresh demo API key: only its hash is stored, so it can only be shown now."""
        from cases.models import PartnerAPIKey
        from cases.services import partner_api_key_create, partner_api_key_revoke

        school = Organisation.objects.filter(code=PRIMARY_SCHOOL_CODE).first()
        if school is None or not school.api_access_enabled:
            return
        for old in PartnerAPIKey.objects.filter(
            organisation=school, name=DEMO_KEY_NAME, revoked=False
        ):
            partner_api_key_revoke(api_key=old)
        _, plaintext = partner_api_key_create(organisation=school, name=DEMO_KEY_NAME)
        self.stdout.write(
            f"\nDemo partner API key for {school.name} (see README, Partner API):\n  {plaintext}"
        )
