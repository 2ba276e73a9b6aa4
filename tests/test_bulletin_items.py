"""Bulletin items, weeks and the item files staff write (bot/bulletin/items.py)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

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
from bot.qa.knowledge import Problem
from tests.conftest import ROOT

W48 = Week(2026, 48)
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
    """Long because one folder holds every kind of broken file next to the good ones, as staff
    would have it."""
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
