"""Synthetic SSD sets for demos, tests and benchmarks: a whole invented council's records.

Every person is invented: names and street names come from Faker pools, postcodes are
well-formed but made up, NHS numbers come from the 999 test range. The set is generated
column by column with numpy (Faker once for the pools, never per row) so a million-child
council fits in well under two minutes, and it is reproducible from a seed (byte-identical
files) so a benchmark or a failing import can be rerun on exactly the same data.

Families move through *spells* in rounds: an early help spell (one episode per child taking
part) closes with a reason and may lead to a step-up (a children's social care spell), a
later re-opened early help spell, or nothing; a CSC spell (referral, then maybe a CIN, CP or
CLA plan) may end in a step-down to early help or a re-referral. Spells of one family never
overlap, so the invariants the importer checks (one open episode per child and service, end
not before start, closed ⇔ end reason, decided not before requested) hold by construction.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from faker import Faker

from cases.interchange import format as ssd

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[Any]

DEFAULT_SEED = 20261123

# --- What seed_demo creates, so that the codes in generated files resolve. ---


@dataclass(frozen=True)
class DemoOrganisation:
    code: str
    name: str
    kind: str  # Organisation.Kind value
    api_access_enabled: bool = False


@dataclass(frozen=True)
class DemoLocality:
    code: str
    name: str
    town: str
    outward_codes: tuple[str, ...]  # postcode districts of the locality


@dataclass(frozen=True)
class DemoTeam:
    code: str
    name: str
    locality_code: str | None
    service_code: str  # the service this team mostly delivers
    contact_phone: str  # in Ofcom's range for drama, 020 7946 0000–0999: never a real line

    @property
    def contact_email(self) -> str:
        return f"{self.code.lower()}.earlyhelp@example.org"


COUNCIL_CODE = "COUNCIL"
PRIMARY_SCHOOL_CODE = "URN107890"
SECONDARY_SCHOOL_CODE = "URN138245"
GP_PRACTICE_CODE = "Y99001"
POLICE_CODE = "POLICE01"
VCS_CODE = "VCS001"

DEMO_ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation(COUNCIL_CODE, "Example Council", "council"),
    DemoOrganisation(PRIMARY_SCHOOL_CODE, "Oakfield Primary School", "school", True),
    DemoOrganisation(SECONDARY_SCHOOL_CODE, "Riverside Academy", "school"),
    DemoOrganisation(GP_PRACTICE_CODE, "Parkside Medical Practice", "health"),
    DemoOrganisation(POLICE_CODE, "Example Constabulary", "police"),
    DemoOrganisation(VCS_CODE, "Family Links (voluntary sector)", "vcs"),
)

DEMO_LOCALITIES: tuple[DemoLocality, ...] = (
    DemoLocality("NORTH", "North", "Northfield", ("LS16", "LS17", "LS18")),
    DemoLocality("CENTRAL", "Central", "Central", ("LS6", "LS7", "LS8")),
    DemoLocality("SOUTH", "South", "Southbridge", ("LS10", "LS11", "LS12")),
)

DEMO_TEAMS: tuple[DemoTeam, ...] = (
    DemoTeam("NORTH-FS", "North family support", "NORTH", "FAMILY_SUPPORT", "020 7946 0101"),
    DemoTeam("NORTH-HUB", "North family hub 0–5", "NORTH", "FAMILY_HUB_0_5", "020 7946 0102"),
    DemoTeam("CENTRAL-FS", "Central family support", "CENTRAL", "FAMILY_SUPPORT", "020 7946 0103"),
    DemoTeam("CENTRAL-HUB", "Central family hub 0–5", "CENTRAL", "FAMILY_HUB_0_5", "020 7946 0104"),
    DemoTeam("SOUTH-FS", "South family support", "SOUTH", "FAMILY_SUPPORT", "020 7946 0105"),
    DemoTeam("SOUTH-HUB", "South family hub 0–5", "SOUTH", "FAMILY_HUB_0_5", "020 7946 0106"),
    DemoTeam("YOUTH", "Targeted youth support", None, "YOUTH_SUPPORT", "020 7946 0107"),
)

# Demo practitioners (username, team code) who lead some generated episodes: the importer links
# earl_episode_worker_id to a user with that username, so the demo logins have a caseload.
DEMO_LEAD_PRACTITIONERS: tuple[tuple[str, str], ...] = (
    ("practitioner", "NORTH-FS"),
    ("colleague", "NORTH-FS"),
)
DEMO_OPEN_SPELLS_PER_PRACTITIONER = 9  # about 20 open children: near the caseload target of 22
DEMO_CLOSED_SPELLS_PER_PRACTITIONER = 60

# Local codes of the invented source system, translated by ssd_code_map.csv.
CODE_MAP_ROWS: tuple[tuple[str, str, str], ...] = (
    ("end_reason", "NM", "NEEDS_MET"),
    ("end_reason", "SU", "STEP_UP"),
    ("start_reason", "SD", "STEP_DOWN"),
    ("send", "N", "none"),
    ("send", "K", "sen_support"),
    ("send", "E", "ehcp"),
)

# --- Calendar ---

EPOCH = dt.date(1970, 1, 1)
FIRST_DATE = dt.date(2019, 4, 1)
LAST_DATE = dt.date(2026, 10, 31)  # the extract date: nothing happens after it
NO_DATE = -1_000_000  # day-number sentinel for a missing date
YEAR = 365.25


def _day(value: dt.date) -> int:
    return (value - EPOCH).days


START = _day(FIRST_DATE)
END = _day(LAST_DATE)
ADULT_AGE = int(18 * YEAR)

# --- Categories (index → code). Probabilities are rough national shapes, not any council's. ---

SERVICES = ("FAMILY_SUPPORT", "FAMILY_HUB_0_5", "YOUTH_SUPPORT", "SCHOOL_EARLY_HELP")
FS, HUB, YOUTH, SCHOOL = range(4)
ORIGINS = ("front_door", "partner", "self", "step_down")
FRONT_DOOR, PARTNER, SELF, STEP_DOWN = range(4)
ORIGIN_START_REASON = ("FRONT_DOOR", "PARTNER", "SELF", "SD")
END_REASONS = ("NM", "SU", "TRANSFER", "MOVED", "DECLINED", "DISENGAGED", "OTHER")
NEEDS_MET, STEP_UP, TRANSFER, MOVED, DECLINED, DISENGAGED, OTHER = range(7)
END_REASON_P = (0.56, 0.10, 0.07, 0.06, 0.07, 0.10, 0.04)
END_REASON_P_AFTER_STEP_DOWN = (0.52, 0.16, 0.06, 0.05, 0.06, 0.11, 0.04)
END_REASON_MEDIAN_DAYS = (170, 95, 110, 85, 20, 80, 100)
LEVELS = ("L1", "L2", "L3", "L4")
PLAN_TYPES = ("my_plan", "my_plan_plus", "eha")
HEADLINE_OUTCOMES = (
    "EDUCATION",
    "EARLY_YEARS",
    "HEALTH",
    "SUBSTANCE_USE",
    "RELATIONSHIPS",
    "SAFE_FROM_ABUSE",
    "CRIME",
    "DOMESTIC_ABUSE",
    "HOUSING",
    "FINANCE",
)
HEADLINE_OUTCOME_WEIGHTS = (0.14, 0.06, 0.16, 0.05, 0.14, 0.08, 0.05, 0.10, 0.09, 0.13)
CHILD_NEEDS = frozenset({0, 1, 5, 6})  # education, early years, abuse/exploitation, crime
ADULT_NEEDS = frozenset({2, 3})  # health, substance use (an adult's, in this invented set)
NEEDS_PER_ASSESSMENT_P = (0.12, 0.20, 0.25, 0.20, 0.14, 0.09)  # 1–6 needs
OUTCOMES = ("met", "partly_met", "not_met")

CSC_SOURCES = ("front_door", "step_up", "re_referral")
CSC_FRONT_DOOR, CSC_STEP_UP, CSC_RE_REFERRAL = range(3)
CSC_PLANS = ("none", "cin", "cp", "cla")
PLAN_NONE, PLAN_CIN, PLAN_CP, PLAN_CLA = range(4)
CSC_CLOSURES = ("RC1", "RC3", "RC4", "RC5", "RC6", "RC7", "RC8", "RC9")
RC1, RC3, RC4, RC5, RC6, RC7, RC8, RC9 = range(8)
CLA_CEASED = {RC1: "E11", RC3: "E41", RC4: "E43", RC5: "E8", RC6: "E17", RC7: "E13"}
# CIN census referral sources: code, description, share of front-door referrals.
REFERRAL_SOURCES = (
    ("6", "Police", 0.29),
    ("2A", "Schools", 0.19),
    ("3A", "Health: GP", 0.04),
    ("3B", "Health: health visitor", 0.05),
    ("3F", "Health: other", 0.06),
    ("1A", "Individual: family member, relative or carer", 0.08),
    ("1C", "Individual: self", 0.04),
    ("4", "Housing", 0.04),
    ("5B", "Local authority services: other internal", 0.06),
    ("5C", "Local authority services: external", 0.05),
    ("7", "Other legal agency", 0.04),
    ("8", "Other", 0.06),
)
STEP_UP_SOURCE = ("5D", "Local authority services: early help")
PRIMARY_NEEDS = ("N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9")
PRIMARY_NEED_P = (0.52, 0.04, 0.03, 0.16, 0.09, 0.02, 0.01, 0.05, 0.08)
CP_CATEGORIES = ("NEG", "EMO", "PHY", "SAB", "MUL")
CP_CATEGORY_P = (0.50, 0.36, 0.07, 0.04, 0.03)
DECISIONS = ("pending", "accepted", "declined", "more_information")
PENDING, ACCEPTED, DECLINED_DECISION, MORE_INFORMATION = range(4)
RATIONALES = (
    "",
    "Threshold for statutory assessment met",
    "Risk reduced; needs can be met by early help",
    "Family declined early help after step-down",
    "Further information requested before decision",
    "Threshold for statutory intervention not met; continue early help",
)
(
    RATIONALE_STEP_UP,
    RATIONALE_STEP_DOWN,
    RATIONALE_SD_DECLINED,
    RATIONALE_MORE,
    RATIONALE_SU_DECLINED,
) = range(1, 6)
ETHNICITIES = (
    ("WBRI", 0.70),
    ("WIRI", 0.01),
    ("WOTH", 0.05),
    ("MWBC", 0.03),
    ("MWBA", 0.01),
    ("MWAS", 0.02),
    ("MOTH", 0.02),
    ("AIND", 0.03),
    ("APKN", 0.04),
    ("ABAN", 0.01),
    ("AOTH", 0.01),
    ("BCRB", 0.01),
    ("BAFR", 0.03),
    ("CHNE", 0.005),
    ("OOTH", 0.01),
    ("REFU", 0.005),
    ("NOBT", 0.02),
)
NATIONALITIES = (("British", 0.9), ("Polish", 0.03), ("Romanian", 0.02), ("Pakistani", 0.02))
UPN_LA_NUMBER = 383  # a real LA number, so stdnum accepts the UPNs
UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"  # check letters: the first 23 of stdnum's alphabet
CHILDREN_PER_FAMILY_P = (0.38, 0.33, 0.17, 0.08, 0.04)  # 1–5 children
MEAN_CHILDREN_PER_FAMILY = sum((k + 1) * p for k, p in enumerate(CHILDREN_PER_FAMILY_P))
POOL_SIZE = 3000
MAX_ROUNDS = 6
INWARD_CODE = re.compile(r"^[0-9][ABD-HJLNP-UW-Z]{2}$")


# --- Small helpers ---


def _choice(rng: np.random.Generator, p: tuple[float, ...], size: int) -> IntArray:
    weights = np.asarray(p, dtype=np.float64)
    return rng.choice(len(weights), size=size, p=weights / weights.sum()).astype(np.int64)


def _uniform_days(rng: np.random.Generator, low: int, high: int, size: int) -> IntArray:
    """Whole days in [low, high]."""
    return rng.integers(low, high + 1, size=size, dtype=np.int64)


def _lognormal_days(
    rng: np.random.Generator,
    median: FloatArray | float,
    sigma: float,
    low: int,
    high: int,
    size: int,
) -> IntArray:
    days = rng.lognormal(np.log(median), sigma, size=size)
    return np.clip(np.rint(days), low, high).astype(np.int64)


def _first_rows(group: IntArray, groups: int) -> IntArray:
    """Index of the first row of each group, for rows sorted by group (every group non-empty)."""
    return np.searchsorted(group, np.arange(groups)).astype(np.int64)


def _ids(prefix: str, numbers: IntArray) -> ObjArray:
    text = np.strings.zfill(numbers.astype(np.dtypes.StringDType()), 7)
    return np.strings.add(prefix, text).astype(object)


def _optional_ids(prefix: str, numbers: IntArray) -> ObjArray:
    out = np.full(numbers.size, "", dtype=object)
    present = numbers >= 0
    out[present] = _ids(prefix, numbers[present])
    return out


def _dates(days: IntArray) -> ObjArray:
    """ISO dates through a lookup table: far faster than formatting each value."""
    out = np.full(days.size, "", dtype=object)
    present = days != NO_DATE
    if present.any():
        low, high = int(days[present].min()), int(days[present].max())
        table = np.datetime_as_string(np.arange(low, high + 1).astype("datetime64[D]")).astype(
            object
        )
        out[present] = table[days[present] - low]
    return out


def _pick(codes: tuple[str, ...] | list[str], index: IntArray, missing: str = "") -> ObjArray:
    table = np.asarray([*codes, missing], dtype=object)
    return table[np.where(index >= 0, index, len(codes))]


def _yes_no(values: BoolArray) -> ObjArray:
    return np.where(values, "Y", "N").astype(object)


def _year(days: IntArray) -> IntArray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


# --- Pools ---


@dataclass(frozen=True)
class _Pools:
    """Values drawn from Faker once (with its own frequencies), then sampled by index."""

    male: ObjArray
    female: ObjArray
    surnames: ObjArray
    streets: ObjArray
    inward: ObjArray


def _pools(seed: int) -> _Pools:
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    male = [fake.first_name_male() for _ in range(POOL_SIZE)]
    female = [fake.first_name_female() for _ in range(POOL_SIZE)]
    surnames = [fake.last_name() for _ in range(POOL_SIZE)]
    streets = [fake.street_name().replace('"', "") for _ in range(POOL_SIZE)]
    inward = [fake.postcode().split()[-1] for _ in range(POOL_SIZE)]
    return _Pools(
        male=np.asarray(male, dtype=object),
        female=np.asarray(female, dtype=object),
        surnames=np.asarray(surnames, dtype=object),
        streets=np.asarray(streets, dtype=object),
        inward=np.asarray([code for code in inward if INWARD_CODE.match(code)], dtype=object),
    )


# --- Families and people ---


@dataclass
class _People:
    """Families and everyone in them; persons of a family are contiguous, adults first."""

    # per family
    family_first_day: IntArray
    family_locality: IntArray
    family_address: ObjArray
    family_postcode: ObjArray
    # per child (children of a family contiguous)
    child_person: IntArray
    child_family: IntArray
    child_dob: IntArray  # NO_DATE for the unborn
    child_offset: IntArray  # per family: index of its first child
    # per person
    person_family: IntArray
    adult_of_family: IntArray  # per family: person index of the first adult
    columns: dict[str, ObjArray]  # ssd_person columns
    roles: dict[str, ObjArray]  # eh_family_roles columns
    addresses: dict[str, ObjArray]


def _family_sizes(rng: np.random.Generator, children: int) -> IntArray:
    """Children per family (1–5) summing to exactly ``children``."""
    p = CHILDREN_PER_FAMILY_P
    sizes = _choice(rng, p, children // 2 + 8) + 1
    while sizes.sum() < children:
        sizes = np.concatenate([sizes, _choice(rng, p, children // 2 + 8) + 1])
    total = np.cumsum(sizes)
    families = int(np.searchsorted(total, children)) + 1
    sizes = sizes[:families].copy()
    sizes[-1] -= int(total[families - 1]) - children
    return sizes


def _first_days(rng: np.random.Generator, families: int) -> IntArray:
    """First involvement dates, with demand rising over the years (density doubles)."""
    u = rng.random(families)
    x = -1.0 + np.sqrt(1.0 + 3.0 * u)
    return START + np.floor(x * (END - START - 1)).astype(np.int64)


def _child_ages(rng: np.random.Generator, sizes: IntArray, offsets: IntArray) -> IntArray:
    """Ages in days at first involvement: a youngest child, then siblings 1–5 years apart."""
    n = int(sizes.sum())
    rank = np.arange(n) - np.repeat(offsets, sizes)
    youngest = np.clip(rng.gamma(1.4, 3.0, sizes.size), 0.0, 16.5) * YEAR
    gaps = np.where(rank == 0, 0.0, (1.0 + rng.gamma(1.5, 1.0, n)) * YEAR)
    within = np.cumsum(gaps)
    within -= np.repeat(within[offsets], sizes)
    age = np.repeat(youngest, sizes) + within
    too_old = age > 17.9 * YEAR
    age[too_old] = rng.uniform(0.0, 17.9 * YEAR, int(too_old.sum()))
    return age.astype(np.int64)


def _nhs_numbers(rng: np.random.Generator, count: int) -> ObjArray:
    """Distinct NHS numbers 999xxxxxxC with a valid mod-11 check digit; at most ~909,000 exist."""
    base = np.arange(1_000_000, dtype=np.int64)
    digits = (base[:, None] // 10 ** np.arange(5, -1, -1)) % 10  # six digits after "999"
    total = 9 * (10 + 9 + 8) + digits @ np.arange(7, 1, -1)
    check = (11 - total % 11) % 11
    valid = base[check != 10]
    chosen = rng.permutation(valid)[:count]
    numbers = 9_990_000_000 + chosen * 10 + check[chosen]
    return numbers.astype(np.dtypes.StringDType()).astype(object)


def _upns(rng: np.random.Generator, dob: IntArray) -> ObjArray:
    """UPNs: check letter, LA number, 4-digit establishment, 2-digit issue year, serial."""
    n = dob.size
    code = rng.permutation(max(n, 1))[:n].astype(np.int64)  # distinct (establishment, serial)
    establishment = 2000 + code // 1000
    serial = code % 1000
    year = (_year(dob) + 5) % 100
    digits = np.column_stack(
        [
            np.full(n, UPN_LA_NUMBER // 100),
            np.full(n, UPN_LA_NUMBER // 10 % 10),
            np.full(n, UPN_LA_NUMBER % 10),
            establishment // 1000 % 10,
            establishment // 100 % 10,
            establishment // 10 % 10,
            establishment % 10,
            year // 10,
            year % 10,
            serial // 100,
            serial // 10 % 10,
            serial % 10,
        ]
    )
    # stdnum: sum(weight * alphabet.index(char)) % 23 with weights 2..13; a digit's index is
    # 23 + digit, and the 23s vanish modulo 23.
    check = (digits @ np.arange(2, 14)) % 23
    letters = np.asarray(list(UPN_ALPHABET), dtype=object)[check]
    body = (UPN_LA_NUMBER * 10**9 + establishment * 10**5 + year * 10**3 + serial).astype(
        np.dtypes.StringDType()
    )
    return np.strings.add(letters.astype(np.dtypes.StringDType()), body).astype(object)


def _people(rng: np.random.Generator, pools: _Pools, children: int) -> _People:
    sizes = _family_sizes(rng, children)
    families = sizes.size
    adults = 1 + (rng.random(families) < 0.55).astype(np.int64)
    first_day = _first_days(rng, families)
    locality = _choice(rng, (0.35, 0.40, 0.25), families)
    child_offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    person_offset = np.concatenate([[0], np.cumsum(sizes + adults)[:-1]]).astype(np.int64)
    persons = int((sizes + adults).sum())

    child_family = np.repeat(np.arange(families), sizes)
    rank = np.arange(children) - child_offset[child_family]
    child_person = person_offset[child_family] + adults[child_family] + rank
    age = _child_ages(rng, sizes, child_offset)
    dob = first_day[child_family] - age
    expected = np.full(children, NO_DATE, dtype=np.int64)
    # Pre-birth work: the youngest of some recently referred families is not yet born.
    unborn_family = (first_day >= END - 200) & (rng.random(families) < 0.35)
    unborn = np.zeros(children, dtype=bool)
    unborn[child_offset[unborn_family]] = True
    dob[unborn] = NO_DATE
    age[unborn] = 0
    due = np.maximum(first_day[child_family] + _uniform_days(rng, 30, 270, children), END + 7)
    expected[unborn] = due[unborn]
    oldest = np.maximum.reduceat(age, child_offset)

    # Adults: the first is usually the mother; ages keep parents 15+ years older than children.
    adult1_age = np.clip(
        oldest + (16.0 + rng.gamma(2.0, 4.0, families)) * YEAR, 18 * YEAR, 60 * YEAR
    ).astype(np.int64)
    adult2_age = np.clip(
        adult1_age + rng.normal(2.0, 4.0, families) * YEAR,
        np.maximum(18 * YEAR, oldest + 15 * YEAR),
        60 * YEAR,
    ).astype(np.int64)

    person_family = np.repeat(np.arange(families), sizes + adults)
    is_child = np.zeros(persons, dtype=bool)
    is_child[child_person] = True
    adult1 = person_offset
    adult2 = person_offset[adults == 2] + 1

    person_dob = np.full(persons, NO_DATE, dtype=np.int64)
    person_dob[child_person] = dob
    person_dob[adult1] = first_day - adult1_age
    person_dob[adult2] = (first_day - adult2_age)[adults == 2]
    person_expected = np.full(persons, NO_DATE, dtype=np.int64)
    person_expected[child_person] = expected

    # Sex and names.
    female = rng.random(persons) < 0.5
    female[adult1] = rng.random(families) < 0.85
    female[adult2] = ~female[adult2 - 1] ^ (rng.random(adult2.size) < 0.1)
    sex = np.where(female, "F", "M").astype(object)
    unknown_sex = np.zeros(persons, dtype=bool)
    unknown_sex[child_person[unborn]] = rng.random(int(unborn.sum())) < 0.6
    sex[unknown_sex] = "U"
    forename = np.where(
        female,
        pools.female[rng.integers(0, pools.female.size, persons)],
        pools.male[rng.integers(0, pools.male.size, persons)],
    )
    family_surname = pools.surnames[rng.integers(0, pools.surnames.size, families)]
    surname = family_surname[person_family]
    other_surname = (rng.random(persons) < 0.18) & (np.arange(persons) != adult1[person_family])
    surname[other_surname] = pools.surnames[
        rng.integers(0, pools.surnames.size, int(other_surname.sum()))
    ]

    # Identifiers: NHS numbers (children first: the 999 range runs out near 900,000), UPNs.
    wants_nhs = np.where(is_child, rng.random(persons) < 0.88, rng.random(persons) < 0.45)
    wants_nhs &= person_dob != NO_DATE
    order = np.concatenate(
        [np.flatnonzero(wants_nhs & is_child), np.flatnonzero(wants_nhs & ~is_child)]
    )
    numbers = _nhs_numbers(rng, order.size)
    nhs = np.full(persons, "", dtype=object)
    nhs[order[: numbers.size]] = numbers

    born = person_dob != NO_DATE
    school_age = is_child & born & (person_dob <= END - int(5 * YEAR))
    has_upn = school_age & (rng.random(persons) < 0.93)
    upn = np.full(persons, "", dtype=object)
    upn[has_upn] = _upns(rng, person_dob[has_upn])
    upn_unknown = np.full(persons, "", dtype=object)
    upn_unknown[is_child & ~school_age] = "UN1"
    upn_unknown[school_age & ~has_upn] = "UN5"

    send = np.full(persons, "", dtype=object)
    send[school_age] = _pick(
        ("N", "K", "E"), _choice(rng, (0.82, 0.13, 0.05), int(school_age.sum()))
    )
    ethnicity = _pick(
        [code for code, _ in ETHNICITIES], _choice(rng, tuple(p for _, p in ETHNICITIES), families)
    )
    person_ethnicity = ethnicity[person_family]
    nationality = _pick(
        [name for name, _ in NATIONALITIES],
        _choice(rng, tuple(p for _, p in NATIONALITIES), persons),
    )
    legacy = _ids("LL", rng.permutation(persons).astype(np.int64) + 500_000)

    columns = {
        "pers_person_id": _ids("PER", np.arange(1, persons + 1)),
        "pers_legacy_id": legacy,
        "pers_upn": upn,
        "pers_forename": forename,
        "pers_surname": surname,
        "pers_sex": sex,
        "pers_ethnicity": person_ethnicity,
        "pers_dob": _dates(person_dob),
        "pers_single_unique_id": nhs,
        "pers_upn_unknown": upn_unknown,
        "pers_send_flag": send,
        "pers_expected_dob": _dates(person_expected),
        "pers_nationality": nationality,
    }
    roles = _roles(rng, person_family, is_child, person_dob, adult2, first_day)
    street, number, postcode, address_columns = _addresses(
        rng, pools, locality, first_day, person_family, person_dob, person_offset, sizes + adults
    )
    town = np.asarray([loc.town for loc in DEMO_LOCALITIES], dtype=object)[locality]
    family_address = np.strings.add(
        np.strings.add(
            np.strings.add(number.astype("T"), " "), np.strings.add(street.astype("T"), ", ")
        ),
        town.astype("T"),
    ).astype(object)
    return _People(
        family_first_day=first_day,
        family_locality=locality,
        family_address=family_address,
        family_postcode=postcode,
        child_person=child_person,
        child_family=child_family,
        child_dob=dob,
        child_offset=child_offset,
        person_family=person_family,
        adult_of_family=adult1,
        columns=columns,
        roles=roles,
        addresses=address_columns,
    )


def _roles(
    rng: np.random.Generator,
    person_family: IntArray,
    is_child: BoolArray,
    dob: IntArray,
    adult2: IntArray,
    first_day: IntArray,
) -> dict[str, ObjArray]:
    persons = person_family.size
    role = np.where(is_child, "child", "parent").astype(object)
    role[adult2] = _pick(
        ("parent", "step_parent", "carer"), _choice(rng, (0.65, 0.25, 0.10), adult2.size)
    )
    started = np.where(is_child, dob, NO_DATE)
    step = adult2[role[adult2] == "step_parent"]
    started[step] = first_day[person_family[step]] - _uniform_days(rng, 60, 5 * 365, step.size)
    ended = np.full(persons, NO_DATE, dtype=np.int64)
    leaves = adult2[rng.random(adult2.size) < 0.05]
    span = END - first_day[person_family[leaves]]
    ended[leaves] = first_day[person_family[leaves]] + (rng.random(leaves.size) * span).astype(
        np.int64
    )
    ended[leaves] = np.maximum(
        ended[leaves], np.where(started[leaves] == NO_DATE, 0, started[leaves])
    )
    return {
        "fami_table_id": _ids("FM", np.arange(1, persons + 1)),
        "role": role,
        "started_on": _dates(started),
        "ended_on": _dates(ended),
    }


def _addresses(
    rng: np.random.Generator,
    pools: _Pools,
    locality: IntArray,
    first_day: IntArray,
    person_family: IntArray,
    person_dob: IntArray,
    person_offset: IntArray,
    family_size: IntArray,
) -> tuple[ObjArray, ObjArray, ObjArray, dict[str, ObjArray]]:
    """Each family's current address, and the previous one for families that moved."""
    families = locality.size

    def draw() -> tuple[ObjArray, ObjArray, ObjArray]:
        street = pools.streets[rng.integers(0, pools.streets.size, families)]
        number = rng.integers(1, 240, families).astype(np.dtypes.StringDType()).astype(object)
        outward = np.empty(families, dtype=object)
        for index, loc in enumerate(DEMO_LOCALITIES):
            here = locality == index
            codes = np.asarray(loc.outward_codes, dtype=object)
            outward[here] = codes[rng.integers(0, codes.size, int(here.sum()))]
        inward = pools.inward[rng.integers(0, pools.inward.size, families)]
        postcode = np.strings.add(np.strings.add(outward.astype("T"), " "), inward.astype("T"))
        return street, number, postcode.astype(object)

    street, number, postcode = draw()
    old_street, old_number, old_postcode = draw()
    moved = (rng.random(families) < 0.12) & (END - first_day > 60)
    moved_on = first_day + (rng.random(families) * (END - first_day)).astype(np.int64)
    current_from = np.where(
        moved, moved_on, first_day - _uniform_days(rng, 180, 10 * 365, families)
    )
    old_from = moved_on - _uniform_days(rng, 365, 8 * 365, families)

    born = person_dob != NO_DATE  # the unborn have no address row yet
    current = np.flatnonzero(born)
    cur_family = person_family[current]
    cur_start = np.maximum(current_from[cur_family], person_dob[current])
    previous = np.flatnonzero(born & moved[person_family] & (person_dob < moved_on[person_family]))
    prev_family = person_family[previous]
    prev_start = np.maximum(old_from[prev_family], person_dob[previous])

    person = np.concatenate([current, previous])
    family = np.concatenate([cur_family, prev_family])
    is_current = np.concatenate([np.ones(current.size, bool), np.zeros(previous.size, bool)])
    start = np.concatenate([cur_start, prev_start])
    end = np.concatenate([np.full(current.size, NO_DATE), moved_on[prev_family] - 1])
    order = np.lexsort((~is_current, person))
    person, family, is_current, start, end = (
        a[order] for a in (person, family, is_current, start, end)
    )
    line1 = np.where(
        is_current,
        np.strings.add(np.strings.add(number[family].astype("T"), " "), street[family].astype("T")),
        np.strings.add(
            np.strings.add(old_number[family].astype("T"), " "), old_street[family].astype("T")
        ),
    )
    town = np.asarray([loc.town for loc in DEMO_LOCALITIES], dtype=object)[locality[family]]
    code = np.where(is_current, postcode[family], old_postcode[family]).astype("T")
    address_json = np.strings.add(
        np.strings.add(
            np.strings.add(np.strings.add('{"line1": "', line1), '", "town": "'),
            np.strings.add(town.astype("T"), '", "postcode": "'),
        ),
        np.strings.add(code, '"}'),
    )
    columns = {
        "addr_table_id": _ids("AD", np.arange(1, person.size + 1)),
        "addr_person_id": _ids("PER", person + 1),
        "addr_address_type": np.full(person.size, "Home", dtype=object),
        "addr_address_start_date": _dates(start),
        "addr_address_end_date": _dates(end),
        "addr_address_postcode": code.astype(object),
        "addr_address_json": address_json.astype(object),
    }
    return street, number, postcode, columns


