"""Re-referral and escalation measures: RR1–RR5 and ESC (KPIS.md, "Re-referral and escalation").

Inputs are the frames documented in ``events.prepare_episodes`` / ``events.prepare_csc``; CSC
referrals are derived by ``events.csc_referral_events``, or passed in as ``referrals`` by a caller
that has them already.
"""

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
    in_periods,
    measure_result,
    member_rows,
    require_columns,
    slim,
    with_stats,
)
from .dates import Period, add_months, coerce_dates, shift_month, working_days_after
from .events import (
    EPISODE_DATES,
    EPISODE_KEYS,
    csc_referral_events,
    first_event_after,
    last_event_before,
    person_families,
    prepare_csc,
    prepare_episodes,
)

CSC_KINDS = ("referral", "cin_plan", "cp_plan", "cla")
CSC_SOURCES = ("step_up", "front_door_or_other")


def _episode_members(frame: pd.DataFrame) -> pd.DataFrame:
    return as_records(frame, "episode_id", "episode")


def _referrals(csc: pd.DataFrame, referrals: pd.DataFrame | None) -> pd.DataFrame:
    """The CSC referrals of ``csc``: ``referrals`` if the caller worked them out already (a run
    shares them across measures and periods), else derived here."""
    return referrals if referrals is not None else csc_referral_events(csc)


def _csc_source(source: pd.Series) -> pd.Series:
    """CSC source as reported: stepped up by early help, or front door / other."""
    return source.where(source == "step_up", "front_door_or_other").where(source.notna())


# --- RR1 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RR1Params(MeasureParams):
    window_days: int = 42
    cohort_months: int = 3
    exclude_end_reasons: tuple[str, ...] = ()
    exclude_end_reason_categories: tuple[str, ...] = ()
    target: float = 20.0


def rr1_csc_referral_after_closure(
    episodes: pd.DataFrame,
    csc: pd.DataFrame,
    *,
    periods: Sequence[Period],
    params: RR1Params | None = None,
    referrals: pd.DataFrame | None = None,
) -> MeasureResult:
    """RR1: early help episodes closed in the ``cohort_months`` months ending with each reporting
    month M whose child had a CSC referral within ``window_days`` after closure and on or before
    the last day of M. Unit: episode. Lower is better.

    ``periods`` are the reporting months (a cohort runs from the first day of the month
    ``cohort_months - 1`` before the period's end month to the period's end).
    """
    params = params or RR1Params()
    episodes = prepare_episodes(episodes)
    closed = episodes[
        episodes["ended_on"].notna()
        & ~episodes["end_reason"].isin(params.exclude_end_reasons)
        & ~episodes["end_reason_category"].isin(params.exclude_end_reason_categories)
    ]
    closed = slim(closed, EPISODE_KEYS, EPISODE_DATES, params.breakdowns)
    cohorts = []
    for period in periods:
        first = shift_month(period.end.replace(day=1), -(params.cohort_months - 1))
        in_cohort = (closed["ended_on"] >= pd.Timestamp(first)) & (
            closed["ended_on"] <= period.end_ts
        )
        cohorts.append(closed[in_cohort].assign(period=period.label, cutoff=period.end_ts))
    cohort = pd.concat(cohorts, ignore_index=True) if cohorts else closed.assign(period="")

    events = _referrals(csc, referrals)
    found = first_event_after(cohort, "ended_on", events, "referral_on", ["csc_id"], "referral_")
    deadline = (found["ended_on"] + pd.Timedelta(days=params.window_days)).clip(
        upper=found["cutoff"]
    )
    counts = (found["referral_on"] <= deadline).fillna(False).astype(bool)
    members = _episode_members(found).assign(
        closed_on=found["ended_on"],
        related_type=pd.Series("csc_involvement", index=found.index).where(counts),
        related_id=found["referral_csc_id"].where(counts).astype("Int64"),
        related_on=found["referral_on"].where(counts),
    )
    return measure_result(
        member_rows(members, category="rate", in_numerator=counts),
        measure="RR1",
        params=params,
        periods=periods,
        categories=[Category("rate")],
        details=["closed_on", "related_type", "related_id", "related_on"],
        extra={"target": params.target, "lower_is_better": True},
    )


