"""Turning a measure's members into drill-down rows: codes, bits and periods."""

import datetime as dt

import numpy as np
import pandas as pd

from reporting.measures.base import MeasureResult
from reporting.measures.dates import Period
from reporting.recompute import _factor, member_rows

JAN = Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31), "2025-01")
FEB = Period(dt.date(2025, 2, 1), dt.date(2025, 2, 28), "2025-02")


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