# --- Spells ---


@dataclass
class _Spec:
    """Spells to open in the next round: per spell, and per member row (sorted by spell)."""

    family: IntArray
    start: IntArray
    origin: IntArray  # EH: ORIGINS index; CSC: CSC_SOURCES index
    requested: IntArray  # the transition that led here (NO_DATE if none)
    decided: IntArray
    member_spell: IntArray
    member_child: IntArray
    member_parent: IntArray  # the episode / CSC referral number this member came from, or -1

    @classmethod
    def empty(cls) -> _Spec:
        e = np.zeros(0, dtype=np.int64)
        return cls(e, e, e, e, e, e, e, e)

    @property
    def size(self) -> int:
        return int(self.family.size)


def _concat_specs(specs: list[_Spec]) -> _Spec:
    offset = 0
    parts: dict[str, list[IntArray]] = {f.name: [] for f in fields(_Spec)}
    for spec in specs:
        for f in fields(_Spec):
            value = getattr(spec, f.name)
            parts[f.name].append(value + offset if f.name == "member_spell" else value)
        offset += spec.size
    return _Spec(
        **{name: np.concatenate(values).astype(np.int64) for name, values in parts.items()}
    )


def _keep_members(spec: _Spec, keep: BoolArray) -> _Spec:
    """Drop member rows, then drop spells left without members."""
    member_spell = spec.member_spell[keep]
    counts = np.bincount(member_spell, minlength=spec.size)
    alive = counts > 0
    renumber = np.cumsum(alive) - 1
    return _Spec(
        family=spec.family[alive],
        start=spec.start[alive],
        origin=spec.origin[alive],
        requested=spec.requested[alive],
        decided=spec.decided[alive],
        member_spell=renumber[member_spell],
        member_child=spec.member_child[keep],
        member_parent=spec.member_parent[keep],
    )


