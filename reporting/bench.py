"""Reporting benchmark: the full recompute of every measure and the PbR scan on a synthetic
1,000,000-child council in PostgreSQL, beside the floor no implementation can beat.

    DATABASE_URL=postgres://… python -m reporting.bench --children 1000000

(``make bench-report``). It works in a database beside ``DATABASE_URL``'s, named
``<name>_bench`` (kept unless the name already ends so), seeded with ``cases.interchange``'s
generator and importer and reused while the set is unchanged.

Printed: the floor — PostgreSQL merely streaming the columns the measures read
(``COPY (SELECT …) TO STDOUT`` of ``reporting.selectors.source_queries()``, to nowhere) — then
the full recompute as the embedded default runs it (no broker: the data loaded once, then the
partitions shared by ``REPORT_RUN_PROCESSES`` forked processes, on empty reporting tables), its
wall time, CPU and the ratio to the floor; then its peak memory, from a second run. Each run is
in a fresh child process. The peak is the largest sum, sampled five times a second, of the
proportional set sizes of it and its forks (pages they share counted once), or its own peak if
larger. The sampling is not free (the kernel walks every page of each process: about a quarter
of a core on two cores), so the timed run goes unsampled.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import resource
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from cases.interchange.bench import DEFAULT_DIR
from cases.interchange.generator import DEFAULT_SEED, LAST_DATE

MARKER = "bench-report-seeded.json"
TARGET_SECONDS = 60
TARGET_MEGABYTES = 4096
TARGET_RATIO = 3


def _bench_url(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    if not parsed.scheme.startswith("postgres"):
        raise SystemExit(
            "The reporting benchmark needs PostgreSQL: set DATABASE_URL, for example\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/earlyhelp make bench-report"
        )
    name = parsed.path.lstrip("/") or "earlyhelp"
    if not name.endswith("_bench"):
        name = f"{name}_bench"
    return urlunparse(parsed._replace(path=f"/{name}")), name


def _create_database(url: str, name: str) -> None:
    import psycopg2  # type: ignore[import-untyped]

    parsed = urlparse(url)
    admin = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "earlyhelp.settings.base")
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every query's text
    os.environ.pop("CELERY_BROKER_URL", None)  # the embedded default: tasks in process
    import django

    django.setup()


def ensure_seeded(directory: Path, children: int, seed: int) -> str:
    """The synthetic set imported into this database: reused when the marker says it is."""
    from django.core.management import call_command
    from django.db import connection

    from cases.interchange import format as ssd
    from cases.interchange.bench import empty_case_tables, ensure_set
    from cases.interchange.importer import import_ssd
    from cases.management.commands.seed_demo import demo_accounts_setup
    from cases.models import Episode

    call_command("migrate", interactive=False, verbosity=0)
    demo_accounts_setup()
    rows, generated = ensure_set(directory, children, seed)
    marker_path = directory / MARKER
    wanted = {"database": connection.settings_dict["NAME"], "rows": rows}
    if (
        generated is None
        and marker_path.exists()
        and json.loads(marker_path.read_text()) == wanted
        and Episode.objects.count() == rows["ssd_early_help_episodes"]
    ):
        return "reused the imported set"
    marker_path.unlink(missing_ok=True)
    empty_case_tables()
    started = time.perf_counter()
    import_ssd(directory, code_map=directory / ssd.CODE_MAP_FILE)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    marker_path.write_text(json.dumps(wanted))
    return f"imported the set in {seconds:.1f} s"


class _Sink(io.RawIOBase):
    """Where the floor's rows go: counted, then forgotten."""

    def __init__(self) -> None:
        self.bytes = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.bytes += len(data)
        return len(data)


def floor() -> tuple[float, int]:
    """Seconds for PostgreSQL to stream every column the measures read, and the bytes sent."""
    from django.db import connection

    from reporting.selectors import source_queries

    queries = source_queries()
    sink = _Sink()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in queries.values():
            cursor.copy_expert(sql, sink)
    return time.perf_counter() - started, sink.bytes


