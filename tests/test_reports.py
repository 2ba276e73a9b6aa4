"""Report text, the staff message, the chart and the office files, checked to the word."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import struct
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import Engine

from bot.reports.documents import chart_png, report_sentences, summary_html, write_report
from bot.reports.stats import Quarter, QuarterStats, TopEntry, quarter_stats
from bot.store.database import create_database_engine
from bot.store.statistics import consultation_rows
from bot.templating import (
    TEMPLATES,
    format_duration,
    format_number,
    format_padded,
    format_percent,
)
from tests.test_stats import Q3, TITLES, seed

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
    engine = create_database_engine(database_url)
    seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def stats(engine: Engine) -> QuarterStats:
    return quarter_stats(engine, Q3, TITLES)


def make_stats(quarter: Quarter = Q3, **changes: object) -> QuarterStats:
    """Figures built by hand, for cases a database would need thousands of rows for."""
    empty = QuarterStats(
        quarter=quarter,
        enquiries=0,
        by_topic=dict.fromkeys(KEYS, 0),
        by_month={month: dict.fromkeys(KEYS, 0) for month in quarter.months},
        people=0,
        organisations=0,
        askers=0,
        askers_by_topic=dict.fromkeys(KEYS, 0),
        answered_by_bot=0,
        answered_by_staff=0,
        unanswered=0,
        handed_off=0,
        median_staff_answer=None,
        helpful=0,
        not_helpful=0,
        top_entries={},
        bulletins=0,
        bulletin_recipients=0,
    )
    return dataclasses.replace(empty, **changes)  # type: ignore[arg-type]


# --- numbers -----------------------------------------------------------------------------------


def test_numbers_are_written_the_vietnamese_way() -> None:
    assert format_number(0) == "0"
    assert format_number(999) == "999"
    assert format_number(1234) == "1.234"
    assert format_number(1234567) == "1.234.567"
    assert format_padded(0) == "0"
    assert format_padded(7) == "07"
    assert format_padded(10) == "10"
    assert format_padded(1234) == "1.234"
    assert format_percent(0.125) == "12,5"
    assert format_percent(0.2) == "20"
    assert format_percent(-1 / 12) == "8,3"
    assert format_percent(12.345) == "1.234,5"


def test_waiting_times_are_written_in_words() -> None:
    assert format_duration(dt.timedelta(seconds=20)) == "dưới 1 phút"
    assert format_duration(dt.timedelta(minutes=45)) == "45 phút"
    assert format_duration(dt.timedelta(hours=2)) == "2 giờ"
    assert format_duration(dt.timedelta(hours=3, minutes=20)) == "3 giờ 20 phút"
    assert format_duration(dt.timedelta(days=1, hours=3, minutes=20)) == "1 ngày 3 giờ"
    assert format_duration(dt.timedelta(days=2)) == "2 ngày"


# --- the report section ------------------------------------------------------------------------


def test_report_section_states_every_figure_in_exact_sentences(stats: QuarterStats) -> None:
    assert report_sentences(stats, AGENCY).split("\n\n") == Q3_PARAGRAPHS


def test_report_section_reports_a_fall_with_a_decimal_comma(engine: Engine) -> None:
    text = report_sentences(quarter_stats(engine, Quarter(2026, 4)), AGENCY)
    assert text.split("\n\n") == [
        "Trong quý IV/2026, Sở Khoa học và Công nghệ tỉnh Hưng Yên tiếp nhận 01 lượt câu hỏi của "
        "01 tổ chức, cá nhân qua trợ lý hỏi đáp trên Telegram, giảm 91,7% so với quý III/2026 "
        "(12 lượt). Trả lời 01 lượt câu hỏi của các tổ chức, cá nhân về mã số mã vạch, tiêu "
        "chuẩn, quy chuẩn kỹ thuật, sở hữu công nghiệp và hàng rào kỹ thuật trong thương mại. "
        "Hướng dẫn 01 doanh nghiệp về hồ sơ mã số mã vạch.",
        "Không có câu hỏi nào phải chuyển tới cán bộ chuyên môn. "
        "Chưa có ý kiến đánh giá của người hỏi về các câu trả lời.",
    ]


def test_report_section_after_an_empty_quarter_says_so(engine: Engine) -> None:
    text = report_sentences(quarter_stats(engine, Quarter(2026, 1)), AGENCY)
    assert text.startswith(
        "Trong quý I/2026, Sở Khoa học và Công nghệ tỉnh Hưng Yên tiếp nhận 01 lượt câu hỏi của "
        "01 tổ chức, cá nhân qua trợ lý hỏi đáp trên Telegram (quý IV/2025 chưa có câu hỏi nào). "
    )
    assert "%" not in text


def test_report_section_of_an_empty_quarter_has_no_zero_figures(database_url: str) -> None:
    empty = create_database_engine(database_url)
    text = report_sentences(quarter_stats(empty, Quarter(2030, 1)), AGENCY)
    assert text == (
        "Trong quý I/2030, trợ lý hỏi đáp trên Telegram của Sở Khoa học và Công nghệ tỉnh Hưng "
        "Yên chưa tiếp nhận câu hỏi nào của tổ chức, cá nhân."
    )
    empty.dispose()


def test_bulletins_are_reported_even_in_a_quarter_without_questions() -> None:
    text = report_sentences(make_stats(bulletins=13, bulletin_recipients=1234), AGENCY)
    assert text.split("\n\n") == [
        "Trong quý III/2026, trợ lý hỏi đáp trên Telegram của Sở Khoa học và Công nghệ tỉnh Hưng "
        "Yên chưa tiếp nhận câu hỏi nào của tổ chức, cá nhân. "
        "Phát hành 13 số bản tin TBT tới 1.234 lượt người nhận."
    ]


def test_large_figures_use_dots_between_thousands() -> None:
    previous = make_stats(Quarter(2026, 2), enquiries=10000)
    current = make_stats(
        enquiries=12500,
        askers=1234,
        askers_by_topic={**dict.fromkeys(KEYS, 0), "barcode": 1500},
        answered_by_bot=11000,
        answered_by_staff=1000,
        unanswered=500,
        handed_off=1200,
        median_staff_answer=dt.timedelta(days=1, hours=3, minutes=20),
        previous=previous,
    )
    text = report_sentences(current, AGENCY)
    assert (
        "tiếp nhận 12.500 lượt câu hỏi của 1.234 tổ chức, cá nhân qua trợ lý hỏi đáp trên "
        "Telegram, tăng 25% so với quý II/2026 (10.000 lượt)."
    ) in text
    assert (
        "(trợ lý tự động trả lời 11.000 lượt, cán bộ chuyên môn trả lời trực tiếp 1.000 lượt)."
    ) in text
    assert "Hướng dẫn 1.500 doanh nghiệp về hồ sơ mã số mã vạch." in text
    assert (
        "Có 1.200 lượt câu hỏi được chuyển tới cán bộ chuyên môn; cán bộ đã trả lời 1.000 lượt, "
        "thời gian trả lời trung vị 1 ngày 3 giờ."
    ) in text
    assert "Còn 500 lượt câu hỏi chưa được trả lời" in text
    assert "tiêu chuẩn cơ sở" not in text  # no asker in that topic: the sentence is left out


@pytest.mark.parametrize(
    ("helpful", "not_helpful", "sentence"),
    [
        (
            4,
            0,
            "Người hỏi đánh giá 04 câu trả lời hữu ích, chưa có ý kiến nào cho rằng câu trả "
            "lời chưa đúng.",
        ),
        (
            0,
            2,
            "Có 02 câu trả lời bị người hỏi đánh giá chưa đúng; các câu trả lời này cần được "
            "rà soát lại.",
        ),
        (
            1,
            2,
            "Người hỏi đánh giá 01 câu trả lời hữu ích và 02 câu trả lời chưa đúng (tỷ lệ hữu "
            "ích 33,3%).",
        ),
    ],
)
def test_feedback_sentence_fits_what_people_said(
    helpful: int, not_helpful: int, sentence: str
) -> None:
    stats = make_stats(enquiries=6, answered_by_bot=6, helpful=helpful, not_helpful=not_helpful)
    assert report_sentences(stats, AGENCY).endswith(sentence)


def test_handed_off_questions_not_yet_answered_are_said_to_wait() -> None:
    stats = make_stats(enquiries=3, unanswered=3, handed_off=3)
    text = report_sentences(stats, AGENCY)
    assert (
        "Có 03 lượt câu hỏi được chuyển tới cán bộ chuyên môn, chưa có lượt nào được trả lời."
        in text
    )
    assert "Trả lời" not in text


# --- the Telegram message ----------------------------------------------------------------------


def tags(html: str) -> list[str]:
    return re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)[^>]*>", html)


def test_summary_message_shows_the_figures_in_bold_and_italic_only(engine: Engine) -> None:
    titles = {**TITLES, "tbt-notify": "Thông báo <script>alert(1)</script> về Tôm & Cá"}
    html = summary_html(quarter_stats(engine, Q3, titles))
    assert set(tags(html)) == {"b", "i"}
    assert html.count("<b>") == html.count("</b>")
    assert html.count("<i>") == html.count("</i>")
    assert "<script>" not in html
    assert "1. Thông báo &lt;script&gt;alert(1)&lt;/script&gt; về Tôm &amp; Cá (1)" in html
    lines = html.splitlines()
    assert lines[0] == "<b>📊 Thống kê hỏi đáp Quý III/2026</b>"
    assert lines[1] == "<i>Từ 01/07/2026 đến 30/09/2026 (giờ Việt Nam)</i>"
    for line in [
        "Câu hỏi tiếp nhận: <b>12</b> lượt (tăng 20% so với quý II/2026: 10 lượt)",
        "Người hỏi: 6 người (5 tổ chức, cá nhân; 3 doanh nghiệp đã khai hồ sơ)",
        "Trợ lý trả lời: 7 · Cán bộ trả lời: 3 · Chưa trả lời: 2",
        "Chuyển cán bộ: 4 lượt, thời gian trả lời trung vị 2 giờ",
        "Đánh giá: 👍 3 · 👎 2 (60% hữu ích)",
        "• Mã số mã vạch: 4 lượt, 3 đơn vị",
        "• Sở hữu công nghiệp: 3 lượt, 3 đơn vị",
        "• Chưa xác định chủ đề: 1 lượt, 1 đơn vị",
        "• Tháng 9: 6 lượt",
        "Bản tin TBT: 2 số, 5 lượt người nhận",
        "<i>Mã số mã vạch</i>",
        "1. Phí cấp mã số mã vạch (3)",
        "2. Hồ sơ đăng ký mã số mã vạch (1)",
    ]:
        assert line in lines, line
    assert "\n\n\n" not in html


def test_summary_message_of_an_empty_quarter() -> None:
    html = summary_html(make_stats())
    assert "Trong quý chưa có câu hỏi nào." in html
    assert "Bản tin TBT: chưa phát hành số nào trong quý" in html
    assert "Câu hỏi hay gặp" not in html


def test_summary_message_stays_under_the_telegram_limit() -> None:
    long_title = "Thủ tục " + "rất dài " * 60
    topics = [*KEYS[:-1], *(f"khac-{n}" for n in range(12))]
    top = {
        topic: [TopEntry(f"{topic}-{n}", f"{long_title}{n}", 10 - n) for n in range(5)]
        for topic in topics
        if topic is not None
    }
    stats = make_stats(enquiries=900, answered_by_bot=900, top_entries=top)
    html = summary_html(stats)
    assert len(html) < 4000
    assert "Câu hỏi tiếp nhận: <b>900</b> lượt" in html
    # The list is shortened rank by rank, titles are cut: the most asked entry stays.
    entry_lines = [line for line in html.splitlines() if re.match(r"\d\. ", line)]
    assert entry_lines
    assert entry_lines[0].startswith("1. Thủ tục rất dài")
    assert all(len(line) < 100 for line in entry_lines)
    assert "…" in entry_lines[0]
    assert not any(line.startswith("5. ") for line in entry_lines)


# --- chart -------------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chart_is_a_real_png(stats: QuarterStats) -> None:
    data = chart_png(stats)
    assert data.startswith(PNG_SIGNATURE)
    assert data[12:16] == b"IHDR"
    assert png_size(data) == (1080, 600)
    assert len(data) > 20_000  # bars, labels and legend, not a blank canvas


def test_chart_of_an_empty_quarter_still_renders() -> None:
    data = chart_png(make_stats())
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000


# --- the report files --------------------------------------------------------------------------


def test_write_report_writes_docx_xlsx_and_chart(
    engine: Engine, stats: QuarterStats, tmp_path: Path
) -> None:
    """Long because it reads back every file the report writes (.docx, .xlsx, chart) against the
    same figures."""
    rows = consultation_rows(engine, Q3.start, Q3.end)
    paths = write_report(stats, tmp_path / "out", AGENCY, consultations_rows=rows)
    assert [path.name for path in paths] == ["report.docx", "report.xlsx", "chart.png"]
    assert all(path.stat().st_size > 0 for path in paths)

    document = Document(str(paths[0]))
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert texts[0] == "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH HƯNG YÊN"
    assert texts[1] == (
        "Báo cáo thống kê hoạt động hỏi đáp về tiêu chuẩn, đo lường, chất lượng, TBT và sở hữu "
        "công nghiệp Quý III/2026"
    )
    for paragraph in Q3_PARAGRAPHS:
        assert paragraph in texts
    assert len(document.tables) == 1
    table = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert table == [
        ["Chủ đề", "Tháng 7", "Tháng 8", "Tháng 9", "Cộng"],
        ["Mã số mã vạch", "3", "1", "0", "4"],
        ["Tiêu chuẩn cơ sở", "0", "1", "0", "1"],
        ["Công bố hợp chuẩn, hợp quy", "0", "1", "1", "2"],
        ["Sở hữu công nghiệp", "0", "0", "3", "3"],
        ["Hàng rào kỹ thuật (TBT)", "0", "0", "1", "1"],
        ["Chưa xác định chủ đề", "0", "0", "1", "1"],
        ["Tổng cộng", "3", "3", "6", "12"],
    ]
    assert len(document.inline_shapes) == 1  # the chart

    workbook = load_workbook(paths[1])
    assert workbook.sheetnames == ["Tổng hợp", "Lượt tư vấn"]
    summary = [list(row) for row in workbook["Tổng hợp"].iter_rows(values_only=True)]
    start = next(i for i, row in enumerate(summary) if row[0] == "Chủ đề")
    assert summary[start][:5] == ["Chủ đề", "Tháng 7", "Tháng 8", "Tháng 9", "Cộng"]
    assert summary[start + 1][:5] == ["Mã số mã vạch", 3, 1, 0, 4]
    assert summary[start + 7][:5] == ["Tổng cộng", 3, 3, 6, 12]
    figures = {row[0]: row[1] for row in summary[start + 8 :] if row[0]}
    assert figures["Tổng số lượt câu hỏi"] == 12
    assert figures["Số người hỏi"] == 6
    assert figures["Số tổ chức, cá nhân hỏi"] == 5
    assert figures["Trợ lý tự động trả lời (lượt)"] == 7
    assert figures["Cán bộ trả lời trực tiếp (lượt)"] == 3
    assert figures["Chưa được trả lời (lượt)"] == 2
    assert figures["Chuyển cán bộ chuyên môn (lượt)"] == 4
    assert figures["Thời gian cán bộ trả lời, trung vị (giờ)"] == 2
    assert figures["Tỷ lệ đánh giá hữu ích"] == pytest.approx(0.6)
    assert figures["Lượt người nhận bản tin TBT"] == 5
    assert figures["Thay đổi so với quý trước"] == pytest.approx(0.2)

    sheet = workbook["Lượt tư vấn"]
    data = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert data[0] == ROWS_HEADER
    assert len(data) == 1 + 12  # small talk is not a consultation row
    assert data[1] == [
        dt.datetime(2026, 7, 1, 0, 0, 0),  # Vietnam time, the first second of the quarter
        "Telegram",
        "câu hỏi c01",
        "Mã số mã vạch",
        "barcode-fees",
        0.85,
        "Trợ lý đã trả lời",
        "Hữu ích",
        "Công ty TNHH Hải Long",
        "1000000001",
    ]
    assert data[-1][0] == dt.datetime(2026, 9, 30, 23, 59, 59)
    assert data[-1][6:8] == ["Trợ lý đã trả lời", "Chưa đúng"]
    questions = [row[2] for row in data]
    assert "hồ sơ công bố hợp quy gồm những gì" in questions  # the control character is gone
    formula = sheet.cell(questions.index('=HYPERLINK("http://x")') + 1, 3)
    assert formula.data_type == "s"  # kept as text, never run as a formula
    assert [row[6] for row in data[1:]].count("Cán bộ đã trả lời") == 3

    chart = paths[2].read_bytes()
    assert chart.startswith(PNG_SIGNATURE)
    assert png_size(chart) == (1080, 600)


def test_write_report_without_rows_leaves_only_the_header(
    stats: QuarterStats, tmp_path: Path
) -> None:
    paths = write_report(stats, tmp_path, AGENCY)
    rows = list(load_workbook(paths[1])["Lượt tư vấn"].iter_rows(values_only=True))
    assert [list(row) for row in rows] == [ROWS_HEADER]


# --- the staff export --------------------------------------------------------------------------


def test_packaged_templates_are_present() -> None:
    names = {path.name for path in TEMPLATES.iterdir()}
    assert {"report_section.txt.j2", "stats_message.html.j2", "report_labels.txt.j2"} <= names


def test_staff_can_replace_one_template_and_keep_the_others(
    stats: QuarterStats, tmp_path: Path
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "report_section.txt.j2").write_text(
        "Tổng cộng {{ total|padded }} lượt hỏi,\n{{ askers|padded }} đơn vị.\n", encoding="utf-8"
    )
    assert report_sentences(stats, AGENCY, templates=folder) == "Tổng cộng 12 lượt hỏi, 05 đơn vị."
    assert summary_html(stats, templates=folder).startswith("<b>📊 Thống kê hỏi đáp Quý III/2026")


def test_a_misspelt_variable_in_a_template_fails_loudly(
    stats: QuarterStats, tmp_path: Path
) -> None:
    (tmp_path / "report_section.txt.j2").write_text("{{ totl }} lượt", encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError, match="totl"):
        report_sentences(stats, AGENCY, templates=tmp_path)
