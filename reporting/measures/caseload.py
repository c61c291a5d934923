"""C1 — caseload: open children per lead practitioner at period end, against a target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .base import (
    MeasureParams,
    MeasureResult,
    as_records,
    distinct,
    finish_members,
    finish_results,
    full_grid,
    groups_of,
    member_rows,
    ratio,
    slim,
)
from .dates import Period, open_at_end_of
from .events import EPISODE_DATES, EPISODE_KEYS, prepare_episodes

C1_CATEGORIES = ["caseload", "unallocated_children"]


@dataclass(frozen=True)
class C1Params(MeasureParams):
    breakdowns: tuple[str, ...] = ("locality", "team", "service", "lead_practitioner")
    target: int = 22


def practitioner_key(episodes: pd.DataFrame) -> pd.Series:
    """Who leads an episode: ``user:<id>`` for a user, ``ext:<id>`` for a worker known only by
    the CSC system's id (imported), missing when nobody is allocated. Categorical."""
    users, user_ids = pd.factorize(episodes["lead_practitioner_id"], use_na_sentinel=True)
    workers, found = pd.factorize(episodes["lead_worker_external_id"], use_na_sentinel=True)
    # "" is nobody: its code becomes -1 and the codes after it close up
    named = np.asarray(found, dtype=object) != ""
    renumber = np.append(np.where(named, np.cumsum(named) - 1, -1), -1)  # [-1] stays -1
    workers = renumber[workers]
    worker_ids = np.asarray(found, dtype=object)[named]
    codes = np.where(users >= 0, users, np.where(workers >= 0, len(user_ids) + workers, -1))
    labels = [f"user:{int(user)}" for user in user_ids] + [f"ext:{w}" for w in worker_ids]
    dtype = pd.CategoricalDtype(labels)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype), index=episodes.index)


def c1_caseload(
    episodes: pd.DataFrame,
    *,
    periods: Sequence[Period],
    teams: pd.DataFrame | None = None,
    params: C1Params | None = None,
) -> MeasureResult:
    """C1: at the end of each period, episodes still open, counted per lead practitioner.

    Line "caseload": numerator = child–practitioner pairs (a child counts once per practitioner
    leading any of their open episodes), denominator = practitioners, value = average open
    children per practitioner (one decimal, not a percentage); extra columns ``target``,
    ``max_caseload`` and ``practitioners_over_target`` (caseload above the target). Breakdown
    ``lead_practitioner`` gives each practitioner's own caseload. Line "unallocated_children":
    children with an open episode that has no lead practitioner (so it has no
    ``lead_practitioner`` breakdown).

    Team and locality are the episode's team and the team's locality (``team_locality``),
    falling back to ``locality`` when the episode has no team.

    Targets: ``teams`` (team, caseload_target) sets each team's own target; an episode with no
    team, or a team not listed, has ``params.target``. A practitioner is over target when their
    caseload in the line exceeds the lowest target of the teams their open episodes there
    belong to. The ``target`` column is the team's on team lines, the practitioner's on
    practitioner lines and ``params.target`` elsewhere.
    """
    params = params or C1Params()
    episodes = prepare_episodes(episodes)
    locality = episodes["team_locality"].astype("object")
    locality = locality.where(locality.notna(), episodes["locality"].astype("object"))
    episodes = episodes.assign(
        lead_practitioner=practitioner_key(episodes), locality=locality.astype("category")
    )
    targets = _team_targets(teams, params.target)
    team_codes, teams_seen = pd.factorize(episodes["team"], use_na_sentinel=True)
    team_target = [targets.get(str(team), params.target) for team in teams_seen]
    episodes = episodes.assign(
        caseload_target=np.array([*team_target, params.target], dtype="float64")[team_codes]
    )
    episodes = slim(
        episodes,
        EPISODE_KEYS,
        EPISODE_DATES,
        params.breakdowns,
        ["lead_practitioner", "team", "caseload_target"],
    )
    labels = pd.CategoricalDtype([period.label for period in periods])
    snapshots = []
    for number, period in enumerate(periods):
        still_open = open_at_end_of(episodes["started_on"], episodes["ended_on"], period.end_ts)
        part = episodes[still_open]
        codes = np.full(len(part), number, dtype="int64")
        snapshots.append(part.assign(period=pd.Categorical.from_codes(codes, dtype=labels)))
    open_now = pd.concat(snapshots, ignore_index=True) if snapshots else episodes.assign(period="")
    allocated = open_now["lead_practitioner"].notna()
    base = as_records(open_now, "episode_id", "episode")
    members = pd.concat(
        [
            member_rows(base[allocated], category="caseload", in_numerator=True),
            member_rows(
                base[~allocated],
                category="unallocated_children",
                in_numerator=True,
                in_denominator=False,
            ),
        ],
        ignore_index=True,
    )
    counts = pd.concat(
        [
            _caseloads(members[members["category"] == "caseload"], params),
            _unallocated(members[members["category"] == "unallocated_children"], params),
        ],
        ignore_index=True,
    )
    results = full_grid(counts, periods=periods, categories=C1_CATEGORIES)
    # Unallocated children have no lead practitioner to be broken down by: each practitioner's
    # line would read 0 (half of a large council's C1 values).
    results = results[
        ~(
            (results["breakdown"] == "lead_practitioner")
            & (results["category"] == "unallocated_children")
        )
    ].reset_index(drop=True)
    is_caseload = results["category"] == "caseload"
    results["numerator"] = results["numerator"].fillna(0).astype("Int64")
    results["denominator"] = results["denominator"].fillna(0).astype("Int64").where(is_caseload)
    results["value"] = ratio(results["numerator"], results["denominator"]).where(is_caseload)
    results["max_caseload"] = results["max_caseload"].astype("Int64").where(is_caseload)
    results["practitioners_over_target"] = (
        results["practitioners_over_target"].fillna(0).astype("Int64").where(is_caseload)
    )
    results["target"] = _line_targets(results, members, targets, params).where(is_caseload)
    results = finish_results(
        results,
        measure="C1",
        periods=periods,
        categories=C1_CATEGORIES,
        breakdowns=params.breakdowns,
    )
    details = ["lead_practitioner", "started_on", "caseload_target"]
    return MeasureResult(
        "C1",
        params.to_dict(),
        results,
        finish_members(
            members,
            measure="C1",
            breakdowns=[b for b in params.breakdowns if b != "lead_practitioner"],
            details=details,
        ),
    )


