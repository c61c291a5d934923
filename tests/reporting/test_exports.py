"""Exports: CSV and XLSX of any table, formula injection neutralised, claim batches, packs."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from reporting import exports, services
from reporting.models import FamilyClaim
from reporting.selectors import reporting_data

HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+2",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
]


def table() -> exports.Table:
    rows: list[list[object]] = [
        [text, 42, Decimal("12.5"), dt.date(2026, 10, 31), None] for text in HOSTILE
    ]
    rows.append(["Ada O'Neill", -7, 0.5, dt.date(2024, 2, 29), "plain"])
    return exports.Table(["name", "count", "rate", "on", "note"], rows, title="Families")


def test_neutralise_prefixes_only_dangerous_text():
    assert [exports.neutralise(text) for text in HOSTILE] == ["'" + text for text in HOSTILE]
    assert exports.neutralise("Ada") == "Ada"
    assert exports.neutralise(-7) == -7  # a number is not a formula
    assert exports.neutralise("") == ""


def test_csv_cells_cannot_start_a_formula():
    body = exports.to_csv(table()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["name", "count", "rate", "on", "note"]
    for row in rows[1:]:
        assert not row[0].startswith(exports.DANGEROUS_FIRST)
    assert rows[1] == ["'" + HOSTILE[0], "42", "12.5", "2026-10-31", ""]
    assert rows[-1] == ["Ada O'Neill", "-7", "0.5", "2024-02-29", "plain"]


def test_xlsx_has_no_formulas_and_keeps_numbers_and_dates():
    workbook = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(table())))
    sheet = workbook["Families"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("name", "count", "rate", "on", "note")
    for row, text in zip(rows[1:], HOSTILE, strict=False):
        # openpyxl leaves a stored carriage return escaped as _x000D_
        assert row[0].replace("_x000D_", "\r") == "'" + text
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)
    assert rows[1][1:4] == (42, 12.5, dt.datetime(2026, 10, 31))
    assert rows[-1][:2] == ("Ada O'Neill", -7)


def test_a_download_is_an_attachment_of_the_right_type():
    download = exports.response(table(), "xlsx", "kpis 2026/10")
    assert download["Content-Type"] == exports.XLSX_TYPE
    assert download["Content-Disposition"] == 'attachment; filename="kpis202610.xlsx"'
    with pytest.raises(ValueError):
        exports.response(table(), "pdf", "x")


@pytest.mark.django_db
def test_claim_batch_and_evidence_pack_exports(world, officer):
    services.pbr_scan(data=reporting_data(), as_of=dt.date(2026, 10, 31))
    claim = FamilyClaim.objects.get()
    batch = services.claim_submit(actor=officer, claims=[claim], reference="=BATCH-1")
    rows = list(
        csv.reader(
            io.StringIO(exports.to_csv(exports.claim_batch_table(batch)).decode("utf-8-sig"))
        )
    )
    assert rows[0] == exports.CLAIM_HEADERS
    assert rows[1][0] == "'=BATCH-1"  # even our own references are neutralised
    assert rows[1][2] == world["families"]["c"].reference
    assert rows[1][5] == "2025-05-16" and rows[1][7] == "submitted"

    pack = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(exports.evidence_pack_table(claim))))
    assert pack.sheetnames == ["Evidence", "Needs", "Plan actions", "Episodes"]
    summary = dict(pack["Evidence"].iter_rows(min_row=2, values_only=True))
    # dates are the workbook's own dates, so a spreadsheet can sort and filter on them
    assert summary["claimable on"] == dt.datetime(2025, 5, 16)
    assert summary["check: sustained"] is True
    assert pack["Needs"].max_row == 4  # header and three needs
