"""The shared summariser: numbers always match their drill-down, in every breakdown."""

import numpy as np
import pandas as pd
import pytest

from reporting.measures import (
    o1_closure_reasons,
    rr1_csc_referral_after_closure,
    rr2_reopened_after_closure,
)
from reporting.measures.base import (
    Category,
    MeasureParams,
    _dense_rank,
    factorize,
    in_periods,
    summarise,
)
from reporting.measures.dates import Period, month, reporting_year
from tests.reporting import csc, cscs, d, episode, episodes, line, numbers

PERIODS = [month(2024, 1), month(2024, 2)]


def members(rows):
    return pd.DataFrame(
        rows, columns=["period", "category", "child_id", "team", "in_numerator", "in_denominator"]
    )


class TestSummarise:
    def test_every_category_for_every_breakdown_value_and_unknown(self):
        m = members(
            [
                ("2024-01", "a", 1, "T1", True, True),
                ("2024-01", "a", 2, None, False, True),
                ("2024-01", "b", 1, "T1", True, False),
            ]
        )
        result = summarise(
            m,
            measure="X",
            periods=PERIODS,
            categories=[Category("a"), Category("b", rate=False)],
            breakdowns=["team"],
        )
        assert numbers(line(result, "a", period="2024-01")) == (1, 2, 50.0)
        assert numbers(line(result, "b", period="2024-01")) == (1, None, None)
        # February has nobody: both lines still there, rate without a value
        assert numbers(line(result, "a", period="2024-02")) == (0, 0, None)
        # T1 has both lines; the missing team is reported as "unknown"
        assert numbers(line(result, "a", period="2024-01", breakdown="team", value="T1")) == (
            1,
            1,
            100.0,
        )
        unknown = line(result, "b", period="2024-01", breakdown="team", value="unknown")
        assert numbers(unknown) == (0, None, None)
        assert list(result.columns[:10]) == [
            "measure", "period", "period_start", "period_end", "breakdown", "breakdown_value",
            "category", "numerator", "denominator", "value",
        ]  # fmt: skip
        assert result.loc[0, "period_end"] == d("2024-01-31")

    def test_distinct_unit(self):
        m = members(
            [
                ("2024-01", "a", 1, "T1", True, True),
                ("2024-01", "a", 1, "T2", True, True),
                ("2024-01", "a", 2, "T2", False, True),
            ]
        )
        result = summarise(
            m, measure="X", periods=PERIODS[:1], categories=[Category("a")],
            breakdowns=["team"], unit="child_id",
        )  # fmt: skip
        # child 1 counts once overall, and once in each team it appears in
        assert numbers(line(result, "a")) == (1, 2, 50.0)
        assert numbers(line(result, "a", breakdown="team", value="T2")) == (1, 2, 50.0)


def test_params_serialise():
    assert MeasureParams().to_dict() == {"breakdowns": ["locality", "team", "service"]}


def drill_down_matches(result):
    """Every result line equals the count of its members, for every breakdown."""
    m = result.members
    for row in result.results.itertuples():
        rows = m[(m["period"] == row.period) & (m["category"] == row.category)]
        if row.breakdown != "all":
            values = (
                rows[row.breakdown].astype("object").where(rows[row.breakdown].notna(), "unknown")
            )
            rows = rows[values.astype(str) == row.breakdown_value]
        assert row.numerator == int(rows["in_numerator"].sum()), row
        if not pd.isna(row.denominator):
            assert row.denominator == int(rows["in_denominator"].sum()), row


@pytest.mark.parametrize("measure", ["rr1", "rr2", "o1"])
def test_numbers_match_their_drill_down(measure):
    eps = episodes(
        episode(1, 1, "2023-10-01", "2024-01-31", team="T1", locality="NORTH"),
        episode(2, 2, "2023-10-01", "2024-02-10", team="T2", locality="NORTH", reason="declined"),
        episode(3, 3, "2023-10-01", "2024-02-20", team="T2", locality="SOUTH", service="YOUTH"),
        episode(4, 3, "2024-03-01", team=None, locality=None),
        episode(5, 4, "2023-10-01", "2024-01-05", team="T1", locality="SOUTH"),
    )
    involvements = cscs(
        csc(1, 1, "referral", "2024-02-15"),
        csc(2, 2, "cin_plan", "2023-12-01"),
        csc(3, 4, "cla", "2024-01-20", source="step_up"),
    )
    window = [Period(d("2024-01-01"), d("2024-02-29"))]
    result = {
        "rr1": lambda: rr1_csc_referral_after_closure(eps, involvements, periods=PERIODS),
        "rr2": lambda: rr2_reopened_after_closure(eps, involvements, periods=window),
        "o1": lambda: o1_closure_reasons(eps, periods=PERIODS),
    }[measure]()
    assert len(result.results) > len(PERIODS)
    drill_down_matches(result)


