"""Drill-down rows that stand for runs of months: storing some months again replaces just
their coverage, and every month's number still finds exactly its records."""

import datetime as dt

import pandas as pd
import pytest

from reporting import dashboards, services
from reporting.measures.base import MeasureResult
from reporting.measures.dates import months
from reporting.models import KpiMember, KpiValue
from tests.reporting.worlds import CUTOFF, MONTHS

pytestmark = pytest.mark.django_db

JAN_TO_APR = months(dt.date(2025, 1, 1), dt.date(2025, 4, 30))
JAN, FEB, MAR, APR = JAN_TO_APR
COLUMNS = [
    "period",
    "category",
    "record_type",
    "record_id",
    "family_id",
    "child_id",
    "in_numerator",
    "in_denominator",
]


def caseload(counted: dict[str, set[int]]) -> MeasureResult:
    """A result counting the given records (episode ids) in each month's denominator."""
    periods = {p.label: p for p in JAN_TO_APR}
    members = pd.DataFrame(
        [
            {
                "period": label,
                "category": "all",
                "record_type": "episode",
                "record_id": record,
                "family_id": 1,
                "child_id": record,
                "in_numerator": False,
                "in_denominator": True,
            }
            for label, records in counted.items()
            for record in sorted(records)
        ],
        columns=COLUMNS,
    )
    results = pd.DataFrame(
        [
            {
                "period": label,
                "period_start": periods[label].start,
                "period_end": periods[label].end,
                "breakdown": "all",
                "breakdown_value": "all",
                "category": "all",
                "numerator": 0,
                "denominator": len(records),
                "value": float(len(records)),
            }
            for label, records in counted.items()
        ]
    )
    return MeasureResult("C1", {"target": 22}, results, members)


def drill_down() -> dict[str, set[int]]:
    found = {}
    for value in KpiValue.objects.filter(measure="C1").order_by("period_start"):
        records = [m.record_id for m in dashboards.members_of(value)]
        assert len(records) == len(set(records)), "a record listed twice"
        found[value.period_label] = set(records)
    return found


@pytest.fixture
def run(officer):
    return services.report_run_request(actor=officer, data_cutoff=CUTOFF, months=MONTHS)


def store(run, counted, periods) -> None:
    services.kpi_store(run=run, result=caseload(counted), periods=periods)


def test_a_run_of_months_is_one_row_that_every_month_of_it_finds(run):
    counted = {"2025-01": {7, 8}, "2025-02": {7}, "2025-03": {7}, "2025-04": {7}}
    store(run, counted, JAN_TO_APR)
    assert drill_down() == counted
    assert KpiMember.objects.count() == 2  # 7 once for four months, 8 once


def test_storing_some_months_again_leaves_the_others_drill_down_as_it_was(run):
    store(run, {"2025-01": {7, 8}, "2025-02": {7}, "2025-03": {7}, "2025-04": {7}}, JAN_TO_APR)

    # when February and March alone are stored again, with other records
    store(run, {"2025-02": {9}, "2025-03": {9}}, [FEB, MAR])

    # then January and April keep 7 (its row cut before February, and taken up again after
    # March); February and March have only their new records
    assert drill_down() == {
        "2025-01": {7, 8},
        "2025-02": {9},
        "2025-03": {9},
        "2025-04": {7},
    }

    # and storing all four months again leaves exactly what the first store left
    counted = {"2025-01": {7, 8}, "2025-02": {7}, "2025-03": {7}, "2025-04": {7}}
    store(run, counted, JAN_TO_APR)
    assert drill_down() == counted
    assert KpiMember.objects.count() == 2


def test_storing_the_first_months_again_cuts_nothing_after_them(run):
    store(run, {"2025-01": {7}, "2025-02": {7}, "2025-03": {7}, "2025-04": {7}}, JAN_TO_APR)
    store(run, {"2025-01": {8}}, [JAN])
    assert drill_down() == {"2025-01": {8}, "2025-02": {7}, "2025-03": {7}, "2025-04": {7}}
