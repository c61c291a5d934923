"""Write services for reporting: the life of a recompute run, storing what it computed, and the
Supporting Families claim lifecycle.

Runs are written only here. A run is requested (queued), begun (running, its partitions
counted), fed one partition at a time by workers (each partition upserts its KPI values and
replaces its drill-down, so a repeated or redelivered partition changes nothing), and finished
or failed. Claims move along ``FamilyClaim.TRANSITIONS``; every refusal is a
``ValidationError`` naming the field, and every change a line in the family's chronology.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import gc
import io
import logging
import os
import traceback
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from decimal import Decimal
from multiprocessing import get_context
from typing import Any
from uuid import UUID

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from cases.interchange.upsert import upsert
from cases.models import CaseEvent, Family
from cases.services import _refuse
from earlyhelp import pgcopy
from earlyhelp.models import User
from reporting import recompute, selectors
from reporting.measures import sf_claimability, sf_eligibility
from reporting.measures.dates import Period, shift_month
from reporting.models import (
    MAX_SPAN_MONTHS,
    MONTHLY,
    ClaimBatch,
    ClaimRuleSet,
    FamilyClaim,
    KpiMember,
    KpiPartition,
    KpiValue,
    ReportRun,
)

logger = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(seconds=getattr(settings, "REPORT_RUN_STALE_SECONDS", 3600))


# --- Runs ------------------------------------------------------------------------------------


def _move(run: ReportRun, status: str) -> None:
    if status not in ReportRun.TRANSITIONS[ReportRun.Status(run.status)]:
        raise _refuse("status", f"A {run.get_status_display().lower()} run cannot become {status}.")
    run.status = status


@transaction.atomic
def report_runs_abandon_stale(*, now: dt.datetime | None = None) -> int:
    """Fail running runs that have shown no sign of life for ``REPORT_RUN_STALE_SECONDS`` (a
    killed worker leaves its run "running" forever otherwise), so a rerun can start."""
    now = now or timezone.now()
    stale = ReportRun.objects.select_for_update().filter(
        Q(status=ReportRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
        | Q(status=ReportRun.Status.QUEUED, created_at__lt=now - STALE_AFTER)
    )
    count = 0
    for run in stale:
        report_run_fail(
            run_id=run.pk,
            error=f"Abandoned: no progress for {int(STALE_AFTER.total_seconds())} s "
            "(the worker stopped?). Rerun it.",
        )
        count += 1
    return count


@transaction.atomic
def report_run_request(
    *,
    actor: User | None,
    trigger: str = ReportRun.Trigger.ON_DEMAND,
    data_cutoff: dt.date | None = None,
    months: int = recompute.DEFAULT_MONTHS,
    rerun_of: ReportRun | None = None,
) -> ReportRun:
    """Queue a full recompute and hand it to a worker once committed.

    While another run is queued or running, that run is returned instead of a second one: the
    page shows its progress. An on-demand run needs a person; the nightly one has none.
    """
    if trigger == ReportRun.Trigger.ON_DEMAND and actor is None:
        raise _refuse("started_by", "An on-demand run is started by someone.")
    if trigger == ReportRun.Trigger.NIGHTLY:
        actor = None
    if not 1 <= months <= 120:
        raise _refuse("parameters", "Compute between 1 and 120 months.")
    cutoff = data_cutoff or timezone.localdate()
    if cutoff > timezone.localdate():
        raise _refuse("data_cutoff", "The data cut-off cannot be in the future.")
    report_runs_abandon_stale()
    active = ReportRun.objects.select_for_update().filter(status__in=ReportRun.ACTIVE).first()
    if active is not None:
        return active
    run = ReportRun(
        trigger=trigger,
        started_by=actor,
        data_cutoff=cutoff,
        parameters={"months": months},
        rerun_of=rerun_of,
    )
    run.full_clean()
    run.save()
    from reporting import tasks  # the tasks module imports these services

    transaction.on_commit(lambda: tasks.report_run_execute.delay(run.pk))
    return run


def report_run_rerun(*, actor: User, run: ReportRun) -> ReportRun:
    """Run a finished run again with its parameters and cut-off (a failed one, typically)."""
    if run.is_active:
        raise _refuse("status", "This run has not finished yet.")
    return report_run_request(
        actor=actor,
        data_cutoff=run.data_cutoff,
        months=int(run.parameters.get("months", recompute.DEFAULT_MONTHS)),
        rerun_of=run,
    )


@transaction.atomic
def report_run_begin(*, run_id: int) -> list[recompute.Partition]:
    """queued → running; the run's partitions (empty if the run is no longer queued)."""
    run = ReportRun.objects.select_for_update().get(pk=run_id)
    if run.status != ReportRun.Status.QUEUED:
        return []
    parts = recompute.partitions(
        run.data_cutoff,
        int(run.parameters.get("months", 24)),
        years_per_task=settings.REPORT_RUN_YEARS_PER_TASK,
    )
    _move(run, ReportRun.Status.RUNNING)
    now = timezone.now()
    run.started_at = run.heartbeat_at = now
    run.progress_total = len(parts)
    run.progress_done = 0
    run.parameters = {
        **run.parameters,
        "partitions": [part.key for part in parts],
        "partitions_done": [],
        "measures": {},
    }
    run.save()
    return parts


