"""Calendar rules shared by every measure: periods, calendar months, working days, open-on-date.

Dates inside measures are ``datetime64[ns]`` columns at midnight (no time, no zone); ``to_dates``
turns whatever the caller has (strings, ``datetime.date``, other units) into that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import holidays
import numpy as np
import pandas as pd

DATE_DTYPE: Final = "datetime64[ns]"


@dataclass(frozen=True)
class Period:
    """A reporting period, both ends inclusive (a month ends on its last day)."""

    start: dt.date
    end: dt.date
    label: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"Period ends before it starts: {self.start} > {self.end}")
        if not self.label:
            object.__setattr__(self, "label", f"{self.start.isoformat()}..{self.end.isoformat()}")

    @property
    def start_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.start)

    @property
    def end_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.end)

    @property
    def is_month(self) -> bool:
        """Within one calendar month (a monthly series' period, not a year or a cohort window)."""
        return (self.start.year, self.start.month) == (self.end.year, self.end.month)

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "start": self.start.isoformat(), "end": self.end.isoformat()}


def month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def shift_month(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, the day of month clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    first = dt.date(index // 12, index % 12 + 1, 1)
    return first.replace(day=min(day.day, month_end(first).day))


def month(year: int, month_number: int) -> Period:
    first = dt.date(year, month_number, 1)
    return Period(first, month_end(first), f"{year:04d}-{month_number:02d}")


def months(first: dt.date, last: dt.date) -> list[Period]:
    """Every calendar month from the one containing ``first`` to the one containing ``last``."""
    result = []
    current = first.replace(day=1)
    while current <= last:
        result.append(month(current.year, current.month))
        current = shift_month(current, 1)
    return result


def reporting_year(first_year: int, start_month: int = 4) -> Period:
    """The reporting year starting in ``first_year`` (default 1 April to 31 March: "2023-24")."""
    start = dt.date(first_year, start_month, 1)
    end = shift_month(start, 12) - dt.timedelta(days=1)
    label = f"{first_year}-{(first_year + 1) % 100:02d}" if start_month != 1 else f"{first_year}"
    return Period(start, end, label)


def quarters(first_year: int, start_month: int = 4) -> list[Period]:
    """The four quarters of a reporting year ("2023-24 Q1" is April to June by default)."""
    year = reporting_year(first_year, start_month)
    result = []
    for number in range(4):
        start = shift_month(year.start, 3 * number)
        end = shift_month(start, 3) - dt.timedelta(days=1)
        result.append(Period(start, end, f"{year.label} Q{number + 1}"))
    return result


def to_dates(values: pd.Series | Sequence[Any]) -> pd.Series:
    """Any date-like column as ``datetime64[ns]`` at midnight; missing values become NaT."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if series.dtype != DATE_DTYPE:
        series = pd.to_datetime(series)
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_localize(None)
        series = series.astype(DATE_DTYPE)
    if _at_midnight(series):  # as read: measures pass the same columns on many times
        return series
    return series.dt.normalize()


_NANOSECONDS_A_DAY = np.int64(86_400_000_000_000)
_NAT = np.iinfo("int64").min


def _at_midnight(series: pd.Series) -> bool:
    """Whether every value of a ``datetime64[ns]`` column is a day (or missing)."""
    stamps = series.to_numpy().view("int64")
    return not ((stamps % _NANOSECONDS_A_DAY != 0) & (stamps != _NAT)).any()


def coerce_dates(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of ``frame`` with the named columns (those present) as dates.

    A shallow copy: pandas' copy-on-write keeps the caller's frame unchanged, and a deep copy
    of a million-row frame's text columns cost more than the measures' own work.
    """
    frame = frame.copy(deep=False)
    for column in columns:
        if column in frame.columns:
            frame[column] = to_dates(frame[column])
    return frame


def _as_day_array(values: pd.Series | np.ndarray) -> np.ndarray:
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    return array.astype("datetime64[D]")


def add_months(values: pd.Series, months: int | np.ndarray | pd.Series) -> pd.Series:
    """Calendar months with the day of month clamped to the month's end (31 Aug + 6 = 29 Feb 2024).

    Vectorised; NaT stays NaT.
    """
    days = _as_day_array(values)
    step = months.to_numpy() if isinstance(months, pd.Series) else months
    index = values.index if isinstance(values, pd.Series) else None
    if np.ndim(step) == 0 and len(days) > 4096:  # millions of rows, a few thousand days
        codes, distinct = pd.factorize(days, use_na_sentinel=True)
        shifted = _shift_months(np.asarray(distinct, dtype="datetime64[D]"), step)
        result = np.append(shifted, np.datetime64("NaT", "D"))[codes]
    else:
        result = _shift_months(days, step)
    return pd.Series(result, index=index).astype(DATE_DTYPE)


def _shift_months(days: np.ndarray, step: int | np.ndarray) -> np.ndarray:
    month_starts = days.astype("datetime64[M]")
    day_offset = (days - month_starts.astype("datetime64[D]")).astype("int64")
    target = month_starts + np.asarray(step, dtype="int64").astype("timedelta64[M]")
    target_start = target.astype("datetime64[D]")
    month_length = (
        (target + np.timedelta64(1, "M")).astype("datetime64[D]") - target_start
    ).astype("int64")
    offset = np.minimum(day_offset, month_length - 1)
    result = target_start + np.where(np.isnat(days), 0, offset).astype("timedelta64[D]")
    return np.where(np.isnat(days), np.datetime64("NaT"), result)


def add_days(values: pd.Series, days: int) -> pd.Series:
    return values + pd.Timedelta(days=days)


@lru_cache(maxsize=32)
def bank_holidays(first_year: int, last_year: int) -> np.ndarray:
    """England-and-Wales bank holidays from the maintained ``holidays`` calendar."""
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return np.array(sorted(calendar.keys()), dtype="datetime64[D]")


def working_days_after(start: pd.Series, end: pd.Series) -> pd.Series:
    """Working days D with start < D ≤ end (0 when end is the start day; negative if end < start).

    Weekends and England-and-Wales bank holidays are not working days. Missing dates give NA.
    """
    first = _as_day_array(start)
    last = _as_day_array(end)
    known = ~(np.isnat(first) | np.isnat(last))
    counts = np.zeros(len(first), dtype="int64")
    if known.any():
        years = np.concatenate([first[known], last[known]]).astype("datetime64[Y]").astype(int)
        calendar = np.busdaycalendar(
            weekmask="1111100",
            holidays=bank_holidays(int(years.min()) + 1970, int(years.max()) + 1970),
        )
        one = np.timedelta64(1, "D")
        counts[known] = np.busday_count(first[known] + one, last[known] + one, busdaycal=calendar)
    index = start.index if isinstance(start, pd.Series) else None
    return pd.Series(counts, index=index, dtype="Int64").mask(~known)


def within_days_after(start: pd.Series, event: pd.Series, days: int) -> pd.Series:
    """KPIS convention: start < event ≤ start + days. Missing dates are not within."""
    return ((event > start) & (event <= start + pd.Timedelta(days=days))).fillna(False)


def within_months_after(start: pd.Series, event: pd.Series, months: int) -> pd.Series:
    """KPIS convention: start < event ≤ start + months (calendar, clamped)."""
    return ((event > start) & (event <= add_months(start, months))).fillna(False)


def open_on(started: pd.Series, ended: pd.Series, day: pd.Series | pd.Timestamp) -> pd.Series:
    """Open at some time on ``day``: started on or before it and not ended before it."""
    return (started <= day) & (ended.isna() | (ended >= day))


def open_at_end_of(
    started: pd.Series, ended: pd.Series, day: pd.Series | pd.Timestamp
) -> pd.Series:
    """Still open when ``day`` is over (a record that ended on ``day`` is not): period-end
    snapshots such as caseload and overdue reviews."""
    return (started <= day) & (ended.isna() | (ended > day))