def _child_ages_on(people: _People, child: IntArray, day: IntArray) -> IntArray:
    dob = people.child_dob[child]
    return np.where(dob == NO_DATE, 0, day - dob)


def _only_children(people: _People, spec: _Spec) -> _Spec:
    """Early help and CSC work with under-18s only."""
    start = spec.start[spec.member_spell]
    return _keep_members(spec, _child_ages_on(people, spec.member_child, start) < ADULT_AGE)


@dataclass
class _EhRound:
    # per spell
    number: IntArray  # global spell number (assessments refer to spells)
    family: IntArray
    start: IntArray
    end: IntArray
    reason: IntArray  # END_REASONS index, -1 while open
    origin: IntArray
    service: IntArray
    level: IntArray
    plan_type: IntArray
    organisation: ObjArray
    team: ObjArray
    # per member (one episode each)
    member_spell: IntArray  # local spell index
    member_child: IntArray
    member_episode: IntArray  # global episode number


@dataclass
class _CscRound:
    family: IntArray
    start: IntArray
    end: IntArray  # referral closed (NO_DATE while open)
    closure: IntArray  # CSC_CLOSURES index, -1 while open
    plan: IntArray  # CSC_PLANS index
    plan_start: IntArray
    source: IntArray
    member_spell: IntArray
    member_child: IntArray
    member_referral: IntArray  # global CSC referral number


