"""Calendar rules: month arithmetic with clamping, working days, periods, rounding."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from reporting.measures import dates
from reporting.measures.base import percentage, ratio
from tests.reporting import d


def shifted(day: str, n: int) -> str:
    return dates.add_months(pd.Series([pd.Timestamp(day)]), n).iloc[0].date().isoformat()


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2024-01-31", 1, "2024-02-29"),  # leap year: clamped to 29 Feb
        ("2023-01-31", 1, "2023-02-28"),  # common year: clamped to 28 Feb
        ("2023-08-31", 6, "2024-02-29"),  # the KPIS example, leap year
        ("2022-08-31", 6, "2023-02-28"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2023-02-28", 12, "2024-02-28"),  # not 29 Feb: same day of month
        ("2023-03-31", 6, "2023-09-30"),
        ("2024-01-15", 6, "2024-07-15"),
        ("2024-12-31", 2, "2025-02-28"),
        ("2024-03-31", -1, "2024-02-29"),
    ],
)
def test_add_months_clamps_to_month_end(day, months, expected):
    assert shifted(day, months) == expected


def test_add_months_keeps_missing_dates_missing():
    result = dates.add_months(pd.Series([pd.NaT, pd.Timestamp("2024-01-31")]), 1)
    assert result.isna().tolist() == [True, False]
    assert result.iloc[1] == pd.Timestamp("2024-02-29")


def test_add_months_per_row_steps():
    result = dates.add_months(
        pd.Series(pd.to_datetime(["2024-01-31", "2024-01-31"])), np.array([1, 2])
    )
    assert [x.date().isoformat() for x in result] == ["2024-02-29", "2024-03-31"]


def test_shift_month_matches_vectorised_version():
    for day in ("2023-08-31", "2024-01-31", "2024-02-29", "2023-05-15"):
        for n in (-13, -1, 1, 6, 12, 25):
            assert dates.shift_month(d(day), n).isoformat() == shifted(day, n)


def test_within_days_after_is_strictly_after_and_inclusive_at_the_end():
    # closure 2024-01-31: day 42 is 2024-03-13 (29 days of February 2024)
    closed = pd.Series(pd.to_datetime(["2024-01-31"] * 4))
    event = pd.Series(pd.to_datetime(["2024-01-31", "2024-02-01", "2024-03-13", "2024-03-14"]))
    assert dates.within_days_after(closed, event, 42).tolist() == [False, True, True, False]


def test_within_months_after_uses_clamped_months():
    # 31 Aug 2023 + 6 months = 29 Feb 2024
    closed = pd.Series(pd.to_datetime(["2023-08-31"] * 3))
    event = pd.Series(pd.to_datetime(["2024-02-28", "2024-02-29", "2024-03-01"]))
    assert dates.within_months_after(closed, event, 6).tolist() == [True, True, False]


class TestWorkingDays:
    def count(self, start: str, end: str) -> int:
        result = dates.working_days_after(
            pd.Series([pd.Timestamp(start)]), pd.Series([pd.Timestamp(end)])
        )
        return int(result.iloc[0])

    def test_easter_2024(self):
        # Thu 28 Mar → Tue 2 Apr: Good Friday 29 Mar, weekend, Easter Monday 1 Apr → only 2 Apr
        assert self.count("2024-03-28", "2024-04-02") == 1
        # Thu 28 Mar → Thu 4 Apr: 2, 3, 4 April
        assert self.count("2024-03-28", "2024-04-04") == 3

    def test_christmas_2023(self):
        # Fri 22 Dec → Thu 28 Dec: weekend, Christmas Mon 25, Boxing Day Tue 26 → 27, 28
        assert self.count("2023-12-22", "2023-12-28") == 2

    def test_substitute_and_one_off_bank_holidays_come_from_the_library(self):
        # Christmas 2022 fell on a Sunday: Tuesday 27 Dec 2022 was the substitute holiday
        assert self.count("2022-12-23", "2022-12-28") == 1
        # The coronation bank holiday, Monday 8 May 2023
        assert self.count("2023-05-05", "2023-05-09") == 1

    def test_same_day_is_zero_and_a_weekend_start_counts_from_monday(self):
        assert self.count("2024-04-10", "2024-04-10") == 0
        assert self.count("2024-04-13", "2024-04-15") == 1  # Saturday → Monday

    def test_missing_dates_give_no_count(self):
        result = dates.working_days_after(
            pd.Series([pd.Timestamp("2024-04-10"), pd.NaT]),
            pd.Series([pd.NaT, pd.Timestamp("2024-04-10")]),
        )
        assert result.isna().all()


def test_open_on_and_open_at_end_of():
    started = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-01", "2024-04-01", "2024-01-01"]))
    ended = pd.Series(pd.to_datetime(pd.Series(["2024-03-31", None, None, "2024-03-30"])))
    day = pd.Timestamp("2024-03-31")
    # ended on the day: open on it, but not once it is over
    assert dates.open_on(started, ended, day).tolist() == [True, True, False, False]
    assert dates.open_at_end_of(started, ended, day).tolist() == [False, True, False, False]


class TestPeriods:
    def test_month_ends_on_its_last_day(self):
        february = dates.month(2024, 2)
        assert (february.start, february.end, february.label) == (
            d("2024-02-01"),
            d("2024-02-29"),
            "2024-02",
        )

    def test_months_series(self):
        labels = [p.label for p in dates.months(d("2023-11-15"), d("2024-02-01"))]
        assert labels == ["2023-11", "2023-12", "2024-01", "2024-02"]

    def test_default_reporting_year_is_april_to_march(self):
        year = dates.reporting_year(2023)
        assert (year.start, year.end, year.label) == (d("2023-04-01"), d("2024-03-31"), "2023-24")

    def test_configurable_year_and_quarters(self):
        calendar = dates.reporting_year(2024, start_month=1)
        assert (calendar.start, calendar.end) == (d("2024-01-01"), d("2024-12-31"))
        q = dates.quarters(2023)
        assert [(p.start, p.end) for p in (q[0], q[3])] == [
            (d("2023-04-01"), d("2023-06-30")),
            (d("2024-01-01"), d("2024-03-31")),
        ]
        assert q[3].label == "2023-24 Q4"

    def test_period_refuses_to_end_before_it_starts(self):
        with pytest.raises(ValueError, match="ends before"):
            dates.Period(dt.date(2024, 2, 1), dt.date(2024, 1, 1))


def test_to_dates_accepts_text_dates_and_aware_timestamps():
    result = dates.to_dates(pd.Series(["2024-01-31", None]))
    assert str(result.dtype) == "datetime64[ns]"
    assert result.iloc[0] == pd.Timestamp("2024-01-31") and pd.isna(result.iloc[1])
    assert dates.to_dates([dt.date(2024, 2, 29)]).iloc[0] == pd.Timestamp("2024-02-29")


def test_to_dates_reads_text_of_either_dtype_row_by_row():
    # text as the database sends it (pandas' str dtype or objects), dates repeated and missing,
    # and aware timestamps read as their local day; the index is kept
    for dtype in ("str", object):
        text = pd.Series(
            ["2024-01-31", None, "2024-02-29", "2024-01-31", "", None], index=[5, 4, 3, 2, 1, 0]
        ).replace("", None)
        result = dates.to_dates(text.astype(dtype))
        assert list(result.index) == [5, 4, 3, 2, 1, 0]
        assert [None if pd.isna(x) else x.date().isoformat() for x in result] == [
            "2024-01-31",
            None,
            "2024-02-29",
            "2024-01-31",
            None,
            None,
        ]
    aware = dates.to_dates(pd.Series(["2024-03-01T23:30:00+01:00", "2024-03-01T23:30:00+01:00"]))
    assert list(aware) == [pd.Timestamp("2024-03-01")] * 2
    assert str(dates.to_dates(pd.Series([], dtype=object)).dtype) == "datetime64[ns]"


def test_to_dates_takes_times_of_day_to_midnight_and_leaves_days_as_they_are():
    stamps = pd.Series(
        pd.to_datetime(
            pd.Series(["1960-05-01 00:00", None, "2024-02-29 13:45", "1969-12-31 23:59"])
        )
    ).astype("datetime64[ns]")
    assert list(dates.to_dates(stamps).dt.strftime("%Y-%m-%d %H:%M").fillna("-")) == [
        "1960-05-01 00:00",
        "-",
        "2024-02-29 00:00",
        "1969-12-31 00:00",
    ]
    days = stamps.dt.normalize()
    assert dates.to_dates(days) is days  # nothing to do: the column itself


class TestRounding:
    def test_percentage_one_decimal_half_up(self):
        num = pd.Series([1, 49, 2, 1, 0, 3], dtype="Int64")
        den = pd.Series([8, 400, 3, 3, 5, 0], dtype="Int64")
        # 12.5, 12.25 → 12.3 (half up, not to even), 66.67 → 66.7, 33.33 → 33.3, 0, empty
        result = percentage(num, den).tolist()
        assert result[:5] == [12.5, 12.3, 66.7, 33.3, 0.0]
        assert np.isnan(result[5])

    def test_ratio(self):
        result = ratio(pd.Series([5, 1]), pd.Series([3, 0])).tolist()
        assert result[0] == 1.7 and np.isnan(result[1])


def test_a_period_is_a_month_only_within_one_calendar_month():
    assert dates.month(2024, 2).is_month
    assert not dates.reporting_year(2024).is_month
    # January both ends, a year apart
    assert not dates.Period(dt.date(2024, 1, 1), dt.date(2025, 1, 31)).is_month


def test_add_months_on_many_rows_shifts_each_distinct_day_alike():
    # over 4,096 rows the distinct days are shifted once each; the answer is the same
    days = pd.to_datetime(
        pd.Series(["2023-08-31", "2024-01-31", None, "2024-02-29", "2023-12-15"] * 1000)
    )
    shifted = dates.add_months(days, 6)
    assert [None if pd.isna(x) else x.date().isoformat() for x in shifted[:5]] == [
        "2024-02-29",
        "2024-07-31",
        None,
        "2024-08-29",
        "2024-06-15",
    ]
    assert shifted.equals(dates.add_months(days, np.full(len(days), 6)))
    assert list(shifted.index) == list(days.index)
