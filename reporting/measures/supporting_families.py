"""Supporting Families payment by results: versioned rule sets, eligibility and claimability.

Rules are data (``RuleSet``), not branches: the 2022-25 national framework is the default, and
an earlier programme's alternative continuous-employment route is a switch on the rule set.
The claim lifecycle (submitted, validated, paid/rejected) belongs to services, not here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from .base import ensure_columns, require_columns
from .dates import add_months, coerce_dates
from .events import FAR_FUTURE, csc_referral_events, prepare_episodes

HEADLINE_OUTCOMES_2022_25: tuple[tuple[str, str], ...] = (
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
)


@dataclass(frozen=True)
class RuleSet:
    """One version of the payment-by-results rules. The defaults are the 2022-25 framework.

    ``payment_amount`` comes from the grant agreement and must be set for real claims.
    With ``employment_route`` a family can also be claimed when an adult member moved into
    continuous employment sustained for ``employment_sustain_weeks`` (earlier programmes).
    """

    code: str = "SF-2022-25"
    name: str = "Supporting Families 2022-25 national outcome framework"
    version: int = 1
    programme_start: dt.date = dt.date(2022, 4, 1)
    programme_end: dt.date = dt.date(2025, 3, 31)
    headline_outcomes: tuple[tuple[str, str], ...] = HEADLINE_OUTCOMES_2022_25
    min_needs: int = 3
    min_headline_outcomes: int = 3
    require_dependent_child_or_expectant_parent: bool = True
    dependent_child_max_age: int = 18
    require_lead_practitioner: bool = True
    require_whole_family_assessment: bool = True
    require_plan_covers_needs: bool = True
    require_needs_met_closure: bool = True
    require_all_needs_met: bool = True
    sustain_months: int = 6
    payment_amount: Decimal = Decimal("0.00")
    employment_route: bool = False
    employment_sustain_weeks: int = 26

    def __post_init__(self) -> None:
        if self.min_needs < 1 or self.min_headline_outcomes < 1:
            raise ValueError("A rule set needs at least one need from one headline outcome.")
        if self.min_headline_outcomes > self.min_needs:
            raise ValueError("Needs must be at least as many as the headline outcomes they span.")
        if self.sustain_months < 0 or self.employment_sustain_weeks < 1:
            raise ValueError("Sustain periods must be positive.")
        if not isinstance(self.payment_amount, Decimal):
            raise TypeError("payment_amount is money: give a Decimal.")
        if self.programme_end < self.programme_start:
            raise ValueError("The programme ends before it starts.")

    @property
    def outcome_codes(self) -> frozenset[str]:
        return frozenset(code for code, _ in self.headline_outcomes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO text, money as a decimal string."""
        data: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            elif item.name == "headline_outcomes":
                value = [[code, label] for code, label in value]
            data[item.name] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleSet:
        values = dict(data)
        for name in ("programme_start", "programme_end"):
            if isinstance(values.get(name), str):
                values[name] = dt.date.fromisoformat(values[name])
        if "payment_amount" in values:
            values["payment_amount"] = Decimal(str(values["payment_amount"]))
        if "headline_outcomes" in values:
            values["headline_outcomes"] = tuple(
                (str(code), str(label)) for code, label in values["headline_outcomes"]
            )
        known = {item.name for item in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"Unknown rule set field(s): {', '.join(sorted(unknown))}")
        return cls(**values)


def _prepare_needs(needs: pd.DataFrame, rules: RuleSet, as_of: pd.Timestamp) -> pd.DataFrame:
    require_columns(needs, ["need_id", "family_id", "headline_outcome", "identified_on"], "needs")
    frame = coerce_dates(ensure_columns(needs, ["outcome"]), ["identified_on"])
    counted = frame["headline_outcome"].isin(rules.outcome_codes) & (
        frame["identified_on"] <= as_of
    )
    return frame[counted]


