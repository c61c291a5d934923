"""Reporting benchmark (``make bench-report``): the full recompute on the 1,000,000-child set."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

MARKER = "bench-report-seeded.json"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "earlyhelp.settings.base")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    import django

    django.setup()


def seed(directory: Path, children: int, seed_value: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from cases.interchange import format as ssd
    from cases.interchange.bench import empty_case_tables, ensure_set
    from cases.interchange.importer import import_ssd
    from cases.management.commands.seed_demo import demo_accounts_setup

    call_command("migrate", interactive=False, verbosity=0)
    demo_accounts_setup()
    rows, generated = ensure_set(directory, children, seed_value)
    print("generated" if generated is not None else "reused files", rows, flush=True)
    empty_case_tables()
    started = time.perf_counter()
    import_ssd(directory, code_map=directory / ssd.CODE_MAP_FILE)
    print(f"imported in {time.perf_counter() - started:.1f} s", flush=True)
    (directory / MARKER).write_text(
        json.dumps({"database": connection.settings_dict["NAME"], "rows": rows})
    )


if __name__ == "__main__":
    _setup_django()
    seed(Path(sys.argv[1]), int(sys.argv[2]), 20261123)
