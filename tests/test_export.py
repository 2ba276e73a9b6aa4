"""The consultation log exported for staff as .xlsx and .csv (bot/reports/export.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from bot.reports.export import export_files
from bot.store.database import create_database_engine
from bot.store.statistics import consultation_rows
from tests.test_stats import Q3, seed

AGENCY = "Sở Khoa học và Công nghệ tỉnh Hưng Yên"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BOM = b"\xef\xbb\xbf"
KEYS: list[str | None] = ["barcode", "base_standard", "conformity", "ip", "tbt", None]

Q3_PARAGRAPHS = [
    "Trong quý III/2026, Sở Khoa học và Công nghệ tỉnh Hưng Yên tiếp nhận 12 lượt câu hỏi của 05 "
    "tổ chức, cá nhân qua trợ lý hỏi đáp trên Telegram, tăng 20% so với quý II/2026 (10 lượt). "
    "Trả lời 10 lượt câu hỏi của các tổ chức, cá nhân về mã số mã vạch, tiêu chuẩn, quy chuẩn kỹ "
    "thuật, sở hữu công nghiệp và hàng rào kỹ thuật trong thương mại (trợ lý tự động trả lời 07 "
    "lượt, cán bộ chuyên môn trả lời trực tiếp 03 lượt). "
    "Hướng dẫn 03 doanh nghiệp về hồ sơ mã số mã vạch. "
    "Hướng dẫn 01 doanh nghiệp xây dựng tiêu chuẩn cơ sở. "
    "Hướng dẫn 02 đơn vị về công bố hợp chuẩn, hợp quy. "
    "Cung cấp thông tin về hàng rào kỹ thuật trong thương mại (TBT) cho 01 đơn vị. "
    "Phát hành 02 số bản tin TBT tới 05 lượt người nhận.",
    "Tư vấn, hướng dẫn 03 đơn vị về thủ tục đăng ký bảo hộ quyền sở hữu công nghiệp.",
    "Có 04 lượt câu hỏi được chuyển tới cán bộ chuyên môn; cán bộ đã trả lời 03 lượt, thời gian "
    "trả lời trung vị 2 giờ. "
    "Còn 02 lượt câu hỏi chưa được trả lời do trợ lý chưa đủ căn cứ hoặc đang chờ cán bộ xử lý. "
    "Người hỏi đánh giá 03 câu trả lời hữu ích và 02 câu trả lời chưa đúng (tỷ lệ hữu ích 60%).",
]

ROWS_HEADER = [
    "Thời gian (giờ Việt Nam)",
    "Kênh",
    "Câu hỏi",
    "Chủ đề",
    "Mã mục trả lời",
    "Độ tin cậy",
    "Kết quả",
    "Đánh giá của người hỏi",
    "Tổ chức, doanh nghiệp",
    "Mã số thuế",
]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    found = create_database_engine(database_url)
    seed(found)
    yield found
    found.dispose()


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