@transaction.atomic
def _partition_done(run_id: int, key: str, measures: dict[str, str]) -> None:
    run = ReportRun.objects.select_for_update().get(pk=run_id)
    done = list(run.parameters.get("partitions_done", []))
    if key not in done:  # a redelivered partition counts once
        done.append(key)
    run.parameters = {
        **run.parameters,
        "partitions_done": done,
        "measures": {**run.parameters.get("measures", {}), **measures},
    }
    run.progress_done = min(len(done), run.progress_total)
    run.heartbeat_at = timezone.now()
    run.save(update_fields=["parameters", "progress_done", "heartbeat_at"])


def report_run_partition(*, run_id: int, partition: dict[str, Any]) -> bool:
    """Compute and store one partition. False (and nothing written) if the run is not running;
    any error fails the run, recorded without personal data, and is not raised further."""
    part = recompute.Partition.from_dict(partition)
    run = ReportRun.objects.get(pk=run_id)
    if run.status != ReportRun.Status.RUNNING:
        return False
    try:
        data = load_data(run)
        if part.kind == "pbr":
            measures = {"PBR": pbr_scan(data=data, as_of=run.data_cutoff)}
        else:
            measures = _compute_and_store(run, data, part)
        _partition_done(run_id, part.key, measures)
        return True
    except Exception as exc:  # the run records why; the worker carries on with other work
        logger.exception("Report run %s failed in partition %s", run.uuid, part.key)
        report_run_fail(run_id=run_id, error=describe_error(exc, f"partition {part.key}"))
        return False


def report_run_here(*, run_id: int, parts: Sequence[recompute.Partition]) -> ReportRun:
    """Every partition of a begun run in this process, then the finish (no broker: the
    embedded default). The data is loaded once; on PostgreSQL, outside a transaction, forked
    processes (``REPORT_RUN_PROCESSES``) share the partitions, largest first, each with its
    own connections and the loaded frames shared copy-on-write. Inside a transaction (a
    test's) or on SQLite they run one after another, where uncommitted rows are visible.
    """
    processes = min(int(getattr(settings, "REPORT_RUN_PROCESSES", 1)), len(parts))
    try:
        load_data(ReportRun.objects.get(pk=run_id))
    except Exception as exc:  # recorded on the run, which can be rerun, as a partition's is
        logger.exception("Report run %s failed loading its data", run_id)
        return report_run_fail(run_id=run_id, error=describe_error(exc, "loading the data"))
    if processes <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        for part in parts:
            report_run_partition(run_id=run_id, partition=part.to_dict())
        return report_run_finish(run_id=run_id)
    # Frozen, the loaded objects are not copied by the children's garbage collector touching them.
    gc.freeze()
    largest_first = sorted(parts, key=recompute.Partition.weight, reverse=True)
    try:
        with ProcessPoolExecutor(
            processes, mp_context=get_context("fork"), initializer=_child_setup
        ) as pool:
            list(pool.map(_partition_in_child, [(run_id, p.to_dict()) for p in largest_first]))
    except BrokenProcessPool:  # killed (out of memory, say): its partitions are not done
        report_run_fail(run_id=run_id, error="A process computing partitions stopped. Rerun it.")
    finally:
        gc.unfreeze()
    return report_run_finish(run_id=run_id)


# A forked child's copies of its parent's open connections: kept, never closed or collected.
_inherited: list[Any] = []
# Whether a partition stores each measure on a writer thread while computing the next. Not in
# a forked child: its siblings keep the cores busy, and the thread only adds contention (on the
# bench, 3 s slower and 150 MB more).
_store_alongside = True


