"""The files we read and write: SSD tables (SSD column names) and our extension files.

This module is the single description of the format; the importer, the exporter, the
synthetic generator and docs/ssd-format.md all follow it. Every file is UTF-8 CSV with a
header row. Dates are ISO 8601 (YYYY-MM-DD); an SSD DATETIME value such as
"2024-03-01 00:00:00" or "2024-03-01T00:00:00" is accepted and its date part is used.
Empty cells are missing values.

Column kinds:
- ``key``: the row's external id (unique in the file, stable across exports).
- ``ref:<file>``: the external id of a row in another file (or already in the database).
- ``date``: a date.
- ``code:<category>``: a local code, translated through the mapping file (ssd_code_map.csv)
  to one of our canonical codes; unknown codes are errors, never guesses.
- ``choice:<a|b|c>``: one of our own fixed values (no mapping).
- ``text``: free text. ``bool``: Y/N. ``json``: a JSON object.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False


@dataclass(frozen=True)
class FileSpec:
    name: str  # file name without .csv
    columns: tuple[Column, ...]
    description: str
    optional: bool = False  # the file may be absent from a batch
    extension: bool = False  # ours, not SSD

    @property
    def key(self) -> str:
        return next(c.name for c in self.columns if c.kind == "key")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, kind: str, required: bool = False) -> Column:
    return Column(name, kind, required)


PERSON = FileSpec(
    "ssd_person",
    (
        _c("pers_person_id", "key", True),
        _c("pers_legacy_id", "text"),
        _c("pers_upn", "text"),  # validated: UPN check letter
        _c("pers_forename", "text", True),
        _c("pers_surname", "text", True),
        _c("pers_sex", "code:sex"),
        _c("pers_gender", "text"),
        _c("pers_ethnicity", "text"),
        _c("pers_dob", "date"),
        _c("pers_single_unique_id", "text"),  # NHS number; validated: check digit
        _c("pers_upn_unknown", "text"),
        _c("pers_send_flag", "code:send"),
        _c("pers_expected_dob", "date"),
        _c("pers_death_date", "date"),
        _c("pers_nationality", "text"),
    ),
    "People (children and adults). pers_single_unique_id carries the NHS number.",
)

FAMILY = FileSpec(
    "ssd_family",
    (
        _c("fami_table_id", "key", True),
        _c("fami_family_id", "ref:eh_families", True),
        _c("fami_person_id", "ref:ssd_person", True),
    ),
    "Household membership: one row per person in a family.",
)

ADDRESS = FileSpec(
    "ssd_address",
    (
        _c("addr_table_id", "key", True),
        _c("addr_person_id", "ref:ssd_person", True),
        _c("addr_address_type", "text"),
        _c("addr_address_start_date", "date"),
        _c("addr_address_end_date", "date"),
        _c("addr_address_postcode", "text"),  # validated: UK postcode format
        _c("addr_address_json", "json"),
    ),
    "Addresses of people, with start and end dates.",
    optional=True,
)

EARLY_HELP_EPISODES = FileSpec(
    "ssd_early_help_episodes",
    (
        _c("earl_episode_id", "key", True),
        _c("earl_person_id", "ref:ssd_person", True),
        _c("earl_episode_start_date", "date", True),
        _c("earl_episode_end_date", "date"),
        _c("earl_episode_reason", "code:start_reason"),
        _c("earl_episode_end_reason", "code:end_reason"),  # required when end date is set
        _c("earl_episode_organisation", "code:organisation"),
        _c("earl_episode_worker_id", "text"),
    ),
    "Early help episodes, one per child.",
)

CIN_EPISODES = FileSpec(
    "ssd_cin_episodes",
    (
        _c("cine_referral_id", "key", True),
        _c("cine_person_id", "ref:ssd_person", True),
        _c("cine_referral_date", "date", True),
        _c("cine_cin_primary_need_code", "text"),
        _c("cine_referral_source_code", "text"),
        _c("cine_referral_source_desc", "text"),
        _c("cine_referral_outcome_json", "text"),
        _c("cine_referral_nfa", "bool"),
        _c("cine_close_reason", "code:csc_closure"),
        _c("cine_close_date", "date"),
        _c("cine_referral_team", "text"),
        _c("cine_referral_worker_id", "text"),
    ),
    "CSC referrals (children in need episodes).",
    optional=True,
)

CIN_PLANS = FileSpec(
    "ssd_cin_plans",
    (
        _c("cinp_cin_plan_id", "key", True),
        _c("cinp_referral_id", "ref:ssd_cin_episodes"),
        _c("cinp_person_id", "ref:ssd_person", True),
        _c("cinp_cin_plan_start_date", "date", True),
        _c("cinp_cin_plan_end_date", "date"),
        _c("cinp_cin_plan_team", "text"),
        _c("cinp_cin_plan_worker_id", "text"),
    ),
    "Child in need plans.",
    optional=True,
)

CP_PLANS = FileSpec(
    "ssd_cp_plans",
    (
        _c("cppl_cp_plan_id", "key", True),
        _c("cppl_referral_id", "ref:ssd_cin_episodes"),
        _c("cppl_icpc_id", "text"),
        _c("cppl_person_id", "ref:ssd_person", True),
        _c("cppl_cp_plan_start_date", "date", True),
        _c("cppl_cp_plan_end_date", "date"),
        _c("cppl_cp_plan_ola", "bool"),
        _c("cppl_cp_plan_initial_category", "text"),
        _c("cppl_cp_plan_latest_category", "text"),
    ),
    "Child protection plans.",
    optional=True,
)

CLA_EPISODES = FileSpec(
    "ssd_cla_episodes",
    (
        _c("clae_cla_episode_id", "key", True),
        _c("clae_person_id", "ref:ssd_person", True),
        _c("clae_cla_placement_id", "text"),
        _c("clae_cla_episode_start_date", "date", True),
        _c("clae_cla_episode_start_reason", "text"),
        _c("clae_cla_primary_need_code", "text"),
        _c("clae_cla_episode_ceased", "date"),
        _c("clae_cla_episode_ceased_reason", "text"),
        _c("clae_cla_id", "text"),
        _c("clae_referral_id", "ref:ssd_cin_episodes"),
    ),
    "Looked-after episodes.",
    optional=True,
)

# --- Extension files: what SSD does not carry. ---

EH_FAMILIES = FileSpec(
    "eh_families",
    (
        _c("family_id", "key", True),
        _c("address", "text"),
        _c("postcode", "text"),  # validated: UK postcode format
        _c("locality_code", "code:locality"),
    ),
    "Families (households): address, postcode and locality.",
    extension=True,
)

EH_FAMILY_ROLES = FileSpec(
    "eh_family_roles",
    (
        _c("fami_table_id", "key", True),  # the ssd_family row this describes
        _c("role", "choice:child|parent|step_parent|carer|grandparent|sibling|other", True),
        _c("started_on", "date"),
        _c("ended_on", "date"),
    ),
    "Each household member's role and dates (a row of ssd_family without one is 'other').",
    optional=True,
    extension=True,
)

EH_EPISODE_DETAILS = FileSpec(
    "eh_episode_details",
    (
        _c("earl_episode_id", "key", True),  # the ssd_early_help_episodes row this describes
        _c("family_id", "ref:eh_families", True),
        _c("service_code", "code:service", True),
        _c("level_code", "code:level", True),
        _c("origin", "choice:front_door|partner|self|step_down", True),
        _c("plan_type", "choice:my_plan|my_plan_plus|eha"),
        _c("team_code", "code:team"),
    ),
    "Episode level, service, origin, plan type and team.",
    extension=True,
)

EH_ASSESSMENTS = FileSpec(
    "eh_assessments",
    (
        _c("assessment_id", "key", True),
        _c("family_id", "ref:eh_families", True),
        _c("earl_episode_id", "ref:ssd_early_help_episodes"),
        _c("kind", "choice:my_plan|my_plan_plus|eha", True),
        _c("started_on", "date", True),
        _c("completed_on", "date"),
        _c("is_whole_family", "bool"),
        _c("lead_organisation", "code:organisation"),
    ),
    "Assessments (completed when completed_on is set).",
    optional=True,
    extension=True,
)

EH_IDENTIFIED_NEEDS = FileSpec(
    "eh_identified_needs",
    (
        _c("need_id", "key", True),
        _c("assessment_id", "ref:eh_assessments", True),
        _c("person_id", "ref:ssd_person"),  # empty for a whole-family need
        _c("headline_outcome_code", "code:headline_outcome", True),
        _c("level_at_assessment", "code:level"),
        _c("level_at_closure", "code:level"),
        _c("outcome", "choice:met|partly_met|not_met"),
        _c("outcome_recorded_on", "date"),  # required when outcome is set
    ),
    "Identified needs, mapped to Supporting Families headline outcomes, and their outcomes.",
    optional=True,
    extension=True,
)

EH_TRANSITIONS = FileSpec(
    "eh_transitions",
    (
        _c("transition_id", "key", True),
        _c("direction", "choice:step_up|step_down", True),
        _c("person_id", "ref:ssd_person", True),
        _c("family_id", "ref:eh_families", True),
        _c("earl_episode_id", "ref:ssd_early_help_episodes"),  # step-up: from; step-down: opened
        _c("csc_referral_id", "ref:ssd_cin_episodes"),  # step-up: opened; step-down: from
        _c("requested_on", "date", True),
        _c("decision", "choice:pending|accepted|declined|more_information", True),
        _c("decided_on", "date"),  # required unless pending; not before requested_on
        _c("rationale", "text"),
    ),
    "Step-ups and step-downs with their decisions.",
    optional=True,
    extension=True,
)

# Import order: a file only refers to files before it.
FILES: tuple[FileSpec, ...] = (
    PERSON,
    EH_FAMILIES,
    FAMILY,
    EH_FAMILY_ROLES,
    ADDRESS,
    EARLY_HELP_EPISODES,
    EH_EPISODE_DETAILS,
    CIN_EPISODES,
    CIN_PLANS,
    CP_PLANS,
    CLA_EPISODES,
    EH_ASSESSMENTS,
    EH_IDENTIFIED_NEEDS,
    EH_TRANSITIONS,
)
FILES_BY_NAME = {spec.name: spec for spec in FILES}

CODE_MAP_FILE = "ssd_code_map.csv"  # columns: category, local_code, code
# Categories translated through the mapping file, and what each maps to.
CODE_CATEGORIES: dict[str, str] = {
    "sex": "Person.Sex values (M, F, U, I)",
    "send": "Person.Send values (none, sen_support, ehcp, unknown)",
    "start_reason": "EpisodeStartReason.code",
    "end_reason": "EpisodeEndReason.code",
    "organisation": "Organisation.code",
    "csc_closure": "CscClosureReason.code (RC1–RC9)",
    "service": "Service.code",
    "level": "LevelOfNeed.code",
    "team": "Team.code",
    "locality": "Locality.code",
    "headline_outcome": "HeadlineOutcome.code",
}


@dataclass
class CodeMap:
    """local code → canonical code, per category. Without an entry a code maps to itself."""

    entries: dict[str, dict[str, str]] = field(default_factory=dict)

    def translate(self, category: str, local: str) -> str:
        return self.entries.get(category, {}).get(local, local)
