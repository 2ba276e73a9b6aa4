"""Authoring the weekly TBT bulletin: weeks, item files, the ePing import, choice, rendering."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import jinja2
import pytest
from openpyxl import Workbook

from bot.bulletin.eping import import_eping, market_of
from bot.bulletin.items import (
    MARKET_LABELS,
    MARKETS,
    TOPIC_LABELS,
    TOPICS,
    Item,
    Week,
    by_deadline,
    load_week_folder,
    matching,
)
from bot.bulletin.render import render, render_text
from bot.messages import LIMIT
from bot.qa.knowledge import Problem
from tests.conftest import DATA, ROOT

W48 = Week(2026, 48)
AGENCY = "Sở Khoa học và Công nghệ tỉnh Hưng Yên"
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
ALLOWED_TAG = re.compile(r'^<(?:b|/b|i|/i|/a|a href="[^"<>]*")>$')


# --- constants ---------------------------------------------------------------------------------


def test_topics_and_markets_have_vietnamese_labels() -> None:
    assert TOPICS == ("barcode", "base_standard", "conformity", "ip", "tbt")
    assert MARKETS == ("EU", "US", "CN", "JP", "KR", "ASEAN", "OTHER")
    assert [TOPIC_LABELS[topic] for topic in TOPICS] == [
        "Mã số mã vạch",
        "Tiêu chuẩn",
        "Hợp chuẩn, hợp quy",
        "Sở hữu công nghiệp",
        "Thông báo TBT",
    ]
    assert [MARKET_LABELS[market] for market in MARKETS] == [
        "EU",
        "Hoa Kỳ",
        "Trung Quốc",
        "Nhật Bản",
        "Hàn Quốc",
        "ASEAN",
        "Thị trường khác",
    ]


# --- weeks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2026-W48", "2026W48", " 2026-w48 ", "2026 W48"])
def test_week_parses_as_staff_type_it(text: str) -> None:
    assert Week.parse(text) == W48


def test_week_bounds_label_and_key() -> None:
    assert W48.start_date == dt.date(2026, 11, 23)  # a Monday
    assert W48.end_date == dt.date(2026, 11, 29)  # a Sunday
    assert W48.label == "Tuần 48/2026 (23/11–29/11/2026)"
    assert W48.key == "2026-W48"
    assert str(W48) == "2026-W48"
    first = Week.parse("2026-W1")
    assert first.key == "2026-W01"
    assert first.label == "Tuần 1/2026 (29/12/2025–04/01/2026)"


def test_week_contains_its_days_in_vietnam_time() -> None:
    assert dt.date(2026, 11, 23) in W48
    assert dt.date(2026, 11, 29) in W48
    assert dt.date(2026, 11, 22) not in W48
    assert dt.date(2026, 11, 30) not in W48
    # 18:00 UTC on Sunday is already Monday 01:00 in Hà Nội: the next week.
    assert dt.datetime(2026, 11, 29, 18, 0, tzinfo=dt.UTC) not in W48
    assert dt.datetime(2026, 11, 22, 18, 0, tzinfo=dt.UTC) in W48
    assert "2026-11-24" not in W48


def test_current_week_follows_iso_years() -> None:
    assert Week.current(dt.date(2026, 11, 26)) == W48
    assert Week.current(dt.date(2024, 12, 31)) == Week(2025, 1)
    assert Week.current(dt.date(2027, 1, 1)) == Week(2026, 53)
    assert Week.current(dt.datetime(2026, 11, 29, 17, 30, tzinfo=dt.UTC)) == Week(2026, 49)
    assert Week(2026, 1).previous() == Week(2025, 52)
    assert Week(2026, 53).next() == Week(2027, 1)
    assert W48.next() == Week(2026, 49)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-48", "Không đọc được tuần «2026-48». Hãy ghi theo dạng 2026-W48"),
        ("tuần 48", "Không đọc được tuần «tuần 48»"),
        ("2025-W53", "Năm 2025 có 52 tuần, không có tuần 53."),
        ("2026-W00", "Năm 2026 có 53 tuần, không có tuần 0."),
    ],
)
def test_bad_weeks_are_refused_in_vietnamese(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Week.parse(text)


# --- items -------------------------------------------------------------------------------------


def test_item_keeps_markets_in_a_fixed_order_and_refuses_unknown_values() -> None:
    item = Item("T", "S", "tbt", ("OTHER", "US", "EU", "US"))
    assert item.markets == ("EU", "US", "OTHER")
    assert item == Item("T", "S", "tbt", ("EU", "OTHER", "US"))
    with pytest.raises(ValueError, match="Chủ đề «smalltalk» không có"):
        Item("T", "S", "smalltalk")
    with pytest.raises(ValueError, match="Thị trường «VN» không có"):
        Item("T", "S", "tbt", ("VN",))


def test_problem_reads_file_field_reason() -> None:
    assert str(Problem("2026-W48/a.md", "topic", "sai")) == "2026-W48/a.md: topic: sai"


def test_items_are_ordered_by_deadline_then_title() -> None:
    late = Item("A", "s", "tbt", deadline=dt.date(2027, 2, 1))
    soon = Item("Z", "s", "tbt", deadline=dt.date(2026, 12, 1))
    none_b = Item("b", "s", "tbt")
    none_a = Item("Ă", "s", "tbt")
    assert by_deadline([none_b, late, none_a, soon]) == [soon, late, none_b, none_a]


# --- item files --------------------------------------------------------------------------------


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def _item_file(
    title: str = "Tin thử",
    topic: str = "tbt",
    markets: str = "[EU]",
    extra: str = "",
    body: str = "Tóm tắt ngắn.",
) -> str:
    return f"---\ntitle: {title}\ntopic: {topic}\nmarkets: {markets}\n{extra}---\n{body}\n"


def test_week_folder_loads_good_files_and_names_broken_ones(tmp_path: Path) -> None:
    week = tmp_path / "2026-W48"
    _write(week, "a-eu.md", _item_file("Đồ chơi EU", extra="deadline: 2027-01-24\n"))
    _write(
        week,
        "b-all.md",
        _item_file(
            "Sửa QCVN",
            "conformity",
            "[]",
            "link: https://example.gov.vn/du-thao\n",
            "Nội dung **quan trọng**.",
        ),
    )
    _write(
        week,
        "c-soon.md",
        _item_file("Zeta", markets="[eu, Hoa Kỳ, eu]", extra="deadline: 2026-12-01\n"),
    )
    _write(week, "d-string-markets.md", _item_file("Nhiều thị trường", markets="US, jp"))
    _write(week, "bad-topic.md", _item_file(topic="tbtt", markets="[EU, Mars]"))
    _write(week, "bad-date.md", _item_file(extra="deadline: 2026-13-01\n"))
    _write(week, "bad-link.md", _item_file(extra="link: ftp://example.org/x\n"))
    _write(week, "empty-summary.md", _item_file(body="   \n"))
    _write(week, "long-summary.md", _item_file(body="x" * 1501))
    _write(week, "missing.md", "---\ntitle: Thiếu\n---\nCó tóm tắt.\n")
    _write(week, "no-front-matter.md", "Chỉ có nội dung.\n")
    _write(week, "bad-yaml.md", "---\ntitle: [chưa đóng\n---\nNội dung.\n")
    _write(week, "typo-field.md", _item_file(extra="deadlin: 2027-01-01\n"))
    _write(week, "_draft.md", "nháp, chưa đúng mẫu")
    _write(week, "notes.txt", "không phải tin")

    items, problems = load_week_folder(week)

    assert [item.title for item in items] == ["Zeta", "Đồ chơi EU", "Nhiều thị trường", "Sửa QCVN"]
    zeta, toys, several, qcvn = items
    assert zeta.markets == ("EU", "US")
    assert zeta.deadline == dt.date(2026, 12, 1)
    assert toys == Item(
        title="Đồ chơi EU",
        summary="Tóm tắt ngắn.",
        topic="tbt",
        markets=("EU",),
        deadline=dt.date(2027, 1, 24),
        source="file",
        source_ref="2026-W48/a-eu.md",
    )
    assert several.markets == ("US", "JP")
    assert qcvn.markets == ()
    assert qcvn.link == "https://example.gov.vn/du-thao"
    assert qcvn.summary == "Nội dung **quan trọng**."
    lines = [str(problem) for problem in problems]
    yaml_error = "2026-W48/bad-yaml.md: front matter: YAML không hợp lệ: while parsing a flow"
    assert lines[4].startswith(yaml_error)
    lines[4] = lines[4][: lines[4].index(": while")]
    assert lines == [
        "2026-W48/bad-date.md: deadline: «2026-13-01» không phải ngày; ghi theo dạng YYYY-MM-DD, "
        "ví dụ 2027-01-24",
        "2026-W48/bad-link.md: link: «ftp://example.org/x» phải là địa chỉ web bắt đầu bằng "
        "http:// hoặc https://",
        "2026-W48/bad-topic.md: topic: «tbtt» không có; chọn một trong: barcode, base_standard, "
        "conformity, ip, tbt",
        "2026-W48/bad-topic.md: markets: «Mars» không có; chọn trong: EU, US, CN, JP, KR, ASEAN, "
        "OTHER",
        "2026-W48/bad-yaml.md: front matter: YAML không hợp lệ",
        "2026-W48/empty-summary.md: summary: chưa có tóm tắt: viết tóm tắt ngay dưới dòng '---' "
        "thứ hai",
        "2026-W48/long-summary.md: summary: tóm tắt dài 1501 ký tự, quá 1.500: hãy rút gọn",
        "2026-W48/missing.md: topic: thiếu trường này",
        "2026-W48/missing.md: markets: thiếu trường này",
        "2026-W48/no-front-matter.md: front matter: thiếu phần đầu: tệp phải bắt đầu bằng dòng "
        "'---'",
        "2026-W48/typo-field.md: deadlin: trường lạ; chỉ dùng: title, topic, markets, link, "
        "deadline",
    ]


def test_summary_of_exactly_1500_characters_is_accepted(tmp_path: Path) -> None:
    _write(tmp_path, "max.md", _item_file(body="y" * 1500))
    items, problems = load_week_folder(tmp_path)
    assert problems == []
    assert len(items[0].summary) == 1500


def test_missing_week_folder_is_an_empty_week(tmp_path: Path) -> None:
    assert load_week_folder(tmp_path / "2026-W49") == ([], [])


def test_sample_week_is_valid_and_marked_as_examples() -> None:
    items, problems = load_week_folder(ROOT / "bulletins" / "examples")
    assert problems == []
    assert 2 <= len(items) <= 3
    assert all(item.title.startswith("Ví dụ") for item in items)
    assert {item.topic for item in items} >= {"tbt", "conformity"}
    assert any(item.markets == () for item in items)  # a change in Vietnamese rules
    assert all(item.deadline is not None for item in items)
    assert (ROOT / "bulletins" / "README.md").is_file()


# --- markets of WTO members --------------------------------------------------------------------


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

EU_TBT = Item("EU notice", "s", "tbt", ("EU",))
ALL_CONFORMITY = Item("QCVN change", "s", "conformity")
US_OTHER_TBT = Item("US notice", "s", "tbt", ("US", "OTHER"))
CN_IP = Item("CN trademark", "s", "ip", ("CN",))
ITEMS = [EU_TBT, ALL_CONFORMITY, US_OTHER_TBT, CN_IP]


@pytest.mark.parametrize(
    ("topics", "markets", "expected"),
    [
        ([], [], ITEMS),
        (["tbt"], [], [EU_TBT, US_OTHER_TBT]),
        ([], ["EU"], [EU_TBT, ALL_CONFORMITY]),
        (["tbt", "conformity"], ["OTHER"], [ALL_CONFORMITY, US_OTHER_TBT]),
        ([""], [" eu "], [EU_TBT, ALL_CONFORMITY]),
        (["ip"], ["JP"], []),
        (["ip", "tbt"], ["CN", "US"], [US_OTHER_TBT, CN_IP]),
        (["barcode"], [], []),
    ],
)
def test_matching_follows_the_subscribers_choice(
    topics: list[str], markets: list[str], expected: list[Item]
) -> None:
    assert matching(ITEMS, topics, markets) == expected


def test_matching_reads_the_stored_comma_separated_choices() -> None:
    assert matching(ITEMS, "tbt,conformity", "OTHER") == [ALL_CONFORMITY, US_OTHER_TBT]
    assert matching(ITEMS, "", "") == ITEMS
    assert matching(ITEMS, "ip", " cn , jp ") == [CN_IP]


# --- rendering ---------------------------------------------------------------------------------

GOLDEN_ITEMS = [
    Item(
        "EU: hóa chất trong đồ chơi",
        "Dự thảo **mới**; xem [toàn văn](https://example.org/a?b=1&c=2).",
        "tbt",
        ("EU",),
        "https://example.org/eu",
        dt.date(2027, 1, 24),
    ),
    Item("Sửa QCVN <thép>", "Áp dụng cho hàng nội địa & nhập khẩu.", "conformity", source="bot"),
    Item(
        "Brazil: Toys",
        "Updates <toys> rules.\nSản phẩm: Toys",
        "tbt",
        ("OTHER",),
        deadline=dt.date(2027, 1, 2),
        source="eping",
        source_ref="G/TBT/N/BRA/9707",
    ),
]

GOLDEN_HTML = """\
<b>📰 BẢN TIN TBT · Tuần 48/2026 (23/11–29/11/2026)</b>
<i>Sở Khoa học và Công nghệ tỉnh Hưng Yên</i>