def _child_setup() -> None:
    """In a forked child, before anything else: set aside the connections copied from the
    parent, unclosed (closing one would end the parent's session on the socket both hold), so
    this process opens connections of its own; store in turn."""
    global _store_alongside
    _store_alongside = False
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            _inherited.append(conn.connection)
            conn.connection = None


def _partition_in_child(job: tuple[int, dict[str, Any]]) -> bool:
    run_id, partition = job
    try:
        return report_run_partition(run_id=run_id, partition=partition)
    finally:
        connections.close_all()


def _compute_and_store(
    run: ReportRun, data: selectors.ReportingData, part: recompute.Partition
) -> dict[str, str]:
    """Every measure of the partition, each stored as soon as it is computed.

    On PostgreSQL, outside a transaction and outside a forked child, a writer thread with its
    own connection stores one measure while this thread computes the next: the database's
    work and pandas' overlap. Only one result waits at a time, so memory holds at most two
    measures' rows.
    """
    measures: dict[str, str] = {}
    if not _store_alongside or connection.vendor != "postgresql" or connection.in_atomic_block:
        for result, periods in recompute.compute_periods(data, part):
            kpi_store(run=run, result=result, periods=periods)
            measures[result.measure] = recompute.params_hash(result.params)
        return measures
    # Django keeps connections per context (asgiref.Local), and a worker thread may inherit
    # the caller's: a context of its own gives the writer a connection of its own.
    own = contextvars.Context()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpi-writer") as writer:
        pending: Future[None] | None = None
        try:
            for result, periods in recompute.compute_periods(data, part):
                rows = _rows(result, periods)
                if pending is not None:
                    pending.result()
                pending = writer.submit(own.run, _store_rows, run, rows)
                measures[result.measure] = rows.digest
            if pending is not None:
                pending.result()
        finally:
            # a function, not connection.close: that would bind this thread's connection here
            writer.submit(own.run, selectors.close_connection).result()
    return measures