class _Transitions:
    """Step-up and step-down rows, collected as the rounds produce them."""

    def __init__(self) -> None:
        self.parts: list[dict[str, IntArray]] = []

    def add(self, **columns: IntArray) -> None:
        self.parts.append(columns)

    def frame(self, people: _People) -> dict[str, ObjArray]:
        names = (
            "direction",
            "child",
            "episode",
            "referral",
            "requested",
            "decided",
            "decision",
            "rationale",
        )
        data = {
            name: np.concatenate([part[name] for part in self.parts] or [np.zeros(0, np.int64)])
            for name in names
        }
        n = data["child"].size
        return {
            "transition_id": _ids("TR", np.arange(1, n + 1)),
            "direction": _pick(("step_up", "step_down"), data["direction"]),
            "person_id": _ids("PER", people.child_person[data["child"]] + 1),
            "family_id": _ids("FAM", people.child_family[data["child"]] + 1),
            "earl_episode_id": _optional_ids("EH", data["episode"]),
            "csc_referral_id": _optional_ids("REF", data["referral"]),
            "requested_on": _dates(data["requested"]),
            "decision": _pick(DECISIONS, data["decision"]),
            "decided_on": _dates(data["decided"]),
            "rationale": _pick(RATIONALES, data["rationale"]),
        }


