"""Derived events several measures share: CSC referrals and each person's family.

"CSC referral" (KPIS.md conventions) is a CSC involvement of kind referral, or the start of a
CIN / CP / CLA involvement when no separate referral record exists. We say no separate referral
record exists when the involvement has no referral link **and** no CSC referral record of the
same child is open on the day it starts (started on or before it, not ended before it): SSD
referral records span the CIN episode, so an unlinked plan inside one belongs to that referral.
A child has at most one CSC referral a day (a referral record wins over a same-day plan).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .base import as_categories, ensure_columns, require_columns
from .dates import coerce_dates

EPISODE_DATES = ("started_on", "ended_on")
EPISODE_KEYS = ("episode_id", "child_id", "family_id")
CSC_DATES = ("started_on", "ended_on")
PLAN_KINDS = ("cin_plan", "cp_plan", "cla")
CSC_KIND_ORDER = {"referral": 0, "cin_plan": 1, "cp_plan": 2, "cla": 3, "assessment": 4}
FAR_FUTURE = pd.Timestamp("2200-01-01")


def prepare_episodes(episodes: pd.DataFrame) -> pd.DataFrame:
    """Early help episodes with dates as dates and every optional column present.

    Required: episode_id, child_id, started_on, ended_on. Optional: family_id, service, team,
    locality, team_locality, end_reason, end_reason_category, origin, referral_id,
    lead_practitioner_id, lead_worker_external_id.
    """
    require_columns(episodes, ["episode_id", "child_id", "started_on", "ended_on"], "episodes")
    frame = coerce_dates(episodes, EPISODE_DATES)
    frame = as_categories(
        frame, ["service", "team", "locality", "team_locality", "end_reason_category", "origin"]
    )
    return ensure_columns(
        frame,
        [
            "family_id",
            "service",
            "team",
            "locality",
            "team_locality",
            "end_reason",
            "end_reason_category",
            "origin",
            "referral_id",
            "lead_practitioner_id",
            "lead_worker_external_id",
        ],
    )


def prepare_csc(csc: pd.DataFrame) -> pd.DataFrame:
    """CSC involvements. Required: csc_id, child_id, kind, started_on. Optional: ended_on,
    source (front_door / step_up / other), referral_id (link to the CSC referral record)."""
    require_columns(csc, ["csc_id", "child_id", "kind", "started_on"], "csc")
    frame = ensure_columns(csc, ["ended_on", "source", "referral_id"])
    return coerce_dates(frame, CSC_DATES)


def csc_referral_events(csc: pd.DataFrame) -> pd.DataFrame:
    """One row per CSC referral: csc_id, child_id, referral_on, kind, source.

    ``kind`` is "referral" for a referral record, else the plan's kind (cin_plan, cp_plan, cla).
    """
    frame = prepare_csc(csc)
    referrals = frame[frame["kind"] == "referral"]
    plans = frame[frame["kind"].isin(PLAN_KINDS) & frame["referral_id"].isna()]
    plans = plans[~_covered_by_referral(plans, referrals)]
    events = pd.concat([referrals, plans], ignore_index=True)
    events = events.assign(kind_order=events["kind"].map(CSC_KIND_ORDER))
    events = events.sort_values(["child_id", "started_on", "kind_order", "csc_id"], kind="stable")
    events = events.drop_duplicates(["child_id", "started_on"], keep="first")
    return (
        events.rename(columns={"started_on": "referral_on"})[
            ["csc_id", "child_id", "referral_on", "kind", "source"]
        ]
        .sort_values(["referral_on", "child_id"], kind="stable")
        .reset_index(drop=True)
    )


def _covered_by_referral(plans: pd.DataFrame, referrals: pd.DataFrame) -> pd.Series:
    """Whether some referral record of the same child is open on each plan's start day."""
    if plans.empty or referrals.empty:
        return pd.Series(False, index=plans.index)
    cover = referrals[["child_id", "started_on", "ended_on"]].sort_values(
        ["child_id", "started_on"], kind="stable"
    )
    # Latest day covered by any referral starting on or before each referral's start.
    cover = cover.assign(
        covered_until=cover["ended_on"].fillna(FAR_FUTURE).groupby(cover["child_id"]).cummax()
    ).sort_values("started_on", kind="stable")
    probe = plans[["child_id", "started_on"]].reset_index().sort_values("started_on", kind="stable")
    matched = pd.merge_asof(
        probe,
        cover[["child_id", "started_on", "covered_until"]].rename(
            columns={"started_on": "referral_started_on"}
        ),
        left_on="started_on",
        right_on="referral_started_on",
        by="child_id",
        direction="backward",
        allow_exact_matches=True,
    ).set_index("index")
    covered = matched["covered_until"] >= matched["started_on"]
    return covered.reindex(plans.index).fillna(False).astype(bool)