def describe_error(exc: BaseException, where: str) -> str:
    """The error's type and the code line it came from, never its message: messages of
    database and data errors can quote the rows (names, dates of birth) that caused them."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/site-packages/" not in f.filename] or frames
    place = f" at {ours[-1].filename.rsplit('/', 2)[-1]}:{ours[-1].lineno}" if ours else ""
    return f"{type(exc).__name__} in {where}{place}"


@transaction.atomic
def report_run_finish(*, run_id: int) -> ReportRun:
    """running → succeeded once every partition is done; a failed run stays failed."""
    run = ReportRun.objects.select_for_update().get(pk=run_id)
    if run.status != ReportRun.Status.RUNNING:
        return run
    if run.progress_done < run.progress_total:
        missing = set(run.parameters.get("partitions", [])) - set(
            run.parameters.get("partitions_done", [])
        )
        return report_run_fail(
            run_id=run_id, error=f"Partitions not done: {', '.join(sorted(missing))}"
        )
    _move(run, ReportRun.Status.SUCCEEDED)
    run.finished_at = run.heartbeat_at = timezone.now()
    run.full_clean()
    run.save()
    _data_cache.clear()
    return run


@transaction.atomic
def report_run_fail(*, run_id: int, error: str) -> ReportRun:
    run = ReportRun.objects.select_for_update().get(pk=run_id)
    if run.status == ReportRun.Status.FAILED:
        return run
    _move(run, ReportRun.Status.FAILED)
    run.error = error[:2000] or "Failed"
    run.finished_at = timezone.now()
    run.save()
    _data_cache.clear()
    return run


# The frames of the run being computed, kept between its partitions in one worker process:
# with the embedded default (eager Celery) every partition runs here and reads the tables once.
_data_cache: dict[tuple[int, dt.date], selectors.ReportingData] = {}


def load_data(run: ReportRun) -> selectors.ReportingData:
    key = (run.pk, run.data_cutoff)
    if key not in _data_cache:
        _data_cache.clear()
        _data_cache[key] = selectors.reporting_data()
    return _data_cache[key]


# --- Storing results -------------------------------------------------------------------------


@dataclass
class _Rows:
    measure: str
    digest: str
    periods: list[Period]
    values: pd.DataFrame
    members: pd.DataFrame


def _rows(result: Any, periods: Sequence[Period]) -> _Rows:
    return _Rows(
        result.measure,
        recompute.params_hash(result.params),
        list(periods),
        recompute.value_rows(result),
        recompute.member_rows(result, periods),
    )


def kpi_store(*, run: ReportRun, result: Any, periods: Sequence[Period]) -> None:
    """Store a measure's result for ``periods``: upsert its values (unchanged rows are not
    touched), delete values of those periods it no longer produces, replace its drill-down."""
    _store_rows(run, _rows(result, periods))


def _store_rows(run: ReportRun, rows: _Rows) -> None:
    now = timezone.now()
    with transaction.atomic():
        _relaxed_commit()
        partitions = _partitions(rows.measure, rows.digest, rows.periods)
        values = rows.values.assign(
            period_start=rows.values["period_start"].astype(str),  # ISO dates
            period_end=rows.values["period_end"].astype(str),
        )
        by_span = {f"{start}/{end}": pk for (start, end), pk in partitions.items()}
        values["partition_id"] = (values["period_start"] + "/" + values["period_end"]).map(by_span)
        # A partition that holds no values yet (its first run) takes its values straight in:
        # the lock on the partitions keeps it so. Those of the others are upserted.
        holding = set(
            KpiValue.objects.filter(partition_id__in=partitions.values())
            .order_by()
            .values_list("partition_id", flat=True)
            .distinct()
        )
        _delete_vanished_values(sorted(holding), values)
        known = values["partition_id"].isin(holding).to_numpy()
        for part, new in ((values[~known], True), (values[known], False)):
            if part.empty:
                continue
            # one measure with one set of parameters: sent once, not on every row
            same = {c: part[c].iloc[0] for c in ("measure", "params_hash", "params")}
            upsert(
                KpiValue,
                part.drop(columns=list(same)),
                constants={**same, "run_id": run.pk, "computed_at": now.isoformat()},
                conflict=[
                    "measure",
                    "params_hash",
                    "period_start",
                    "period_end",
                    "breakdown",
                    "breakdown_value",
                    "category",
                ],
                update=[
                    "params",
                    "period_label",
                    "category_bit",
                    "numerator",
                    "denominator",
                    "value",
                    "extra",
                    "run_id",
                    "computed_at",
                ],
                not_compared=["run_id", "computed_at"],
                kinds=VALUE_KINDS,
                new=new,
            )
        _replace_members(rows.measure, rows.digest, partitions, rows.members, fresh=not holding)


# Every column of a value, and its constants, as PostgreSQL receives them in binary.
VALUE_KINDS = {
    "measure": "text",
    "params_hash": "text",
    "params": "jsonb",
    "period_label": "text",
    "period_start": "date",
    "period_end": "date",
    "breakdown": "text",
    "breakdown_value": "text",
    "category": "text",
    "category_bit": "int2",
    "numerator": "int8",
    "denominator": "int8",
    "value": "numeric",
    "extra": "jsonb",
    "partition_id": "int8",
    "run_id": "int8",
    "computed_at": "timestamptz",
}


def _relaxed_commit() -> None:
    """Reporting rows can always be recomputed, so their commits need not wait for the disk
    (PostgreSQL only, this transaction only): a crash loses at most the last moments of a run,
    which fails and is rerun."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _partitions(
    measure: str, digest: str, periods: Sequence[Period]
) -> dict[tuple[dt.date, dt.date], int]:
    """The partition row of each period (created the first time), by (start, end), locked until
    the transaction ends: a second store of the same partitions (a redelivered task) waits,
    then finds them stored."""
    KpiPartition.objects.bulk_create(
        [
            KpiPartition(
                measure=measure,
                params_hash=digest,
                period_label=p.label,
                period_start=p.start,
                period_end=p.end,
            )
            for p in periods
        ],
        ignore_conflicts=True,
    )
    spans = Q(pk__in=[])
    for p in periods:
        spans |= Q(period_start=p.start, period_end=p.end)
    found = (
        KpiPartition.objects.filter(spans, measure=measure, params_hash=digest)
        .order_by("pk")
        .select_for_update()
    )
    return {(row.period_start, row.period_end): row.pk for row in found}


_VALUE_KEY = ["partition_id", "breakdown", "breakdown_value", "category"]


def _delete_vanished_values(partitions: list[int], values: pd.DataFrame) -> None:
    """Values of these partitions that ``values`` no longer has (a team that has gone, say)."""
    if not partitions:
        return
    wanted = set(zip(*(values[column].tolist() for column in _VALUE_KEY), strict=True))
    stored = KpiValue.objects.filter(partition_id__in=partitions)
    gone = [pk for pk, *key in stored.values_list("pk", *_VALUE_KEY) if tuple(key) not in wanted]
    if gone:
        KpiValue.objects.filter(pk__in=gone).delete()