class _Simulation:
    """Runs the rounds of spells and keeps what they produced."""

    def __init__(self, rng: np.random.Generator, people: _People) -> None:
        self.rng = rng
        self.people = people
        self.eh: list[_EhRound] = []
        self.csc: list[_CscRound] = []
        self.transitions = _Transitions()
        self.next_spell = 0
        self.next_episode = 1
        self.next_referral = 1

    def run(self) -> None:
        eh_spec, csc_spec = self._initial()
        for _ in range(MAX_ROUNDS):
            if eh_spec.size == 0 and csc_spec.size == 0:
                break
            eh = self._open_early_help(_only_children(self.people, eh_spec))
            csc = self._open_csc(_only_children(self.people, csc_spec))
            self.eh.append(eh)
            self.csc.append(csc)
            step_down, stepped_down = self._step_down(csc)
            eh_spec = _concat_specs([self._reopen(eh), step_down])
            csc_spec = _concat_specs([self._step_up(eh), self._re_refer(csc, ~stepped_down)])

    # --- Where families start ---

    def _initial(self) -> tuple[_Spec, _Spec]:
        """Most families start in early help; some at the CSC front door."""
        rng, people = self.rng, self.people
        families = people.family_first_day.size
        csc_first = rng.random(families) < 0.18
        child_family = people.child_family
        # Early help: most of the family's children; CSC: often just one child.
        eh_keep = ~csc_first[child_family] & (rng.random(child_family.size) < 0.9)
        csc_keep = csc_first[child_family] & (rng.random(child_family.size) < 0.5)
        first_child = people.child_offset
        eh_keep[first_child] |= ~csc_first  # at least one child each
        csc_keep[first_child] |= csc_first
        origin = _choice(rng, (0.35, 0.50, 0.15), families)
        return (
            self._family_spec(np.flatnonzero(~csc_first), eh_keep, origin),
            self._family_spec(
                np.flatnonzero(csc_first), csc_keep, np.full(families, CSC_FRONT_DOOR)
            ),
        )

    def _family_spec(self, families: IntArray, member: BoolArray, origin: IntArray) -> _Spec:
        people = self.people
        child = np.flatnonzero(member)
        local = np.full(people.family_first_day.size, -1, dtype=np.int64)
        local[families] = np.arange(families.size)
        none = np.full(families.size, NO_DATE, dtype=np.int64)
        return _Spec(
            family=families,
            start=people.family_first_day[families],
            origin=origin[families],
            requested=none,
            decided=none,
            member_spell=local[people.child_family[child]],
            member_child=child,
            member_parent=np.full(child.size, -1, dtype=np.int64),
        )

    # --- Early help spells ---

    def _open_early_help(self, spec: _Spec) -> _EhRound:
        rng, n = self.rng, spec.size
        after_step_down = spec.origin == STEP_DOWN
        reason = np.where(
            after_step_down,
            _choice(rng, END_REASON_P_AFTER_STEP_DOWN, n),
            _choice(rng, END_REASON_P, n),
        )
        median = np.asarray(END_REASON_MEDIAN_DAYS, dtype=np.float64)[reason]
        end = spec.start + _lognormal_days(rng, median, 0.55, 7, 1000, n)
        still_open = end > END
        end[still_open] = NO_DATE
        reason[still_open] = -1

        service, organisation, team = self._services(spec)
        # Level index 1 = L2 (My Plan, single agency), 2 = L3 (My Plan Plus, multi-agency).
        level = np.where(rng.random(n) < np.where(after_step_down, 0.8, 0.45), 2, 1)
        roll = rng.random(n)
        plan_type = np.where(level == 1, np.where(roll < 0.8, 0, 2), np.where(roll < 0.85, 1, 2))

        members = spec.member_spell.size
        episode = self.next_episode + np.arange(members, dtype=np.int64)
        self.next_episode += members
        number = self.next_spell + np.arange(n, dtype=np.int64)
        self.next_spell += n
        eh = _EhRound(
            number=number,
            family=spec.family,
            start=spec.start,
            end=end,
            reason=reason,
            origin=spec.origin,
            service=service,
            level=level,
            plan_type=plan_type,
            organisation=organisation,
            team=team,
            member_spell=spec.member_spell,
            member_child=spec.member_child,
            member_episode=episode,
        )
        self._record_step_downs(spec, eh)
        self._record_declined_step_ups(eh)
        return eh

    def _services(self, spec: _Spec) -> tuple[IntArray, ObjArray, ObjArray]:
        """Service by the children's ages; who leads it (council team, school or VCS)."""
        rng, people, n = self.rng, self.people, spec.size
        start = spec.start[spec.member_spell]
        age = _child_ages_on(people, spec.member_child, start)
        first = _first_rows(spec.member_spell, n)
        youngest = np.minimum.reduceat(age, first)
        oldest = np.maximum.reduceat(age, first)
        school_age = (oldest >= 5 * YEAR) & (youngest < 16 * YEAR)
        roll = rng.random(n)
        service = np.full(n, FS, dtype=np.int64)
        service[(youngest < 5 * YEAR) & (roll < 0.40)] = HUB
        service[(oldest >= 11 * YEAR) & (roll >= 0.40) & (roll < 0.58)] = YOUTH
        service[school_age & (roll >= 0.58) & (roll < 0.78)] = SCHOOL
        service[spec.origin == STEP_DOWN] = FS

        locality = self.people.family_locality[spec.family]
        loc_codes = np.asarray([loc.code for loc in DEMO_LOCALITIES], dtype=object)[locality]
        team = np.full(n, "", dtype=object)
        team[service == FS] = np.strings.add(loc_codes[service == FS].astype("T"), "-FS").astype(
            object
        )
        team[service == HUB] = np.strings.add(loc_codes[service == HUB].astype("T"), "-HUB").astype(
            object
        )
        team[service == YOUTH] = "YOUTH"
        organisation = np.full(n, COUNCIL_CODE, dtype=object)
        school = service == SCHOOL
        organisation[school] = np.where(
            youngest[school] < 11 * YEAR, PRIMARY_SCHOOL_CODE, SECONDARY_SCHOOL_CODE
        )
        vcs = (service == FS) & (spec.origin != STEP_DOWN) & (rng.random(n) < 0.08)
        organisation[vcs] = VCS_CODE
        team[vcs] = ""
        return service, organisation, team

    def _record_step_downs(self, spec: _Spec, eh: _EhRound) -> None:
        """Accepted step-downs: the CSC referral the child came from → the new episode."""
        rows = np.flatnonzero(spec.origin[spec.member_spell] == STEP_DOWN)
        spell = spec.member_spell[rows]
        self.transitions.add(
            direction=np.ones(rows.size, np.int64),
            child=spec.member_child[rows],
            episode=eh.member_episode[rows],
            referral=spec.member_parent[rows],
            requested=spec.requested[spell],
            decided=spec.decided[spell],
            decision=np.full(rows.size, ACCEPTED),
            rationale=np.full(rows.size, RATIONALE_STEP_DOWN),
        )

    def _record_declined_step_ups(self, eh: _EhRound) -> None:
        """A few step-up requests are declined and early help carries on."""
        rng, n = self.rng, eh.family.size
        closed = eh.reason >= 0
        long_enough = closed & (eh.end - eh.start >= 30) & (eh.reason != STEP_UP)
        declined = long_enough & (rng.random(n) < 0.04)
        requested = eh.start + (rng.random(n) * (eh.end - eh.start - 10)).astype(np.int64)
        decided = requested + _uniform_days(rng, 1, 7, n)
        rows = np.flatnonzero(declined[eh.member_spell])
        spell = eh.member_spell[rows]
        self.transitions.add(
            direction=np.zeros(rows.size, np.int64),
            child=eh.member_child[rows],
            episode=eh.member_episode[rows],
            referral=np.full(rows.size, -1),
            requested=requested[spell],
            decided=decided[spell],
            decision=np.full(rows.size, DECLINED_DECISION),
            rationale=np.full(rows.size, RATIONALE_SU_DECLINED),
        )

    # --- CSC spells ---

    def _open_csc(self, spec: _Spec) -> _CscRound:
        rng, n = self.rng, spec.size
        step_up = spec.origin == CSC_STEP_UP
        nfa = rng.random(n) < np.where(step_up, 0.08, 0.30)
        plan = np.where(
            step_up,
            _choice(rng, (0.0, 0.50, 0.42, 0.08), n),
            _choice(rng, (0.0, 0.62, 0.33, 0.05), n),
        )
        plan[nfa] = PLAN_NONE
        plan_start = np.where(nfa, NO_DATE, spec.start + _uniform_days(rng, 10, 45, n))
        not_yet = ~nfa & (plan_start > END)  # still being assessed on the extract date
        plan[not_yet] = PLAN_NONE
        plan_start[not_yet] = NO_DATE

        median = np.asarray((30, 230, 300, 550), dtype=np.float64)[plan]
        length = _lognormal_days(rng, median, 0.5, 30, 2500, n)
        end = np.where(plan == PLAN_NONE, NO_DATE, plan_start + length)
        end[nfa] = spec.start[nfa] + _uniform_days(rng, 1, 45, int(nfa.sum()))
        closure = np.full(n, -1, dtype=np.int64)
        closure[nfa] = np.where(rng.random(int(nfa.sum())) < 0.7, RC8, RC9)
        planned = plan != PLAN_NONE
        closure[planned] = np.where(
            plan[planned] == PLAN_CLA,
            _pick_index(
                rng, (RC1, RC3, RC4, RC7, RC6), (0.12, 0.12, 0.20, 0.50, 0.06), int(planned.sum())
            ),
            _pick_index(rng, (RC7, RC5, RC3, RC4), (0.85, 0.10, 0.03, 0.02), int(planned.sum())),
        )
        still_open = (end > END) | (end == NO_DATE)
        end[still_open] = NO_DATE
        closure[still_open] = -1

        members = spec.member_spell.size
        referral = self.next_referral + np.arange(members, dtype=np.int64)
        self.next_referral += members
        csc = _CscRound(
            family=spec.family,
            start=spec.start,
            end=end,
            closure=closure,
            plan=plan,
            plan_start=plan_start,
            source=spec.origin,
            member_spell=spec.member_spell,
            member_child=spec.member_child,
            member_referral=referral,
        )
        rows = np.flatnonzero(step_up[spec.member_spell])
        spell = spec.member_spell[rows]
        self.transitions.add(
            direction=np.zeros(rows.size, np.int64),
            child=spec.member_child[rows],
            episode=spec.member_parent[rows],
            referral=referral[rows],
            requested=spec.requested[spell],
            decided=spec.decided[spell],
            decision=np.full(rows.size, ACCEPTED),
            rationale=np.full(rows.size, RATIONALE_STEP_UP),
        )
        return csc

    # --- What follows a spell ---

    def _step_up(self, eh: _EhRound) -> _Spec:
        """Closed as stepped up: a CSC referral within days, the step-up accepted at closure."""
        rng = self.rng
        spells = np.flatnonzero(eh.reason == STEP_UP)
        end = eh.end[spells]
        requested = np.maximum(end - _uniform_days(rng, 0, 5, spells.size), eh.start[spells])
        start = np.minimum(end + _uniform_days(rng, 0, 5, spells.size), END)
        return _follow(
            eh,
            spells,
            start=start,
            origin=np.full(spells.size, CSC_STEP_UP),
            parents=eh.member_episode,
            requested=requested,
            decided=end,
        )

    def _reopen(self, eh: _EhRound) -> _Spec:
        """Some closed families come back: half within six months, the rest later."""
        rng, n = self.rng, eh.family.size
        closed = (eh.reason >= 0) & (eh.reason != STEP_UP)
        chance = np.where(eh.reason == MOVED, 0.03, 0.20)
        spells = np.flatnonzero(closed & (rng.random(n) < chance))
        gap = np.where(
            rng.random(spells.size) < 0.5,
            _uniform_days(rng, 14, 182, spells.size),
            _uniform_days(rng, 183, 900, spells.size),
        )
        start = eh.end[spells] + gap
        origin = _choice(rng, (0.35, 0.50, 0.15), spells.size)
        return _within_window(_follow(eh, spells, start=start, origin=origin))

    def _step_down(self, csc: _CscRound) -> tuple[_Spec, BoolArray]:
        """CIN/CP plans ending, or assessments closed to early help, step down; most accepted.

        Returns the new early help spells and which CSC spells asked for a step-down (they
        get no re-referral: a family follows one path at a time, so spells never overlap).
        """
        rng, n = self.rng, csc.family.size
        chance = np.select(
            [csc.closure == RC9, (csc.closure == RC7) & (csc.plan == PLAN_CLA), csc.closure == RC7],
            [0.9, 0.1, 0.45],
            0.0,
        )
        spells = np.flatnonzero(rng.random(n) < chance)
        end = csc.end[spells]
        requested = np.maximum(end - _uniform_days(rng, 0, 14, spells.size), csc.start[spells])
        decided = requested + _uniform_days(rng, 1, 10, spells.size)
        decision = _pick_index(
            rng, (ACCEPTED, DECLINED_DECISION, MORE_INFORMATION), (0.91, 0.06, 0.03), spells.size
        )
        decision[decided > END] = PENDING
        decided[decision == PENDING] = NO_DATE
        start = np.minimum(
            np.maximum(decided, end - 7) + _uniform_days(rng, 0, 10, spells.size), END
        )

        not_accepted = decision != ACCEPTED
        self._record_unaccepted_step_downs(
            csc,
            spells[not_accepted],
            requested[not_accepted],
            decided[not_accepted],
            decision[not_accepted],
        )
        accepted = ~not_accepted
        asked = np.zeros(n, dtype=bool)
        asked[spells] = True
        spec = _follow(
            csc,
            spells[accepted],
            start=start[accepted],
            origin=np.full(int(accepted.sum()), STEP_DOWN),
            parents=csc.member_referral,
            requested=requested[accepted],
            decided=decided[accepted],
        )
        return spec, asked

    def _record_unaccepted_step_downs(
        self,
        csc: _CscRound,
        spells: IntArray,
        requested: IntArray,
        decided: IntArray,
        decision: IntArray,
    ) -> None:
        local = np.full(csc.family.size, -1, dtype=np.int64)
        local[spells] = np.arange(spells.size)
        rows = np.flatnonzero(local[csc.member_spell] >= 0)
        which = local[csc.member_spell[rows]]
        rationale = np.where(
            decision[which] == DECLINED_DECISION, RATIONALE_SD_DECLINED, RATIONALE_MORE
        )
        rationale[decision[which] == PENDING] = 0
        self.transitions.add(
            direction=np.ones(rows.size, np.int64),
            child=csc.member_child[rows],
            episode=np.full(rows.size, -1),
            referral=csc.member_referral[rows],
            requested=requested[which],
            decided=decided[which],
            decision=decision[which],
            rationale=rationale,
        )

    def _re_refer(self, csc: _CscRound, allowed: BoolArray) -> _Spec:
        """A new CSC referral after closure: often within 12 months (a CIN re-referral)."""
        rng, n = self.rng, csc.family.size
        closed = allowed & (csc.closure >= 0) & ~np.isin(csc.closure, (RC1, RC5, RC6, RC9))
        spells = np.flatnonzero(closed & (rng.random(n) < 0.22))
        start = csc.end[spells] + _uniform_days(rng, 14, 540, spells.size)
        origin = np.full(spells.size, CSC_RE_REFERRAL)
        return _within_window(_follow(csc, spells, start=start, origin=origin))


