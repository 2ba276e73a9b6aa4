"""The consultation log exported for staff: .xlsx and .csv, times in Vietnam, cells that a
spreadsheet would run as formulas neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot.reports.labels import Labels, load_labels
from bot.store.statistics import ConsultationRow, consultation_rows

if TYPE_CHECKING:
    from sqlalchemy import Engine  # a type only: the queries live in bot/store

CSV_TIME = "%Y-%m-%d %H:%M:%S"
XLSX_TIME = "dd/mm/yyyy hh:mm:ss"
# Spreadsheet programs run cells starting with these as formulas (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ROW_KEYS = (
    "time",
    "channel",
    "question",
    "topic",
    "entry_id",
    "confidence",
    "outcome",
    "feedback",
    "organisation",
    "tax_code",
)


def _display_values(row: ConsultationRow, labels: Labels) -> list[Any]:
    """A row in the order of ROW_KEYS, codes replaced by the wording staff read."""
    channels = labels.mapping("channels")
    outcomes = labels.mapping("outcomes")
    feedback = labels.mapping("feedback")
    return [
        row["time"],
        channels.get(row["channel"], row["channel"]),
        row["question"],
        labels.topic(row["topic"]),
        row["entry_id"] or "",
        round(row["confidence"], 3),
        outcomes.get(row["outcome"], row["outcome"]),
        feedback.get(row["feedback"], row["feedback"]) if row["feedback"] else "",
        row["organisation"] or "",
        row["tax_code"] or "",
    ]


def _text_cell(value: str) -> str:
    """Strip characters an .xlsx file cannot hold (control characters from chat text)."""
    return str(ILLEGAL_CHARACTERS_RE.sub("", value))


def _csv_cell(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime(CSV_TIME)
    text = _text_cell(str(value))
    return "'" + text if text.startswith(FORMULA_START) else text


def sheet_name(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", name).strip()[:31] or "Sheet"


def fill_rows_sheet(sheet: Any, rows: Sequence[ConsultationRow], labels: Labels) -> None:
    columns = labels.mapping("columns")
    sheet.append([columns.get(key, key) for key in ROW_KEYS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(
            [_text_cell(v) if isinstance(v, str) else v for v in _display_values(row, labels)]
        )
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # a question starting with "=" stays text, not a formula
        sheet.cell(sheet.max_row, 1).number_format = XLSX_TIME
        sheet.cell(sheet.max_row, 3).alignment = Alignment(wrap_text=True, vertical="top")
    widths = (20, 12, 60, 26, 26, 11, 28, 18, 36, 14)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def workbook_bytes(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_files(
    engine: Engine,
    start_utc: dt.datetime,
    end_utc: dt.datetime,
    templates: Path | None = None,
) -> tuple[bytes, bytes]:
    """The consultations of a period as (.xlsx bytes, .csv bytes) for the staff export.

    The CSV starts with a UTF-8 byte-order mark: without it Excel reads Vietnamese as
    mojibake. Cells that a spreadsheet would run as a formula are prefixed with an apostrophe.
    """
    labels = load_labels(templates)
    rows = consultation_rows(engine, start_utc, end_utc)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name(labels["rows_sheet"])
    fill_rows_sheet(sheet, rows, labels)
    text = io.StringIO()
    writer = csv.writer(text)
    columns = labels.mapping("columns")
    writer.writerow([columns.get(key, key) for key in ROW_KEYS])
    for row in rows:
        writer.writerow([_csv_cell(value) for value in _display_values(row, labels)])
    return workbook_bytes(workbook), text.getvalue().encode("utf-8-sig")
