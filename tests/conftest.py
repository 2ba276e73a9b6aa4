"""Shared fixtures: the real knowledge base, settings, and small throw-away knowledge bases."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.answers import Answerer
from bot.config import Settings, load_settings
from bot.knowledge import KnowledgeBase, load_knowledge

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