def first_event_after(
    anchors: pd.DataFrame,
    anchor_date: str,
    events: pd.DataFrame,
    event_date: str,
    columns: list[str],
    prefix: str,
) -> pd.DataFrame:
    """For each anchor row, the child's first event strictly after ``anchor_date``.

    Returns ``anchors`` (same index and order) with ``{prefix}{column}`` for each named event
    column and ``{prefix}on`` for the event's date; NaN/NaT when there is none.
    """
    return _nearest_event(anchors, anchor_date, events, event_date, columns, prefix, "forward")


def last_event_before(
    anchors: pd.DataFrame,
    anchor_date: str,
    events: pd.DataFrame,
    event_date: str,
    columns: list[str],
    prefix: str,
) -> pd.DataFrame:
    """For each anchor row, the child's latest event strictly before ``anchor_date``."""
    return _nearest_event(anchors, anchor_date, events, event_date, columns, prefix, "backward")


def _nearest_event(
    anchors: pd.DataFrame,
    anchor_date: str,
    events: pd.DataFrame,
    event_date: str,
    columns: list[str],
    prefix: str,
    direction: Literal["forward", "backward"],
) -> pd.DataFrame:
    renamed = events[["child_id", event_date, *columns]].rename(
        columns={event_date: f"{prefix}on", **{c: f"{prefix}{c}" for c in columns}}
    )
    renamed = renamed.dropna(subset=[f"{prefix}on"]).sort_values(f"{prefix}on", kind="stable")
    # merge_asof wants the anchors by date; its rows come back in that order, one per anchor,
    # and are put back by position.
    order = np.argsort(anchors[anchor_date].to_numpy(), kind="stable")
    merged = pd.merge_asof(
        anchors.iloc[order].reset_index(drop=True),
        renamed,
        left_on=anchor_date,
        right_on=f"{prefix}on",
        by="child_id",
        direction=direction,
        allow_exact_matches=False,
    )
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    merged = merged.iloc[back]
    merged.index = anchors.index
    return merged


def person_families(memberships: pd.DataFrame) -> pd.DataFrame:
    """Each person's family for reporting: the current membership that started last, else the
    membership that ended last. Columns: child_id, family_id, locality (the family's)."""
    require_columns(memberships, ["family_id", "person_id"], "memberships")
    frame = ensure_columns(memberships, ["started_on", "ended_on", "family_locality"])
    frame = coerce_dates(frame, ["started_on", "ended_on"])
    frame = frame.assign(
        _current=frame["ended_on"].isna(),
        _started=frame["started_on"].fillna(pd.Timestamp("1900-01-01")),
        _ended=frame["ended_on"].fillna(FAR_FUTURE),
    ).sort_values(["person_id", "_current", "_ended", "_started", "family_id"], kind="stable")
    chosen = frame.drop_duplicates("person_id", keep="last")
    return chosen.rename(columns={"person_id": "child_id", "family_locality": "locality"})[
        ["child_id", "family_id", "locality"]
    ].reset_index(drop=True)