# --- RR2 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RR2Params(MeasureParams):
    follow_up_months: int = 6
    services: tuple[str, ...] | None = None
    concurrent_kinds: tuple[str, ...] = ("cin_plan", "cp_plan", "cla")


RR2_CATEGORIES = [
    Category("cohort", rate=False),
    Category("excluded"),
    Category("denominator", rate=False),
    Category("not_reopened"),
    Category("reopened"),
    Category("reopened_early_help"),
    Category("reopened_csc"),
    *[Category(f"reopened_csc_kind_{kind}") for kind in CSC_KINDS],
    *[Category(f"reopened_csc_source_{source}") for source in CSC_SOURCES],
]


def rr2_reopened_after_closure(
    episodes: pd.DataFrame,
    csc: pd.DataFrame,
    *,
    periods: Sequence[Period],
    params: RR2Params | None = None,
    referrals: pd.DataFrame | None = None,
) -> MeasureResult:
    """RR2: children whose early help closed in the window (latest closure per child), followed
    up ``follow_up_months``; re-opened by their first new early help start or CSC referral.

    Each period is a closure window. Lines: cohort; excluded ("remained open to CSC throughout",
    % of cohort); denominator; not re-opened / re-opened (% of denominator); destination
    (% of re-opened); CSC kind and source (% of re-opened to CSC). Unit: child.

    Excluded: one CIN / CP / CLA involvement open on the closure date and still open on the
    follow-up's last day. Re-opening: the first early help start (any service) or CSC referral
    with closure < D ≤ closure + follow-up; a CSC referral wins a same-day tie. The services
    filter applies to the closures that form the cohort.
    """
    params = params or RR2Params()
    episodes = prepare_episodes(episodes)
    closed = episodes[episodes["ended_on"].notna()]
    if params.services is not None:
        closed = closed[closed["service"].isin(params.services)]
    closed = slim(closed, EPISODE_KEYS, EPISODE_DATES, params.breakdowns)
    cohort = in_periods(closed, "ended_on", periods)
    cohort = cohort.sort_values(["period", "child_id", "ended_on", "episode_id"], kind="stable")
    cohort = cohort.drop_duplicates(["period", "child_id"], keep="last").reset_index(drop=True)
    cohort = cohort.assign(
        closed_on=cohort["ended_on"],
        follow_up_end=add_months(cohort["ended_on"], params.follow_up_months),
    )

    cohort["excluded"] = _open_throughout(
        cohort, prepare_csc(csc), params.concurrent_kinds, "closed_on", "follow_up_end"
    )
    reopened = _first_reopening(cohort, episodes, _referrals(csc, referrals))
    cohort = pd.concat([cohort, reopened], axis=1)
    members = _reopening_members(
        _episode_members(cohort), include_early_help=True, extra_status=None
    )
    details = [
        "closed_on",
        "follow_up_end",
        "reopened_on",
        "destination",
        "csc_kind",
        "csc_source",
        "related_type",
        "related_id",
        "related_on",
    ]
    return measure_result(
        members,
        measure="RR2",
        params=params,
        periods=periods,
        categories=RR2_CATEGORIES,
        details=details,
    )


def _open_throughout(
    cohort: pd.DataFrame, csc: pd.DataFrame, kinds: Sequence[str], first: str, last: str
) -> pd.Series:
    """Whether one CSC involvement of the given kinds was open on ``first`` and still open on
    ``last`` (started on or before ``first``; not ended, or ended on or after ``last``)."""
    involvements = csc[csc["kind"].isin(kinds)][["child_id", "started_on", "ended_on"]]
    pairs = (
        cohort[["child_id", first, last]]
        .reset_index(names="_row")
        .merge(involvements, on="child_id", how="inner")
    )
    spans = (pairs["started_on"] <= pairs[first]) & (
        pairs["ended_on"].isna() | (pairs["ended_on"] >= pairs[last])
    )
    hit = pairs.loc[spans, "_row"].unique()
    return pd.Series(cohort.index.isin(hit), index=cohort.index)


