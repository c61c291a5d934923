"""``manage.py export_ssd DIR``: write every record as SSD files (plus our extension files)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cases.interchange.exporter import export_ssd


class Command(BaseCommand):
    help = "Export families, people, episodes, CSC records, assessments and transitions to DIR."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="folder to write the CSV files into")

    def handle(self, *args: Any, **options: Any) -> None:
        written = export_ssd(options["directory"])
        for name, rows in written.items():
            self.stdout.write(f"{name:<30} {rows:>10,} rows")
        self.stdout.write(self.style.SUCCESS(f"Exported {sum(written.values()):,} rows."))