def _follow(
    previous: _EhRound | _CscRound,
    spells: IntArray,
    *,
    start: IntArray,
    origin: IntArray,
    parents: IntArray | None = None,
    requested: IntArray | None = None,
    decided: IntArray | None = None,
) -> _Spec:
    """A new spell for each of ``spells`` of the previous round, with the same children.

    ``parents`` numbers each previous member row (episode or CSC referral) when the new spell
    is a step, so its transition can name the record the child came from.
    """
    local = np.full(previous.family.size, -1, dtype=np.int64)
    local[spells] = np.arange(spells.size)
    rows = np.flatnonzero(local[previous.member_spell] >= 0)
    none = np.full(spells.size, NO_DATE, dtype=np.int64)
    return _Spec(
        family=previous.family[spells],
        start=start,
        origin=origin,
        requested=none if requested is None else requested,
        decided=none if decided is None else decided,
        member_spell=local[previous.member_spell[rows]],
        member_child=previous.member_child[rows],
        member_parent=np.full(rows.size, -1, dtype=np.int64) if parents is None else parents[rows],
    )


def _pick_index(
    rng: np.random.Generator, values: tuple[int, ...], p: tuple[float, ...], size: int
) -> IntArray:
    return np.asarray(values, dtype=np.int64)[_choice(rng, p, size)]