def _first_reopening(
    anchors: pd.DataFrame, episodes: pd.DataFrame, events: pd.DataFrame
) -> pd.DataFrame:
    """The first new early help start or CSC referral strictly after ``closed_on`` and on or
    before ``follow_up_end``. On the same day CSC wins (the higher level of need)."""
    starts = episodes[["child_id", "started_on", "episode_id"]]
    early_help = first_event_after(
        anchors[["child_id", "closed_on"]], "closed_on", starts, "started_on", ["episode_id"], "eh_"
    )
    to_csc = first_event_after(
        anchors[["child_id", "closed_on"]],
        "closed_on",
        events,
        "referral_on",
        ["csc_id", "kind", "source"],
        "csc_",
    )
    limit = anchors["follow_up_end"]
    eh_on = early_help["eh_on"].where(early_help["eh_on"] <= limit)
    csc_on = to_csc["csc_on"].where(to_csc["csc_on"] <= limit)
    is_csc = csc_on.notna() & (eh_on.isna() | (csc_on <= eh_on))
    is_eh = eh_on.notna() & ~is_csc
    destination = pd.Series(pd.NA, index=anchors.index, dtype="str")
    destination = destination.mask(is_csc, "csc").mask(is_eh, "early_help")
    return pd.DataFrame(
        {
            "reopened": is_csc | is_eh,
            "reopened_on": csc_on.where(is_csc, eh_on.where(is_eh)),
            "destination": destination,
            "csc_kind": to_csc["csc_kind"].where(is_csc),
            "csc_source": _csc_source(to_csc["csc_source"].fillna("other")).where(is_csc),
            "related_type": pd.Series("csc_involvement", index=anchors.index)
            .where(is_csc, "episode")
            .where(is_csc | is_eh),
            "related_id": to_csc["csc_csc_id"]
            .where(is_csc, early_help["eh_episode_id"].where(is_eh))
            .astype("Int64"),
            "related_on": csc_on.where(is_csc, eh_on.where(is_eh)),
        },
        index=anchors.index,
    )


def _reopening_members(
    base: pd.DataFrame, *, include_early_help: bool, extra_status: dict[str, pd.Series] | None
) -> pd.DataFrame:
    """Long-form drill-down rows for the cohort table shared by RR2 and RR3."""
    counted = base[~base["excluded"]]
    to_csc = counted[counted["destination"] == "csc"]
    parts = [
        member_rows(base, category="cohort", in_numerator=True, in_denominator=False),
        member_rows(base, category="excluded", in_numerator=base["excluded"]),
        member_rows(counted, category="denominator", in_numerator=True, in_denominator=False),
    ]
    if include_early_help:
        reopened = counted[counted["reopened"]]
        parts += [
            member_rows(counted, category="not_reopened", in_numerator=~counted["reopened"]),
            member_rows(counted, category="reopened", in_numerator=counted["reopened"]),
            member_rows(
                reopened,
                category="reopened_early_help",
                in_numerator=reopened["destination"] == "early_help",
            ),
            member_rows(
                reopened, category="reopened_csc", in_numerator=reopened["destination"] == "csc"
            ),
        ]
    for name, flags in (extra_status or {}).items():
        parts.append(member_rows(counted, category=name, in_numerator=flags.loc[counted.index]))
    parts += [
        member_rows(
            to_csc, category=f"reopened_csc_kind_{kind}", in_numerator=to_csc["csc_kind"] == kind
        )
        for kind in CSC_KINDS
    ]
    parts += [
        member_rows(
            to_csc,
            category=f"reopened_csc_source_{source}",
            in_numerator=to_csc["csc_source"] == source,
        )
        for source in CSC_SOURCES
    ]
    members = pd.concat(parts, ignore_index=True)
    members["in_numerator"] = members["in_numerator"].astype(bool)
    members["in_denominator"] = members["in_denominator"].astype(bool)
    return members


# --- RR3 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RR3Params(MeasureParams):
    follow_up_months: int = 12
    handover_days: int = 28


