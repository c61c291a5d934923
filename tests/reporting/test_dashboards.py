"""Dashboard selectors: tiles, series, cohort tables, PbR progress and access-limited drill-down,
each in a fixed number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Family
from reporting import dashboards, services
from reporting.models import FamilyClaim, KpiValue, ProgrammeTarget
from tests.reporting.worlds import CUTOFF, MONTHS

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(eager, world, officer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.report_run_request(actor=officer, data_cutoff=CUTOFF, months=MONTHS)
    return world


def test_tiles_show_the_latest_month_with_target_and_status(
    computed, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        tiles = {tile["measure"]: tile for tile in dashboards.kpi_tiles()}
    rr1 = tiles["RR1"]
    assert (rr1["period"], rr1["value"], rr1["target"]) == ("2026-10", Decimal("50.0"), 20.0)
    assert rr1["status"] == "off_target"  # lower is better: 50 % is above 20 %
    assert tiles["T1"]["status"] == "no_value"  # no requests for support in the period
    assert tiles["C1"]["period"] == "2026-10" and tiles["C1"]["value"] is None


def test_series_and_cohort_tables(computed, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        series = dashboards.monthly_series(measure="RR1")
    assert [(p.period_label, p.numerator, p.denominator) for p in series] == [
        ("2026-08", 0, 0),
        ("2026-09", 0, 2),
        ("2026-10", 1, 2),
    ]
    with django_assert_max_num_queries(2):
        table = dashboards.cohort_table(measure="RR2", period_label="2026-27")
    lines = {row.category: (row.numerator, row.denominator, row.value) for row in table}
    assert [row.category for row in table][:5] == [
        "cohort",
        "excluded",
        "denominator",
        "not_reopened",
        "reopened",
    ]
    assert lines["cohort"] == (2, None, None)
    assert lines["reopened_csc"] == (1, 1, Decimal("100.0"))


def test_drill_down_lists_only_visible_families(computed, django_assert_max_num_queries):
    october = KpiValue.objects.get(
        measure="RR1", period_label="2026-10", breakdown="all", category="rate"
    )
    everyone = Family.objects.all()
    with django_assert_max_num_queries(1):
        numerator = list(dashboards.drill_down(value=october, visible=everyone))
    assert [m.record_id for m in numerator] == [computed["episodes"]["a"].pk]
    assert numerator[0].family.reference == computed["families"]["a"].reference
    denominator = dashboards.drill_down(value=october, visible=everyone, side="denominator")
    assert denominator.count() == 2
    # a viewer who may see family b only sees b's episode, never a's
    only_b = Family.objects.filter(pk=computed["families"]["b"].pk)
    assert list(dashboards.drill_down(value=october, visible=only_b)) == []
    assert [
        m.record_id
        for m in dashboards.drill_down(value=october, visible=only_b, side="denominator")
    ] == [computed["episodes"]["b"].pk]


def test_drill_down_of_a_breakdown_matches_its_number(computed):
    team = computed["episodes"]["a"].team.code
    by_team = KpiValue.objects.get(
        measure="RR1", period_label="2026-10", breakdown="team", breakdown_value=team
    )
    members = dashboards.drill_down(value=by_team, visible=Family.objects.all(), side="denominator")
    assert members.count() == by_team.denominator == 2


def test_pbr_progress_against_the_year_target(computed, officer, django_assert_max_num_queries):
    claim = FamilyClaim.objects.get()
    rule_set = claim.rule_set
    today = timezone.localdate()
    year_start = dt.date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    ProgrammeTarget.objects.create(
        rule_set=rule_set,
        label="this year",
        year_start=year_start,
        year_end=year_start.replace(year=year_start.year + 1) - dt.timedelta(days=1),
        target_families=4,
    )
    services.claim_submit(actor=officer, claims=[claim], reference="B-1")
    with django_assert_max_num_queries(6):
        progress = dashboards.pbr_progress(rule_set=rule_set, today=today)
    assert progress["years"] == [
        {"label": "this year", "target": 4, "submitted": 1, "progress": Decimal("25.0")}
    ]
    assert progress["by_status"] == {"submitted": 1}
    # closed 15 Nov 2024: within the 12 months before 1 Jun 2025 → 1 of 1 successful
    late_2025 = dashboards.pbr_progress(rule_set=rule_set, today=dt.date(2025, 6, 1))
    assert (late_2025["success_numerator"], late_2025["success_denominator"]) == (1, 1)
    assert late_2025["success_rate"] == Decimal("100.0")


def test_run_progress_is_one_query(computed, django_assert_max_num_queries):
    from reporting.models import ReportRun

    run = ReportRun.objects.get()
    with django_assert_max_num_queries(1):
        progress = dashboards.run_progress(run.uuid)
    assert progress is not None
    assert (progress["status"], progress["percent"], progress["active"]) == (
        "succeeded",
        100,
        False,
    )
    assert dashboards.run_progress("00000000-0000-0000-0000-000000000000") is None


def test_a_monthly_series_holds_months_only_never_a_reporting_year(computed):
    # given RR2, stored by month and by reporting year ("2026-27" looks like a month label)
    labels = set(KpiValue.objects.filter(measure="RR2").values_list("period_label", flat=True))
    assert "2026-27" in labels

    series = dashboards.monthly_series(measure="RR2", category="cohort")

    assert series and all(p.period_end - p.period_start < dt.timedelta(days=31) for p in series)
    assert "2026-27" not in [p.period_label for p in series]