Tuần này có 3 tin theo chủ đề và thị trường bạn đã chọn.

<b>▸ Thông báo TBT</b>

<b>1. EU: hóa chất trong đồ chơi</b>
<i>🌏 EU</i>
Dự thảo <b>mới</b>; xem <a href="https://example.org/a?b=1&amp;c=2">toàn văn</a>.
⏰ Hạn góp ý: 24/01/2027
🔗 <a href="https://example.org/eu">Xem chi tiết</a>

<b>2. Brazil: Toys</b>
<i>🌏 Thị trường khác</i>
Updates &lt;toys&gt; rules.
Sản phẩm: Toys
Số hiệu: G/TBT/N/BRA/9707
⏰ Hạn góp ý: 02/01/2027

<b>▸ Hợp chuẩn, hợp quy</b>

<b>3. Sửa QCVN &lt;thép&gt;</b>
<i>🌏 Mọi thị trường</i>
Áp dụng cho hàng nội địa &amp; nhập khẩu.

—
Toàn văn thông báo của WTO: tra theo số hiệu trên <a href="https://epingalert.org/">ePing</a>.
Muốn góp ý dự thảo hay cần giải thích một tin: nhắn câu hỏi ngay tại đây hoặc liên hệ \
Sở Khoa học và Công nghệ tỉnh Hưng Yên.
Đổi chủ đề, thị trường nhận tin: gõ /caidat."""


def test_render_groups_by_topic_word_for_word() -> None:
    assert render(GOLDEN_ITEMS, W48, AGENCY) == [GOLDEN_HTML]


def test_render_is_stable() -> None:
    assert render(GOLDEN_ITEMS, W48, AGENCY) == render(list(GOLDEN_ITEMS), W48, AGENCY)


def test_render_without_items_sends_nothing() -> None:
    assert render([], W48, AGENCY) == []


def test_render_shows_only_the_subscribers_items() -> None:
    (text,) = render(matching(GOLDEN_ITEMS, ["conformity"], ["US"]), W48, AGENCY)
    assert "Sửa QCVN &lt;thép&gt;" in text
    assert "đồ chơi" not in text
    assert "Brazil" not in text
    assert "ePing" not in text  # the ePing line only comes with ePing items
    assert "Tuần này có 1 tin" in text
    assert "<b>1. Sửa QCVN" in text


def test_render_escapes_html_in_every_field() -> None:
    item = Item(
        "<script>alert(1)</script> & Co",
        'Dùng <b>thẻ</b> & ký tự "lạ"',
        "tbt",
        ("EU",),
        'https://example.org/?q="x"',
        source="bot",
    )
    (text,) = render([item], W48, "Sở <KH&CN>")
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in text
    assert "Dùng &lt;b&gt;thẻ&lt;/b&gt; &amp; ký tự" in text
    assert "Sở &lt;KH&amp;CN&gt;" in text
    assert "example.org/?q=" not in text  # a link with quotes is not a safe link: left out
    assert all(ALLOWED_TAG.match(tag) for tag in re.findall(r"<[^>]*>", text))


def test_markdown_summary_keeps_only_telegram_tags_the_bulletin_uses() -> None:
    item = Item("T", "`mã` và <i>thô</i>\n\n```\nkhối mã\n```", "tbt")
    (text,) = render([item], W48, AGENCY)
    assert "mã và &lt;i&gt;thô&lt;/i&gt;\n\nkhối mã\n" in text
    assert all(ALLOWED_TAG.match(tag) for tag in re.findall(r"<[^>]*>", text))


def test_markdown_links_that_are_not_web_addresses_keep_only_their_text() -> None:
    item = Item("T", "Xem [dự thảo](du-thao.pdf) và [ePing](https://epingalert.org/).", "tbt")
    (text,) = render([item], W48, AGENCY)
    assert 'Xem dự thảo và <a href="https://epingalert.org/">ePing</a>.' in text


def _balanced(part: str) -> bool:
    stack: list[str] = []
    for closing, name in re.findall(r"<(/?)([a-z]+)[^>]*>", part):
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def test_sixty_long_items_split_under_the_telegram_limit() -> None:
    summary = ("Doanh nghiệp cần đọc kỹ <dự thảo> & chuẩn bị hồ sơ thử nghiệm. " * 22).strip()
    items = [
        Item(
            f"Thông báo số {number:02d}: " + "yêu cầu kỹ thuật rất dài về sản phẩm " * 4,
            summary,
            "tbt" if number % 2 else "conformity",
            ("EU",) if number % 3 else (),
            f"https://example.org/{number}",
            dt.date(2027, 1, 1) + dt.timedelta(days=number),
            source="bot",
        )
        for number in range(1, 61)
    ]
    assert all(len(item.summary) > 1300 for item in items)

    parts = render(items, W48, AGENCY)

    assert len(parts) > 20
    assert all(len(part) <= LIMIT for part in parts)
    assert all(_balanced(part) for part in parts)
    assert parts[0].startswith("<b>📰 BẢN TIN TBT · Tuần 48/2026 (23/11–29/11/2026)</b>")
    for position, part in enumerate(parts[1:], start=2):
        assert part.startswith(
            "<i>Bản tin TBT Tuần 48/2026 (23/11–29/11/2026), tiếp theo "
            f"({position}/{len(parts)})</i>"
        )
    joined = "\n".join(parts)
    numbers = [int(n) for n in re.findall(r"<b>(\d+)\. Thông báo số", joined)]
    assert numbers == list(range(1, 61))  # every item once, in order, none cut in two
    assert joined.count("⏰ Hạn góp ý:") == 60
    assert parts[-1].endswith("Đổi chủ đề, thị trường nhận tin: gõ /caidat.")
    assert render(items, W48, AGENCY) == parts


def test_staff_can_override_the_template(tmp_path: Path) -> None:
    (tmp_path / "bulletin.html.j2").write_text(
        "<b>{{ week_key }}</b>: {{ count }} tin{% for g in groups %} [{{ g.label }}]{% endfor %}",
        encoding="utf-8",
    )
    assert render(GOLDEN_ITEMS, W48, AGENCY, templates=tmp_path) == [
        "<b>2026-W48</b>: 3 tin [Thông báo TBT] [Hợp chuẩn, hợp quy]"
    ]
    # Another folder without the file falls back to the packaged template.
    other = tmp_path / "empty"
    other.mkdir()
    assert render(GOLDEN_ITEMS, W48, AGENCY, templates=other) == [GOLDEN_HTML]


def test_a_misspelt_variable_in_an_edited_template_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "bulletin.html.j2").write_text("{{ week_lable }}", encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError):
        render(GOLDEN_ITEMS, W48, AGENCY, templates=tmp_path)


def test_text_preview_for_the_command_line() -> None:
    text = render_text(GOLDEN_ITEMS, W48, AGENCY)
    assert "<" not in text.replace("<toys>", "").replace("<thép>", "")
    assert text.splitlines()[:2] == [
        "📰 BẢN TIN TBT · Tuần 48/2026 (23/11–29/11/2026)",
        "Sở Khoa học và Công nghệ tỉnh Hưng Yên",
    ]
    assert "Dự thảo mới; xem toàn văn (https://example.org/a?b=1&c=2)." in text
    assert "🔗 Xem chi tiết (https://example.org/eu)" in text
    assert "3. Sửa QCVN <thép>" in text
    assert "Áp dụng cho hàng nội địa & nhập khẩu." in text
    assert "Updates <toys> rules." in text
    assert "⏰ Hạn góp ý: 24/01/2027" in text
    assert "tra theo số hiệu trên ePing (https://epingalert.org/)." in text
    assert render_text([], W48, AGENCY) == (
        "Bản tin TBT Tuần 48/2026 (23/11–29/11/2026): chưa có tin nào."
    )


def test_whole_pipeline_from_files_and_eping() -> None:
    files, file_problems = load_week_folder(ROOT / "bulletins" / "examples")
    notices, eping_problems = import_eping(EPING_CSV, W48)
    assert file_problems == []
    assert len(eping_problems) == 5
    chosen = matching([*files, *notices], ["tbt"], ["US"])
    assert [item.source for item in chosen] == ["file", "eping"]
    parts = render(chosen, W48, AGENCY)
    assert len(parts) == 1
    assert "G/TBT/N/USA/9202" in parts[0]
    assert "European Union" not in parts[0]