RR3_STATUSES = ("reopened_csc", "reopened_early_help", "open_early_help_only", "not_open")
RR3_CATEGORIES = [
    Category("cohort", rate=False),
    Category("excluded"),
    Category("denominator", rate=False),
    *[Category(status) for status in RR3_STATUSES],
    Category("not_re_referred"),
    *[Category(f"reopened_csc_kind_{kind}") for kind in CSC_KINDS],
    *[Category(f"reopened_csc_source_{source}") for source in CSC_SOURCES],
]


def rr3_step_down_status(
    episodes: pd.DataFrame,
    csc: pd.DataFrame,
    *,
    periods: Sequence[Period],
    transitions: pd.DataFrame | None = None,
    params: RR3Params | None = None,
    referrals: pd.DataFrame | None = None,
) -> MeasureResult:
    """RR3: children whose early help started as a step-down from CSC in the window (their first
    such start), and their status ``follow_up_months`` after that start. Unit: child.

    A step-down start is an episode with origin "step_down", or one opened by an accepted
    step-down transition. Excluded: a CSC involvement (any kind) that started on or before the
    early help start and was still open more than ``handover_days`` after it.
    Statuses, first matching wins: re-opened to CSC (a CSC referral after the start, by the
    status date); re-opened to early help (step-down episode closed by the status date and
    another early help episode started after the start); remains open to early help only; not
    open to any service. Percentages are of the cohort after exclusion ("denominator").
    """
    params = params or RR3Params()
    episodes = prepare_episodes(episodes)
    csc_frame = prepare_csc(csc)
    step_down = episodes["origin"] == "step_down"
    if transitions is not None and not transitions.empty:
        require_columns(transitions, ["direction", "decision", "opened_episode_id"], "transitions")
        accepted = transitions[
            (transitions["direction"] == "step_down") & (transitions["decision"] == "accepted")
        ]
        step_down = step_down | episodes["episode_id"].isin(accepted["opened_episode_id"].dropna())
    step_downs = slim(episodes[step_down], EPISODE_KEYS, EPISODE_DATES, params.breakdowns)
    cohort = in_periods(step_downs, "started_on", periods)
    cohort = cohort.sort_values(["period", "child_id", "started_on", "episode_id"], kind="stable")
    cohort = cohort.drop_duplicates(["period", "child_id"], keep="first").reset_index(drop=True)
    cohort = cohort.assign(
        step_down_on=cohort["started_on"],
        status_on=add_months(cohort["started_on"], params.follow_up_months),
        handover_end=cohort["started_on"] + pd.Timedelta(days=params.handover_days),
    )
    cohort["excluded"] = _alongside_csc(cohort, csc_frame)

    events = _referrals(csc, referrals)
    anchors = cohort[["child_id", "step_down_on"]]
    to_csc = first_event_after(
        anchors, "step_down_on", events, "referral_on", ["csc_id", "kind", "source"], "csc_"
    )
    starts = episodes[["child_id", "started_on", "episode_id"]]
    new_eh = first_event_after(anchors, "step_down_on", starts, "started_on", ["episode_id"], "eh_")
    status_on = cohort["status_on"]
    rule1 = (to_csc["csc_on"] <= status_on).fillna(False).astype(bool)
    closed = (cohort["ended_on"] <= status_on).fillna(False).astype(bool)
    rule2 = ~rule1 & closed & (new_eh["eh_on"] <= status_on).fillna(False).astype(bool)
    rule3 = ~rule1 & ~rule2 & ~closed
    rule4 = ~(rule1 | rule2 | rule3)
    status = pd.Series("not_open", index=cohort.index, dtype="str")
    status = status.mask(rule3, "open_early_help_only")
    status = status.mask(rule2, "reopened_early_help").mask(rule1, "reopened_csc")
    cohort = cohort.assign(
        status=status,
        destination=pd.Series(pd.NA, index=cohort.index, dtype="str").mask(rule1, "csc"),
        csc_kind=to_csc["csc_kind"].where(rule1),
        csc_source=_csc_source(to_csc["csc_source"].fillna("other")).where(rule1),
        reopened_on=to_csc["csc_on"].where(rule1, new_eh["eh_on"].where(rule2)),
        related_type=pd.Series("csc_involvement", index=cohort.index)
        .where(rule1, "episode")
        .where(rule1 | rule2),
        related_id=to_csc["csc_csc_id"]
        .where(rule1, new_eh["eh_episode_id"].where(rule2))
        .astype("Int64"),
    )
    cohort["related_on"] = cohort["reopened_on"]
    flags = {name: cohort["status"] == name for name in RR3_STATUSES}
    flags["not_re_referred"] = rule3 | rule4
    members = _reopening_members(
        _episode_members(cohort), include_early_help=False, extra_status=flags
    )
    details = [
        "step_down_on",
        "status_on",
        "status",
        "reopened_on",
        "csc_kind",
        "csc_source",
        "related_type",
        "related_id",
        "related_on",
    ]
    return measure_result(
        members,
        measure="RR3",
        params=params,
        periods=periods,
        categories=RR3_CATEGORIES,
        details=details,
    )


