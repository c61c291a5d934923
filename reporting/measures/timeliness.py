"""Timeliness measures T1–T3 (KPIS.md, "Timeliness, throughput, outcomes").

"Within N days of" an event includes the event's own day (a same-day contact is on time),
unlike "within N days after", which KPIS.md defines as strictly after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from .base import (
    Category,
    MeasureParams,
    MeasureResult,
    as_categories,
    as_records,
    ensure_columns,
    in_periods,
    measure_result,
    member_rows,
    require_columns,
)
from .dates import Period, coerce_dates, open_at_end_of, working_days_after

DayType = Literal["working", "calendar"]


def elapsed_days(start: pd.Series, end: pd.Series, day_type: DayType) -> pd.Series:
    """Days D with start < D ≤ end, counting working days or calendar days."""
    if day_type == "working":
        return working_days_after(start, end)
    if day_type == "calendar":
        return (end - start).dt.days.astype("Int64")
    raise ValueError(f"Unknown day type {day_type!r}: use 'working' or 'calendar'")


def _on_time(start: pd.Series, end: pd.Series, days: int, day_type: DayType) -> pd.Series:
    """end on or after start and no more than ``days`` days later; missing end is late."""
    taken = elapsed_days(start, end, day_type)
    return ((end >= start) & (taken <= days)).fillna(False).astype(bool)


# --- T1 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class T1Params(MeasureParams):
    breakdowns: tuple[str, ...] = ("locality", "service", "source")
    days: int = 3
    day_type: DayType = "working"


def t1_contact_timeliness(
    referrals: pd.DataFrame, *, periods: Sequence[Period], params: T1Params | None = None
) -> MeasureResult:
    """T1: requests for support received in the period whose first contact with the family was
    within ``days`` working days of receipt. Unit: request.

    Columns: referral_id, received_on, first_contact_on; optional family_id, locality,
    service (the triage decision's service), source.
    """
    params = params or T1Params()
    require_columns(referrals, ["referral_id", "received_on", "first_contact_on"], "referrals")
    frame = coerce_dates(referrals, ["received_on", "first_contact_on"])
    frame = as_categories(frame, params.breakdowns)
    received = in_periods(frame, "received_on", periods)
    on_time = _on_time(
        received["received_on"], received["first_contact_on"], params.days, params.day_type
    )
    members = as_records(received, "referral_id", "referral").assign(
        elapsed_days=elapsed_days(
            received["received_on"], received["first_contact_on"], params.day_type
        ),
    )
    return measure_result(
        member_rows(members, category="rate", in_numerator=on_time),
        measure="T1",
        params=params,
        periods=periods,
        categories=[Category("rate")],
        details=["received_on", "first_contact_on", "elapsed_days"],
    )


# --- T2 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class T2Params(MeasureParams):
    days: int = 45
    day_type: DayType = "calendar"


def t2_assessment_timeliness(
    assessments: pd.DataFrame, *, periods: Sequence[Period], params: T2Params | None = None
) -> MeasureResult:
    """T2: assessments completed in the period whose completion was within ``days`` days of
    their start. Unit: assessment. Columns: assessment_id, started_on, completed_on; optional
    family_id, locality, team, service."""
    params = params or T2Params()
    require_columns(assessments, ["assessment_id", "started_on", "completed_on"], "assessments")
    frame = as_categories(
        coerce_dates(assessments, ["started_on", "completed_on"]), params.breakdowns
    )
    completed = in_periods(frame[frame["completed_on"].notna()], "completed_on", periods)
    on_time = _on_time(
        completed["started_on"], completed["completed_on"], params.days, params.day_type
    )
    members = as_records(completed, "assessment_id", "assessment").assign(
        elapsed_days=elapsed_days(
            completed["started_on"], completed["completed_on"], params.day_type
        ),
    )
    return measure_result(
        member_rows(members, category="rate", in_numerator=on_time),
        measure="T2",
        params=params,
        periods=periods,
        categories=[Category("rate")],
        details=["started_on", "completed_on", "elapsed_days"],
    )


# --- T3 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class T3Params(MeasureParams):
    review_cycle_days: int = 42


def t3_reviews_overdue(
    plans: pd.DataFrame,
    reviews: pd.DataFrame,
    *,
    periods: Sequence[Period],
    params: T3Params | None = None,
) -> MeasureResult:
    """T3: plans open at the end of the period whose next review date was before the period's
    last day, as a share of plans open then. Unit: plan.

    The review due at the period end E is reconstructed from history, so a rerun of an old
    period gives the old answer: the next review date set at the latest review held on or
    before E (that review's date + the cycle if none was set); with no review by E, the plan's
    own next review date if it has never been reviewed, else its start + the cycle. The cycle
    is the plan's ``review_interval_days`` when given, else ``review_cycle_days``.

    plans: plan_id, started_on, closed_on; optional next_review_on, review_interval_days,
    family_id, locality, team, service. reviews: plan_id, held_on, next_review_on.
    """
    params = params or T3Params()
    require_columns(plans, ["plan_id", "started_on", "closed_on"], "plans")
    require_columns(reviews, ["plan_id", "held_on"], "reviews")
    plans = ensure_columns(plans, ["next_review_on", "review_interval_days"])
    plans = coerce_dates(plans, ["started_on", "closed_on", "next_review_on"])
    plans = as_categories(plans, params.breakdowns)
    reviews = coerce_dates(
        ensure_columns(reviews, ["next_review_on"]), ["held_on", "next_review_on"]
    )
    cycle = pd.to_timedelta(
        pd.to_numeric(plans["review_interval_days"], errors="coerce")
        .fillna(params.review_cycle_days)
        .astype("int64"),
        unit="D",
    )
    plans = plans.assign(_cycle=cycle, _never_reviewed=~plans["plan_id"].isin(reviews["plan_id"]))
    ordered = reviews.sort_values(["plan_id", "held_on"], kind="stable")
    parts = []
    for period in periods:
        end = period.end_ts
        open_plans = plans[open_at_end_of(plans["started_on"], plans["closed_on"], end)]
        latest = ordered[ordered["held_on"] <= end].drop_duplicates("plan_id", keep="last")
        latest = latest[["plan_id", "held_on", "next_review_on"]].rename(
            columns={"held_on": "last_review_on", "next_review_on": "_set_at_review"}
        )
        snapshot = open_plans.merge(latest, on="plan_id", how="left")
        first_due = snapshot["next_review_on"].where(
            snapshot["_never_reviewed"] & snapshot["next_review_on"].notna(),
            snapshot["started_on"] + snapshot["_cycle"],
        )
        after_review = snapshot["_set_at_review"].fillna(
            snapshot["last_review_on"] + snapshot["_cycle"]
        )
        due = after_review.where(snapshot["last_review_on"].notna(), first_due)
        parts.append(snapshot.assign(period=period.label, review_due_on=due, _end=end))
    snapshots = pd.concat(parts, ignore_index=True) if parts else plans.assign(period="")
    overdue = (snapshots["review_due_on"] < snapshots["_end"]).fillna(False).astype(bool)
    return measure_result(
        member_rows(
            as_records(snapshots, "plan_id", "plan"), category="rate", in_numerator=overdue
        ),
        measure="T3",
        params=params,
        periods=periods,
        categories=[Category("rate")],
        details=["started_on", "last_review_on", "review_due_on"],
        extra={"lower_is_better": True},
    )


__all__ = [
    "T1Params",
    "T2Params",
    "T3Params",
    "elapsed_days",
    "t1_contact_timeliness",
    "t2_assessment_timeliness",
    "t3_reviews_overdue",
]