MEMBER_KINDS = {
    "partition_id": "int8",
    "record_id": "int8",
    "family_id": "int8",
    "child_id": "int8",
    "numerator_mask": "int8",
    "denominator_mask": "int8",
    "related_id": "int8",
    "record_on": "date",
    "related_on": "date",
    "span_end": "date",
}


def _clear_members(
    measure: str, digest: str, partitions: dict[tuple[dt.date, dt.date], int]
) -> None:
    """Make way for the drill-down of ``partitions``: their rows go, and rows of months outside
    them (stored by earlier runs, not recomputed now) stop covering them. A row anchored at an
    earlier month ends before them; one running past them is anchored again after them."""
    series = KpiPartition.objects.filter(MONTHLY, measure=measure, params_hash=digest)
    for first, last in _month_blocks(partitions):
        after = series.filter(period_start=last.end + dt.timedelta(days=1)).first()
        running_past = KpiMember.objects.filter(
            partition__in=series.filter(
                period_start__gt=shift_month(last.start, -MAX_SPAN_MONTHS),
                period_start__lte=last.start,
            ),
            span_end__gt=last.end,
        )
        if after is not None:
            tails = list(running_past)
            for row in tails:
                row.partition_id = after.pk
            KpiMember.objects.bulk_create(tails)
        KpiMember.objects.filter(
            partition__in=series.filter(
                period_start__gt=shift_month(first.start, -MAX_SPAN_MONTHS),
                period_start__lt=first.start,
            ),
            span_end__gte=first.start,
        ).update(span_end=first.start - dt.timedelta(days=1))
    KpiMember.objects.filter(partition_id__in=partitions.values()).delete()


def _month_blocks(
    partitions: dict[tuple[dt.date, dt.date], int],
) -> list[tuple[Period, Period]]:
    """The first and last month of each run of consecutive months among the periods."""
    periods = (Period(start, end) for start, end in partitions)
    months = sorted((p for p in periods if p.is_month), key=lambda period: period.start)
    blocks: list[tuple[Period, Period]] = []
    for month in months:
        if blocks and blocks[-1][1].end + dt.timedelta(days=1) == month.start:
            blocks[-1] = (blocks[-1][0], month)
        else:
            blocks.append((month, month))
    return blocks


def _replace_members(
    measure: str,
    digest: str,
    partitions: dict[tuple[dt.date, dt.date], int],
    members: pd.DataFrame,
    *,
    fresh: bool = False,
) -> None:
    """The drill-down of ``partitions``. ``fresh`` partitions hold nothing yet (no values, so
    no rows: both are written in one transaction), and no earlier month's rows reach them
    (a run's rows reach no further than its last month, which then had its partition)."""
    if not fresh:
        _clear_members(measure, digest, partitions)
    if members.empty:
        return
    keys = pd.DataFrame(
        {
            "period_start": pd.to_datetime([start for start, _ in partitions]),
            "period_end": pd.to_datetime([end for _, end in partitions]),
            "partition_id": list(partitions.values()),
        }
    ).astype({"period_start": "datetime64[ns]", "period_end": "datetime64[ns]"})
    members = members.merge(keys, on=["period_start", "period_end"], how="left", sort=False)
    columns = [c for c in recompute.MEMBER_COLUMNS if c not in ("period_start", "period_end")]
    # In primary-key order, the copy appends to the key's index rather than scattering into it.
    members = members[["partition_id", *columns]].sort_values(
        ["partition_id", "record_type", "record_id"], ignore_index=True
    )
    if connection.vendor == "postgresql":
        kinds = [(name, MEMBER_KINDS.get(name, "text")) for name in members.columns]
        table = connection.ops.quote_name(KpiMember._meta.db_table)
        names = ", ".join(connection.ops.quote_name(c) for c in members.columns)
        with connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {table} ({names}) FROM STDIN WITH (FORMAT binary)",
                io.BytesIO(pgcopy.encode(members, kinds)),
            )
        return
    members = members.assign(
        **{column: members[column].dt.date for column in ("record_on", "related_on", "span_end")}
    )
    records = members.astype(object).where(members.notna(), None)
    KpiMember.objects.bulk_create(
        (KpiMember(**{str(k): v for k, v in row.items()}) for row in records.to_dict("records")),
        batch_size=2000,
    )


# --- Supporting Families: the nightly scan ---------------------------------------------------


def programme_year(rule_set: ClaimRuleSet, day: dt.date) -> Period:
    """The programme year (from the programme's start, twelve months at a time) holding
    ``day``; days before the programme fall in its first year."""
    start = rule_set.programme_start
    while shift_month(start, 12) <= day:
        start = shift_month(start, 12)
    end = shift_month(start, 12) - dt.timedelta(days=1)
    return Period(start, end, f"{start.year}-{(start.year + 1) % 100:02d}")


