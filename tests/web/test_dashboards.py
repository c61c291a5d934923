"""Reporting pages on a small council computed in-process: tiles, series, cohort tables,
drill-downs limited to what the viewer may see, downloads, on-demand runs and PbR."""

import io
import zipfile

import pytest
from django.urls import reverse

from reporting import services
from reporting.models import KpiMember, KpiValue, ReportRun
from tests import factories
from tests.reporting.conftest import eager, officer, world  # noqa: F401  (fixtures)
from tests.reporting.worlds import CUTOFF, MONTHS

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(eager, world, officer, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        services.report_run_request(actor=officer, data_cutoff=CUTOFF, months=MONTHS)
    return world


def _rr1(period="2026-10"):
    return KpiValue.objects.get(
        measure="RR1", period_label=period, breakdown="all", category="rate"
    )


def test_dashboard_tiles_link_to_measures_and_drill_downs(
    computed, client_for, django_assert_max_num_queries
):
    client = client_for("performance")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("reporting:dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("reporting:measure", args=["RR1"]) in page
    assert reverse("reporting:drill_down", args=[_rr1().pk, "numerator"]) in page
    assert "50.0%" in page and "1 of 2 in 2026-10" in page
    assert "Off target" in page  # RR1 is lower-is-better: 50 % is above its 20 % target
    assert "Recompute now" in page  # a performance officer may start a run


def test_manager_reads_but_cannot_start_runs(computed, client_for):
    client = client_for("manager")
    page = client.get(reverse("reporting:dashboard")).content.decode()
    assert "Recompute now" not in page
    assert client.post(reverse("reporting:run_start")).status_code == 403


def test_measure_page_has_chart_data_and_table(computed, client_for, django_assert_max_num_queries):
    client = client_for("manager")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("reporting:measure", args=["RR1"]))
    page = response.content.decode()
    assert 'id="series-data"' in page and "chart.umd.min.js" in page
    assert 'aria-hidden="true"' in page  # the table, not the canvas, is what is read out
    for period in ("Aug 2026", "Sep 2026", "Oct 2026"):
        assert f'<th scope="row" class="govuk-table__header">{period}</th>' in page
    assert reverse("reporting:drill_down", args=[_rr1("2026-09").pk, "denominator"]) in page


def test_measure_filters_by_breakdown_and_months(computed, client_for):
    client = client_for("manager")
    team = computed["episodes"]["a"].team.code
    response = client.get(
        reverse("reporting:measure", args=["RR1"]),
        {"breakdown": "team", "value": team, "from": "2026-09"},
    )
    rows = response.context["series"]
    assert [(r.period_label, r.breakdown_value) for r in rows] == [
        ("2026-09", team),
        ("2026-10", team),
    ]
    # an unknown value is ignored rather than failing
    assert (
        client.get(reverse("reporting:measure", args=["RR1"]), {"breakdown": "x"}).status_code
        == 200
    )


def test_unknown_measure_is_404(computed, client_for):
    assert client_for("manager").get(reverse("reporting:measure", args=["ZZ9"])).status_code == 404


def test_cohort_table_in_counts_and_percentages(computed, client_for):
    response = client_for("manager").get(reverse("reporting:measure", args=["RR2"]))
    page = response.content.decode()
    assert response.context["period"] == "2026-27"
    assert [row.category for row in response.context["rows"]][:3] == [
        "cohort",
        "excluded",
        "denominator",
    ]
    assert "Reopened CSC kind CP plan" in page and "100.0%" in page


def test_drill_down_lists_only_visible_families(
    computed, client_for, other_team, django_assert_max_num_queries
):
    october = _rr1()
    url = reverse("reporting:drill_down", args=[october.pk, "denominator"])
    manager = client_for("manager")
    with django_assert_max_num_queries(10):
        response = manager.get(url)
    page = response.content.decode()
    for name in ("a", "b"):
        reference = computed["families"][name].reference
        assert reverse("cases:family", args=[reference]) in page
    assert response.context["page"].paginator.count == 2

    elsewhere = factories.UserFactory.with_role("team_manager", team=other_team)
    from django.test import Client

    outsider = Client()
    outsider.force_login(elsewhere)
    response = outsider.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert computed["families"]["a"].reference not in page
    assert "2 records belong to families you do not have access to" in page
    csv = outsider.get(url, {"format": "csv"}).content.decode("utf-8-sig")
    assert csv.strip().count("\n") == 0  # the header only


def test_drill_down_rejects_an_unknown_side(computed, client_for):
    url = reverse("reporting:drill_down", args=[_rr1().pk, "everything"])
    assert client_for("manager").get(url).status_code == 404


def test_exports_neutralise_formulas(computed, client_for):
    child = computed["people"]["a"]
    child.forename = "=cmd|' /C calc'!A0"
    child.save()
    client = client_for("performance")
    url = reverse("reporting:drill_down", args=[_rr1().pk, "numerator"])
    response = client.get(url, {"format": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="RR1-2026-10-numerator.csv"'
    text = response.content.decode("utf-8-sig")
    assert ",'=cmd|' /C calc'!A0" in text

    workbook = client.get(url, {"format": "xlsx"}).content
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        strings = archive.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet  # no formula cell
    assert "'=cmd" in strings

    series = client.get(reverse("reporting:measure", args=["RR1"]), {"format": "xlsx"})
    assert series["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get(url, {"format": "pdf"}).status_code == 404


def test_on_demand_run_then_progress(computed, client_for, personas):
    client = client_for("performance")
    response = client.post(reverse("reporting:run_start"))
    run = ReportRun.objects.filter(started_by=personas["performance"]).latest("created_at")
    assert response.status_code == 302
    assert response["Location"] == reverse("reporting:run", args=[run.uuid])
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in page  # queued: the page polls
    assert "Refresh the progress" in page  # and without JavaScript, a link
    fragment = client.get(reverse("reporting:run_progress", args=[run.uuid]))
    assert "<html" not in fragment.content.decode()
    finished = ReportRun.objects.filter(status="succeeded").latest("finished_at")
    done = client.get(reverse("reporting:run_progress", args=[finished.uuid])).content.decode()
    assert "hx-get" not in done and "Succeeded" in done


def test_pbr_page_progress_claims_and_export(computed, client_for):
    client = client_for("performance")
    response = client.get(reverse("reporting:pbr"))
    page = response.content.decode()
    assert response.status_code == 200
    assert computed["families"]["c"].reference in page  # claimable under the 2022-25 rules
    claimable = client.get(reverse("reporting:pbr"), {"status": "claimable"})
    assert claimable.context["page"].paginator.count == 1
    assert (
        client.get(reverse("reporting:pbr"), {"status": "paid"}).context["page"].paginator.count
        == 0
    )
    csv = client.get(reverse("reporting:pbr"), {"format": "csv"}).content.decode("utf-8-sig")
    assert computed["families"]["c"].reference in csv


def test_reporting_pages_issue_no_more_queries_with_more_stored_rows(
    computed, client_for, django_assert_max_num_queries
):
    october = _rr1()
    urls = [
        reverse("reporting:dashboard"),
        reverse("reporting:measure", args=["RR1"]),
        reverse("reporting:drill_down", args=[october.pk, "denominator"]),
    ]
    client = client_for("manager")
    small = {}
    for url in urls:
        with django_assert_max_num_queries(10) as captured:
            assert client.get(url).status_code == 200
        small[url] = len(captured.captured_queries)

    # given many more stored rows: 60 more records behind October's number, and 30 more team
    # values in every RR1 period
    template = KpiMember.objects.filter(partition_id=october.partition_id).first()
    KpiMember.objects.bulk_create(
        [
            KpiMember(
                partition_id=october.partition_id,
                record_type=template.record_type,
                record_id=1_000_000 + n,
                family_id=template.family_id,
                child_id=template.child_id,
                numerator_mask=template.numerator_mask,
                denominator_mask=template.denominator_mask,
                team=template.team,
                record_on=template.record_on,
                span_end=template.span_end,
            )
            for n in range(60)
        ]
    )
    for value in list(KpiValue.objects.filter(measure="RR1", breakdown="all")):
        for n in range(30):
            value.pk = None
            value.breakdown, value.breakdown_value = "team", f"EXTRA-{n}"
            value.save()

    # then each page issues as many queries as before
    for url in urls:
        with django_assert_max_num_queries(small[url]):
            assert client.get(url).status_code == 200
