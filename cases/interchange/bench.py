"""Import benchmark: generate a synthetic SSD set and time a full import into PostgreSQL.

    DATABASE_URL=postgres://… python -m cases.interchange.bench --children 1000000

(``make bench-import``). The set is generated in a child process, so the two peak-memory
figures are the generator's and the importer's; it is reused while the size, seed and
generator code are unchanged (see the manifest file). The case tables are emptied first so
the first figure is a clean full import; the second import of the same files measures the
idempotent re-import, which should write nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from cases.interchange import format as ssd
from cases.interchange.generator import DEFAULT_SEED, generate_ssd

if TYPE_CHECKING:
    from cases.interchange.importer import ImportResult

MANIFEST = "bench-manifest.json"
DEFAULT_DIR = Path("var/bench-ssd")


def _require_postgresql() -> None:
    """The benchmark is about the production database; SQLite figures would mislead."""
    url = os.environ.get("DATABASE_URL", "")
    if not urlparse(url).scheme.startswith("postgres"):
        raise SystemExit(
            "The import benchmark needs PostgreSQL: set DATABASE_URL, for example\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/earlyhelp make bench-import"
        )


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "earlyhelp.settings.base")
    # With DEBUG on, Django keeps the text of every query: megabytes per bulk statement.
    os.environ.setdefault("DJANGO_DEBUG", "false")
    import django

    django.setup()


def _source_digest() -> str:
    """Changes when the generator or the format changes, so a stale set is regenerated."""
    digest = hashlib.sha256()
    for module in ("generator.py", "format.py"):
        digest.update((Path(__file__).with_name(module)).read_bytes())
    return digest.hexdigest()[:16]


def _generate_in_child(directory: Path, children: int, seed: int) -> dict[str, int]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(generate_ssd, directory, children=children, seed=seed).result()


def ensure_set(directory: Path, children: int, seed: int) -> tuple[dict[str, int], float | None]:
    """The set for this size and seed: reused if the manifest matches, else generated.

    Returns rows per file and the generation time (None when reused).
    """
    wanted = {"children": children, "seed": seed, "generator": _source_digest()}
    manifest_path = directory / MANIFEST
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        files_present = all((directory / f"{spec.name}.csv").exists() for spec in ssd.FILES)
        if files_present and {key: manifest.get(key) for key in wanted} == wanted:
            return manifest["rows"], None
    manifest_path.unlink(missing_ok=True)
    started = time.perf_counter()
    rows = _generate_in_child(directory, children, seed)
    seconds = time.perf_counter() - started
    manifest_path.write_text(json.dumps({**wanted, "rows": rows, "seconds": seconds}, indent=2))
    return rows, seconds


def case_tables() -> list[str]:
    """Tables holding case records (not reference data, organisations or accounts)."""
    from django.apps import apps

    from cases import models as cm

    case_models: list[Any] = [
        cm.Family,
        cm.Person,
        cm.Address,
        cm.FamilyMembership,
        cm.Referral,
        cm.Episode,
        cm.CscInvolvement,
        cm.Transition,
        cm.CaseEvent,
        cm.ReferenceCounter,
        *apps.get_app_config("assessments").get_models(),
    ]
    return [model._meta.db_table for model in case_models]


def empty_case_tables() -> None:
    """TRUNCATE … CASCADE: also empties tables that point at case records (m2m, partner data)."""
    from django.db import connection

    with connection.cursor() as cursor:
        names = ", ".join(connection.ops.quote_name(table) for table in case_tables())
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def _cpu_timed(call: Callable[[], ImportResult]) -> tuple[ImportResult, float]:
    """The result and this process's CPU seconds: wall time alone misleads on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = call()
    after = resource.getrusage(resource.RUSAGE_SELF)
    return result, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _megabytes(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports kilobytes


def _table(rows: dict[str, int]) -> list[str]:
    width = max(len(name) for name in rows)
    lines = [f"  {name:<{width}}  {count:>12,}" for name, count in rows.items()]
    lines.append(f"  {'total':<{width}}  {sum(rows.values()):>12,}")
    return lines


def run(directory: Path, children: int, seed: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from cases.interchange.importer import ImportRejected, import_ssd
    from cases.management.commands.seed_demo import demo_accounts_setup

    if connection.vendor != "postgresql":
        raise SystemExit("The import benchmark needs PostgreSQL (DATABASE_URL).")
    print(f"Import benchmark: {children:,} children, seed {seed}, files in {directory}")
    call_command("migrate", interactive=False, verbosity=0)
    demo_accounts_setup()

    rows, generate_seconds = ensure_set(directory, children, seed)
    if generate_seconds is None:
        print("generate: reused the set already in the directory (same size, seed and code)")
    else:
        print(f"generate: {generate_seconds:.1f} s")
    print("rows per file:", *_table(rows), sep="\n")

    empty_case_tables()
    code_map = directory / ssd.CODE_MAP_FILE
    try:
        first, first_cpu = _cpu_timed(lambda: import_ssd(directory, code_map=code_map))
        second, second_cpu = _cpu_timed(lambda: import_ssd(directory, code_map=code_map))
    except ImportRejected as exc:
        for error in exc.errors[:20]:
            print(f"  {error.file}:{error.line}:{error.column}: {error.reason}", file=sys.stderr)
        raise SystemExit(f"The generated set was rejected ({len(exc.errors)} problems).") from exc

    total = sum(first.rows.values())
    print(
        f"import (empty tables): {first.seconds:.1f} s, {total / first.seconds:,.0f} rows/s"
        f" (CPU in this process {first_cpu:.1f} s)"
    )
    print(
        f"re-import (unchanged): {second.seconds:.1f} s, {total / second.seconds:,.0f} rows/s"
        f" (CPU in this process {second_cpu:.1f} s)"
    )
    print(f"peak memory: importer process {_megabytes(resource.RUSAGE_SELF):,.0f} MB", end="")
    if generate_seconds is not None:
        print(f", generator process {_megabytes(resource.RUSAGE_CHILDREN):,.0f} MB", end="")
    print()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    options = parser.parse_args(argv)
    if options.children < 1:
        parser.error("--children must be at least 1")
    _require_postgresql()
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # progress shows when piped to a log
    _setup_django()
    started = time.perf_counter()
    run(options.dir, options.children, options.seed)
    print(f"wall time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
