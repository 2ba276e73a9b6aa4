"""Starting the bot: tokens, schema, webhook mode; one clear line for each failure."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path

import aiohttp
from sqlalchemy import select

from bot.config import Settings
from bot.qa.knowledge import KnowledgeBase
from bot.services import Services
from bot.store.database import upgrade
from bot.store.models import InboxUpdate
from handlers.application import build_application
from tests.botapi import FakeBotApi, User
from tests.conftest import ROOT, bot_settings


async def run_bot(*args: str, env: dict[str, str], stdin: bytes = b"") -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **env},
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_malformed_token_is_one_clear_line(tmp_path: Path) -> None:
    code, _, err = await run_bot("run", env={"TELEGRAM_BOT_TOKEN": "not a token"})
    assert code == 2
    assert err.strip().startswith("TELEGRAM_BOT_TOKEN is malformed")
    assert len(err.strip().splitlines()) == 1


async def test_token_rejected_by_telegram_is_one_clear_line(
    botapi: FakeBotApi, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/bot.sqlite3"
    upgrade(url)
    env = {
        "TELEGRAM_BOT_TOKEN": "999999:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # not the server's
        "TELEGRAM_BASE_URL": botapi.base_url,
        "DATABASE_URL": url,
    }
    code, _, err = await run_bot("run", env=env)
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "Telegram rejected TELEGRAM_BOT_TOKEN: check it with @BotFather."
    )
    assert "Traceback" not in err


async def test_without_a_token_run_opens_the_console_chat(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bot.sqlite3"
    upgrade(url)
    code, out, err = await run_bot(
        "run", env={"DATABASE_URL": url}, stdin="phí mã vạch\nthoat\n".encode()
    )
    assert code == 0, err
    assert "starting the local console chat" in err
    assert "1.000.000" in out


async def test_unmigrated_database_is_one_clear_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/empty.sqlite3"}
    code, _, err = await run_bot("console", env=env)
    assert code == 2
    assert err.strip() == ("The database schema is not up to date: run `python -m bot db upgrade`.")


async def test_db_upgrade_prepares_the_database(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/new.sqlite3"}
    code, _, err = await run_bot("db", "upgrade", env=env)
    assert code == 0, err
    assert (tmp_path / "new.sqlite3").exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_answers_updates_with_the_right_secret(
    botapi: FakeBotApi,
    database_url: str,
    tmp_path: Path,
    settings: Settings,
    knowledge: KnowledgeBase,
) -> None:
    configured = bot_settings(settings, botapi, database_url, tmp_path)
    services = Services.open(configured, knowledge=knowledge)
    application = build_application(configured, services)
    port = free_port()
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    await application.start()
    assert application.updater is not None
    await application.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="hook",
        webhook_url="https://bot.example.invalid/hook",
        secret_token="s3cret-token",
    )
    try:
        assert botapi.webhook is not None
        assert botapi.webhook["url"] == "https://bot.example.invalid/hook"
        lan = User(4242, "Lan")
        update = {"update_id": 1, "message": botapi.user_message(lan, "phí mã vạch bao nhiêu")}
        async with aiohttp.ClientSession() as session:
            wrong = await session.post(
                f"http://127.0.0.1:{port}/hook",
                data=json.dumps(update),
                headers={
                    "X-Telegram-Bot-Api-Secret-Token": "guess",
                    "Content-Type": "application/json",
                },
            )
            assert wrong.status == 403
            right = await session.post(
                f"http://127.0.0.1:{port}/hook",
                data=json.dumps(update),
                headers={
                    "X-Telegram-Bot-Api-Secret-Token": "s3cret-token",
                    "Content-Type": "application/json",
                },
            )
            assert right.status == 200
            # Telegram got its 200 only once the update was in the inbox
            with services.engine.connect() as connection:
                recorded = connection.execute(
                    select(InboxUpdate.update_id).where(InboxUpdate.update_id == 1)
                ).all()
            assert recorded
        [answer] = await botapi.replies(lan.id)
        assert "1.000.000" in answer.text
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        services.close()


async def test_report_command_writes_the_three_files(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bot.sqlite3"
    upgrade(url)
    env = {"DATABASE_URL": url}
    await run_bot("console", env=env, stdin="phí mã vạch\ntccs là gì\nthoat\n".encode())
    code, _, err = await run_bot(
        "report", "--quarter", "2026-Q4", "--out", str(tmp_path / "out"), env=env
    )
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "chart.png",
        "report.docx",
        "report.xlsx",
    ]
    code, _, err = await run_bot("report", "--quarter", "2026-Q9", "--out", str(tmp_path), env=env)
    assert code == 2
    assert "2026-Q3" in err
