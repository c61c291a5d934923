"""``manage.py import_ssd DIR [--code-map FILE]``: import a batch of SSD files."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.interchange.importer import ImportRejected, import_ssd


class Command(BaseCommand):
    help = (
        "Import SSD files (and our extension files) from DIR. The batch is checked first; "
        "any problem rejects it whole, with a report of every bad row, and nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="folder holding ssd_person.csv etc.")
        parser.add_argument(
            "--code-map",
            type=Path,
            default=None,
            help="local code mapping (category,local_code,code); default DIR/ssd_code_map.csv",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["directory"]
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        try:
            result = import_ssd(directory, code_map=options["code_map"])
        except ImportRejected as rejected:
            for error in rejected.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"Import rejected: {len(rejected.errors)} problem(s); nothing was written."
            ) from rejected
        total = sum(result.rows.values())
        for name, rows in result.rows.items():
            self.stdout.write(f"{name:<30} {rows:>10,} rows")
        rate = total / result.seconds if result.seconds else float(total)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {total:,} rows in {result.seconds:.1f} s ({rate:,.0f} rows/second)."
            )
        )