def sf_eligibility(
    needs: pd.DataFrame, memberships: pd.DataFrame, *, rules: RuleSet, as_of: dt.date
) -> pd.DataFrame:
    """Which families are eligible ("attached") by ``as_of``: one row per family with a need.

    The family is attached on the day its needs first reach ``min_needs`` needs from
    ``min_headline_outcomes`` headline outcomes (needs dated by their assessment's start,
    ``identified_on``), and the household test is made on that day over current memberships: a
    member under ``dependent_child_max_age`` (a dependent child) or not yet born (an expectant
    parent; an unborn member is dated by its expected date of birth).

    needs: need_id, family_id, headline_outcome (code), identified_on.
    memberships: family_id, person_id, started_on, ended_on, date_of_birth,
    expected_date_of_birth.

    Columns: family_id, n_needs, n_headline_outcomes, needs_met_on, has_dependent_child,
    has_expectant_parent, eligible, attached_on, reasons.
    """
    cutoff = pd.Timestamp(as_of)
    counted = _prepare_needs(needs, rules, cutoff).sort_values(
        ["family_id", "identified_on", "need_id"], kind="stable"
    )
    by_family = counted.groupby("family_id", sort=True)
    counted = counted.assign(
        needs_so_far=by_family.cumcount() + 1,
        outcomes_so_far=(~counted.duplicated(["family_id", "headline_outcome"]))
        .astype("int64")
        .groupby(counted["family_id"])
        .cumsum(),
    )
    reached = counted[
        (counted["needs_so_far"] >= rules.min_needs)
        & (counted["outcomes_so_far"] >= rules.min_headline_outcomes)
    ]
    families = pd.DataFrame(
        {
            "n_needs": by_family.size(),
            "n_headline_outcomes": by_family["headline_outcome"].nunique(),
            "needs_met_on": reached.groupby("family_id")["identified_on"].min(),
        }
    )
    families.index.name = "family_id"
    families = families.reset_index()
    families["needs_met_on"] = families["needs_met_on"].astype("datetime64[ns]")
    reference = families["needs_met_on"].fillna(cutoff)
    household = _household(families.assign(_on=reference), memberships, rules)
    families = families.assign(
        has_dependent_child=household["dependent"].to_numpy(),
        has_expectant_parent=household["expectant"].to_numpy(),
    )
    needs_ok = families["needs_met_on"].notna()
    household_ok = (
        families["has_dependent_child"] | families["has_expectant_parent"]
        if rules.require_dependent_child_or_expectant_parent
        else pd.Series(True, index=families.index)
    )
    families["eligible"] = needs_ok & household_ok
    families["attached_on"] = families["needs_met_on"].where(families["eligible"])
    families["reasons"] = _reasons(
        [
            (
                ~needs_ok,
                f"fewer than {rules.min_needs} needs from {rules.min_headline_outcomes} "
                "headline outcomes",
            ),
            (~household_ok, "no dependent child or expectant parent"),
        ],
        families.index,
    )
    return families