def _alongside_csc(cohort: pd.DataFrame, csc: pd.DataFrame) -> pd.Series:
    """A CSC involvement that started on or before the early help start and was still open
    after the handover overlap (not ended, or ended after ``handover_end``)."""
    pairs = (
        cohort[["child_id", "step_down_on", "handover_end"]]
        .reset_index(names="_row")
        .merge(csc[["child_id", "started_on", "ended_on"]], on="child_id", how="inner")
    )
    alongside = (pairs["started_on"] <= pairs["step_down_on"]) & (
        pairs["ended_on"].isna() | (pairs["ended_on"] > pairs["handover_end"])
    )
    hit = pairs.loc[alongside, "_row"].unique()
    return pd.Series(cohort.index.isin(hit), index=cohort.index)


# --- RR4 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RR4Params(MeasureParams):
    breakdowns: tuple[str, ...] = ("locality",)
    lookback_months: int = 12


def rr4_csc_rereferral(
    csc: pd.DataFrame,
    *,
    periods: Sequence[Period],
    memberships: pd.DataFrame | None = None,
    families: pd.DataFrame | None = None,
    params: RR4Params | None = None,
    referrals: pd.DataFrame | None = None,
) -> MeasureResult:
    """RR4 (DfE CIN definition): CSC referrals dated in the period that follow a previous CSC
    referral of the same child within ``lookback_months`` (previous P < R ≤ P + 12 months).
    Unit: referral. ``memberships`` (optional) gives each child's family and locality;
    ``families`` is ``events.person_families(memberships)`` already worked out (a run computing
    several periods passes it once).
    """
    params = params or RR4Params()
    events = _referrals(csc, referrals).sort_values(["child_id", "referral_on"], kind="stable")
    events = events.assign(
        previous_on=events.groupby("child_id")["referral_on"].shift(),
        previous_id=events.groupby("child_id")["csc_id"].shift(),
    )
    rereferral = (
        events["referral_on"] <= add_months(events["previous_on"], params.lookback_months)
    ).fillna(False)
    events = events.assign(rereferral=rereferral.astype(bool))
    if families is None and memberships is not None:
        families = person_families(memberships)
    if families is not None:
        events = events.merge(families, on="child_id", how="left")
    events = as_categories(events, params.breakdowns)
    referrals = in_periods(events, "referral_on", periods)
    members = as_records(referrals, "csc_id", "csc_involvement").assign(
        related_type=pd.Series("csc_involvement", index=referrals.index).where(
            referrals["rereferral"]
        ),
        related_id=referrals["previous_id"].where(referrals["rereferral"]).astype("Int64"),
        related_on=referrals["previous_on"].where(referrals["rereferral"]),
    )
    return measure_result(
        member_rows(members, category="rate", in_numerator=members["rereferral"]),
        measure="RR4",
        params=params,
        periods=periods,
        categories=[Category("rate")],
        details=["referral_on", "kind", "source", "related_type", "related_id", "related_on"],
        extra={"lower_is_better": True},
    )


# --- RR5 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RR5Params(MeasureParams):
    lookback_months: int = 12


