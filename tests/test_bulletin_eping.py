"""The WTO ePing export read into bulletin items (bot/bulletin/eping.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.bulletin.eping import import_eping, market_of
from bot.bulletin.items import (
    Week,
)
from bot.qa.knowledge import Problem
from tests.conftest import DATA

W48 = Week(2026, 48)
EPING_CSV = DATA / "eping" / "notifications-2026-W48.csv"
HEADER = [
    "Document symbol",
    "Notifying Member",
    "Title",
    "Description",
    "Products covered",
    "HS code(s)",
    "ICS code(s)",
    "Keywords",
    "Objectives",
    "Distribution date",
    "Final date for comments",
]
# --- constants ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "market"),
    [
        ("European Union", "EU"),
        ("France", "EU"),
        ("  germany ", "EU"),
        ("Slovak Republic", "EU"),
        ("United States of America", "US"),
        ("China", "CN"),
        ("Japan", "JP"),
        ("Korea, Republic of", "KR"),
        ("KOREA,  REPUBLIC OF", "KR"),
        ("Brunei Darussalam", "ASEAN"),
        ("Cambodia", "ASEAN"),
        ("Indonesia", "ASEAN"),
        ("Lao People's Democratic Republic", "ASEAN"),
        ("Lao People’s Democratic Republic", "ASEAN"),
        ("Malaysia", "ASEAN"),
        ("Myanmar", "ASEAN"),
        ("Philippines", "ASEAN"),
        ("Singapore", "ASEAN"),
        ("Thailand", "ASEAN"),
        ("Viet Nam", "ASEAN"),
        ("Chinese Taipei", "OTHER"),
        ("Hong Kong, China", "OTHER"),
        ("United Kingdom", "OTHER"),
        ("Brazil", "OTHER"),
        ("", "OTHER"),
    ],
)
def test_market_of_wto_member(member: str, market: str) -> None:
    assert market_of(member) == market


# --- ePing import ------------------------------------------------------------------------------


def test_eping_csv_keeps_the_week_reports_bad_rows_and_dedupes() -> None:
    items, problems = import_eping(EPING_CSV, W48)

    assert [item.source_ref for item in items] == [
        "G/TBT/N/USA/9202",
        "G/TBT/N/FRA/9909",
        "G/TBT/N/EU/9101",
        "G/TBT/N/BRA/9707",
        "G/TBT/N/KOR/9404",
    ]
    usa, france, eu, brazil, korea = items
    assert usa.title == "United States of America: Energy conservation standards for ceiling fans"
    assert usa.markets == ("US",)
    assert usa.deadline == dt.date(2027, 1, 23)  # written 23/01/2027
    assert usa.topic == "tbt"
    assert usa.source == "eping"
    assert usa.link is None
    assert len(usa.summary) <= 600
    assert usa.summary.endswith("…\nSản phẩm: Ceiling fans (mã HS: 841451)")
    assert usa.summary.startswith("The draft rule amends the test procedure")
    assert france.markets == ("EU",)
    assert france.summary == (
        "Requires a label on the environmental impact. Applies to clothing and footwear.\n"
        "Sản phẩm: Clothing; footwear (mã HS: 61; 62; 64)"
    )
    # The symbol came twice: the last row wins.
    assert eu.title == "European Union: Revised draft on chemical limits in toys"
    assert eu.deadline == dt.date(2027, 1, 31)
    assert brazil.markets == ("OTHER",)
    assert brazil.deadline is None  # "Not applicable"
    assert brazil.summary == "Updates the conformity assessment procedure for toys."
    assert korea.title == "Korea, Republic of: Labelling of cosmetics"
    assert korea.markets == ("KR",)
    assert korea.deadline is None
    name = EPING_CSV.name
    hint = "(ghi dạng 24/11/2026 hoặc 2026-11-24)"
    assert [str(problem) for problem in problems] == [
        f"{name}: dòng 6: thiếu Notifying Member",
        f"{name}: dòng 7: Distribution date «31/11/2026» không phải ngày {hint}",
        f"{name}: dòng 10: Final date for comments «next month» không phải ngày {hint}",
        # Row 12 holds a two-line cell: numbers still follow the spreadsheet's rows.
        f"{name}: dòng 14: thiếu Document symbol, Title",
        f"{name}: dòng 15: thiếu Distribution date",
    ]


def test_eping_csv_of_another_week_has_other_items_and_no_problem_for_them() -> None:
    items, problems = import_eping(EPING_CSV, Week(2026, 47))
    assert [item.source_ref for item in items] == ["G/TBT/N/CHN/9303"]
    assert items[0].markets == ("CN",)
    # Rows whose distribution date is unreadable or missing cannot be placed: always reported.
    assert [problem.field for problem in problems] == ["dòng 7", "dòng 15"]


def _write_csv(folder: Path, rows: list[list[str]]) -> Path:
    path = folder / "eping.csv"
    lines = [",".join(HEADER), *(",".join(f'"{cell}"' for cell in row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


EMPTY5 = ["", "", "", "", ""]  # Products covered .. Objectives left empty


def test_eping_title_drops_the_page_count_and_is_shortened(tmp_path: Path) -> None:
    long_title = "Draft regulation " + "on very long matters " * 20 + "(15 page(s), in English)"
    rows = [
        ["G/TBT/N/EU/1", "European Union", long_title, "d", "", "", "", "", "", "2026-11-24", ""],
        [
            "G/TBT/N/EU/2",
            "European Union",
            "Toys (3 pages, in English).",
            "d",
            *EMPTY5,
            "2026-11-24",
        ],
    ]
    items, problems = import_eping(_write_csv(tmp_path, rows), W48)
    assert problems == []
    shortened, toys = items
    assert len(shortened.title) <= 200
    assert shortened.title.endswith("…")
    assert shortened.title.removesuffix("…").split()[-1] in {"on", "very", "long", "matters"}
    assert "page" not in shortened.title
    assert shortened.title.startswith("European Union: Draft regulation on very long matters")
    assert toys.title == "European Union: Toys"


def test_eping_semicolon_csv_without_bom_is_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "eping.csv"
    lines = [
        ";".join(HEADER),
        "G/TBT/N/KOR/1;Korea, Republic of;Batteries;Safety of batteries;Batteries;8507;;;;"
        "2026-11-25;2027-01-24",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items, problems = import_eping(path, W48)
    assert problems == []
    assert [(item.title, item.markets, item.deadline) for item in items] == [
        ("Korea, Republic of: Batteries", ("KR",), dt.date(2027, 1, 24))
    ]


def test_eping_xlsx_finds_its_header_and_reads_excel_dates(tmp_path: Path) -> None:
    """Long because it builds a real workbook with a preamble, Excel dates and bad rows in one
    file."""
    path = tmp_path / "eping.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["WTO ePing: notifications export"])
    sheet.append([])
    columns = [
        "FINAL DATE FOR COMMENTS",
        "notifying member",
        "Document Symbol",
        " Title ",
        "Description",
        "Products covered",
        "HS code(s)",
        "Distribution date",
    ]
    sheet.append(columns)
    serial_25_november = (dt.date(2026, 11, 25) - dt.date(1899, 12, 30)).days
    sheet.append(
        [
            dt.datetime(2027, 1, 23),
            "Japan",
            "G/TBT/N/JPN/1",
            "Electrical appliances",
            "Revises technical requirements.",
            "Appliances",
            950300,
            dt.datetime(2026, 11, 24, 0, 0),
        ]
    )
    sheet.append(
        [
            dt.date(2027, 1, 30),
            "Lao People’s Democratic Republic",
            "G/TBT/N/LAO/2",
            "Fertilisers",
            "Quality requirements.",
            "",
            "",
            float(serial_25_november),
        ]
    )
    sheet.append(["", "China", "G/TBT/N/CHN/3", "Out of week", "", "", "", dt.date(2026, 12, 1)])
    sheet.append(["", "Singapore", "G/TBT/N/SGP/4", None, "", "", "", "24/11/2026"])
    sheet.append(
        ["2027-02-01", "Singapore", "G/TBT/N/SGP/5", "Food labels", "", "", 2106, "27/11/2026"]
    )
    workbook.save(path)

    items, problems = import_eping(path, W48)

    assert [str(problem) for problem in problems] == ["eping.xlsx: dòng 7: thiếu Title"]
    assert [item.source_ref for item in items] == [
        "G/TBT/N/JPN/1",
        "G/TBT/N/LAO/2",
        "G/TBT/N/SGP/5",
    ]
    japan, laos, singapore = items
    assert japan.deadline == dt.date(2027, 1, 23)
    assert japan.markets == ("JP",)
    assert japan.summary == "Revises technical requirements.\nSản phẩm: Appliances (mã HS: 950300)"
    assert laos.markets == ("ASEAN",)
    assert laos.deadline == dt.date(2027, 1, 30)
    assert singapore.summary == "Chưa có mô tả; xem toàn văn thông báo G/TBT/N/SGP/5.\nMã HS: 2106"
    assert singapore.deadline == dt.date(2027, 2, 1)


def test_eping_unreadable_files_are_one_problem(tmp_path: Path) -> None:
    old_excel = tmp_path / "eping.xls"
    old_excel.write_bytes(b"\xd0\xcf\x11\xe0")
    assert import_eping(old_excel, W48) == (
        [],
        [
            Problem(
                "eping.xls",
                "file",
                "chỉ nhận tệp .xlsx hoặc .csv xuất từ ePing (tệp này là «.xls»)",
            )
        ],
    )
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    items, problems = import_eping(broken, W48)
    assert items == []
    assert [(p.file, p.field) for p in problems] == [("broken.xlsx", "file")]
    assert problems[0].reason.startswith("không mở được bảng tính .xlsx")
    windows = tmp_path / "ansi.csv"
    windows.write_bytes(",".join(HEADER).encode() + b"\nG/1,Vi\xeat Nam,x,,,,,,,24/11/2026,\n")
    assert import_eping(windows, W48)[1] == [
        Problem("ansi.csv", "file", "tệp CSV không phải UTF-8: hãy lưu lại dạng «CSV UTF-8»")
    ]
    no_header = tmp_path / "other.csv"
    no_header.write_text("Symbol,Country\nG/1,Japan\n", encoding="utf-8")
    assert import_eping(no_header, W48)[1] == [
        Problem(
            "other.csv",
            "header",
            "không tìm thấy dòng tiêu đề có đủ các cột Document symbol, Notifying Member, Title, "
            "Distribution date",
        )
    ]


# --- choice per subscriber ---------------------------------------------------------------------
