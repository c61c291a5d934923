"""Downloads of any reporting table as CSV or XLSX, claim batches, and claim evidence packs.

Spreadsheets run formulas: a cell a family or partner typed as ``=HYPERLINK(…)`` would run on
the officer's machine (CSV injection). Every text cell starting with = + - @ tab or carriage
return gets a leading apostrophe, in CSV and XLSX alike (an XLSX saved again as CSV must stay
safe), and XlsxWriter is told never to turn text into formulas or links. Numbers and dates
stay numbers and dates.

XlsxWriter rather than openpyxl: an export only writes, and XlsxWriter writes row by row in
constant memory and is several times faster on large tables.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]  # ships no type hints
from django.http import HttpResponse

from reporting.models import ClaimBatch, FamilyClaim, KpiValue
from reporting.services import claim_evidence_pack

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula, made plain text."""
    if isinstance(value, str) and value.startswith(DANGEROUS_FIRST):
        return "'" + value
    return value


@dataclass
class Table:
    """Headers and rows: what every export takes, whatever the page it came from."""

    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    title: str = "Export"
    sheets: list[Table] = field(default_factory=list)  # further sheets (XLSX only)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(neutralise(value)) if isinstance(value, str) else str(value)


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so Excel reads accented names correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in table.headers])
    for row in table.rows:
        writer.writerow([_cell_text(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = workbook.add_format({"bold": True})
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for sheet in [table, *table.sheets]:
        worksheet = workbook.add_worksheet(_sheet_name(sheet.title))
        for column, header in enumerate(sheet.headers):
            worksheet.write_string(0, column, str(neutralise(header)), bold)
        for number, row in enumerate(sheet.rows, start=1):
            for column, value in enumerate(row):
                _write(worksheet, number, column, value, dates)
    workbook.close()
    return buffer.getvalue()


def _sheet_name(title: str) -> str:
    cleaned = "".join(c for c in title if c not in "[]:*?/\\")
    return (cleaned or "Export")[:31]


def _write(worksheet: Any, row: int, column: int, value: Any, dates: Any) -> None:
    if value is None:
        worksheet.write_blank(row, column, None)
    elif isinstance(value, bool):
        worksheet.write_boolean(row, column, value)
    elif isinstance(value, int | float | Decimal):
        worksheet.write_number(row, column, float(value))
    elif isinstance(value, dt.datetime):
        worksheet.write_datetime(row, column, value.replace(tzinfo=None), dates)
    elif isinstance(value, dt.date):
        worksheet.write_datetime(row, column, dt.datetime.combine(value, dt.time()), dates)
    else:
        worksheet.write_string(row, column, str(neutralise(str(value))))


def response(table: Table, fmt: str, filename: str) -> HttpResponse:
    """An attachment download of ``table`` as ``csv`` or ``xlsx``."""
    if fmt == "csv":
        body, content_type = to_csv(table), CSV_TYPE
    elif fmt == "xlsx":
        body, content_type = to_xlsx(table), XLSX_TYPE
    else:
        raise ValueError(f"Unknown export format {fmt!r}: use csv or xlsx")
    safe = "".join(c for c in filename if c.isalnum() or c in "-_.") or "export"
    download = HttpResponse(body, content_type=content_type)
    download["Content-Disposition"] = f'attachment; filename="{safe}.{fmt}"'
    return download


# --- Tables the reporting pages download -------------------------------------------------------

KPI_HEADERS = [
    "measure",
    "period",
    "period start",
    "period end",
    "breakdown",
    "breakdown value",
    "line",
    "numerator",
    "denominator",
    "value",
]


def kpi_values_table(values: Iterable[KpiValue], title: str = "KPI values") -> Table:
    return Table(
        KPI_HEADERS,
        (
            [
                v.measure,
                v.period_label,
                v.period_start,
                v.period_end,
                v.breakdown,
                v.breakdown_value,
                v.category,
                v.numerator,
                v.denominator,
                v.value,
            ]
            for v in values
        ),
        title=title,
    )


CLAIM_HEADERS = [
    "batch",
    "claim",
    "family",
    "programme year",
    "attached on",
    "claimable on",
    "route",
    "status",
    "submitted at",
    "payment amount",
]


def claim_batch_table(batch: ClaimBatch) -> Table:
    """One row per claim in the batch: what the programme's return asks for."""
    claims = (
        FamilyClaim.objects.filter(batch=batch)
        .select_related("family")
        .order_by("family__reference")
    )
    return Table(
        CLAIM_HEADERS,
        (
            [
                batch.reference,
                str(c.uuid),
                c.family.reference,
                c.period_label,
                c.attached_on,
                c.claimable_on,
                c.route,
                c.status,
                c.submitted_at,
                c.payment_amount,
            ]
            for c in claims
        ),
        title=f"Claims {batch.reference}",
    )


def evidence_pack_table(claim: FamilyClaim) -> Table:
    """The evidence pack as a workbook: summary and checks, then needs, plan actions and
    episodes on sheets of their own."""
    pack = claim_evidence_pack(claim)

    def sheet(title: str, rows: list[dict[str, Any]]) -> Table:
        headers = list(rows[0]) if rows else ["(none)"]
        return Table(headers, [[row.get(h) for h in headers] for row in rows], title=title)

    summary = [
        ["claim", pack["claim"]],
        ["family", pack["family"]],
        ["rule set", f"{pack['rule_set']['code']} v{pack['rule_set']['version']}"],
        ["status", pack["status"]],
        ["programme year", pack["period"]],
        ["attached on", pack["attached_on"]],
        ["claimable on", pack["claimable_on"]],
        ["route", pack["route"]],
        ["batch", pack["batch"]],
        ["rejection reason", pack["rejection_reason"]],
        *[[f"check: {name}", value] for name, value in sorted(pack["checks"].items())],
    ]
    return Table(
        ["item", "value"],
        summary,
        title="Evidence",
        sheets=[
            sheet("Needs", pack["needs"]),
            sheet("Plan actions", pack["plan_actions"]),
            sheet("Episodes", pack["episodes"]),
        ],
    )
