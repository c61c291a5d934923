"""What a recompute computes: the periods, the partitions workers share, every measure with its
parameters, and the turning of a ``MeasureResult`` into the rows ``KpiValue`` and ``KpiMember``
store. Pure pandas over ``ReportingData``; the writing is in ``reporting.services``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reporting import measures as m
from reporting.measures.base import MeasureResult, factorize
from reporting.measures.dates import Period, months, reporting_year, shift_month
from reporting.models import MAX_SPAN_MONTHS
from reporting.selectors import ReportingData

DEFAULT_MONTHS = 24
# Measures whose cohort tables councils report by year as well as by month.
YEARLY = ("RR2", "RR3")


# What each measure costs to compute and store, in seconds on ``make bench-report`` (December
# 2026, one process, measure by measure): over one month (mostly work that does not depend on
# the periods: each task pays it again), over all 24 months, and for the measures with yearly
# cohort tables, over one whole reporting year besides; then the PbR scan. Only the ratios
# matter: they weigh the partitions, so workers take the largest first and finish together.
COSTS = {
    "RR1": (0.2, 3.4),
    "RR2": (0.4, 4.1),
    "RR3": (0.3, 0.6),
    "RR4": (0.1, 0.7),
    "RR5": (0.3, 2.4),
    "ESC": (0.2, 0.7),
    "T1": (0.0, 0.1),
    "T2": (0.1, 1.2),
    "T3": (0.0, 0.2),
    "O1": (0.1, 3.6),
    "O2": (0.1, 2.6),
    "O3": (0.4, 2.0),
    "O4": (0.1, 1.2),
    "C1": (0.3, 7.3),
    "F1": (0.1, 0.1),
}
YEAR_COSTS = {"RR2": 1.6, "RR3": 0.4}
PBR_COST = 12.9
# The measures are split in three tasks of about equal cost (the caseload alone costs more
# than any other measure), so that workers finish a run together: the smaller the last tasks,
# the less time one worker works alone at the end.
MEASURE_GROUPS = (
    ("RR2", "RR3", "RR5"),
    ("RR1", "ESC", "C1", "T1", "T3", "F1"),
    ("RR4", "T2", "O1", "O2", "O3", "O4"),
)


@dataclass(frozen=True)
class Partition:
    """One task's share of a run: some measures (all if none are named) over some periods,
    or the PbR scan."""

    key: str
    kind: str  # "periods" or "pbr"
    months: tuple[Period, ...] = ()
    years: tuple[Period, ...] = ()
    measures: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "months": [p.to_dict() for p in self.months],
            "years": [p.to_dict() for p in self.years],
            "measures": list(self.measures),
        }

    def weight(self) -> float:
        """Roughly how many seconds the partition takes, to hand out the largest first. A
        year's cohort holds the closures of the year up to its last month."""
        if self.kind == "pbr":
            return PBR_COST
        codes = self.measures or tuple(MEASURES)
        seconds = 0.0
        for code in codes:
            fixed, months = COSTS[code]
            seconds += fixed + (months - fixed) * max(len(self.months) - 1, 0) / (
                DEFAULT_MONTHS - 1
            )
        per_year = sum(YEAR_COSTS.get(code, 0) for code in codes)
        last = max((month.end for month in self.months), default=None)
        for year in self.years:
            end = min(year.end, last) if last else year.end
            seconds += per_year * ((end - year.start).days + 1) / ((year.end - year.start).days + 1)
        return seconds

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Partition:
        def periods(items: list[dict[str, str]]) -> tuple[Period, ...]:
            return tuple(
                Period(
                    dt.date.fromisoformat(item["start"]),
                    dt.date.fromisoformat(item["end"]),
                    item["label"],
                )
                for item in items
            )

        return cls(
            data["key"],
            data["kind"],
            periods(data["months"]),
            periods(data["years"]),
            tuple(data.get("measures", ())),
        )


# The most reporting years one task computes, by default (``REPORT_RUN_YEARS_PER_TASK``). A
# task pays each of its measures' fixed work (the closures prepared, CSC involvements
# matched…) once, and its drill-down rows run on across year ends: with three, the nightly 24
# months (three reporting years at most) are one span, where a task per year paid that work
# three times and stored 5 % more rows. Fewer years a task make more, smaller tasks, for a
# council with more workers than groups of measures.
YEARS_PER_TASK = 3


