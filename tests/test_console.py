"""The terminal chat: the same conversation and log as Telegram, with its own small commands."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from bot.config import Settings
from bot.console import chat
from bot.knowledge import KnowledgeBase
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
