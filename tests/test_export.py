"""The consultation log exported for staff as .xlsx and .csv (bot/reports/export.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from openpyxl import load_workbook
from sqlalchemy import Engine

from bot.reports.export import export_files
from bot.store.statistics import consultation_rows
from tests.test_reports import BOM, ROWS_HEADER
from tests.test_reports import engine as engine  # the seeded log, a fixture
from tests.test_stats import Q3


def test_export_files_give_xlsx_and_csv_that_excel_reads(engine: Engine) -> None:
    xlsx, csv_bytes = export_files(engine, Q3.start, Q3.end)

    sheet = load_workbook(io.BytesIO(xlsx))["Lượt tư vấn"]
    assert [cell.value for cell in sheet[1]] == ROWS_HEADER
    assert sheet.max_row == 13

    assert csv_bytes.startswith(BOM)
    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert rows[0] == ROWS_HEADER
    assert len(rows) == 13
    assert rows[1] == [
        "2026-07-01 00:00:00",
        "Telegram",
        "câu hỏi c01",
        "Mã số mã vạch",
        "barcode-fees",
        "0.85",
        "Trợ lý đã trả lời",
        "Hữu ích",
        "Công ty TNHH Hải Long",
        "1000000001",
    ]
    assert rows[-1][0] == "2026-09-30 23:59:59"
    questions = [row[2] for row in rows]
    assert '\'=HYPERLINK("http://x")' in questions  # a spreadsheet will not run it
    assert "hồ sơ công bố hợp quy gồm những gì" in questions
    assert "câu hỏi s01" not in questions
    assert "câu hỏi q10" not in questions  # 23:59:59 on 30 June is Q2
    assert "câu hỏi n01" not in questions  # 00:00:00 on 1 October is Q4


def test_consultation_rows_can_include_small_talk(engine: Engine) -> None:
    rows = consultation_rows(engine, Q3.start, Q3.end, include_smalltalk=True)
    assert len(rows) == 14
    assert [row["topic"] for row in rows].count("smalltalk") == 2
    assert rows[0]["time"] == dt.datetime(2026, 7, 1, 0, 0, 0)
    assert rows[0]["organisation"] == "Công ty TNHH Hải Long"
    assert rows[0]["tax_code"] == "1000000001"


# --- templates ---------------------------------------------------------------------------------