def partitions(
    cutoff: dt.date, month_count: int = DEFAULT_MONTHS, years_per_task: int = YEARS_PER_TASK
) -> list[Partition]:
    """The monthly series ending with the cut-off's month, split into spans of whole
    reporting years (each span also computing the yearly cohort tables of its years) and by
    group of measures, then the PbR scan."""
    if years_per_task < 1:
        raise ValueError("A task computes at least one reporting year")
    first = shift_month(cutoff.replace(day=1), -(month_count - 1))
    series = months(first, cutoff)
    by_year: dict[int, list[Period]] = {}
    for period in series:
        start_year = period.start.year if period.start.month >= 4 else period.start.year - 1
        by_year.setdefault(start_year, []).append(period)
    years = sorted(by_year)
    spans = [years[i : i + years_per_task] for i in range(0, len(years), years_per_task)]
    parts = []
    for span in spans:
        labels = [reporting_year(year).label for year in span]
        name = labels[0] if len(labels) == 1 else f"{labels[0]} to {labels[-1]}"
        parts += [
            Partition(
                f"{name} {','.join(group)}",
                "periods",
                tuple(month for year in span for month in by_year[year]),
                tuple(reporting_year(year) for year in span),
                group,
            )
            for group in MEASURE_GROUPS
        ]
    return [*parts, Partition("pbr", "pbr")]


def params_hash(params: dict[str, Any]) -> str:
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


Compute = Callable[[ReportingData, Sequence[Period]], MeasureResult]


def _shared(data: ReportingData, name: str, make: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """A frame derived from the loaded data that several measures and every partition need,
    worked out once per loaded data in each process. Not before a run's processes fork: the
    parent would work alone while a core idles, and each child takes under a second."""
    if name not in data.derived:
        data.derived[name] = make()
    return data.derived[name]


def _person_families(data: ReportingData) -> pd.DataFrame:
    return _shared(data, "person_families", lambda: m.person_families(data.memberships))


def _csc_referrals(data: ReportingData) -> pd.DataFrame:
    return _shared(data, "csc_referrals", lambda: m.csc_referral_events(data.csc))


def _team_targets(data: ReportingData) -> pd.DataFrame:
    return data.teams[["team", "caseload_target"]]


MEASURES: dict[str, Compute] = {
    "RR1": lambda d, p: m.rr1_csc_referral_after_closure(
        d.episodes, d.csc, periods=p, referrals=_csc_referrals(d)
    ),
    "RR2": lambda d, p: m.rr2_reopened_after_closure(
        d.episodes, d.csc, periods=p, referrals=_csc_referrals(d)
    ),
    "RR3": lambda d, p: m.rr3_step_down_status(
        d.episodes, d.csc, periods=p, transitions=d.transitions, referrals=_csc_referrals(d)
    ),
    "RR4": lambda d, p: m.rr4_csc_rereferral(
        d.csc, periods=p, families=_person_families(d), referrals=_csc_referrals(d)
    ),
    "RR5": lambda d, p: m.rr5_early_help_rereferral(d.episodes, periods=p),
    "ESC": lambda d, p: m.esc_steps(d.transitions, periods=p),
    "T1": lambda d, p: m.t1_contact_timeliness(d.referrals, periods=p),
    "T2": lambda d, p: m.t2_assessment_timeliness(d.assessments, periods=p),
    "T3": lambda d, p: m.t3_reviews_overdue(d.plans, d.reviews, periods=p),
    "O1": lambda d, p: m.o1_closure_reasons(d.episodes, periods=p),
    "O2": lambda d, p: m.o2_duration(d.episodes, periods=p),
    "O3": lambda d, p: m.o3_need_levels(d.assessments, d.needs, periods=p, levels=d.levels),
    "O4": lambda d, p: m.o4_partner_led(d.assessments, periods=p),
    "C1": lambda d, p: m.c1_caseload(d.episodes, periods=p, teams=_team_targets(d)),
    "F1": lambda d, p: m.f1_referral_conversion(d.referrals, d.episodes, periods=p),
}

# The member column that dates each record, and a short column shown beside it.
RECORD_ON = {
    "RR1": "closed_on",
    "RR2": "closed_on",
    "RR3": "step_down_on",
    "RR4": "referral_on",
    "RR5": "started_on",
    "ESC": "decided_on",
    "T1": "received_on",
    "T2": "completed_on",
    "T3": "review_due_on",
    "O1": "ended_on",
    "O2": "ended_on",
    "O3": "closed_on",
    "O4": "completed_on",
    "C1": "started_on",
    "F1": "received_on",
}
NOTE = {
    "RR2": "destination",
    "RR3": "status",
    "RR4": "kind",
    "ESC": "direction",
    "O1": "closure_category",
    "O2": "end_reason_category",
    "O4": "lead_organisation_kind",
    "F1": "decision",
}
TEXT_COLUMNS = {
    "locality": "locality",
    "team": "team",
    "service": "service",
    "source": "source",
    "practitioner": "lead_practitioner",
}
VALUE_COLUMNS = [
    "measure",
    "params_hash",
    "params",
    "period_label",
    "period_start",
    "period_end",
    "breakdown",
    "breakdown_value",
    "category",
    "category_bit",
    "numerator",
    "denominator",
    "value",
    "extra",
]
MEMBER_COLUMNS = [
    "period_start",
    "period_end",
    "span_end",
    "record_type",
    "record_id",
    "family_id",
    "child_id",
    "numerator_mask",
    "denominator_mask",
    *TEXT_COLUMNS,
    "record_on",
    "related_type",
    "related_id",
    "related_on",
    "note",
]
_RESULT_FIXED = {
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
}


def _json_plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):  # a day
        return value.strftime("%Y-%m-%d")
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value)
    return value


