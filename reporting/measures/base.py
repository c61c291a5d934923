"""What every measure shares: parameters that serialise, the result and drill-down shapes, and
one summariser that turns drill-down rows into numbers, so a number always matches its list.

A measure builds a *members* frame (one row per record per period per category, flagged
``in_numerator`` / ``in_denominator``) and ``summarise`` counts it for the whole authority
("all") and for each breakdown (locality, team, service…).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from .dates import Period

ALL = "all"
UNKNOWN = "unknown"
DEFAULT_BREAKDOWNS: tuple[str, ...] = ("locality", "team", "service")

RESULT_COLUMNS = [
    "measure",
    "period",
    "period_start",
    "period_end",
    "breakdown",
    "breakdown_value",
    "category",
    "numerator",
    "denominator",
    "value",
]
MEMBER_COLUMNS = [
    "measure",
    "period",
    "category",
    "record_type",
    "record_id",
    "child_id",
    "family_id",
    "in_numerator",
    "in_denominator",
]
_KEYS = ["period", "category", "breakdown", "breakdown_value"]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Period):
        return value.to_dict()
    if isinstance(value, tuple | list | frozenset | set):
        items = [_plain(item) for item in value]
        return sorted(items) if isinstance(value, frozenset | set) else items
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class MeasureParams:
    """Windows and thresholds of a measure; ``to_dict()`` is stored with every value."""

    breakdowns: tuple[str, ...] = DEFAULT_BREAKDOWNS

    def to_dict(self) -> dict[str, Any]:
        return {field.name: _plain(getattr(self, field.name)) for field in dataclasses.fields(self)}


@dataclass(frozen=True)
class Category:
    """One line of a measure's output. ``rate`` lines have a denominator and a percentage;
    count lines carry only a numerator."""

    name: str
    rate: bool = True


@dataclass
class MeasureResult:
    measure: str
    params: dict[str, Any]
    results: pd.DataFrame
    members: pd.DataFrame


def percentage(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator ÷ denominator as a percentage to one decimal place, halves rounded up, computed
    in integers so 12.25 % is 12.3 % on every machine. An empty denominator gives NaN."""
    num = numerator.astype("int64")
    den = denominator.fillna(0).astype("int64")
    safe = den.where(den > 0, 1)
    value = ((2000 * num + safe) // (2 * safe)) / 10
    return value.where(den > 0, np.nan).astype("float64")


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator ÷ denominator to one decimal place (halves up); NaN for an empty denominator."""
    num = numerator.astype("int64")
    den = denominator.fillna(0).astype("int64")
    safe = den.where(den > 0, 1)
    value = ((20 * num + safe) // (2 * safe)) / 10
    return value.where(den > 0, np.nan).astype("float64")


def in_periods(frame: pd.DataFrame, column: str, periods: Sequence[Period]) -> pd.DataFrame:
    """Rows of ``frame`` whose ``column`` date falls in each period, tagged with ``period``:
    period after period, each period's rows in the frame's order.

    Periods may overlap; a row appears once per period containing it. The periods are laid in
    layers that do not overlap (the months, then the years…), and each layer's rows are found
    with one binary search over its starts: a 24-month run with its years compared every row
    27 times, once per period.
    """
    labels = pd.CategoricalDtype([period.label for period in periods])
    if not periods:
        return frame.iloc[0:0].assign(period=pd.Series(dtype="str"))
    days = pd.to_datetime(frame[column]).to_numpy(dtype="datetime64[ns]")
    layers: list[list[int]] = []
    for number in sorted(range(len(periods)), key=lambda n: (periods[n].start, periods[n].end)):
        layer = next((x for x in layers if periods[x[-1]].end < periods[number].start), None)
        if layer is None:
            layers.append([number])
        else:
            layer.append(number)
    rows, numbers = [], []
    for layer in layers:
        starts = np.array([periods[n].start_ts.to_datetime64() for n in layer], "datetime64[ns]")
        ends = np.array([periods[n].end_ts.to_datetime64() for n in layer], "datetime64[ns]")
        # the last period starting on or before the day (NaT sorts after every start)
        slot = np.searchsorted(starts, days, side="right") - 1
        found = np.flatnonzero(slot >= 0)
        found = found[days[found] <= ends[slot[found]]]  # NaT is never within
        rows.append(found)
        numbers.append(np.asarray(layer, dtype="int64")[slot[found]])
    row, code = np.concatenate(rows), np.concatenate(numbers)
    order = np.lexsort((row, code))
    part = frame.take(row[order]).reset_index(drop=True)
    return part.assign(period=pd.Categorical.from_codes(code[order], dtype=labels))


def ensure_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Missing optional columns (a breakdown the data does not carry) become all-NA."""
    missing = [column for column in columns if column not in frame.columns]
    if not missing:
        return frame
    return frame.assign(
        **{column: pd.Series(pd.NA, index=frame.index, dtype="object") for column in missing}
    )


def as_categories(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Text columns used for grouping as categoricals: one factorisation up front instead of one
    per copy of the rows, and far less memory."""
    convert = {
        column: "category"
        for column in columns
        if column in frame.columns and not isinstance(frame[column].dtype, pd.CategoricalDtype)
    }
    return frame.astype(convert) if convert else frame


def slim(frame: pd.DataFrame, *groups: Iterable[str]) -> pd.DataFrame:
    """Only the named columns (those present): drill-down rows are copied once per period and
    category, so every column not needed costs memory millions of times."""
    wanted = dict.fromkeys(column for group in groups for column in group)
    return frame[[column for column in wanted if column in frame.columns]]


def require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks column(s): {', '.join(missing)}")


def member_rows(
    frame: pd.DataFrame,
    *,
    category: str,
    in_numerator: pd.Series | bool,
    in_denominator: pd.Series | bool = True,
) -> pd.DataFrame:
    return frame.assign(category=category, in_numerator=in_numerator, in_denominator=in_denominator)


def factorize(values: pd.Series, *, na_sentinel: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` (codes, and the labels in order of first appearance), hashing a text
    column only where its value changes. A drill-down frame is parts of one category each, so
    its millions of ``category`` and ``record_type`` cells are a few long runs, and hashing
    every cell cost seconds a run."""
    if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
        codes, found = pd.factorize(values, use_na_sentinel=na_sentinel)
        return np.asarray(codes, dtype="int64"), np.asarray(found, dtype=object)
    array = values.to_numpy(dtype=object)
    heads = None
    changes: np.ndarray | None = None
    if len(array) > 1:
        try:
            changes = np.flatnonzero(array[1:] != array[:-1]) + 1
        except (TypeError, ValueError):  # pd.NA has no truth value: hash every cell
            changes = None
        if changes is not None and len(changes) < len(array) // 8:
            heads = np.concatenate([[0], changes])
    if heads is None:
        raw, uniques = pd.factorize(array, use_na_sentinel=na_sentinel)
        return np.asarray(raw, dtype="int64"), np.asarray(uniques, dtype=object)
    head_codes, labels = pd.factorize(array[heads], use_na_sentinel=na_sentinel)
    lengths = np.diff(np.append(heads, len(array)))
    return np.repeat(np.asarray(head_codes, dtype="int64"), lengths), np.asarray(
        labels, dtype=object
    )


def _codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a column and the labels they stand for (a missing value is None)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy().astype("int64")
        labels = np.asarray(series.cat.categories, dtype=object)
    else:
        codes, labels = factorize(series)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels = np.append(labels, np.array([None], dtype=object))
    return codes, labels


def distinct(values: np.ndarray) -> np.ndarray:
    """Distinct values of an integer array, unordered. Hash-based: numpy's ``unique`` sorts
    (or, in numpy 2.3+, hashes slowly) and costs seconds on millions of int64 keys."""
    return np.asarray(pd.unique(values))


def _dense_rank(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct keys and each key's position among them (like ``np.unique`` with
    ``return_inverse``, but hashing the rows and sorting only the distinct keys). Keys from a
    small range (periods × lines × breakdown values) are counted instead of hashed."""
    if len(keys) and keys.min() >= 0 and keys.max() < 4 * len(keys) + 4096:
        present = np.bincount(keys, minlength=int(keys.max()) + 1) > 0
        return np.flatnonzero(present), (np.cumsum(present) - 1)[keys]
    codes, uniques = pd.factorize(keys)
    uniques = np.asarray(uniques)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(len(order), dtype="int64")
    rank[order] = np.arange(len(order))
    return uniques[order], rank[codes]


def _text(labels: np.ndarray) -> np.ndarray:
    return np.array([UNKNOWN if pd.isna(label) else str(label) for label in labels], dtype=object)


def groups_of(
    members: pd.DataFrame, breakdowns: Sequence[str]
) -> Iterable[tuple[pd.DataFrame, np.ndarray]]:
    """For "all" and each breakdown: the distinct (period, category, breakdown, value) groups
    as a small frame, and each member's group number. Works on integer codes, never on text
    per row, so it stays fast at millions of rows."""
    period_codes, periods = _codes(members["period"])
    category_codes, categories = _codes(members["category"])
    base = period_codes * max(len(categories), 1) + category_codes
    for breakdown in (ALL, *breakdowns):
        if breakdown == ALL:
            value_codes = np.zeros(len(members), dtype="int64")
            values = np.array([ALL], dtype=object)
        else:
            value_codes, raw_values = _codes(members[breakdown])
            values = _text(raw_values)
        width = max(len(values), 1)
        distinct_keys, inverse = _dense_rank(base * width + value_codes)
        pair, value = np.divmod(distinct_keys, width)
        period, category = np.divmod(pair, max(len(categories), 1))
        groups = pd.DataFrame(
            {
                "period": periods[period],
                "category": categories[category],
                "breakdown": breakdown,
                "breakdown_value": values[value],
            }
        )
        yield groups, inverse.reshape(-1)


def _count(
    inverse: np.ndarray, size: int, flags: np.ndarray, units: np.ndarray | None
) -> np.ndarray:
    if units is None:
        return np.bincount(inverse[flags], minlength=size)
    width = int(units.max()) + 1 if len(units) else 1
    pairs = distinct(inverse[flags] * width + units[flags])
    return np.bincount(pairs // width, minlength=size)


def summarise(
    members: pd.DataFrame,
    *,
    measure: str,
    periods: Sequence[Period],
    categories: Sequence[Category],
    breakdowns: Sequence[str],
    unit: str | None = None,
    extra: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Count members into the tidy result frame.

    Numerator = members flagged ``in_numerator``; denominator = members flagged
    ``in_denominator``. With ``unit`` the counts are of distinct values of that column (e.g.
    families) instead of rows. Every period × category gets an "all" row, even when empty; a
    breakdown value gets every category once it has any member in the period.
    """
    members = ensure_columns(members, breakdowns)
    names = [category.name for category in categories]
    numerators = members["in_numerator"].to_numpy(dtype=bool)
    denominators = members["in_denominator"].to_numpy(dtype=bool)
    units = _codes(members[unit])[0] if unit is not None else None
    counted = []
    for groups, inverse in groups_of(members, breakdowns):
        size = len(groups)
        counted.append(
            groups.assign(
                numerator=_count(inverse, size, numerators, units),
                denominator=_count(inverse, size, denominators, units),
            )
        )
    counts = (
        pd.concat(counted, ignore_index=True)
        if counted
        else pd.DataFrame(columns=[*_KEYS, "numerator", "denominator"])
    )

    results = full_grid(counts, periods=periods, categories=names)
    results["numerator"] = results["numerator"].fillna(0).astype("Int64")
    results["denominator"] = results["denominator"].fillna(0).astype("Int64")
    is_rate = results["category"].map({c.name: c.rate for c in categories}).astype(bool)
    results["value"] = percentage(results["numerator"], results["denominator"]).where(is_rate)
    results["denominator"] = results["denominator"].where(is_rate)
    return finish_results(
        results,
        measure=measure,
        periods=periods,
        categories=names,
        breakdowns=breakdowns,
        extra=extra,
    )


def full_grid(
    counts: pd.DataFrame, *, periods: Sequence[Period], categories: Sequence[str]
) -> pd.DataFrame:
    """``counts`` on the grid every measure reports: each period × category has an "all" row,
    and a breakdown value seen in a period gets every category (missing counts are NaN)."""
    cells = pd.concat(
        [
            pd.DataFrame(
                {"period": [p.label for p in periods], "breakdown": ALL, "breakdown_value": ALL}
            ),
            counts[["period", "breakdown", "breakdown_value"]],
        ],
        ignore_index=True,
    ).drop_duplicates()
    grid = cells.merge(pd.DataFrame({"category": list(categories)}), how="cross")
    return grid.merge(counts, on=_KEYS, how="left")


def finish_results(
    results: pd.DataFrame,
    *,
    measure: str,
    periods: Sequence[Period],
    categories: Sequence[str] | None = None,
    breakdowns: Sequence[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Standard column order and a stable sort: period, breakdown, value, category order."""
    by_label = {period.label: period for period in periods}
    results = results.assign(
        measure=measure,
        period_start=results["period"].map(lambda label: by_label[label].start),
        period_end=results["period"].map(lambda label: by_label[label].end),
        **(extra or {}),
    )
    period_order = {period.label: i for i, period in enumerate(periods)}
    breakdown_order = {ALL: 0, **{b: i + 1 for i, b in enumerate(breakdowns or ())}}
    order = pd.DataFrame(
        {
            "p": results["period"].map(period_order),
            "b": results["breakdown"].map(breakdown_order).fillna(len(breakdown_order)),
            "v": results["breakdown_value"],
            "c": results["category"].map({c: i for i, c in enumerate(categories or [])})
            if categories is not None
            else 0,
        }
    )
    results = results.loc[order.sort_values(["p", "b", "v", "c"], kind="stable").index]
    columns = RESULT_COLUMNS + [c for c in results.columns if c not in RESULT_COLUMNS]
    return results[columns].reset_index(drop=True)


def group_stats(
    members: pd.DataFrame,
    *,
    breakdowns: Sequence[str],
    value: str,
    stats: dict[str, str],
    decimals: int | None = 1,
) -> pd.DataFrame:
    """Statistics (e.g. median, mean) of a member column by period, category and breakdown, in
    the same groups as ``summarise``, to merge onto its results."""
    members = ensure_columns(members, breakdowns)
    values = members[value].astype("float64").reset_index(drop=True)
    parts = []
    for groups, inverse in groups_of(members, breakdowns):
        computed = values.groupby(inverse).agg(list(stats.values()))
        computed.columns = list(stats)
        parts.append(pd.concat([groups, computed.reindex(range(len(groups)))], axis=1))
    table = pd.concat(parts, ignore_index=True)
    if decimals is not None:
        for name in stats:
            table[name] = table[name].astype("float64").round(decimals)
    return table


def finish_members(
    members: pd.DataFrame, *, measure: str, breakdowns: Sequence[str], details: Sequence[str] = ()
) -> pd.DataFrame:
    """Standard column order for drill-down rows; breakdown and detail columns follow."""
    members = ensure_columns(members.assign(measure=measure), [*MEMBER_COLUMNS, *breakdowns])
    columns = [*MEMBER_COLUMNS, *breakdowns, *[d for d in details if d in members.columns]]
    return members[columns].reset_index(drop=True)


def merge_stats(results: pd.DataFrame, stats: pd.DataFrame) -> pd.DataFrame:
    """Results with the statistics of their group added (NaN where the group is empty)."""
    return results.merge(stats, on=_KEYS, how="left")


def as_records(frame: pd.DataFrame, id_column: str, record_type: str) -> pd.DataFrame:
    """Rows of ``frame`` as drill-down records: the id column becomes ``record_id``."""
    return frame.rename(columns={id_column: "record_id"}).assign(record_type=record_type)


def measure_result(
    members: pd.DataFrame,
    *,
    measure: str,
    params: MeasureParams,
    periods: Sequence[Period],
    categories: Sequence[Category],
    details: Sequence[str] = (),
    unit: str | None = None,
    extra: dict[str, Any] | None = None,
) -> MeasureResult:
    """What every measure ends with: its members counted by ``summarise`` over the params'
    breakdowns, the params as stored, and the drill-down in standard column order."""
    results = summarise(
        members,
        measure=measure,
        periods=periods,
        categories=categories,
        breakdowns=params.breakdowns,
        unit=unit,
        extra=extra,
    )
    return MeasureResult(
        measure,
        params.to_dict(),
        results,
        finish_members(members, measure=measure, breakdowns=params.breakdowns, details=details),
    )


def with_stats(
    results: pd.DataFrame,
    members: pd.DataFrame,
    *,
    breakdowns: Sequence[str],
    value: str,
    stats: dict[str, str],
) -> pd.DataFrame:
    """``results`` with statistics of a member column per line (NaN where there are none)."""
    if members.empty:
        return results.assign(**dict.fromkeys(stats, float("nan")))
    table = group_stats(members, breakdowns=breakdowns, value=value, stats=stats)
    return merge_stats(results, table)
