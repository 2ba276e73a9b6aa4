"""The terminal chat: the same conversation and log as Telegram, with its own small commands."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from bot.config import Settings
from bot.console import chat
from bot.qa.knowledge import KnowledgeBase
from bot.services import Services
from bot.store.models import Consultation
from tests.botapi import FakeBotApi
from tests.conftest import bot_settings


async def talk(
    lines: str, database_url: str, tmp_path: Path, settings: Settings, knowledge: KnowledgeBase
) -> tuple[str, list[tuple[str, str, str]]]:
    configured = bot_settings(settings, FakeBotApi(), database_url, tmp_path)
    services = Services.open(configured, knowledge=knowledge)
    out = io.StringIO()
    try:
        assert await chat(services, io.StringIO(lines), out) == 0
        with services.engine.connect() as connection:
            rows = connection.execute(
                select(Consultation.question, Consultation.channel, Consultation.outcome).order_by(
                    Consultation.created_at
                )
            ).all()
    finally:
        services.close()
    return out.getvalue(), [(row.question, row.channel, row.outcome) for row in rows]


async def test_telegram_style_commands_work_in_the_console(
    database_url: str, tmp_path: Path, settings: Settings, knowledge: KnowledgeBase
) -> None:
    text, rows = await talk(
        "phí mã vạch\n/help\n/cb\n/thoat\ncâu này không được đọc\n",
        database_url,
        tmp_path,
        settings,
        knowledge,
    )
    assert text.count("Gõ số để chọn câu hỏi gợi ý") == 2  # the welcome, then /help
    assert "Đã chuyển câu hỏi cho cán bộ" in text
    assert text.rstrip().endswith("Tạm biệt!")
    assert rows == [("phí mã vạch", "console", "handed_off")]  # commands are not questions


async def test_passing_nothing_to_staff_is_said_plainly(
    database_url: str, tmp_path: Path, settings: Settings, knowledge: KnowledgeBase
) -> None:
    text, rows = await talk("cb\n😀\ncb\nthoat\n", database_url, tmp_path, settings, knowledge)
    assert text.count("Bạn chưa hỏi câu nào để chuyển cho cán bộ") == 2
    assert "Đã chuyển câu hỏi cho cán bộ" not in text
    assert rows == []


async def test_a_name_or_a_single_letter_does_not_end_the_chat(
    database_url: str, tmp_path: Path, settings: Settings, knowledge: KnowledgeBase
) -> None:
    text, rows = await talk(
        "Huy\nq\nphí mã vạch\nthoat\n", database_url, tmp_path, settings, knowledge
    )
    assert text.count("Bot:") >= 3  # each line got an answer; the chat went on
    assert [row[0] for row in rows] == ["Huy", "q", "phí mã vạch"]


async def test_numbers_pick_from_the_list_shown_last(
    database_url: str, tmp_path: Path, settings: Settings, knowledge: KnowledgeBase
) -> None:
    text, rows = await talk(
        "chude\n1\n1\nmã vạch\n2\nthoat\n", database_url, tmp_path, settings, knowledge
    )
    assert "Chọn một chủ đề" in text
    assert "Các câu hỏi của chủ đề Mã số mã vạch" in text
    first_barcode = knowledge.by_topic("barcode")[0]
    # "1" after the topics lists the topic; "1" after that answers its first question;
    # "2" after the clarifying question picks its second option (fees), not a topic.
    assert next(row[0] for row in rows) == first_barcode.title
    assert rows[-1][0].startswith("Phí")
    assert rows[-1][2] == "answered"


async def test_telegram_only_commands_say_so_and_hoicanbo_works(
    database_url: str, tmp_path: Path, settings: Settings, knowledge: KnowledgeBase
) -> None:
    text, rows = await talk(
        "/hoso\n/dangky\nhoicanbo 😀\n/hoicanbo mũ bảo hiểm cần công bố gì\nthoat\n",
        database_url,
        tmp_path,
        settings,
        knowledge,
    )
    assert text.count("chỉ dùng được trên Telegram") == 2
    assert "Gõ 'hoicanbo' rồi câu hỏi" in text
    assert "Đã chuyển câu hỏi cho cán bộ" in text
    assert rows == [("mũ bảo hiểm cần công bố gì", "console", "handed_off")]
