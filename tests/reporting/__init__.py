"""Builders for the small hand-made frames the measure tests work through on paper."""

from __future__ import annotations

import datetime as dt
from itertools import count
from typing import Any

import pandas as pd

_ids = count(1000)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def episode(
    episode_id: int,
    child: int,
    start: str,
    end: str | None = None,
    *,
    reason: str | None = None,
    family: int | None = None,
    service: str = "FAMILY_SUPPORT",
    team: str | None = "T1",
    locality: str | None = "NORTH",
    origin: str = "front_door",
    lead: int | None = None,
    referral: int | None = None,
) -> dict[str, Any]:
    if end is not None and reason is None:
        reason = "needs_met"
    return {
        "episode_id": episode_id,
        "child_id": child,
        "family_id": family if family is not None else child * 10,
        "started_on": start,
        "ended_on": end,
        "end_reason": reason.upper() if reason else None,
        "end_reason_category": reason,
        "service": service,
        "team": team,
        "locality": locality,
        "origin": origin,
        "lead_practitioner_id": lead,
        "referral_id": referral,
    }


def csc(
    csc_id: int,
    child: int,
    kind: str,
    start: str,
    end: str | None = None,
    *,
    source: str = "front_door",
    referral: int | None = None,
) -> dict[str, Any]:
    return {
        "csc_id": csc_id,
        "child_id": child,
        "kind": kind,
        "started_on": start,
        "ended_on": end,
        "source": source,
        "referral_id": referral,
    }


def frame(rows: list[dict[str, Any]], columns: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


EPISODE_COLUMNS = list(episode(0, 0, "2024-01-01"))
CSC_COLUMNS = list(csc(0, 0, "referral", "2024-01-01"))


def episodes(*rows: dict[str, Any]) -> pd.DataFrame:
    return frame(list(rows), EPISODE_COLUMNS)


def cscs(*rows: dict[str, Any]) -> pd.DataFrame:
    return frame(list(rows), CSC_COLUMNS)


def line(
    results: pd.DataFrame,
    category: str = "rate",
    *,
    period: str | None = None,
    breakdown: str = "all",
    value: str = "all",
) -> pd.Series:
    """The one result row for a period, category and breakdown value."""
    rows = results[
        (results["category"] == category)
        & (results["breakdown"] == breakdown)
        & (results["breakdown_value"] == value)
    ]
    if period is not None:
        rows = rows[rows["period"] == period]
    assert len(rows) == 1, f"expected one row, found {len(rows)}"
    return rows.iloc[0]


def numbers(row: pd.Series) -> tuple[Any, Any, Any]:
    """(numerator, denominator, value) with NA/NaN as None, for plain comparisons."""

    def plain(item: Any) -> Any:
        if item is pd.NA or item is None or (isinstance(item, float) and item != item):
            return None
        return item.item() if hasattr(item, "item") else item

    return plain(row["numerator"]), plain(row["denominator"]), plain(row["value"])


def member_ids(
    members: pd.DataFrame,
    category: str = "rate",
    *,
    period: str | None = None,
    numerator: bool | None = None,
    column: str = "record_id",
) -> set[int]:
    rows = members[members["category"] == category]
    if period is not None:
        rows = rows[rows["period"] == period]
    if numerator is not None:
        rows = rows[rows["in_numerator"] == numerator]
    return {int(x) for x in rows[column]}