def rr5_early_help_rereferral(
    episodes: pd.DataFrame, *, periods: Sequence[Period], params: RR5Params | None = None
) -> MeasureResult:
    """RR5: early help episodes started in the period where the same child had an earlier
    episode that closed within ``lookback_months`` before the start (C < S ≤ C + 12 months).
    Unit: episode."""
    params = params or RR5Params()
    episodes = prepare_episodes(episodes)
    started = in_periods(
        slim(episodes, EPISODE_KEYS, EPISODE_DATES, params.breakdowns), "started_on", periods
    )
    closures = episodes[episodes["ended_on"].notna()]
    found = last_event_before(
        started, "started_on", closures, "ended_on", ["episode_id"], "previous_"
    )
    rereferral = (
        (found["started_on"] <= add_months(found["previous_on"], params.lookback_months))
        .fillna(False)
        .astype(bool)
    )
    members = _episode_members(found).assign(
        related_type=pd.Series("episode", index=found.index).where(rereferral),
        related_id=found["previous_episode_id"].where(rereferral).astype("Int64"),
        related_on=found["previous_on"].where(rereferral),
    )
    return measure_result(
        member_rows(members, category="rate", in_numerator=rereferral),
        measure="RR5",
        params=params,
        periods=periods,
        categories=[Category("rate")],
        details=["started_on", "related_type", "related_id", "related_on"],
        extra={"lower_is_better": True},
    )


# --- ESC -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ESCParams(MeasureParams):
    pass


ESC_CATEGORIES = [
    Category(f"{direction}_{unit}", rate=False)
    for direction in ("step_up", "step_down")
    for unit in ("children", "families")
]


def esc_steps(
    transitions: pd.DataFrame, *, periods: Sequence[Period], params: ESCParams | None = None
) -> MeasureResult:
    """ESC: children and families stepped up / down in the period — accepted steps, dated by
    their decision — with decision turnaround in working days (requested < D ≤ decided).

    Columns added: turnaround_median_working_days, turnaround_mean_working_days (over the
    accepted steps counted in the line). Unit: distinct children / distinct families.
    """
    params = params or ESCParams()
    require_columns(
        transitions,
        ["transition_id", "direction", "child_id", "family_id", "requested_on", "decision"],
        "transitions",
    )
    frame = ensure_columns(transitions, ["decided_on"])
    frame = as_categories(coerce_dates(frame, ["requested_on", "decided_on"]), params.breakdowns)
    accepted = frame[(frame["decision"] == "accepted") & frame["decided_on"].notna()]
    accepted = accepted.assign(
        turnaround_working_days=working_days_after(accepted["requested_on"], accepted["decided_on"])
    )
    steps = as_records(in_periods(accepted, "decided_on", periods), "transition_id", "transition")
    parts = []
    for direction in ("step_up", "step_down"):
        mine = steps[steps["direction"] == direction]
        for unit in ("children", "families"):
            key = mine["child_id"] if unit == "children" else mine["family_id"]
            parts.append(
                member_rows(
                    mine.assign(unit_key=key),
                    category=f"{direction}_{unit}",
                    in_numerator=True,
                    in_denominator=False,
                )
            )
    members = pd.concat(parts, ignore_index=True)
    result = measure_result(
        members,
        measure="ESC",
        params=params,
        periods=periods,
        categories=ESC_CATEGORIES,
        details=["direction", "requested_on", "decided_on", "turnaround_working_days"],
        unit="unit_key",
    )
    result.results = with_stats(
        result.results,
        members.assign(turnaround=members["turnaround_working_days"].astype("float64")),
        breakdowns=params.breakdowns,
        value="turnaround",
        stats={
            "turnaround_median_working_days": "median",
            "turnaround_mean_working_days": "mean",
        },
    )
    return result


__all__ = [
    "ESCParams",
    "RR1Params",
    "RR2Params",
    "RR3Params",
    "RR4Params",
    "RR5Params",
    "esc_steps",
    "rr1_csc_referral_after_closure",
    "rr2_reopened_after_closure",
    "rr3_step_down_status",
    "rr4_csc_rereferral",
    "rr5_early_help_rereferral",
]