def json_objects(frame: pd.DataFrame, *, keep_missing: bool = False) -> np.ndarray:
    """Each row as a JSON object of its cells, in column order, as ``json.dumps`` writes it;
    a missing cell leaves its key out (``keep_missing``: is null); timestamps are days. Built
    column by column, each distinct value encoded once, and joined once per row: a run has
    tens of thousands of values and hundreds of thousands of claims, with few distinct cells.
    """
    columns = [np.full(len(frame), "", dtype=object)]
    for name in frame.columns:
        codes, uniques = pd.factorize(frame[name], use_na_sentinel=True)
        key = f", {json.dumps(name)}: "
        texts = [key + json.dumps(_json_plain(value)) for value in uniques]
        absent = f"{key}null" if keep_missing else ""
        columns.append(np.array([*texts, absent], dtype=object)[codes])  # -1: missing
    return np.array(
        ["{" + "".join(cells)[2:] + "}" for cells in zip(*columns, strict=True)], dtype=object
    )


def value_rows(result: MeasureResult) -> pd.DataFrame:
    """``KpiValue`` columns from a result: extras (target, medians…) become the JSON column,
    each category gets its bit (its place in the measure's line order)."""
    results = result.results
    digest = params_hash(result.params)
    bits = {name: bit for bit, name in enumerate(pd.unique(results["category"]))}
    if len(bits) > 52:  # masks are summed in float64 (exact below 2**53)
        raise ValueError(f"{result.measure} has more lines than a member mask can hold")
    extra = json_objects(results[[c for c in results.columns if c not in _RESULT_FIXED]])
    return pd.DataFrame(
        {
            "measure": result.measure,
            "params_hash": digest,
            "params": json.dumps(result.params, sort_keys=True),
            "period_label": results["period"].astype(str).to_numpy(),
            "period_start": pd.to_datetime(results["period_start"]).dt.date.to_numpy(),
            "period_end": pd.to_datetime(results["period_end"]).dt.date.to_numpy(),
            "breakdown": results["breakdown"].astype(str).to_numpy(),
            "breakdown_value": results["breakdown_value"].astype(str).str.slice(0, 100).to_numpy(),
            "category": results["category"].astype(str).to_numpy(),
            "category_bit": results["category"].map(bits).astype("int64").to_numpy(),
            "numerator": results["numerator"].astype("Int64").array,
            "denominator": results["denominator"].astype("Int64").array,
            "value": results["value"].astype("float64").round(1).to_numpy(),
            "extra": extra,
        }
    )[VALUE_COLUMNS]