EVIDENCE_CHECKS = (
    "has_lead_practitioner",
    "has_whole_family_assessment",
    "plan_covers_needs",
    "all_needs_met",
    "closed_needs_met",
    "sustained",
)


EVIDENCE_KEYS = sorted(
    (
        "attached_on",
        *EVIDENCE_CHECKS,
        "closed_on",
        "sustain_end",
        "broken_by_type",
        "broken_by_id",
        "broken_on",
        "claimable_on",
        "route",
        "reasons",
    )
)


def _evidence(found: pd.DataFrame) -> list[str]:
    """Each family's checks as a JSON object (dates as ISO text, a check not made as null)."""
    return list(recompute.json_objects(found.reindex(columns=EVIDENCE_KEYS), keep_missing=True))


def pbr_scan(*, data: selectors.ReportingData, as_of: dt.date) -> str:
    """Find eligible and claimable families under every active rule set and record them as
    claims. Only eligible and claimable claims are changed; submitted and later belong to
    people. Returns a digest of the rule sets scanned."""
    scanned = []
    for rule_set in ClaimRuleSet.objects.filter(is_active=True):
        rules = rule_set.as_rules()
        eligibility = sf_eligibility(data.needs, data.memberships, rules=rules, as_of=as_of)
        claimability = sf_claimability(
            eligibility,
            episodes=data.episodes,
            assessments=data.assessments,
            needs=data.needs,
            plan_actions=data.plan_actions,
            csc=data.csc,
            memberships=data.memberships,
            rules=rules,
            as_of=as_of,
        )
        _claims_store(rule_set, claimability)
        scanned.append(f"{rule_set.code}v{rule_set.version}")
    return ",".join(scanned)