def _team_targets(teams: pd.DataFrame | None, default: int) -> dict[str, int]:
    if teams is None or teams.empty:
        return {}
    known = teams.dropna(subset=["team"])
    targets = pd.to_numeric(known["caseload_target"], errors="coerce").fillna(default)
    return dict(zip(known["team"].astype(str), targets.astype("int64"), strict=True))


def _line_targets(
    results: pd.DataFrame, members: pd.DataFrame, targets: dict[str, int], params: C1Params
) -> pd.Series:
    """The target shown on each result line (see ``c1_caseload``)."""
    line = pd.Series(float(params.target), index=results.index)
    on_team = results["breakdown"] == "team"
    line[on_team] = (
        results.loc[on_team, "breakdown_value"].map(targets).fillna(params.target).astype(float)
    )
    on_worker = results["breakdown"] == "lead_practitioner"
    if on_worker.any():
        allocated = members[members["category"] == "caseload"]
        lowest = allocated.groupby(["period", "lead_practitioner"], observed=True)[
            "caseload_target"
        ].min()
        lowest.index = pd.MultiIndex.from_arrays(
            [lowest.index.get_level_values(level).astype(str) for level in (0, 1)]
        )
        keys = pd.MultiIndex.from_arrays(
            [
                results.loc[on_worker, "period"].astype(str),
                results.loc[on_worker, "breakdown_value"].astype(str),
            ]
        )
        line[on_worker] = lowest.reindex(keys).fillna(params.target).to_numpy(dtype=float)
    return line


def _caseloads(allocated: pd.DataFrame, params: C1Params) -> pd.DataFrame:
    """Per group: child–practitioner pairs, practitioners, the largest caseload and how many
    practitioners are over the target.

    This runs over every open episode at every period end, so it avoids hashing millions of
    (group, practitioner, child) keys per breakdown: rows are sorted once by period,
    practitioner and child, and only the rare rows that share all three (a child with two
    episodes led by one practitioner) are de-duplicated per breakdown.
    """
    periods = allocated["period"].cat.codes.to_numpy().astype("int64")
    workers = allocated["lead_practitioner"].cat.codes.to_numpy().astype("int64")
    children = pd.factorize(allocated["child_id"])[0].astype("int64")
    n_workers = int(workers.max()) + 1 if len(workers) else 1
    order = np.lexsort((children, workers, periods))
    changes = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        changes[1:] = (
            (np.diff(periods[order]) != 0)
            | (np.diff(workers[order]) != 0)
            | (np.diff(children[order]) != 0)
        )
    run = np.empty(len(order), dtype="int64")
    run[order] = np.cumsum(changes) - 1
    shared = np.bincount(run)[run] > 1 if len(run) else np.zeros(0, dtype=bool)
    repeated = np.flatnonzero(shared)
    row_targets = allocated["caseload_target"].to_numpy(dtype="int64")
    parts = []
    for groups, inverse in groups_of(allocated, params.breakdowns):
        keep = ~shared
        if len(repeated):
            pairs = pd.DataFrame({"run": run[repeated], "group": inverse[repeated]})
            keep[repeated[~pairs.duplicated().to_numpy()]] = True
        worker_codes, keys = pd.factorize(inverse[keep].astype("int64") * n_workers + workers[keep])
        caseload = np.bincount(worker_codes)
        worker_target = np.full(len(caseload), np.iinfo("int64").max, dtype="int64")
        np.minimum.at(worker_target, worker_codes, row_targets[keep])
        group = np.asarray(keys) // n_workers
        size = len(groups)
        largest = np.zeros(size, dtype="int64")
        np.maximum.at(largest, group, caseload)
        parts.append(
            groups.assign(
                numerator=np.bincount(group, weights=caseload, minlength=size).astype("int64"),
                denominator=np.bincount(group, minlength=size),
                max_caseload=largest,
                practitioners_over_target=np.bincount(
                    group, weights=caseload > worker_target, minlength=size
                ).astype("int64"),
            )
        )
    return pd.concat(parts, ignore_index=True)


def _unallocated(unallocated: pd.DataFrame, params: C1Params) -> pd.DataFrame:
    children = pd.factorize(unallocated["child_id"])[0].astype("int64")
    width = int(children.max()) + 1 if len(children) else 1
    parts = []
    # not by lead practitioner: they have none (no "unknown" practitioner with a caseload of 0)
    breakdowns = [b for b in params.breakdowns if b != "lead_practitioner"]
    for groups, inverse in groups_of(unallocated, breakdowns):
        pairs = distinct(inverse.astype("int64") * width + children)
        parts.append(groups.assign(numerator=np.bincount(pairs // width, minlength=len(groups))))
    return pd.concat(parts, ignore_index=True)


__all__ = ["C1Params", "c1_caseload", "practitioner_key"]
