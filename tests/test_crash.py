"""A burst of questions waiting on the local Bot API server, the bot killed with SIGKILL while
it answers, then restarted: every question is answered once and logged once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from bot.store.models import Consultation, InboxUpdate
from tests.botapi import TOKEN, Chat, FakeBotApi, User
from tests.conftest import ROOT

BUSINESSES = 20
QUESTIONS = ("phí đăng ký mã vạch bao nhiêu", "hồ sơ đăng ký nhãn hiệu gồm những gì", "tccs là gì")


def _config(tmp_path: Path, staff: tuple[int, int] | None = None) -> Path:
    """config.toml with its relative paths pointing back at the project, spool under tmp
    (and, given `staff`, a staff member and a staff group)."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    if staff is not None:
        text = text.replace("staff_ids = []", f"staff_ids = [{staff[0]}]")
        text = text.replace("group_chat_id = 0", f"group_chat_id = {staff[1]}")
    for old, new in (
        ('path = "knowledge"', f'path = "{ROOT / "knowledge"}"'),
        ('spool = "data/spool.jsonl"', f'spool = "{tmp_path / "spool.jsonl"}"'),
        ('path = "bulletins"', f'path = "{ROOT / "bulletins"}"'),
        ('templates = "bot/templates"', f'templates = "{ROOT / "bot" / "templates"}"'),
    ):
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def _start(api: FakeBotApi, url: str, config: Path) -> asyncio.subprocess.Process:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": api.base_url,
        "DATABASE_URL": url,
        "BOT_CONFIG": str(config),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def _answers(api: FakeBotApi) -> int:
    return sum(1 for s in api.sent if s.method == "sendMessage" and s.chat_id > 0)


@pytest.mark.parametrize("kill_after", [1, 25, 55])
async def test_a_killed_bot_answers_every_question_once_after_a_restart(
    botapi: FakeBotApi, database_url: str, tmp_path: Path, kill_after: int
) -> None:
    config = _config(tmp_path)
    users = [User(5000 + n, f"Doanh nghiệp {n}") for n in range(BUSINESSES)]
    for user in users:
        for question in QUESTIONS:
            botapi.send_text(user, question)
    total = BUSINESSES * len(QUESTIONS)
    botapi.stall_after = kill_after  # later sends hang: the bot dies with them in flight
    process = await _start(botapi, database_url, config)
    try:
        await botapi.wait_until(lambda: botapi.stalled > 0, timeout=60)
        await asyncio.sleep(0.5)  # what was delivered before is marked handled meanwhile
        process.send_signal(signal.SIGKILL)
        await process.wait()
        botapi.release_stalled(deliver=False)  # the sender is gone: those never arrived
        process = await _start(botapi, database_url, config)
        await botapi.wait_until(lambda: _answers(botapi) >= total, timeout=90)
        await botapi.settle(1.0)
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
    for user in users:
        answers = [s for s in botapi.to_chat(user.id) if s.method == "sendMessage"]
        texts = [s.text for s in answers if "trả lời chậm" not in s.text]
        assert len(texts) == len(QUESTIONS), (user.id, [t[:40] for t in texts])
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            logged = connection.execute(
                select(Consultation.question, Consultation.chat_id, func.count()).group_by(
                    Consultation.question, Consultation.chat_id
                )
            ).all()
            unhandled = connection.execute(
                select(func.count())
                .select_from(InboxUpdate)
                .where(InboxUpdate.handled_at.is_(None))
            ).scalar_one()
    finally:
        engine.dispose()
    assert len(logged) == total
    assert all(count == 1 for _, _, count in logged), [r for r in logged if r[2] != 1]
    assert unhandled == 0


async def test_a_hand_off_and_the_staff_reply_survive_kills_between_the_steps(
    botapi: FakeBotApi, database_url: str, tmp_path: Path
) -> None:
    staff, group = User(9001, "Hoa"), Chat(-100500, "supergroup", "Cán bộ TBT")
    config = _config(tmp_path, (staff.id, group.id))
    lan = User(1001, "Lan", "Nguyễn")
    botapi.send_text(lan, "quy định mới về đo lường xăng dầu tại cây xăng")
    process = await _start(botapi, database_url, config)
    try:
        [answer] = await botapi.replies(lan.id, timeout=30)
        await asyncio.sleep(0.5)  # killed after its answer was marked handled (see README)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        botapi.press(lan, answer, answer.button("🙋"))  # pressed while the bot is down
        process = await _start(botapi, database_url, config)
        [post] = await botapi.replies(group.id, timeout=30)
        await botapi.replies(lan.id, timeout=30)  # "Tôi đã chuyển câu hỏi ..."
        await asyncio.sleep(0.5)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        botapi.send_text(staff, "Việc này do phòng đo lường phụ trách ạ.", group, post)
        process = await _start(botapi, database_url, config)
        [delivered] = await botapi.replies(lan.id, timeout=30)
        assert "phòng đo lường" in delivered.text
        await botapi.settle(1.0)
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
    posts = [s for s in botapi.to_chat(group.id) if "Câu hỏi cần cán bộ" in s.text]
    assert len(posts) == 1  # posted once
    replies = [s for s in botapi.to_chat(lan.id) if "phòng đo lường" in s.text]
    assert len(replies) == 1  # delivered once
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(Consultation.outcome)).all()
    finally:
        engine.dispose()
    assert [r[0] for r in rows] == ["staff_answered"]