def _household(families: pd.DataFrame, memberships: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """Per family: a dependent child / an unborn child among members on the day ``_on``."""
    require_columns(memberships, ["family_id", "person_id"], "memberships")
    members = ensure_columns(
        memberships, ["started_on", "ended_on", "date_of_birth", "expected_date_of_birth"]
    )
    members = coerce_dates(
        members, ["started_on", "ended_on", "date_of_birth", "expected_date_of_birth"]
    )
    pairs = families[["family_id", "_on"]].merge(members, on="family_id", how="inner")
    on = pairs["_on"]
    current = (pairs["started_on"].isna() | (pairs["started_on"] <= on)) & (
        pairs["ended_on"].isna() | (pairs["ended_on"] >= on)
    )
    born = pairs["date_of_birth"].fillna(pairs["expected_date_of_birth"])
    adult_from = add_months(born, 12 * rules.dependent_child_max_age)
    dependent = current & (born <= on) & (on < adult_from)
    expectant = current & (born > on)
    flags = pd.DataFrame(
        {"family_id": pairs["family_id"], "dependent": dependent, "expectant": expectant}
    )
    grouped = flags.groupby("family_id")[["dependent", "expectant"]].any()
    return (
        families[["family_id"]]
        .merge(grouped, left_on="family_id", right_index=True, how="left")
        .fillna({"dependent": False, "expectant": False})
        .astype({"dependent": bool, "expectant": bool})
    )


def _reasons(failures: Sequence[tuple[pd.Series, str]], index: pd.Index) -> pd.Series:
    """Each row's failed checks as one text ("a; b"), in the order given. The text is joined
    once per distinct combination of failures (a few dozen), not on each of a council's
    hundreds of thousands of families."""
    combination = np.zeros(len(index), dtype="int64")
    for bit, (failed, _) in enumerate(failures):
        combination |= failed.to_numpy(dtype=bool).astype("int64") << bit
    codes, combinations = pd.factorize(combination)
    texts = [
        "; ".join(text for bit, (_, text) in enumerate(failures) if found >> bit & 1)
        for found in combinations
    ]
    return pd.Series(np.array(texts, dtype=object)[codes], index=index)


def sf_claimability(
    eligibility: pd.DataFrame,
    *,
    episodes: pd.DataFrame,
    assessments: pd.DataFrame,
    needs: pd.DataFrame,
    plan_actions: pd.DataFrame,
    csc: pd.DataFrame,
    memberships: pd.DataFrame,
    rules: RuleSet,
    as_of: dt.date,
    employment: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Which eligible families are claimable by ``as_of``, with every check as a column (the
    evidence an auditor needs). One row per eligible family.

    Outcomes route: a lead practitioner (on an episode or an assessment); a completed
    whole-family assessment; a plan action for every identified need; every identified need
    recorded as met; the family's early help closed as needs met — a spell of its children's
    episodes (overlapping episodes form one spell) that closed on or after attachment, every
    episode ending on the closing day ending needs met; and for ``sustain_months`` after that
    closure no family member had a new early help episode or a CSC referral
    (closed_on < D ≤ sustain_end). Claimable on the day after the sustain window ends
    (``claimable_on``), so only once that day has come. The earliest closure that passes is
    used, else the latest closure (so ``reasons`` says why not).

    Employment route (``rules.employment_route``; ``employment``: family_id, person_id,
    started_on, ended_on — not held by the models): an adult's job started on or after
    attachment and continuous for ``employment_sustain_weeks``; claimable the day after.
    The earlier of the two routes wins.
    """
    cutoff = pd.Timestamp(as_of)
    families = eligibility.loc[eligibility["eligible"], ["family_id", "attached_on"]]
    families = coerce_dates(families, ["attached_on"]).reset_index(drop=True)
    family_ids = families["family_id"]

    episodes = prepare_episodes(episodes)
    episodes = episodes[episodes["started_on"] <= cutoff]
    family_episodes = episodes[episodes["family_id"].isin(family_ids)]
    require_columns(assessments, ["assessment_id", "family_id", "completed_on"], "assessments")
    assessments = coerce_dates(
        ensure_columns(assessments, ["is_whole_family", "lead_practitioner_id"]), ["completed_on"]
    )
    counted_needs = _prepare_needs(needs, rules, cutoff)

    led = family_episodes["lead_practitioner_id"].notna() | (
        family_episodes["lead_worker_external_id"].fillna("").astype(str) != ""
    )
    lead_families = set(family_episodes.loc[led, "family_id"]) | set(
        assessments.loc[assessments["lead_practitioner_id"].notna(), "family_id"]
    )
    whole_family = assessments[
        assessments["is_whole_family"].fillna(False).astype(bool)
        & (assessments["completed_on"] <= cutoff)
    ]
    require_columns(plan_actions, ["need_id"], "plan_actions")
    need_flags = (
        counted_needs.assign(
            planned=counted_needs["need_id"].isin(plan_actions["need_id"]),
            met=counted_needs["outcome"] == "met",
        )
        .groupby("family_id")[["planned", "met"]]
        .all()
    )

    closures = _closures(family_episodes, families, cutoff)
    closures["sustain_end"] = add_months(closures["closed_on"], rules.sustain_months)
    closures = pd.concat([closures, _sustain_breaks(closures, episodes, csc, memberships)], axis=1)
    closures["sustained"] = closures["broken_by_type"].isna()
    good = closures["sustained"] & (
        closures["closed_needs_met"] if rules.require_needs_met_closure else True
    )
    # The earliest closure that meets the closure rules, else the latest one (to show why not).
    chosen = closures.assign(_good=good)
    chosen = pd.concat(
        [
            chosen[chosen["_good"]].sort_values("closed_on").drop_duplicates("family_id"),
            chosen[~chosen["_good"]]
            .sort_values("closed_on")
            .drop_duplicates("family_id", keep="last"),
        ]
    ).drop_duplicates("family_id", keep="first")
    open_now = family_episodes["ended_on"].isna() | (family_episodes["ended_on"] > cutoff)
    open_families = set(family_episodes.loc[open_now, "family_id"])

    result = families.assign(
        has_lead_practitioner=family_ids.isin(lead_families),
        has_whole_family_assessment=family_ids.isin(whole_family["family_id"]),
        plan_covers_needs=family_ids.map(need_flags["planned"]).fillna(False).astype(bool),
        all_needs_met=family_ids.map(need_flags["met"]).fillna(False).astype(bool),
        involvement_open=family_ids.isin(open_families),
    ).merge(chosen.drop(columns=["attached_on", "_good"]), on="family_id", how="left")
    result["closed_needs_met"] = result["closed_needs_met"].fillna(False).astype(bool)
    result["sustained"] = result["sustained"].fillna(False).astype(bool)
    result["closed_on"] = result["closed_on"].astype("datetime64[ns]")
    result["sustain_end"] = result["sustain_end"].astype("datetime64[ns]")
    result["broken_on"] = result["broken_on"].astype("datetime64[ns]")
    closed_ok = result["closed_on"].notna()

    checks = {
        "has_lead_practitioner": (rules.require_lead_practitioner, "no lead practitioner"),
        "has_whole_family_assessment": (
            rules.require_whole_family_assessment,
            "no completed whole-family assessment",
        ),
        "plan_covers_needs": (rules.require_plan_covers_needs, "plan does not cover every need"),
        "closed_needs_met": (rules.require_needs_met_closure, "not closed as needs met"),
        "all_needs_met": (rules.require_all_needs_met, "not every need recorded as met"),
    }
    passed = closed_ok & result["sustained"]
    failures = [(~closed_ok, "early help still open or not closed since attached")]
    for column, (required, text) in checks.items():
        if required:
            passed &= result[column]
            failed = ~result[column] & (closed_ok if column == "closed_needs_met" else True)
            failures.append((failed, text))
    failures.append(
        (
            closed_ok & result["broken_by_type"].notna(),
            "new early help or CSC referral within the sustain window",
        )
    )
    result["outcome_claimable_on"] = (result["sustain_end"] + pd.Timedelta(days=1)).where(passed)
    outcome_on = result["outcome_claimable_on"]

    employment_on = pd.Series(pd.NaT, index=result.index, dtype="datetime64[ns]")
    if rules.employment_route and employment is not None:
        employment_on = _employment_claimable_on(result, employment, rules)
    use_employment = employment_on.notna() & (outcome_on.isna() | (employment_on < outcome_on))
    result["route"] = pd.Series("outcomes", index=result.index).where(
        outcome_on.notna() & ~use_employment, pd.Series("employment", index=result.index)
    )
    result["route"] = result["route"].where(outcome_on.notna() | use_employment)
    result["claimable_on"] = employment_on.where(use_employment, outcome_on)
    result["employment_claimable_on"] = employment_on
    result["sustain_complete"] = result["claimable_on"] <= cutoff
    result["claimable"] = result["claimable_on"].notna() & result["sustain_complete"]
    failures.append(
        (
            result["claimable_on"].notna() & ~result["sustain_complete"],
            "sustain window not yet over",
        )
    )
    result["reasons"] = _reasons(failures, result.index).where(~result["claimable"], "")
    return result


def _closures(
    family_episodes: pd.DataFrame, families: pd.DataFrame, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """Each family's closed spells of early help (overlapping episodes form one spell) that
    closed on or after attachment: family_id, attached_on, closed_on, closed_needs_met (every
    episode ending on the closing day ended as needs met)."""
    ended = family_episodes["ended_on"].where(family_episodes["ended_on"] <= cutoff)
    spells = family_episodes.assign(_end=ended.fillna(FAR_FUTURE)).sort_values(
        ["family_id", "started_on", "episode_id"], kind="stable"
    )
    reach = spells.groupby("family_id")["_end"].cummax()
    previous = reach.groupby(spells["family_id"]).shift()
    spells["_spell"] = (
        (previous.isna() | (spells["started_on"] > previous))
        .astype("int64")
        .groupby(spells["family_id"])
        .cumsum()
    )
    spans = spells.groupby(["family_id", "_spell"])["_end"].max().rename("closed_on")
    spells = spells.merge(spans.reset_index(), on=["family_id", "_spell"])
    last = spells[spells["_end"] == spells["closed_on"]]
    needs_met = (
        (last["end_reason_category"] == "needs_met")
        .groupby([last["family_id"], last["_spell"]])
        .all()
        .rename("closed_needs_met")
    )
    closures = pd.concat([spans, needs_met], axis=1).reset_index()
    closures = closures[closures["closed_on"] < FAR_FUTURE].merge(
        families[["family_id", "attached_on"]], on="family_id"
    )
    closures = closures[closures["closed_on"] >= closures["attached_on"]]
    return closures.drop(columns=["_spell"]).reset_index(drop=True)


def _sustain_breaks(
    closures: pd.DataFrame,
    episodes: pd.DataFrame,
    csc: pd.DataFrame,
    memberships: pd.DataFrame,
) -> pd.DataFrame:
    """The first new early help start or CSC referral of any family member in the sustain
    window (closed_on < D ≤ sustain_end). Members are those not gone before the closure."""
    window = pd.DataFrame(
        {
            "family_id": closures["family_id"],
            "_from": closures["closed_on"],
            "_to": closures["sustain_end"],
        }
    )
    members = coerce_dates(
        ensure_columns(memberships, ["started_on", "ended_on"]), ["started_on", "ended_on"]
    )
    people = window.reset_index(names="_row").merge(
        members[["family_id", "person_id", "started_on", "ended_on"]], on="family_id"
    )
    people = people[
        (people["ended_on"].isna() | (people["ended_on"] >= people["_from"]))
        & (people["started_on"].isna() | (people["started_on"] <= people["_to"]))
    ][["_row", "person_id", "_from", "_to"]].drop_duplicates(["_row", "person_id"])
    starts = episodes[["child_id", "started_on", "episode_id"]].rename(
        columns={"child_id": "person_id", "started_on": "on", "episode_id": "id"}
    )
    referrals = csc_referral_events(csc)[["child_id", "referral_on", "csc_id"]].rename(
        columns={"child_id": "person_id", "referral_on": "on", "csc_id": "id"}
    )
    events = pd.concat(
        [starts.assign(type="episode"), referrals.assign(type="csc_involvement")],
        ignore_index=True,
    )
    hits = people.merge(events, on="person_id")
    hits = hits[(hits["on"] > hits["_from"]) & (hits["on"] <= hits["_to"])]
    first = hits.sort_values(["_row", "on", "type", "id"], kind="stable").drop_duplicates("_row")
    first = first.set_index("_row")
    return pd.DataFrame(
        {
            "broken_by_type": first["type"],
            "broken_by_id": first["id"].astype("Int64"),
            "broken_by_person_id": first["person_id"].astype("Int64"),
            "broken_on": first["on"],
        },
        index=closures.index,
    ).astype({"broken_on": "datetime64[ns]"})


def _employment_claimable_on(
    result: pd.DataFrame, employment: pd.DataFrame, rules: RuleSet
) -> pd.Series:
    require_columns(employment, ["family_id", "person_id", "started_on"], "employment")
    jobs = coerce_dates(ensure_columns(employment, ["ended_on"]), ["started_on", "ended_on"])
    pairs = (
        result[["family_id", "attached_on"]].reset_index(names="_row").merge(jobs, on="family_id")
    )
    sustained_to = pairs["started_on"] + pd.Timedelta(weeks=rules.employment_sustain_weeks)
    ok = (pairs["started_on"] >= pairs["attached_on"]) & (
        pairs["ended_on"].isna() | (pairs["ended_on"] >= sustained_to)
    )
    claimable = (sustained_to + pd.Timedelta(days=1)).where(ok)
    earliest = claimable.groupby(pairs["_row"]).min()
    return earliest.reindex(result.index).astype("datetime64[ns]")


__all__ = [
    "HEADLINE_OUTCOMES_2022_25",
    "RuleSet",
    "sf_claimability",
    "sf_eligibility",
]
