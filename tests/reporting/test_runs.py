"""Recompute runs in process (eager Celery): lifecycle, stored values, drill-down, reruns."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import CscInvolvement
from reporting import dashboards, recompute, selectors, services
from reporting.models import FamilyClaim, KpiMember, KpiValue, ReportRun
from tests.reporting.worlds import CUTOFF, MONTHS

pytestmark = pytest.mark.django_db


def run_now(actor, django_capture_on_commit_callbacks, **kwargs) -> ReportRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = services.report_run_request(
            actor=actor, **{"data_cutoff": CUTOFF, "months": MONTHS, **kwargs}
        )
    run.refresh_from_db()
    return run


def value(measure, period, category="rate", breakdown="all", breakdown_value="all"):
    return KpiValue.objects.get(
        measure=measure,
        period_label=period,
        category=category,
        breakdown=breakdown,
        breakdown_value=breakdown_value,
    )


def snapshot() -> tuple[list, list, list]:
    values = list(
        KpiValue.objects.order_by("pk").values_list(
            "pk",
            "measure",
            "period_label",
            "breakdown_value",
            "category",
            "numerator",
            "denominator",
            "value",
            "extra",
            "run_id",
            "computed_at",
        )
    )
    members = sorted(
        KpiMember.objects.values_list(
            "partition__measure",
            "partition__period_start",
            "record_type",
            "record_id",
            "numerator_mask",
            "denominator_mask",
            "team",
            "record_on",
            "related_id",
        )
    )
    claims = list(
        FamilyClaim.objects.order_by("pk").values_list(
            "pk", "family_id", "status", "claimable_on", "evidence", "updated_at"
        )
    )
    return values, members, claims


def test_a_run_stores_the_numbers_worked_out_by_hand(
    eager, world, officer, django_capture_on_commit_callbacks
):
    run = run_now(officer, django_capture_on_commit_callbacks)

    assert run.status == ReportRun.Status.SUCCEEDED
    # 2026-27 months, its three groups of measures, then PbR
    assert (run.progress_done, run.progress_total) == (4, 4)
    assert run.started_at and run.finished_at and run.started_at <= run.finished_at
    assert run.started_by == officer
    # RR1: August has no cohort (no value, not 0 %), September 0 of 2, October 1 of 2
    august, september, october = (value("RR1", p) for p in ("2026-08", "2026-09", "2026-10"))
    assert (august.numerator, august.denominator, august.value) == (0, 0, None)
    assert (september.numerator, september.denominator, september.value) == (0, 2, Decimal("0"))
    assert (october.numerator, october.denominator, october.value) == (1, 2, Decimal("50.0"))
    assert october.extra == {"target": 20.0, "lower_is_better": True}
    assert october.params["window_days"] == 42
    assert october.params_hash == recompute.params_hash(october.params)
    # C1 at 31 August: 2 children over 1 practitioner, against the team's own target
    caseload = value("C1", "2026-08", category="caseload")
    assert (caseload.numerator, caseload.denominator, caseload.value) == (2, 1, Decimal("2.0"))
    # RR2 yearly cohort for 2026-27: a and b closed in September, a re-opened to CSC
    reopened = value("RR2", "2026-27", category="reopened")
    assert (reopened.numerator, reopened.denominator, reopened.value) == (1, 2, Decimal("50.0"))


def test_each_number_drills_down_to_its_records(
    eager, world, officer, django_capture_on_commit_callbacks
):
    run_now(officer, django_capture_on_commit_callbacks)
    october = value("RR1", "2026-10")
    bit = 1 << october.category_bit
    members = dashboards.members_of(october)
    assert october.partition.period_start == dt.date(2026, 10, 1)
    in_denominator = {m.record_id for m in members if m.denominator_mask & bit}
    in_numerator = {m.record_id for m in members if m.numerator_mask & bit}
    assert in_denominator == {world["episodes"]["a"].pk, world["episodes"]["b"].pk}
    assert in_numerator == {world["episodes"]["a"].pk}
    a = members.get(record_id=world["episodes"]["a"].pk)
    assert (a.record_on, a.related_type, a.related_id, a.related_on) == (
        dt.date(2026, 9, 10),
        "csc_involvement",
        world["csc_referral"].pk,
        dt.date(2026, 10, 1),
    )
    assert a.family_id == world["families"]["a"].pk and a.team == world["episodes"]["a"].team.code


def test_running_twice_changes_nothing(eager, world, officer, django_capture_on_commit_callbacks):
    run_now(officer, django_capture_on_commit_callbacks)
    before = snapshot()
    second = run_now(officer, django_capture_on_commit_callbacks)
    assert second.status == ReportRun.Status.SUCCEEDED
    # the same rows, untouched: same ids, same values, still stamped by the first run
    assert snapshot() == before


def numbers_and_drill_downs() -> dict:
    """Each stored number with the records behind it, as the drill-down finds them."""
    return {
        (v.measure, v.period_label, v.breakdown_value, v.category): (
            v.numerator,
            v.denominator,
            v.value,
            sorted(
                dashboards.members_of(v).values_list(
                    "record_type", "record_id", "numerator_mask", "denominator_mask"
                )
            ),
        )
        for v in KpiValue.objects.all()
    }


def test_tasks_by_reporting_year_store_what_one_task_per_group_stores(
    eager, world, officer, settings, django_capture_on_commit_callbacks
):
    # given 12 months to October 2026: 2025-26's last 7 and 2026-27's first 5
    one_span = run_now(officer, django_capture_on_commit_callbacks, months=12)
    assert one_span.status == ReportRun.Status.SUCCEEDED, one_span.error
    groups = ["RR2,RR3,RR5", "RR1,ESC,C1,T1,T3,F1", "RR4,T2,O1,O2,O3,O4"]
    assert one_span.parameters["partitions"] == [
        *(f"2025-26 to 2026-27 {group}" for group in groups),
        "pbr",
    ]
    expected = numbers_and_drill_downs()

    # when a council with more workers splits its runs by reporting year
    settings.REPORT_RUN_YEARS_PER_TASK = 1
    by_year = run_now(officer, django_capture_on_commit_callbacks, months=12)

    # then there are more, smaller tasks, and every number and drill-down is the same
    assert by_year.status == ReportRun.Status.SUCCEEDED, by_year.error
    assert by_year.parameters["partitions"] == [
        *(f"{year} {group}" for year in ("2025-26", "2026-27") for group in groups),
        "pbr",
    ]
    assert (by_year.progress_done, by_year.progress_total) == (7, 7)
    assert numbers_and_drill_downs() == expected
    assert any(numerator for numerator, *_ in expected.values())


def test_a_rerun_follows_the_records_and_drops_what_vanished(
    eager, world, officer, django_capture_on_commit_callbacks
):
    run_now(officer, django_capture_on_commit_callbacks)
    world["csc_referral"].delete()
    # b's episode moves to another team: its September team line must go
    team_code = world["episodes"]["a"].team.code
    assert KpiValue.objects.filter(measure="O1", breakdown="team", breakdown_value=team_code)
    CscInvolvement.objects.all().delete()
    from earlyhelp.models import Team

    other = Team.objects.create(
        organisation=world["episodes"]["a"].team.organisation, code="OTHER", name="Other"
    )
    world["episodes"]["a"].__class__.objects.update(team=other)

    run_now(officer, django_capture_on_commit_callbacks)

    october = value("RR1", "2026-10")
    assert (october.numerator, october.denominator) == (0, 2)
    assert not KpiValue.objects.filter(measure="O1", breakdown="team", breakdown_value=team_code)
    assert KpiValue.objects.filter(measure="O1", breakdown="team", breakdown_value="OTHER")
    assert not KpiMember.objects.filter(team=team_code)


def test_a_failed_partition_fails_the_run_without_personal_data_then_a_rerun_succeeds(
    eager, world, officer, django_capture_on_commit_callbacks, monkeypatch
):
    name = world["people"]["a"].surname

    def broken(data, periods):
        raise ValueError(f"bad row for {name}")

    monkeypatch.setitem(recompute.MEASURES, "RR1", broken)
    failed = run_now(officer, django_capture_on_commit_callbacks)
    assert failed.status == ReportRun.Status.FAILED
    assert failed.error.startswith("ValueError in partition 2026-27 RR1,ESC,C1,T1,T3,F1 at ")
    assert name not in failed.error
    assert failed.finished_at is not None

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        rerun = services.report_run_rerun(actor=officer, run=failed)
    rerun.refresh_from_db()
    assert rerun.status == ReportRun.Status.SUCCEEDED and rerun.rerun_of == failed
    assert rerun.data_cutoff == failed.data_cutoff
    assert value("RR1", "2026-10").numerator == 1


def test_a_load_that_fails_fails_the_run_at_once_without_personal_data(
    eager, world, officer, django_capture_on_commit_callbacks, monkeypatch
):
    name = world["people"]["a"].surname

    def broken():
        raise ValueError(f"unreadable row for {name}")

    monkeypatch.setattr(selectors, "reporting_data", broken)
    failed = run_now(officer, django_capture_on_commit_callbacks)

    # failed now, not left running until the stale sweep; no partition was computed
    assert failed.status == ReportRun.Status.FAILED and failed.finished_at is not None
    assert failed.error.startswith("ValueError in loading the data at ")
    assert name not in failed.error
    assert failed.progress_done == 0 and not KpiValue.objects.exists()


def test_a_second_request_while_one_is_active_returns_it(officer, world):
    first = services.report_run_request(actor=officer, data_cutoff=CUTOFF, months=MONTHS)
    second = services.report_run_request(actor=officer, data_cutoff=CUTOFF, months=MONTHS)
    assert first == second and ReportRun.objects.count() == 1


def test_a_silent_running_run_is_abandoned_and_can_be_rerun(officer, world):
    run = services.report_run_request(actor=officer, data_cutoff=CUTOFF, months=MONTHS)
    services.report_run_begin(run_id=run.pk)
    later = timezone.now() + services.STALE_AFTER + dt.timedelta(seconds=1)
    assert services.report_runs_abandon_stale(now=later) == 1
    run.refresh_from_db()
    assert run.status == ReportRun.Status.FAILED and "Abandoned" in run.error
    assert services.report_run_rerun(actor=officer, run=run).rerun_of == run


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"actor": None}, "started_by"),
        ({"data_cutoff": dt.date.today() + dt.timedelta(days=2)}, "data_cutoff"),
        ({"months": 0}, "parameters"),
    ],
)
def test_requests_are_refused_with_the_field_at_fault(officer, kwargs, field):
    arguments = {"actor": officer, "data_cutoff": CUTOFF, **kwargs}
    with pytest.raises(ValidationError) as refused:
        services.report_run_request(**arguments)
    assert field in refused.value.message_dict


def test_a_nightly_run_has_no_person(officer):
    run = services.report_run_request(actor=officer, trigger=ReportRun.Trigger.NIGHTLY)
    assert run.started_by is None and run.data_cutoff == timezone.localdate()


def test_status_transitions_follow_the_map(officer, world):
    run = services.report_run_request(actor=officer, data_cutoff=CUTOFF, months=MONTHS)
    # a queued run has nothing to finish
    assert services.report_run_finish(run_id=run.pk).status == ReportRun.Status.QUEUED
    services.report_run_begin(run_id=run.pk)
    # finishing before every partition is done fails the run, naming what is missing
    finished = services.report_run_finish(run_id=run.pk)
    assert finished.status == ReportRun.Status.FAILED and "pbr" in finished.error
    # a failed run never runs again (begin gives no partitions) nor succeeds
    assert services.report_run_begin(run_id=run.pk) == []
    with pytest.raises(ValidationError):
        services._move(finished, ReportRun.Status.SUCCEEDED)


def test_the_database_refuses_inconsistent_runs(officer):
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportRun.objects.create(
            trigger="on_demand", data_cutoff=CUTOFF, status="succeeded", progress_total=2
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportRun.objects.create(
            trigger="on_demand", data_cutoff=CUTOFF, status="failed", finished_at=timezone.now()
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportRun.objects.create(trigger="nightly", data_cutoff=CUTOFF, started_by=officer)


def test_beat_schedules_the_nightly_recompute_and_the_stale_sweep(settings):
    from earlyhelp.celery import app
    from reporting import tasks  # noqa: F401  (registers the tasks)

    nightly = settings.CELERY_BEAT_SCHEDULE["reporting-nightly-recompute"]
    sweep = settings.CELERY_BEAT_SCHEDULE["reporting-abandon-stale-runs"]
    assert nightly["task"] in app.tasks and sweep["task"] in app.tasks
    assert nightly["schedule"].hour == {settings.REPORT_NIGHTLY_HOUR}


def test_the_nightly_task_queues_a_run_without_a_person(db):
    from reporting import tasks

    run = ReportRun.objects.get(pk=tasks.nightly_recompute())
    assert (run.trigger, run.started_by, run.status) == ("nightly", None, "queued")
