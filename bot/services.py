"""The services every channel shares, opened once and closed once (no globals)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from bot import memory
from bot.bulletin.service import BulletinService
from bot.config import Settings
from bot.people.service import Profiles
from bot.qa.answers import Answerer
from bot.qa.conversation import Conversation
from bot.qa.knowledge import LAST_GOOD_SERVED, KnowledgeBase, LoadResult, Problem, load_knowledge
from bot.reports.desk import ReportDesk
from bot.staff.desk import HandoffDesk, LogDesk
from bot.staff.directory import StaffDirectory
from bot.store.bulletins import BulletinRepository
from bot.store.database import create_database_engine
from bot.store.inbox import Inbox, InboxFile, InboxStore
from bot.store.log import ConsultationLog
from bot.store.spool import Spool
from bot.store.staff_repository import StaffRepository

log = logging.getLogger(__name__)


def _last_good_path(settings: Settings) -> Path:
    return settings.spool_path.with_name("knowledge-last-good.json")


def read_last_good(settings: Settings) -> dict[str, str]:
    """The texts of the entries as they last loaded, to serve an entry whose file broke."""
    try:
        data = json.loads(_last_good_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def write_last_good(settings: Settings, good: dict[str, str]) -> None:
    path = _last_good_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        spare = path.with_suffix(".tmp")
        spare.write_text(json.dumps(good, ensure_ascii=False), encoding="utf-8")
        os.replace(spare, path)
    except OSError:
        log.warning("could not keep the last good knowledge base in %s", path)


KEEP_SHARE = 0.7  # a reload that keeps less than this share of the entries needs confirming


def shrinkage(current: KnowledgeBase, new: KnowledgeBase) -> str | None:
    """Why the new knowledge base looks like an accident, or None."""
    if not len(current):
        return None
    lost = sorted(
        {e.topic for e in current.entries.values()} - {e.topic for e in new.entries.values()}
    )
    if len(new) >= KEEP_SHARE * len(current) and not lost:
        return None
    topics = f"; no entry left in: {', '.join(lost)}" if lost else ""
    return (
        f"the new knowledge base has {len(new)} entries, the one in service {len(current)}"
        f"{topics}: not applied unless confirmed"
    )


@dataclass
class Services:
    settings: Settings
    engine: Engine
    repository: StaffRepository
    log: ConsultationLog
    conversation: Conversation
    staff: StaffDirectory
    bulletins: BulletinService
    inbox: Inbox
    # What the channels call (async, named after what staff and businesses do), over the above.
    handoffs: HandoffDesk = field(init=False)
    log_desk: LogDesk = field(init=False)
    profiles: Profiles = field(init=False)
    reports: ReportDesk = field(init=False)

    def __post_init__(self) -> None:
        self.handoffs = HandoffDesk(self.repository)
        self.log_desk = LogDesk(self.repository, lambda: self.reload_knowledge().ok)
        self.profiles = Profiles(self.repository)
        self.reports = ReportDesk(self.engine, self.settings, self.entry_titles)

    @property
    def answerer(self) -> Answerer:
        return self.conversation.answerer

    @property
    def knowledge(self) -> KnowledgeBase:
        return self.conversation.answerer.knowledge

    @classmethod
    def open(
        cls, settings: Settings, knowledge: KnowledgeBase | None = None, warm: bool = True
    ) -> Services:
        """`warm`: render every answer once before the first question (the bot, the console);
        a command that asks nothing (a report, the bulletin) does without."""
        if knowledge is None:
            loaded = load_knowledge(
                settings.knowledge_path,
                settings.agency,
                settings.knowledge,
                last_good=read_last_good(settings),
            )
            for problem in loaded.errors:
                log.error("knowledge base: %s", problem)
            for problem in loaded.problems:
                if problem.reason == LAST_GOOD_SERVED:
                    log.error("knowledge base: %s: %s", problem.file, problem.reason)
            write_last_good(settings, loaded.good)
            knowledge = loaded.knowledge
        if warning := settings.agency.missing_warning():
            log.warning("%s", warning)
        engine = create_database_engine(
            settings.database_url, busy_timeout_ms=settings.database.busy_timeout_ms
        )
        repository = StaffRepository(engine)
        sqlite = engine.dialect.name == "sqlite"
        consultation_log = ConsultationLog(
            repository,
            Spool(settings.spool_path),
            timeout=settings.database.write_timeout_s,
            workers=1 if sqlite else 8,  # SQLite has one writer: more threads only contend
        )
        answerer = Answerer(knowledge, settings.agency, settings.retrieval)
        if warm:
            answerer.warm()
        conversation = Conversation(answerer, consultation_log, settings.retrieval.context_minutes)
        staff = StaffDirectory(settings.staff, repository)
        bulletins = BulletinService(BulletinRepository(engine), settings)
        inbox = Inbox(
            InboxStore(engine),
            InboxFile(settings.spool_path.with_name("inbox.jsonl")),
            timeout=min(settings.database.write_timeout_s, 0.5),
        )
        return cls(
            settings, engine, repository, consultation_log, conversation, staff, bulletins, inbox
        )

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        """`open` in a worker thread: loading the knowledge base takes a while."""
        return await asyncio.to_thread(cls.open, settings)

    def entry_titles(self) -> dict[str, str]:
        return {entry.id: entry.title for entry in self.knowledge.entries.values()}

    async def reload(self, confirmed: bool = False) -> LoadResult:
        """/taikb: reload_knowledge in a worker thread; businesses keep getting answers."""
        return await asyncio.to_thread(self.reload_knowledge, confirmed)

    def reload_knowledge(self, confirmed: bool = False) -> LoadResult:
        """Load the knowledge files again; an invalid knowledge base is not put in service,
        nor, unless confirmed, one that lost a large share of the entries or a whole topic
        (an emptied or half-copied folder)."""
        settings = self.settings
        loaded = load_knowledge(
            settings.knowledge_path,
            settings.agency,
            settings.knowledge,
            last_good=read_last_good(settings),
        )
        shrink = None if confirmed else shrinkage(self.knowledge, loaded.knowledge)
        if shrink is not None:
            loaded.problems.append(Problem(str(settings.knowledge_path), "reload", shrink))
        if loaded.ok:
            write_last_good(settings, loaded.good)
            answerer = Answerer(loaded.knowledge, settings.agency, settings.retrieval)
            answerer.warm()
            self.conversation.answerer = answerer
            memory.settle()
        return loaded

    def close(self) -> None:
        self.log.close()
        self.engine.dispose()