def _claims_lock() -> None:
    """Hold off every other writer of claims until the scan's transaction ends, so a person
    submitting a claim waits for the scan (and the scan for them). One table lock: locking the
    scanned rows one by one wrote to every row the scan read. Readers are not blocked."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(FamilyClaim._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")


def _uuid4_texts(count: int) -> np.ndarray:
    """``count`` random (version 4) UUIDs as 32 hex digits, made column-wise from one read of
    the system's random source rather than one ``uuid.uuid4()`` call per claim. Hex digits
    are the stored form on SQLite (Django keeps ``UUID.hex`` there; with dashes a lookup by
    uuid never matches) and PostgreSQL reads them as well."""
    raw = np.frombuffer(os.urandom(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.tobytes().hex()
    return np.array([text[i : i + 32] for i in range(0, 32 * count, 32)], dtype=object)


# The claim columns a scan writes, as ``earlyhelp.pgcopy`` kinds: sent in binary, a council's
# hundreds of thousands of claims need no CSV rendered, nor parsed.
CLAIM_KINDS = {
    "uuid": "uuid",
    "rule_set_id": "int8",
    "family_id": "int8",
    "period_label": "text",
    "period_start": "date",
    "period_end": "date",
    "status": "text",
    "attached_on": "date",
    "claimable_on": "date",
    "route": "text",
    "evidence": "jsonb",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
    "rejection_reason": "text",
}


@transaction.atomic
def _claims_store(rule_set: ClaimRuleSet, claimability: pd.DataFrame) -> None:
    _claims_lock()
    existing = pd.DataFrame.from_records(
        list(
            FamilyClaim.objects.filter(rule_set=rule_set).values_list(
                "family_id", "status", "period_start"
            )
        ),
        columns=["family_id", "status", "period_start"],
    )
    found = claimability[claimability["attached_on"] <= pd.Timestamp(rule_set.programme_end)]
    scanned = set(existing.loc[existing["status"].isin(FamilyClaim.SCANNED), "family_id"])
    # Submitted, paid or rejected: claimed once per programme, so never scanned again.
    people_own = set(existing["family_id"]) - scanned
    found = found[~found["family_id"].isin(people_own)].reset_index(drop=True)
    # Eligible claims whose family no longer qualifies (the records were corrected) go.
    gone = scanned - set(found["family_id"])
    if gone:
        FamilyClaim.objects.filter(
            rule_set=rule_set, family_id__in=gone, status__in=FamilyClaim.SCANNED
        ).delete()
    if found.empty:
        return
    start = rule_set.programme_start
    # Per distinct attachment day (a few hundred), not per family (hundreds of thousands).
    day_codes, days = pd.factorize(found["attached_on"])
    years = [programme_year(rule_set, max(day.date(), start)) for day in days]
    claimable = found["claimable"].fillna(False).astype(bool)
    frame = pd.DataFrame(
        {
            "uuid": _uuid4_texts(len(found)),
            "rule_set_id": rule_set.pk,
            "family_id": found["family_id"].astype("int64"),
            "period_label": np.array([y.label for y in years], dtype=object)[day_codes],
            "period_start": np.array([y.start for y in years], dtype="datetime64[ns]")[day_codes],
            "period_end": np.array([y.end for y in years], dtype="datetime64[ns]")[day_codes],
            "status": np.where(
                claimable, FamilyClaim.Status.CLAIMABLE.value, FamilyClaim.Status.ELIGIBLE.value
            ),
            "attached_on": found["attached_on"],
            "claimable_on": found["claimable_on"].where(claimable),
            "route": found["route"].where(claimable, "").fillna(""),
            "evidence": _evidence(found),
        }
    )
    now = timezone.now()
    # A claim whose programme year moved (back-dated needs) is keyed on its old year: drop it.
    moved = existing.merge(frame[["family_id", "period_start"]], on="family_id", suffixes=("", "_"))
    moved = moved[
        moved["status"].isin(FamilyClaim.SCANNED)
        & (pd.to_datetime(moved["period_start"]) != moved["period_start_"])
    ]
    if not moved.empty:
        FamilyClaim.objects.filter(
            rule_set=rule_set,
            family_id__in=list(moved["family_id"]),
            status__in=FamilyClaim.SCANNED,
        ).delete()
    # A family with no claim under the rule set gets a new row, copied straight in: the table
    # lock keeps it new. The others' eligible or claimable claims are updated where they differ.
    known = frame["family_id"].isin(existing["family_id"]).to_numpy()
    for claims, new in ((frame[~known], True), (frame[known], False)):
        if claims.empty:
            continue
        upsert(
            FamilyClaim,
            claims,
            constants={
                "created_at": now.isoformat(),
                "updated_at": now.isoformat(),
                "rejection_reason": "",
            },
            conflict=["family_id", "rule_set_id", "period_start"],
            update=["status", "claimable_on", "route", "evidence", "period_label", "updated_at"],
            kinds=CLAIM_KINDS,
            new=new,
        )


# --- Supporting Families: the claim lifecycle ------------------------------------------------


def _claim_event(claim: FamilyClaim, actor: User | None, kind: str, summary: str) -> None:
    CaseEvent.objects.create(
        family_id=claim.family_id,
        kind=kind,
        summary=summary,
        actor=actor,
        occurred_at=timezone.now(),
        data={"claim": str(claim.uuid), "rule_set": str(claim.rule_set_id)},
    )


def _claim_move(claim: FamilyClaim, status: str) -> None:
    allowed = FamilyClaim.TRANSITIONS[FamilyClaim.Status(claim.status)]
    if status not in allowed:
        raise _refuse(
            "status", f"A {claim.get_status_display().lower()} claim cannot become {status}."
        )
    claim.status = status


def _locked(claim: FamilyClaim) -> FamilyClaim:
    return FamilyClaim.objects.select_for_update().select_related("rule_set").get(pk=claim.pk)


@transaction.atomic
def claim_mark_claimable(
    *, actor: User | None, claim: FamilyClaim, claimable_on: dt.date
) -> FamilyClaim:
    """eligible → claimable by hand (the nightly scan does this for the outcomes route); the
    claimable day must have come."""
    claim = _locked(claim)
    if claimable_on > timezone.localdate():
        raise _refuse("claimable_on", "The sustain window has not ended yet.")
    _claim_move(claim, FamilyClaim.Status.CLAIMABLE)
    claim.claimable_on = claimable_on
    claim.full_clean()
    claim.save()
    _claim_event(claim, actor, "claim_claimable", "Supporting Families claim became claimable")
    return claim


@transaction.atomic
def claim_submit(*, actor: User, claims: Sequence[FamilyClaim], reference: str) -> ClaimBatch:
    """claimable → submitted, together in one new batch under one rule set."""
    if not claims:
        raise _refuse("claims", "Choose at least one claim.")
    if not reference.strip():
        raise _refuse("reference", "Give the batch a reference.")
    if ClaimBatch.objects.filter(reference=reference).exists():
        raise _refuse("reference", "A batch with this reference exists already.")
    locked = list(
        FamilyClaim.objects.select_for_update().filter(pk__in=[c.pk for c in claims]).order_by("pk")
    )
    rule_sets = {c.rule_set_id for c in locked}
    if len(rule_sets) != 1:
        raise _refuse("claims", "A batch holds claims under one rule set.")
    today = timezone.localdate()
    for claim in locked:
        _claim_move(claim, FamilyClaim.Status.SUBMITTED)
        if claim.claimable_on is None or claim.claimable_on > today:
            raise _refuse("claims", "A claim's sustain window has not ended yet.")
    batch = ClaimBatch.objects.create(
        reference=reference.strip(), rule_set_id=rule_sets.pop(), created_by=actor
    )
    now = timezone.now()
    for claim in locked:
        claim.batch = batch
        claim.submitted_at = now
        claim.full_clean()
        claim.save()
        _claim_event(claim, actor, "claim_submitted", f"Claim submitted in batch {batch}")
    return batch


@transaction.atomic
def claim_validate(*, actor: User, claim: FamilyClaim) -> FamilyClaim:
    """submitted → validated (the internal audit agrees with the evidence)."""
    claim = _locked(claim)
    _claim_move(claim, FamilyClaim.Status.VALIDATED)
    claim.validated_at = timezone.now()
    claim.full_clean()
    claim.save()
    _claim_event(claim, actor, "claim_validated", "Claim validated by internal audit")
    return claim


@transaction.atomic
def claim_pay(*, actor: User, claim: FamilyClaim, amount: Decimal | None = None) -> FamilyClaim:
    """validated → paid, for the rule set's amount unless another is given."""
    claim = _locked(claim)
    _claim_move(claim, FamilyClaim.Status.PAID)
    paid = claim.rule_set.payment_amount if amount is None else amount
    if not isinstance(paid, Decimal) or paid < 0:
        raise _refuse("payment_amount", "Give the amount paid as a Decimal of at least 0.")
    claim.payment_amount = paid
    claim.paid_at = timezone.now()
    claim.full_clean()
    claim.save()
    _claim_event(claim, actor, "claim_paid", "Claim paid")
    return claim


