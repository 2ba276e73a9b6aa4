"""The bulletin rendered per subscriber as Telegram HTML (bot/bulletin/render.py)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import jinja2
import pytest

from bot.bulletin.eping import import_eping
from bot.bulletin.items import (
    Item,
    Week,
    load_week_folder,
    matching,
)
from bot.bulletin.render import render, render_text
from bot.messages import LIMIT
from tests.conftest import DATA, ROOT

W48 = Week(2026, 48)
AGENCY = "Sở Khoa học và Công nghệ tỉnh Hưng Yên"
EPING_CSV = DATA / "eping" / "notifications-2026-W48.csv"
ALLOWED_TAG = re.compile(r'^<(?:b|/b|i|/i|/a|a href="[^"<>]*")>$')


# --- constants ---------------------------------------------------------------------------------


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