def _within_window(spec: _Spec) -> _Spec:
    """Drop spells that would start after the extract date."""
    return _keep_members(spec, spec.start[spec.member_spell] <= END)


# --- Assigning lead workers ---


def _workers(rng: np.random.Generator, eh: _EhRound) -> ObjArray:
    """Worker ids per spell; the demo practitioners lead a caseload in their own team.

    Each team or partner organisation has enough workers for about 250 spells each over the
    seven years (roughly a full caseload), so caseload figures stay plausible at any size.
    """
    n = eh.family.size
    council_team = eh.team != ""
    employer = np.where(council_team, eh.team, eh.organisation).astype(object)
    names, which = np.unique(employer, return_inverse=True)
    staff = np.maximum(4, np.ceil(np.bincount(which, minlength=names.size) / 250)).astype(np.int64)
    worker_no = 1 + (rng.random(n) * staff[which]).astype(np.int64)
    worker = np.strings.add(
        np.strings.add(employer.astype("T"), np.where(council_team, "-W", "-LP")),
        np.strings.zfill(worker_no.astype(np.dtypes.StringDType()), 3),
    ).astype(object)
    for username_team in sorted({team for _, team in DEMO_LEAD_PRACTITIONERS}):
        usernames = [name for name, team in DEMO_LEAD_PRACTITIONERS if team == username_team]
        in_team = eh.team == username_team
        for is_open, cap in (
            (True, DEMO_OPEN_SPELLS_PER_PRACTITIONER),
            (False, DEMO_CLOSED_SPELLS_PER_PRACTITIONER),
        ):
            pool = rng.permutation(np.flatnonzero(in_team & ((eh.reason < 0) == is_open)))
            for k, username in enumerate(usernames):  # dealt in turn, so each gets some
                worker[pool[k :: len(usernames)][:cap]] = username
    return worker


def _concat_rounds(rounds: list[Any], cls: type) -> Any:
    """One table from the rounds; member_spell made global."""
    offset = 0
    parts: dict[str, list[Any]] = {f.name: [] for f in fields(cls)}
    for part in rounds:
        for f in fields(cls):
            value = getattr(part, f.name)
            parts[f.name].append(value + offset if f.name == "member_spell" else value)
        offset += part.family.size
    return cls(**{name: np.concatenate(values) for name, values in parts.items()})


# --- Assessments and needs ---


def _assessments(
    rng: np.random.Generator, people: _People, eh: _EhRound
) -> tuple[dict[str, ObjArray], dict[str, ObjArray]]:
    """One assessment per early help spell (most), with 1–6 needs when completed."""
    n = eh.family.size
    closed = eh.reason >= 0
    horizon = np.where(closed, eh.end, END)
    exists = rng.random(n) < np.where(eh.reason == DECLINED, 0.3, 0.97)
    started = np.minimum(eh.start + _uniform_days(rng, 0, 14, n), horizon)
    took = np.where(
        rng.random(n) < 0.8, _uniform_days(rng, 5, 45, n), _uniform_days(rng, 46, 90, n)
    )
    completed = started + took
    late = completed > horizon
    quits = np.isin(eh.reason, (DECLINED, DISENGAGED)) | ~closed
    completed[late & closed & ~quits] = horizon[late & closed & ~quits]
    completed[late & quits] = NO_DATE
    spells = np.flatnonzero(exists)

    first_episode = eh.member_episode[_first_rows(eh.member_spell, n)]
    lead = eh.organisation.copy()
    partner_led = (lead == COUNCIL_CODE) & (rng.random(n) < 0.2)
    partners = np.asarray(
        [PRIMARY_SCHOOL_CODE, SECONDARY_SCHOOL_CODE, GP_PRACTICE_CODE, VCS_CODE], dtype=object
    )
    lead[partner_led] = partners[rng.integers(0, partners.size, int(partner_led.sum()))]
    whole_family = rng.random(n) < np.where(eh.plan_type == 0, 0.6, 0.95)
    number = np.arange(1, spells.size + 1)
    assessment_number = np.full(n, -1, dtype=np.int64)
    assessment_number[spells] = number
    assessments = {
        "assessment_id": _ids("AS", number),
        "family_id": _ids("FAM", eh.family[spells] + 1),
        "earl_episode_id": _ids("EH", first_episode[spells]),
        "kind": _pick(PLAN_TYPES, eh.plan_type[spells]),
        "started_on": _dates(started[spells]),
        "completed_on": _dates(completed[spells]),
        "is_whole_family": _yes_no(whole_family[spells]),
        "lead_organisation": lead[spells],
    }
    with_needs = spells[completed[spells] != NO_DATE]
    needs = _needs(rng, people, eh, with_needs, assessment_number[with_needs])
    return assessments, needs


def _needs(
    rng: np.random.Generator, people: _People, eh: _EhRound, spells: IntArray, assessment: IntArray
) -> dict[str, ObjArray]:
    n = spells.size
    count = _choice(rng, NEEDS_PER_ASSESSMENT_P, n) + 1
    # k distinct headline outcomes per assessment, weighted: Gumbel top-k.
    keys = np.log(np.asarray(HEADLINE_OUTCOME_WEIGHTS)) + rng.gumbel(
        size=(n, len(HEADLINE_OUTCOMES))
    )
    ranked = np.argsort(-keys, axis=1)
    take = np.arange(len(HEADLINE_OUTCOMES))[None, :] < count[:, None]
    outcome_code = ranked[take].astype(np.int64)
    row_spell = np.repeat(spells, count)
    rows = outcome_code.size

    # Who the need is about: a child of the spell, an adult, or the whole family.
    first = _first_rows(eh.member_spell, eh.family.size)
    members = np.bincount(eh.member_spell, minlength=eh.family.size)
    pick = first[row_spell] + (rng.random(rows) * members[row_spell]).astype(np.int64)
    child_person = people.child_person[eh.member_child[pick]]
    adult_person = people.adult_of_family[eh.family[row_spell]]
    person = np.full(rows, -1, dtype=np.int64)
    is_child_need = np.isin(outcome_code, list(CHILD_NEEDS))
    is_adult_need = np.isin(outcome_code, list(ADULT_NEEDS))
    person[is_child_need] = child_person[is_child_need]
    adult_or_child = rng.random(rows) < 0.6
    person[is_adult_need] = np.where(adult_or_child, adult_person, child_person)[is_adult_need]

    spell_level = eh.level[row_spell]
    level = np.where(rng.random(rows) < 0.75, spell_level, 3 - spell_level)  # L2 ↔ L3
    reason = eh.reason[row_spell]
    closed = reason >= 0
    all_met = np.repeat(rng.random(n) < 0.8, count)
    roll = rng.random(rows)
    outcome = np.select(
        [
            reason == NEEDS_MET,
            reason == STEP_UP,
            np.isin(reason, (DECLINED, DISENGAGED)),
        ],
        [
            np.where(all_met | (roll < 0.6), 0, np.where(roll < 0.9, 1, 2)),
            np.where(roll < 0.7, 2, 1),
            np.where(roll < 0.1, 0, np.where(roll < 0.4, 1, 2)),
        ],
        np.where(roll < 0.25, 0, np.where(roll < 0.75, 1, 2)),
    )
    outcome[~closed] = -1
    closure_level = np.select(
        [outcome == 0, outcome == 1, (outcome == 2) & (reason == STEP_UP)],
        [np.where(rng.random(rows) < 0.7, 0, 1), np.maximum(level - 1, 1), np.full(rows, 3)],
        level,
    )
    closure_level[~closed] = -1
    recorded = np.where(closed, eh.end[row_spell], NO_DATE)
    return {
        "need_id": _ids("ND", np.arange(1, rows + 1)),
        "assessment_id": _ids("AS", np.repeat(assessment, count)),
        "person_id": _optional_ids("PER", np.where(person >= 0, person + 1, -1)),
        "headline_outcome_code": _pick(HEADLINE_OUTCOMES, outcome_code),
        "level_at_assessment": _pick(LEVELS, level),
        "level_at_closure": _pick(LEVELS, closure_level),
        "outcome": _pick(OUTCOMES, outcome),
        "outcome_recorded_on": _dates(recorded),
    }


# --- Tables ---