def _factor(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes of a column of labels, and the labels as text. A categorical's own codes
    are used as they are; other columns are hashed once, as plain objects (faster than
    pandas' string arrays). Millions of members, so no per-row text is made."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype("int64")
        labels = [str(label) for label in values.cat.categories]
        if (codes < 0).any():  # a missing label is a label of its own, as factorize makes it
            codes = np.where(codes < 0, len(labels), codes)
            labels.append("nan")
        return codes, labels
    codes, uniques = factorize(values, na_sentinel=False)
    return codes, [str(label) for label in uniques]


def member_rows(result: MeasureResult, periods: Sequence[Period]) -> pd.DataFrame:
    """``KpiMember`` rows: a record's categories in a period become bits, and a record counted
    alike in consecutive months is one row for the run of months (``period_start`` and
    ``period_end`` its first month, ``span_end`` the last month's end). A caseload counts an
    open episode every month it is open; one row each would store it a dozen times.

    Millions of rows at a large council, so everything is done on integer codes and whole
    columns: dates stay ``datetime64``, text stays categorical until it is written.
    """
    members = result.members
    if members.empty:
        return pd.DataFrame(columns=MEMBER_COLUMNS)
    bits = {name: bit for bit, name in enumerate(pd.unique(result.results["category"].astype(str)))}
    category_codes, categories = _factor(members["category"])
    # a categorical may carry categories no member has (never indexed): any bit will do
    category_bits = np.array([bits.get(name, 0) for name in categories], dtype="int64")
    weight = np.left_shift(np.int64(1), category_bits[category_codes]).astype("float64")
    period_codes, labels = _factor(members["period"])
    type_codes, type_labels = _factor(members["record_type"])
    # categories in text order, so rows sorted by them are in the primary key's order
    types = pd.CategoricalDtype(sorted(set(type_labels)))
    type_codes = types.categories.get_indexer(pd.Index(type_labels))[type_codes]
    record_ids = members["record_id"].to_numpy(dtype="int64")
    width = int(record_ids.max()) + 1
    key = (period_codes.astype("int64") * len(types.categories) + type_codes) * width + record_ids
    group, _ = pd.factorize(key)
    first = np.unique(group, return_index=True)[1]  # group g first appears at first[g]
    size = len(first)
    # One row per record per category, and bits below 2**53, so summing is or-ing exactly.
    numerator = np.bincount(
        group,
        weights=np.where(members["in_numerator"].to_numpy(dtype=bool), weight, 0),
        minlength=size,
    ).astype("int64")
    denominator = np.bincount(
        group,
        weights=np.where(members["in_denominator"].to_numpy(dtype=bool), weight, 0),
        minlength=size,
    ).astype("int64")
    head = members.iloc[first].reset_index(drop=True)
    by_label = {period.label: period for period in periods}
    # labels no member has (a categorical's spare categories) are never indexed: NaT will do
    spans = [by_label.get(x) for x in labels]
    nat = np.datetime64("NaT")
    starts = np.array([p.start if p else nat for p in spans], dtype="datetime64[ns]")
    ends = np.array([p.end if p else nat for p in spans], dtype="datetime64[ns]")
    head_periods = period_codes[first]

    def column(name: str | None) -> pd.Series:
        if name is None or name not in head.columns:
            return pd.Series(pd.NA, index=head.index, dtype="object")
        return head[name]

    def ids(name: str) -> pd.Series:
        if name not in head.columns:  # all missing
            empty = pd.arrays.IntegerArray(np.zeros(len(head), "int64"), np.ones(len(head), bool))
            return pd.Series(empty, index=head.index)
        return head[name].astype("Int64")

    def text(name: str | None) -> pd.Series:
        """As categories (codes and at most 100 characters of each label); missing is ""."""
        if name is None or name not in head.columns:  # "" throughout
            codes = np.zeros(len(head), dtype="int64")
            return pd.Series(
                pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype([""])), index=head.index
            )
        values = head[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy().astype("int64")
            labels = [str(label)[:100] for label in values.cat.categories]
        else:
            found, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
            codes = np.asarray(found, dtype="int64")
            labels = [str(label)[:100] for label in uniques]
        if "" not in labels:
            labels.append("")
        codes = np.where(codes < 0, labels.index(""), codes)
        return pd.Series(
            pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(labels)), index=head.index
        )

    def dates(name: str | None) -> pd.Series:
        values = column(name)
        if values.isna().all():
            return pd.Series(pd.NaT, index=head.index, dtype="datetime64[ns]")
        return pd.to_datetime(values).astype("datetime64[ns]")

    frame = pd.DataFrame(
        {
            "period_start": starts[head_periods],
            "period_end": ends[head_periods],
            "record_type": pd.Categorical.from_codes(type_codes[first], dtype=types),
            "record_id": record_ids[first],
            "family_id": ids("family_id"),
            "child_id": ids("child_id"),
            "numerator_mask": numerator,
            "denominator_mask": denominator,
        }
    )
    for target, source in TEXT_COLUMNS.items():
        frame[target] = text(source)
    frame["record_on"] = dates(RECORD_ON.get(result.measure))
    frame["related_type"] = text("related_type")
    frame["related_id"] = ids("related_id")
    frame["related_on"] = dates("related_on")
    frame["note"] = text(NOTE.get(result.measure))
    frame["span_end"] = frame["period_end"]
    return _month_runs(frame[MEMBER_COLUMNS])


def _comparable(values: pd.Series) -> np.ndarray:
    """A column as an array whose items are equal where the values are (missing equals
    missing): categorical codes, dates as integers, ids with -1 for missing."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy()
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.to_numpy().view("int64")  # NaT is one integer, so equal to itself
    if isinstance(values.dtype, pd.Int64Dtype):
        return values.fillna(-1).to_numpy(dtype="int64")  # ids are never negative
    return values.to_numpy()


def _month_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of one record in consecutive months with the same content merged into one row per
    run, at most ``MAX_SPAN_MONTHS`` long. Years and other periods are never merged.

    Rows are compared in run order through plain arrays, and only each run's first row is
    taken from the frame: a caseload's million monthly rows become a few hundred thousand."""
    if frame.empty:
        return frame
    starts = frame["period_start"].to_numpy()
    ends = frame["period_end"].to_numpy()
    monthly = starts.astype("datetime64[M]") == ends.astype("datetime64[M]")
    # a record's months together, in order, apart from its other periods
    order = np.lexsort(
        (starts, ~monthly, frame["record_id"].to_numpy(), _factor(frame["record_type"])[0])
    )
    starts, ends, monthly = starts[order], ends[order], monthly[order]
    follows = np.concatenate([[False], starts[1:] == ends[:-1] + np.timedelta64(1, "D")])
    joins = follows & monthly & np.concatenate([[False], monthly[:-1]])
    for column in frame.columns:
        if column not in ("period_start", "period_end", "span_end"):
            values = _comparable(frame[column])[order]
            joins[1:] &= values[1:] == values[:-1]
    # Cut runs every MAX_SPAN_MONTHS rows: a row's place in its run, from the run's first row.
    first = np.maximum.accumulate(np.where(~joins, np.arange(len(frame)), 0))
    joins &= (np.arange(len(frame)) - first) % MAX_SPAN_MONTHS != 0
    heads = np.flatnonzero(~joins)
    last = np.append(heads[1:], len(frame)) - 1
    merged = frame.iloc[order[heads]].reset_index(drop=True)
    merged["span_end"] = ends[last]
    return merged


def compute_periods(
    data: ReportingData, partition: Partition, measures: Sequence[str] | None = None
) -> Iterator[tuple[MeasureResult, list[Period]]]:
    """The partition's measures (or ``measures``) over its months (the yearly ones over its
    years too), one at a time, so a caller can store each before the next is computed."""
    for code in measures or partition.measures or MEASURES:
        periods = list(partition.months)
        if code in YEARLY:
            periods += list(partition.years)
        if periods:
            yield MEASURES[code](data, periods), periods
