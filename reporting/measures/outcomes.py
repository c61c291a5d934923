"""Outcome measures O1–O4: closure reasons, duration, need level change, partner-led work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .base import (
    Category,
    MeasureParams,
    MeasureResult,
    as_categories,
    as_records,
    ensure_columns,
    finish_members,
    in_periods,
    measure_result,
    member_rows,
    require_columns,
    slim,
    summarise,
    with_stats,
)
from .dates import Period, add_months, coerce_dates
from .events import EPISODE_DATES, EPISODE_KEYS, prepare_episodes

# The end reason categories of cases.EpisodeEndReason.Category, in reporting order.
END_REASON_CATEGORIES = (
    "needs_met",
    "stepped_up",
    "transferred",
    "moved_away",
    "declined",
    "disengaged",
    "other",
)


def _episode_members(frame: pd.DataFrame) -> pd.DataFrame:
    return as_records(frame, "episode_id", "episode")


# --- O1 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class O1Params(MeasureParams):
    categories: tuple[str, ...] = END_REASON_CATEGORIES


def o1_closure_reasons(
    episodes: pd.DataFrame, *, periods: Sequence[Period], params: O1Params | None = None
) -> MeasureResult:
    """O1: episodes closed in the period by end reason category (n, % of closures).

    A category outside ``params.categories`` gets its own line after them. Unit: episode.
    """
    params = params or O1Params()
    episodes = slim(
        prepare_episodes(episodes),
        EPISODE_KEYS,
        EPISODE_DATES,
        params.breakdowns,
        ["end_reason", "end_reason_category"],
    )
    closed = in_periods(episodes[episodes["ended_on"].notna()], "ended_on", periods)
    reason = (
        closed["end_reason_category"]
        .astype("object")
        .where(closed["end_reason_category"].notna(), "unknown")
    )
    names = list(params.categories) + sorted(set(reason) - set(params.categories))
    base = _episode_members(closed).assign(closure_category=reason.to_numpy())
    parts = [
        member_rows(base, category=name, in_numerator=base["closure_category"] == name)
        for name in names
    ]
    members = pd.concat(parts, ignore_index=True) if parts else base.assign(category="")
    return measure_result(
        members,
        measure="O1",
        params=params,
        periods=periods,
        categories=[Category(name) for name in names],
        details=["ended_on", "end_reason", "closure_category"],
    )


# --- O2 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class O2Params(MeasureParams):
    needs_met_within_months: int = 6


O2_CATEGORIES = [Category("closed", rate=False), Category("needs_met_within_window")]


def o2_duration(
    episodes: pd.DataFrame, *, periods: Sequence[Period], params: O2Params | None = None
) -> MeasureResult:
    """O2: episodes closed in the period — median and mean weeks open (days ÷ 7, one decimal)
    on the "closed" line — and the share of needs-met closures that closed within
    ``needs_met_within_months`` calendar months of their start. Unit: episode."""
    params = params or O2Params()
    episodes = slim(
        prepare_episodes(episodes),
        EPISODE_KEYS,
        EPISODE_DATES,
        params.breakdowns,
        ["end_reason", "end_reason_category"],
    )
    closed = in_periods(episodes[episodes["ended_on"].notna()], "ended_on", periods)
    base = _episode_members(closed).assign(
        weeks_open=(closed["ended_on"] - closed["started_on"]).dt.days / 7
    )
    needs_met = base[base["end_reason_category"] == "needs_met"]
    within = needs_met["ended_on"] <= add_months(
        needs_met["started_on"], params.needs_met_within_months
    )
    members = pd.concat(
        [
            member_rows(base, category="closed", in_numerator=True, in_denominator=False),
            member_rows(needs_met, category="needs_met_within_window", in_numerator=within),
        ],
        ignore_index=True,
    )
    result = measure_result(
        members,
        measure="O2",
        params=params,
        periods=periods,
        categories=O2_CATEGORIES,
        details=["started_on", "ended_on", "weeks_open", "end_reason_category"],
    )
    result.results = with_stats(
        result.results,
        members[members["category"] == "closed"],
        breakdowns=params.breakdowns,
        value="weeks_open",
        stats={"median_weeks": "median", "mean_weeks": "mean"},
    )
    return result


# --- O3 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class O3Params(MeasureParams):
    pass


def o3_need_levels(
    assessments: pd.DataFrame,
    needs: pd.DataFrame,
    *,
    periods: Sequence[Period],
    levels: pd.DataFrame | None = None,
    params: O3Params | None = None,
) -> MeasureResult:
    """O3: for assessments closed in the period, how many had at least one need at each level
    at assessment and at closure (lines "<level>:at_assessment", "<level>:at_closure", each
    n and % of assessments closed). Unit: assessment.

    An assessment closes when its plan closes (``plan_closed_on``), or, with no plan closure,
    when its episode ends (``episode_ended_on``); a ``closed_on`` column overrides both.
    ``levels`` (code, rank) lists every level, in ladder order, even those with no needs.
    needs: assessment_id, level_at_assessment, level_at_closure (level codes).
    """
    params = params or O3Params()
    require_columns(assessments, ["assessment_id"], "assessments")
    require_columns(needs, ["assessment_id", "level_at_assessment", "level_at_closure"], "needs")
    frame = ensure_columns(assessments, ["closed_on", "plan_closed_on", "episode_ended_on"])
    frame = coerce_dates(frame, ["closed_on", "plan_closed_on", "episode_ended_on"])
    frame = as_categories(frame, params.breakdowns)
    frame = frame.assign(
        closed_on=frame["closed_on"]
        .fillna(frame["plan_closed_on"])
        .fillna(frame["episode_ended_on"])
    )
    closed = in_periods(frame[frame["closed_on"].notna()], "closed_on", periods)
    if levels is not None:
        codes = list(levels.sort_values("rank", kind="stable")["code"])
    else:
        present = pd.concat([needs["level_at_assessment"], needs["level_at_closure"]]).dropna()
        codes = sorted(present.unique())
    base = as_records(closed, "assessment_id", "assessment")
    # Only the needs of these assessments: every level's test reads them again.
    needs = needs[needs["assessment_id"].isin(base["record_id"])]
    categories = []
    parts = []
    for stage in ("at_assessment", "at_closure"):
        levels_of = needs[f"level_{stage}"]
        for code in codes:
            having = needs.loc[levels_of.eq(code).to_numpy(dtype=bool), "assessment_id"]
            name = f"{code}:{stage}"
            categories.append(Category(name))
            parts.append(
                member_rows(
                    base.assign(level=code, stage=stage),
                    category=name,
                    in_numerator=base["record_id"].isin(having),
                )
            )
    members = pd.concat(parts, ignore_index=True) if parts else base.assign(category="")
    # Interleave so each level reads "at assessment → at closure".
    order = [
        Category(f"{code}:{stage}") for code in codes for stage in ("at_assessment", "at_closure")
    ]
    results = summarise(
        members,
        measure="O3",
        periods=periods,
        categories=order,
        breakdowns=params.breakdowns,
    )
    split = results["category"].str.rsplit(":", n=1, expand=True)
    results = results.assign(level=split[0], stage=split[1]) if not results.empty else results
    details = ["closed_on", "level", "stage"]
    return MeasureResult(
        "O3",
        params.to_dict(),
        results,
        finish_members(members, measure="O3", breakdowns=params.breakdowns, details=details),
    )


# --- O4 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class O4Params(MeasureParams):
    council_kinds: tuple[str, ...] = ("council",)


def o4_partner_led(
    assessments: pd.DataFrame, *, periods: Sequence[Period], params: O4Params | None = None
) -> MeasureResult:
    """O4: assessments completed in the period whose lead organisation is not the council
    (its kind is not in ``council_kinds``). An assessment with no lead organisation recorded is
    in the denominator but not the numerator. Unit: assessment.
    Columns: assessment_id, completed_on, lead_organisation_kind."""
    params = params or O4Params()
    require_columns(
        assessments, ["assessment_id", "completed_on", "lead_organisation_kind"], "assessments"
    )
    frame = as_categories(
        coerce_dates(assessments, ["started_on", "completed_on"]), params.breakdowns
    )
    completed = in_periods(frame[frame["completed_on"].notna()], "completed_on", periods)
    kind = completed["lead_organisation_kind"]
    partner = (kind.notna() & ~kind.isin(params.council_kinds)).astype(bool)
    return measure_result(
        member_rows(
            as_records(completed, "assessment_id", "assessment"),
            category="rate",
            in_numerator=partner,
        ),
        measure="O4",
        params=params,
        periods=periods,
        categories=[Category("rate")],
        details=["completed_on", "lead_organisation_id", "lead_organisation_kind"],
    )


__all__ = [
    "END_REASON_CATEGORIES",
    "O1Params",
    "O2Params",
    "O3Params",
    "O4Params",
    "o1_closure_reasons",
    "o2_duration",
    "o3_need_levels",
    "o4_partner_led",
]
