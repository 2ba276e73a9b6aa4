"""Shared fixtures: the real knowledge base, settings, and small throw-away knowledge bases."""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from telegram.ext import Application

from bot.config import DatabaseSettings, Settings, load_settings
from bot.qa.answers import Answerer
from bot.qa.knowledge import KnowledgeBase, load_knowledge
from bot.services import Services
from bot.store.database import upgrade
from handlers.application import ALLOWED_UPDATES, build_application
from tests.botapi import TOKEN, FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(ROOT / "config.toml", environ={})


@pytest.fixture(scope="session")
def knowledge(settings: Settings) -> KnowledgeBase:
    loaded = load_knowledge(settings.knowledge_path, settings.agency, settings.knowledge)
    assert loaded.ok, "\n".join(map(str, loaded.errors))
    return loaded.knowledge


@pytest.fixture(scope="session")
def answerer(knowledge: KnowledgeBase, settings: Settings) -> Answerer:
    return Answerer(knowledge, settings.agency, settings.retrieval)


ENTRY = """\
---
id: {id}
topic: {topic}
title: {title}
title_en: A test entry
questions:
  - {title}
  - câu hỏi thứ hai về {title}
  - câu hỏi thứ ba về {title}
  - How do I ask about {id}?
keywords: [{title}]
legal_basis: [Thông tư 01/2026/TT-TEST]
reviewed: 2026-01-15
related: []
---
{body}
"""


WriteEntry = Callable[..., Path]


@pytest.fixture
def write_entry(tmp_path: Path) -> WriteEntry:
    """Write one knowledge file under tmp_path/knowledge; raw text replaces the template."""
    root = tmp_path / "knowledge"

    def write(
        entry_id: str = "barcode-test",
        topic: str = "barcode",
        title: str = "Mã vạch thử nghiệm",
        body: str = "Câu trả lời ngắn.",
        raw: str | None = None,
        folder: str | None = None,
    ) -> Path:
        path = root / (folder or topic) / f"{entry_id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = (
            raw
            if raw is not None
            else ENTRY.format(id=entry_id, topic=topic, title=title, body=body)
        )
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


# --- databases ------------------------------------------------------------------------------

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database: SQLite in tmp_path, or a throw-away PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/test.sqlite3"
        upgrade(url)
        yield url
        return
    base = os.environ["TEST_DATABASE_URL"]
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = with_search_path(base, schema)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def backend(url: str) -> str:
    return make_url(url).get_backend_name()


# --- the bot against a local Bot API server ---------------------------------------------------


@dataclass
class Harness:
    api: FakeBotApi
    services: Services
    application: Application  # type: ignore[type-arg]
    settings: Settings


@pytest.fixture
async def botapi() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


def bot_settings(
    settings: Settings,
    api: FakeBotApi,
    url: str,
    tmp_path: Path,
    busy_timeout_ms: int = 300,
    write_timeout_s: float = 1.0,
    **extra: Any,
) -> Settings:
    """Settings for a bot under test: short database timeouts so outages show up quickly."""
    database = DatabaseSettings(
        url=url,
        spool=tmp_path / "spool.jsonl",
        busy_timeout_ms=busy_timeout_ms,
        write_timeout_s=write_timeout_s,
    )
    return settings.model_copy(
        update={
            "telegram_token": TOKEN,
            "telegram_base_url": api.base_url,
            "database": database,
            "base_dir": tmp_path,
            **extra,
        }
    )


@asynccontextmanager
async def running_bot(
    api: FakeBotApi, settings: Settings, knowledge: KnowledgeBase
) -> AsyncIterator[Harness]:
    services = Services.open(settings, knowledge=knowledge)
    application = build_application(settings, services)
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES
    )
    try:
        yield Harness(api, services, application, settings)
    finally:
        await application.updater.stop()
        await application.stop()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        await application.shutdown()
        services.close()


@pytest.fixture
async def bot(
    botapi: FakeBotApi,
    database_url: str,
    tmp_path: Path,
    settings: Settings,
    knowledge: KnowledgeBase,
) -> AsyncIterator[Harness]:
    async with running_bot(
        botapi, bot_settings(settings, botapi, database_url, tmp_path), knowledge
    ) as harness:
        yield harness