def test_measures_are_pure_pandas():
    """reporting.measures must not import Django: the functions run anywhere, on any frames."""
    import ast
    import pathlib

    import reporting.measures

    package = pathlib.Path(reporting.measures.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(name.split(".")[0] in {"django", "cases", "earlyhelp"} for name in names)


@pytest.mark.parametrize(
    "cells",
    [
        ["rate"] * 50 + ["excluded"] * 30 + ["rate"] * 20,  # long runs, a label seen again
        ["a"] * 40 + [None] * 40 + [float("nan")] * 40 + ["a"] * 40,  # long runs of missing
        ["episode", None, None, "csc_involvement", float("nan"), "episode"],  # short runs
        [f"team {n % 7}" for n in range(100)],  # no runs at all
        ["x", pd.NA, pd.NA, "y"],  # no truth value between cells
        [],
    ],
)
@pytest.mark.parametrize("na_sentinel", [True, False])
def test_factorize_gives_what_pandas_gives(cells, na_sentinel):
    values = pd.Series(cells, dtype=object)
    codes, labels = factorize(values, na_sentinel=na_sentinel)
    expected_codes, expected_labels = pd.factorize(values.to_numpy(), use_na_sentinel=na_sentinel)
    assert codes.tolist() == list(expected_codes)
    assert [str(x) for x in labels] == [str(x) for x in expected_labels]


@pytest.mark.parametrize(
    "keys",
    [
        [7, 3, 3, 0, 7, 12],  # a small range: counted
        [10**12, 5, 10**12, 5, 42],  # a wide range: hashed
        [],
    ],
)
def test_dense_rank_is_what_numpy_unique_gives(keys):
    array = np.array(keys, dtype="int64")
    distinct, inverse = _dense_rank(array)
    expected, expected_inverse = np.unique(array, return_inverse=True)
    assert distinct.tolist() == expected.tolist()
    assert inverse.tolist() == expected_inverse.reshape(-1).tolist()


def test_in_periods_is_each_period_filtered_in_turn():
    """Overlapping periods (months and the year holding them), a day on each edge, a missing
    day, and rows out of date order: as filtering the frame period by period gives them."""
    days = ["2024-03-31", None, "2024-04-01", "2024-05-15", "2024-04-30", "2025-03-31"]
    days.append("2025-04-01")
    teams = pd.Categorical(list("abcabca"))
    frame = pd.DataFrame({"on": pd.to_datetime(pd.Series(days)), "id": range(7), "team": teams})
    periods = [month(2024, 5), reporting_year(2024), month(2024, 4), month(2025, 3)]

    found = in_periods(frame, "on", periods)

    expected = pd.concat(
        [
            frame[(frame["on"] >= p.start_ts) & (frame["on"] <= p.end_ts)].assign(period=p.label)
            for p in periods
        ],
        ignore_index=True,
    )
    assert list(zip(found["period"], found["id"], strict=True)) == [
        ("2024-05", 3),
        ("2024-25", 2),  # 1 April 2024 to 31 March 2025, each end included
        ("2024-25", 3),
        ("2024-25", 4),
        ("2024-25", 5),
        ("2024-04", 2),
        ("2024-04", 4),
        ("2025-03", 5),
    ]
    pd.testing.assert_frame_equal(found.astype({"period": str}), expected)
    assert list(found["period"].cat.categories) == [p.label for p in periods]
    assert isinstance(found["team"].dtype, pd.CategoricalDtype)
    # no periods, or no row in any: no rows, the columns kept
    assert in_periods(frame, "on", []).empty
    none = in_periods(frame, "on", [month(2023, 1)])
    assert none.empty and list(none.columns) == [*frame.columns, "period"]