def _episode_tables(
    people: _People, eh: _EhRound, worker: ObjArray
) -> tuple[dict[str, ObjArray], dict[str, ObjArray]]:
    spell = eh.member_spell
    episode_id = _ids("EH", eh.member_episode)
    episodes = {
        "earl_episode_id": episode_id,
        "earl_person_id": _ids("PER", people.child_person[eh.member_child] + 1),
        "earl_episode_start_date": _dates(eh.start[spell]),
        "earl_episode_end_date": _dates(eh.end[spell]),
        "earl_episode_reason": _pick(ORIGIN_START_REASON, eh.origin[spell]),
        "earl_episode_end_reason": _pick(END_REASONS, eh.reason[spell]),
        "earl_episode_organisation": eh.organisation[spell],
        "earl_episode_worker_id": worker[spell],
    }
    details = {
        "earl_episode_id": episode_id,
        "family_id": _ids("FAM", eh.family[spell] + 1),
        "service_code": _pick(SERVICES, eh.service[spell]),
        "level_code": _pick(LEVELS, eh.level[spell]),
        "origin": _pick(ORIGINS, eh.origin[spell]),
        "plan_type": _pick(PLAN_TYPES, eh.plan_type[spell]),
        "team_code": eh.team[spell],
    }
    return episodes, details


def _csc_tables(
    rng: np.random.Generator, people: _People, csc: _CscRound
) -> dict[str, dict[str, ObjArray]]:
    spell = csc.member_spell
    rows = spell.size
    referral = csc.member_referral
    locality = people.family_locality[csc.family[spell]]
    team = np.strings.add(
        "CSW-", _pick([loc.code for loc in DEMO_LOCALITIES], locality).astype("T")
    ).astype(object)
    social_workers = max(10, rows // 300)
    worker = np.strings.add(
        "SW", np.strings.zfill(rng.integers(1, social_workers + 1, rows).astype("T"), 4)
    ).astype(object)
    source = _choice(rng, tuple(p for _, _, p in REFERRAL_SOURCES), rows)
    source_code = _pick([c for c, _, _ in REFERRAL_SOURCES], source)
    source_desc = _pick([d for _, d, _ in REFERRAL_SOURCES], source)
    stepped_up = csc.source[spell] == CSC_STEP_UP
    source_code[stepped_up] = STEP_UP_SOURCE[0]
    source_desc[stepped_up] = STEP_UP_SOURCE[1]
    need = _pick(PRIMARY_NEEDS, _choice(rng, PRIMARY_NEED_P, csc.family.size))[spell]
    plan = csc.plan[spell]
    end = csc.end[spell]
    plan_start = csc.plan_start[spell]
    closure = csc.closure[spell]
    nfa = (plan == PLAN_NONE) & (closure >= 0)

    tables: dict[str, dict[str, ObjArray]] = {
        "ssd_cin_episodes": {
            "cine_referral_id": _ids("REF", referral),
            "cine_person_id": _ids("PER", people.child_person[csc.member_child] + 1),
            "cine_referral_date": _dates(csc.start[spell]),
            "cine_cin_primary_need_code": need,
            "cine_referral_source_code": source_code,
            "cine_referral_source_desc": source_desc,
            "cine_referral_nfa": _yes_no(nfa),
            "cine_close_reason": _pick(CSC_CLOSURES, closure),
            "cine_close_date": _dates(end),
            "cine_referral_team": team,
            "cine_referral_worker_id": worker,
        }
    }
    cin = np.flatnonzero(plan == PLAN_CIN)
    tables["ssd_cin_plans"] = {
        "cinp_cin_plan_id": _ids("CINP", referral[cin]),
        "cinp_referral_id": _ids("REF", referral[cin]),
        "cinp_person_id": _ids("PER", people.child_person[csc.member_child[cin]] + 1),
        "cinp_cin_plan_start_date": _dates(plan_start[cin]),
        "cinp_cin_plan_end_date": _dates(end[cin]),
        "cinp_cin_plan_team": team[cin],
        "cinp_cin_plan_worker_id": worker[cin],
    }
    cp = np.flatnonzero(plan == PLAN_CP)
    category = _pick(CP_CATEGORIES, _choice(rng, CP_CATEGORY_P, csc.family.size))[spell[cp]]
    latest = category.copy()
    latest[rng.random(cp.size) < 0.1] = "MUL"
    tables["ssd_cp_plans"] = {
        "cppl_cp_plan_id": _ids("CPP", referral[cp]),
        "cppl_referral_id": _ids("REF", referral[cp]),
        "cppl_icpc_id": _ids("ICPC", referral[cp]),
        "cppl_person_id": _ids("PER", people.child_person[csc.member_child[cp]] + 1),
        "cppl_cp_plan_start_date": _dates(plan_start[cp]),
        "cppl_cp_plan_end_date": _dates(end[cp]),
        "cppl_cp_plan_ola": _yes_no(rng.random(cp.size) < 0.01),
        "cppl_cp_plan_initial_category": category,
        "cppl_cp_plan_latest_category": latest,
    }
    cla = np.flatnonzero(plan == PLAN_CLA)
    ceased = np.asarray(
        [CLA_CEASED.get(code, "") for code in range(len(CSC_CLOSURES))] + [""], dtype=object
    )
    tables["ssd_cla_episodes"] = {
        "clae_cla_episode_id": _ids("CLA", referral[cla]),
        "clae_person_id": _ids("PER", people.child_person[csc.member_child[cla]] + 1),
        "clae_cla_placement_id": _ids("PL", referral[cla]),
        "clae_cla_episode_start_date": _dates(plan_start[cla]),
        "clae_cla_episode_start_reason": np.full(cla.size, "S", dtype=object),
        "clae_cla_primary_need_code": need[cla],
        "clae_cla_episode_ceased": _dates(end[cla]),
        "clae_cla_episode_ceased_reason": ceased[
            np.where(closure[cla] >= 0, closure[cla], len(CSC_CLOSURES))
        ],
        "clae_cla_id": _ids("LAC", referral[cla]),
        "clae_referral_id": _ids("REF", referral[cla]),
    }
    return tables


def _family_tables(people: _People) -> dict[str, dict[str, ObjArray]]:
    families = people.family_first_day.size
    persons = people.person_family.size
    locality = np.asarray([loc.code for loc in DEMO_LOCALITIES], dtype=object)[
        people.family_locality
    ]
    return {
        "eh_families": {
            "family_id": _ids("FAM", np.arange(1, families + 1)),
            "address": people.family_address,
            "postcode": people.family_postcode,
            "locality_code": locality,
        },
        "ssd_family": {
            "fami_table_id": people.roles["fami_table_id"],
            "fami_family_id": _ids("FAM", people.person_family + 1),
            "fami_person_id": _ids("PER", np.arange(1, persons + 1)),
        },
        "eh_family_roles": people.roles,
        "ssd_address": people.addresses,
    }


# --- Writing ---


def _write(directory: Path, spec: ssd.FileSpec, columns: dict[str, ObjArray]) -> int:
    unknown = set(columns) - set(spec.column_names)
    if unknown:
        raise ValueError(f"{spec.name}: columns not in the format: {sorted(unknown)}")
    rows = len(next(iter(columns.values())))
    frame = pd.DataFrame(
        {name: columns.get(name, "") for name in spec.column_names}, index=pd.RangeIndex(rows)
    )
    frame.to_csv(directory / f"{spec.name}.csv", index=False, lineterminator="\n")
    return rows


def _write_code_map(directory: Path) -> int:
    frame = pd.DataFrame(list(CODE_MAP_ROWS), columns=["category", "local_code", "code"])
    frame.to_csv(directory / ssd.CODE_MAP_FILE, index=False, lineterminator="\n")
    return len(frame)


def generate_ssd(directory: Path, *, children: int, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write a synthetic SSD set for ``children`` children into ``directory``; rows per file.

    The same ``children`` and ``seed`` give byte-identical files.
    """
    if children < 1:
        raise ValueError("children must be at least 1")
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    people = _people(rng, _pools(seed), children)
    simulation = _Simulation(rng, people)
    simulation.run()
    eh: _EhRound = _concat_rounds(simulation.eh, _EhRound)
    csc: _CscRound = _concat_rounds(simulation.csc, _CscRound)
    episodes, details = _episode_tables(people, eh, _workers(rng, eh))
    assessments, needs = _assessments(rng, people, eh)

    tables: dict[str, dict[str, ObjArray]] = {
        "ssd_person": people.columns,
        **_family_tables(people),
        "ssd_early_help_episodes": episodes,
        "eh_episode_details": details,
        **_csc_tables(rng, people, csc),
        "eh_assessments": assessments,
        "eh_identified_needs": needs,
        "eh_transitions": simulation.transitions.frame(people),
    }
    written = {spec.name: _write(directory, spec, tables[spec.name]) for spec in ssd.FILES}
    written[Path(ssd.CODE_MAP_FILE).stem] = _write_code_map(directory)
    return written
