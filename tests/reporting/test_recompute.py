"""Turning a measure's members into drill-down rows: codes, bits and periods."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from reporting.measures.base import MeasureResult
from reporting.measures.dates import Period, months
from reporting.recompute import (
    COSTS,
    MEASURE_GROUPS,
    MEASURES,
    YEAR_COSTS,
    Partition,
    _factor,
    json_objects,
    member_rows,
    partitions,
)

JAN = Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31), "2025-01")
FEB = Period(dt.date(2025, 2, 1), dt.date(2025, 2, 28), "2025-02")
MAR = Period(dt.date(2025, 3, 1), dt.date(2025, 3, 31), "2025-03")
YEAR = Period(dt.date(2024, 4, 1), dt.date(2025, 3, 31), "2024-25")


def test_factor_reads_a_categoricals_own_codes_spare_categories_and_gaps_included():
    values = pd.Series(["b", None, "a", "b"], dtype=pd.CategoricalDtype(["a", "b", "spare"]))
    codes, labels = _factor(values)
    assert [labels[c] for c in codes] == ["b", "nan", "a", "b"]


def test_factor_hashes_plain_text_once():
    codes, labels = _factor(pd.Series(["x", "y", "x"], dtype="str"))
    assert [labels[c] for c in codes] == ["x", "y", "x"]


def test_members_become_one_row_per_record_and_period_with_their_bits():
    # given record 7 in January's numerator and denominator of line "late", and in February's
    # denominator of line "all"; the period column has a category no member has
    members = pd.DataFrame(
        {
            "period": pd.Categorical(
                ["2025-01", "2025-01", "2025-02"], categories=["2024-12", "2025-01", "2025-02"]
            ),
            "category": ["all", "late", "all"],
            "record_type": ["episode"] * 3,
            "record_id": [7, 7, 7],
            "family_id": [1, 1, 1],
            "child_id": [2, 2, 2],
            "in_numerator": [False, True, False],
            "in_denominator": [True, True, True],
        }
    )
    results = pd.DataFrame({"category": ["all", "late"]})
    result = MeasureResult("RR5", {}, results, members)

    rows = member_rows(result, [JAN, FEB])

    assert list(rows["period_start"]) == [np.datetime64("2025-01-01"), np.datetime64("2025-02-01")]
    assert list(rows["numerator_mask"]) == [0b10, 0]
    assert list(rows["denominator_mask"]) == [0b11, 0b01]
    assert list(rows["record_type"]) == ["episode", "episode"]
    assert list(rows["span_end"]) == [np.datetime64("2025-01-31"), np.datetime64("2025-02-28")]


def counted(entries: list[tuple[str, int, str]], categories=("all",)) -> MeasureResult:
    """A result whose members are (period label, record id, team), in every category's
    denominator."""
    labels = sorted({label for label, _, _ in entries})
    members = pd.DataFrame(
        [
            {
                "period": label,
                "category": category,
                "record_type": "episode",
                "record_id": record,
                "family_id": 1,
                "child_id": record,
                "team": team,
                "in_numerator": False,
                "in_denominator": True,
            }
            for label, record, team in entries
            for category in categories
        ]
    ).astype({"period": pd.CategoricalDtype(labels)})
    return MeasureResult("C1", {}, pd.DataFrame({"category": list(categories)}), members)


def spans(rows: pd.DataFrame) -> list[tuple[object, ...]]:
    return [
        (row.record_id, str(row.period_start.date()), str(row.span_end.date()), row.team)
        for row in rows.itertuples()
    ]


def test_a_record_counted_alike_in_consecutive_months_is_one_row_for_the_run():
    # given record 7 in January, February and March, and record 8 in January and March only
    result = counted(
        [
            ("2025-01", 7, "T1"),
            ("2025-02", 7, "T1"),
            ("2025-03", 7, "T1"),
            ("2025-01", 8, "T1"),
            ("2025-03", 8, "T1"),
        ]
    )
    rows = member_rows(result, [JAN, FEB, MAR])
    # then 7 is one row for the three months; 8's gap keeps its months apart
    assert spans(rows) == [
        (7, "2025-01-01", "2025-03-31", "T1"),
        (8, "2025-01-01", "2025-01-31", "T1"),
        (8, "2025-03-01", "2025-03-31", "T1"),
    ]


def test_a_record_whose_row_changes_starts_a_new_run():
    # given record 7 moving team in February, back in March
    result = counted([("2025-01", 7, "T1"), ("2025-02", 7, "T2"), ("2025-03", 7, "T1")])
    assert spans(member_rows(result, [JAN, FEB, MAR])) == [
        (7, "2025-01-01", "2025-01-31", "T1"),
        (7, "2025-02-01", "2025-02-28", "T2"),
        (7, "2025-03-01", "2025-03-31", "T1"),
    ]


def test_runs_stop_at_twelve_months_and_a_year_is_never_merged():
    # given record 7 in 13 consecutive months and in the reporting year 2024-25
    periods = [*months(dt.date(2024, 4, 1), dt.date(2025, 4, 30)), YEAR]
    result = counted([(period.label, 7, "T1") for period in periods])
    rows = member_rows(result, periods)
    assert spans(rows) == [
        (7, "2024-04-01", "2025-03-31", "T1"),  # April to March: twelve months
        (7, "2025-04-01", "2025-04-30", "T1"),
        (7, "2024-04-01", "2025-03-31", "T1"),  # the year: its own row
    ]
    assert list(rows["period_end"]) == [
        np.datetime64("2024-04-30"),
        np.datetime64("2025-04-30"),
        np.datetime64("2025-03-31"),
    ]


def test_a_run_is_split_by_group_of_measures_over_spans_of_reporting_years_then_pbr():
    parts = partitions(dt.date(2026, 10, 31), month_count=24)
    # Nov 2024 - Oct 2026: three reporting years, one span, in three groups; then the PbR scan
    groups = ["RR2,RR3,RR5", "RR1,ESC,C1,T1,T3,F1", "RR4,T2,O1,O2,O3,O4"]
    assert [p.key for p in parts] == [*(f"2024-25 to 2026-27 {g}" for g in groups), "pbr"]
    # the tasks share the months and the years, and between them have every measure once
    years = ["2024-25", "2025-26", "2026-27"]
    assert all(len(p.months) == 24 and [y.label for y in p.years] == years for p in parts[:3])
    assert tuple(p.measures for p in parts[:3]) == MEASURE_GROUPS
    assert sorted(sum(MEASURE_GROUPS, ())) == sorted(MEASURES) == sorted(COSTS)
    # a task's dictionary names its measures, and old ones (all measures) still read
    assert Partition.from_dict(parts[0].to_dict()) == parts[0]
    whole = {key: value for key, value in parts[0].to_dict().items() if key != "measures"}
    assert Partition.from_dict(whole).measures == ()
    # weighed by what their measures cost, the groups come within a tenth of each other, and
    # the PbR scan goes first
    weights = [p.weight() for p in parts[:3]]
    assert max(weights) / min(weights) < 1.1
    assert max(parts, key=Partition.weight).key == "pbr"
    # a task pays each measure's fixed cost once, whatever its months; the cohort tables weigh
    # whole years of closures, 2024-25's included though only its last 5 months are in the run
    one_month = Partition("one", "periods", months=parts[0].months[:1], measures=("C1",))
    assert one_month.weight() == COSTS["C1"][0]
    cohorts = parts[0].weight() - sum(COSTS[code][1] for code in parts[0].measures)
    assert cohorts == pytest.approx((1 + 1 + 7 / 12) * sum(YEAR_COSTS.values()), rel=0.01)


def test_a_long_backfill_is_split_into_spans_of_three_reporting_years():
    # Nov 2021 - Oct 2026: six reporting years, in two spans
    parts = partitions(dt.date(2026, 10, 31), month_count=60)
    spans = [p.key.rsplit(" ", 1)[0] for p in parts[:-1]]
    assert spans == ["2021-22 to 2023-24"] * 3 + ["2024-25 to 2026-27"] * 3
    first, second = parts[0], parts[3]
    assert (first.months[0].label, first.months[-1].label) == ("2021-11", "2024-03")
    assert (second.months[0].label, second.months[-1].label) == ("2024-04", "2026-10")
    assert [y.label for y in second.years] == ["2024-25", "2025-26", "2026-27"]
    # a run within one reporting year is named by it
    assert partitions(dt.date(2026, 10, 31), month_count=3)[0].key == "2026-27 RR2,RR3,RR5"
    # a task a year, for more workers; never less than a year
    by_year = partitions(dt.date(2026, 10, 31), month_count=24, years_per_task=1)
    assert [p.key.rsplit(" ", 1)[0] for p in by_year[:-1]] == [
        year for year in ("2024-25", "2025-26", "2026-27") for _ in MEASURE_GROUPS
    ]
    assert [len(p.months) for p in by_year[:-1:3]] == [5, 12, 7]
    with pytest.raises(ValueError, match="at least one reporting year"):
        partitions(dt.date(2026, 10, 31), years_per_task=0)


def test_a_values_extras_are_a_json_object_of_what_it_has():
    results = pd.DataFrame(
        {
            "target": pd.array([22, 22, None], dtype="Int64"),
            "median_days": [40.5, float("nan"), 12.0],
            "over": [np.True_, np.False_, None],
            "team": ["North", None, "Zoë's"],
        }
    )
    objects = json_objects(results)
    # in column order, as json.dumps writes them; a missing cell leaves its key out
    assert list(objects) == [
        '{"target": 22, "median_days": 40.5, "over": true, "team": "North"}',
        '{"target": 22, "over": false}',
        '{"median_days": 12.0, "team": "Zo\\u00eb\'s"}',
    ]
    assert [json.loads(text) for text in objects][2] == {"median_days": 12.0, "team": "Zoë's"}
    assert list(json_objects(results[[]])) == ["{}", "{}", "{}"]
    # evidence keeps every key, a missing cell as null, and writes days as ISO dates
    days = pd.DataFrame(
        {"closed_on": pd.to_datetime(pd.Series(["2024-11-15", None])), "met": [True, None]}
    )
    assert list(json_objects(days, keep_missing=True)) == [
        '{"closed_on": "2024-11-15", "met": true}',
        '{"closed_on": null, "met": null}',
    ]