class _TreeMemory(threading.Thread):
    """The largest total proportional set size seen of this process's descendants."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_kb = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(pid) for pid in _descendants()))

    def stop(self) -> float:
        self.stopped.set()
        self.join()
        return self.peak_kb / 1024


def _descendants() -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [os.getpid()]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def recompute_in_child(cutoff: str, months: int) -> dict[str, Any]:
    """In a fresh process: empty the reporting tables, then one full run, as nightly does."""
    _setup_django()
    from django.conf import settings
    from django.db import connection

    from reporting import services
    from reporting.models import FamilyClaim, KpiMember, KpiValue, ReportRun

    with connection.cursor() as cursor:
        tables = [m._meta.db_table for m in (KpiMember, KpiValue, FamilyClaim, ReportRun)]
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    started = time.perf_counter()
    cpu = os.times()
    run = services.report_run_request(
        actor=None,
        trigger=ReportRun.Trigger.NIGHTLY,
        data_cutoff=dt.date.fromisoformat(cutoff),
        months=months,
    )
    seconds = time.perf_counter() - started
    ended = os.times()  # the forks are reaped by now, so their time is in children's
    run.refresh_from_db()
    return {
        "seconds": seconds,
        "cpu": sum(ended[:4]) - sum(cpu[:4]),
        "processes": settings.REPORT_RUN_PROCESSES,
        "status": run.status,
        "error": run.error,
        "partitions": run.progress_total,
        "values": KpiValue.objects.count(),
        "members": KpiMember.objects.count(),
        "claims": FamilyClaim.objects.count(),
        "claimable": FamilyClaim.objects.filter(status="claimable").count(),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _recompute(months: int) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        result = pool.submit(recompute_in_child, LAST_DATE.isoformat(), months).result()
    if result["status"] != "succeeded":
        raise SystemExit(f"The run {result['status']}: {result['error']}")
    return dict(result)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--months", type=int, default=24)
    options = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    url, name = _bench_url(os.environ.get("DATABASE_URL", ""))
    _create_database(url, name)
    os.environ["DATABASE_URL"] = url
    _setup_django()
    print(f"Reporting benchmark: {options.children:,} children, database {name}")
    print(f"load before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
    print(f"seed: {ensure_seeded(options.dir, options.children, options.seed)}")

    floor(), floor()  # warm the cache once; the second pass is the figure
    floor_seconds, floor_bytes = floor()
    print(
        f"floor (COPY of the columns the measures read, to nowhere): {floor_seconds:.1f} s, "
        f"{floor_bytes / 1e6:,.0f} MB"
    )
    result = _recompute(options.months)
    print(
        f"full recompute ({options.months} months to {LAST_DATE}, {result['partitions']} "
        f"partitions in {result['processes']} processes, all measures and PbR): wall time "
        f"{result['seconds']:.1f} s (CPU {result['cpu']:.1f} s in all processes)"
    )
    print(
        f"stored: {result['values']:,} KPI values, {result['members']:,} drill-down rows, "
        f"{result['claims']:,} claims ({result['claimable']:,} claimable)"
    )
    memory = _TreeMemory()
    memory.start()
    sampled = _recompute(options.months)
    result["peak_mb"] = max(sampled["peak_mb"], memory.stop())
    print(
        f"peak memory: {result['peak_mb']:,.0f} MB (a second run, its memory sampled: "
        f"wall time {sampled['seconds']:.1f} s)"
    )
    ratio = result["seconds"] / floor_seconds
    print(f"ratio to the floor: {ratio:.1f}x")
    print(
        "targets: "
        f"< {TARGET_SECONDS} s {'met' if result['seconds'] < TARGET_SECONDS else 'MISSED'}, "
        f"< {TARGET_MEGABYTES} MB "
        f"{'met' if result['peak_mb'] < TARGET_MEGABYTES else 'MISSED'}, "
        f"< {TARGET_RATIO}x floor {'met' if ratio < TARGET_RATIO else 'MISSED'}"
    )
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")


if __name__ == "__main__":
    main()