@transaction.atomic
def claim_reject(*, actor: User, claim: FamilyClaim, reason: str) -> FamilyClaim:
    """submitted or validated → rejected, with the reason; the claim is kept."""
    if not reason.strip():
        raise _refuse("rejection_reason", "Say why the claim is rejected.")
    claim = _locked(claim)
    _claim_move(claim, FamilyClaim.Status.REJECTED)
    claim.rejected_at = timezone.now()
    claim.rejection_reason = reason.strip()
    claim.full_clean()
    claim.save()
    _claim_event(claim, actor, "claim_rejected", "Claim rejected")
    return claim


def claim_evidence_pack(claim: FamilyClaim) -> dict[str, Any]:
    """What an auditor needs to verify a claim without opening the case: the rule set, the
    family's needs with their outcomes and dates, the plan actions covering them, the
    episodes and their closures, and the scan's checks of the sustain window."""
    from assessments.models import IdentifiedNeed, PlanAction
    from cases.models import Episode

    family: Family = claim.family
    needs = list(
        IdentifiedNeed.objects.filter(assessment__family=family)
        .order_by("assessment__started_on", "pk")
        .values(
            "uuid",
            "headline_outcome__code",
            "headline_outcome__label",
            "assessment__started_on",
            "outcome",
            "outcome_recorded_on",
        )
    )
    actions = list(
        PlanAction.objects.filter(need__assessment__family=family)
        .order_by("due_on", "pk")
        .values("need__uuid", "due_on", "completed_on")
    )
    episodes = list(
        Episode.objects.filter(family=family)
        .order_by("started_on", "pk")
        .values("uuid", "started_on", "ended_on", "end_reason__code", "end_reason__category")
    )

    def plain(rows: Sequence[Any]) -> list[dict[str, Any]]:  # dates stay dates; ids as text
        return [{k: str(v) if isinstance(v, UUID) else v for k, v in row.items()} for row in rows]

    return {
        "claim": str(claim.uuid),
        "family": family.reference,
        "rule_set": claim.rule_set.as_rules().to_dict(),
        "status": claim.status,
        "period": claim.period_label,
        "attached_on": claim.attached_on,
        "claimable_on": claim.claimable_on,
        "route": claim.route,
        "checks": claim.evidence,
        "needs": plain(needs),
        "plan_actions": plain(actions),
        "episodes": plain(episodes),
        "batch": claim.batch.reference if claim.batch else None,
        "rejection_reason": claim.rejection_reason or None,
    }
