"""The inbox: every update the bot receives is recorded before Telegram is told it arrived.

python-telegram-bot confirms a batch of updates (the next getUpdates offset, or the webhook's
200) as soon as they are queued in memory; a process killed with SIGKILL then loses them all.
Here an update is confirmed only once it is in the database (or, while the database is down,
in an fsync'ed file beside it); it stays "unhandled" until its answer has been sent, and after
a restart the unhandled ones are handled first. An update is handled once: `update_id` is the
key everywhere.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import InboxUpdate, utcnow
from bot.store.repository import DatabaseUnavailable, guarded

log = logging.getLogger(__name__)
T = TypeVar("T")
KEEP_HANDLED = dt.timedelta(days=2)  # handled updates are kept this long, then purged
LATE = dt.timedelta(minutes=3)  # a question that waited longer gets an apology for the delay


# The update being handled, and how many consultations it has logged so far: a consultation's
# id follows from them, so handling the same update again after a crash logs nothing twice.
_ORIGIN: ContextVar[tuple[int, list[int]] | None] = ContextVar("inbox_origin", default=None)
_NAMESPACE = uuid.UUID("6f1c1b52-6d43-4a53-9a53-2f6f9d0a7c11")


@contextmanager
def handling(update_id: int) -> Iterator[None]:
    token = _ORIGIN.set((update_id, [0]))
    try:
        yield
    finally:
        _ORIGIN.reset(token)


def consultation_id() -> str | None:
    """The id of the next consultation of the update being handled; None outside one."""
    origin = _ORIGIN.get()
    if origin is None:
        return None
    update_id, counter = origin
    counter[0] += 1
    return uuid.uuid5(_NAMESPACE, f"update:{update_id}:{counter[0]}").hex


@dataclass(frozen=True)
class Pending:
    update_id: int
    payload: dict[str, Any]


class InboxStore:
    """The inbox table; every method raises DatabaseUnavailable when the database is not there."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def _run(self, work: Callable[[Session], T]) -> T:
        with guarded(), self._sessions.begin() as session:
            return work(session)

    def record(self, update_id: int, payload: str, at: dt.datetime | None = None) -> bool:
        """False when the update was already recorded (Telegram sent it again)."""

        def work(session: Session) -> bool:
            if session.get(InboxUpdate, update_id) is not None:
                return False
            session.add(InboxUpdate(update_id=update_id, payload=payload, received_at=at))
            return True

        try:
            return self._run(work)
        except IntegrityError:
            return False  # recorded meanwhile by another writer

    def mark_handled(self, update_ids: list[int]) -> None:
        def work(session: Session) -> None:
            session.execute(
                update(InboxUpdate)
                .where(InboxUpdate.update_id.in_(update_ids), InboxUpdate.handled_at.is_(None))
                .values(handled_at=utcnow())
            )

        self._run(work)

    def is_handled(self, update_id: int) -> bool:
        def work(session: Session) -> bool:
            row = session.get(InboxUpdate, update_id)
            return row is not None and row.handled_at is not None

        return self._run(work)

    def unhandled(self, limit: int = 1000) -> list[Pending]:
        def work(session: Session) -> list[Pending]:
            rows = session.scalars(
                select(InboxUpdate)
                .where(InboxUpdate.handled_at.is_(None))
                .order_by(InboxUpdate.update_id)
                .limit(limit)
            )
            return [Pending(r.update_id, json.loads(r.payload)) for r in rows]

        return self._run(work)

    def purge(self, before: dt.datetime) -> int:
        def work(session: Session) -> int:
            result = session.execute(delete(InboxUpdate).where(InboxUpdate.handled_at < before))
            return int(getattr(result, "rowcount", 0) or 0)

        return self._run(work)


class InboxFile:
    """Where updates wait while the database is down: one JSON line each, fsync'ed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, line: dict[str, Any]) -> None:
        text = json.dumps(line, ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(text + "\n")
                handle.flush()
                os.fsync(handle.fileno())

    def take(self) -> list[dict[str, Any]]:
        """Everything in the file, which is then emptied (the caller writes it elsewhere)."""
        with self._lock:
            if not self.path.exists():
                return []
            lines = self.path.read_text(encoding="utf-8").splitlines()
            self.path.unlink()
        found = []
        for line in lines:
            try:
                found.append(json.loads(line))
            except ValueError:
                log.error("inbox file: unreadable line set aside: %s", line[:200])
        return found

    def peek(self) -> list[dict[str, Any]]:
        with self._lock:
            if not self.path.exists():
                return []
            lines = self.path.read_text(encoding="utf-8").splitlines()
        found = []
        for line in lines:
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found


class Inbox:
    """Record an update durably before it is confirmed; mark it handled once answered."""

    def __init__(self, store: InboxStore, file: InboxFile, timeout: float = 2.0) -> None:
        self.store = store
        self.file = file
        self.timeout = timeout
        self._handled: set[int] = set()  # handled while the database was down, not yet marked
        self._active: set[int] = set()  # being handled by this process now

    async def record(self, update_id: int, payload: dict[str, Any]) -> None:
        """Returns once the update is durable: in the database, or in the fsync'ed file."""
        text = json.dumps(payload, ensure_ascii=False)
        try:
            await asyncio.wait_for(
                asyncio.to_thread(self.store.record, update_id, text), self.timeout
            )
        except (DatabaseUnavailable, TimeoutError):
            await asyncio.to_thread(self.file.append, {"update_id": update_id, "payload": payload})

    def begin(self, update_id: int) -> bool:
        """False when this update is already being handled here (replayed and sent again)."""
        if update_id in self._active or update_id in self._handled:
            return False
        self._active.add(update_id)
        return True

    async def already_handled(self, update_id: int) -> bool:
        if update_id in self._handled:
            return True
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self.store.is_handled, update_id), self.timeout
            )
        except (DatabaseUnavailable, TimeoutError):
            return False

    async def handled(self, update_id: int) -> None:
        self._active.discard(update_id)
        try:
            await asyncio.wait_for(
                asyncio.to_thread(self.store.mark_handled, [update_id]), self.timeout
            )
        except (DatabaseUnavailable, TimeoutError):
            self._handled.add(update_id)
            await asyncio.to_thread(self.file.append, {"handled": update_id})

    async def pending(self) -> list[Pending]:
        """Updates received but never handled (by a process that died), oldest first."""
        await self.flush()
        try:
            found = await asyncio.wait_for(asyncio.to_thread(self.store.unhandled), self.timeout)
        except (DatabaseUnavailable, TimeoutError):
            found = []
        waiting = {p.update_id: p for p in found}
        lines = await asyncio.to_thread(self.file.peek)
        handled = {int(line["handled"]) for line in lines if "handled" in line}
        for line in lines:
            if "update_id" in line and int(line["update_id"]) not in handled:
                waiting.setdefault(
                    int(line["update_id"]), Pending(int(line["update_id"]), line["payload"])
                )
        return [waiting[k] for k in sorted(waiting) if k not in handled]

    async def flush(self) -> None:
        """Move what waits in the file into the database, once it is back."""
        lines = await asyncio.to_thread(self.file.take)
        if not lines:
            return
        try:
            await asyncio.to_thread(self._write, lines)
            self._handled.clear()
        except DatabaseUnavailable:
            for line in lines:  # still down: put it all back
                await asyncio.to_thread(self.file.append, line)

    def _write(self, lines: list[dict[str, Any]]) -> None:
        for line in lines:
            if "update_id" in line:
                payload = json.dumps(line["payload"], ensure_ascii=False)
                self.store.record(int(line["update_id"]), payload)
        handled = [int(line["handled"]) for line in lines if "handled" in line]
        if handled:
            self.store.mark_handled(handled)

    async def purge(self) -> None:
        with suppress(DatabaseUnavailable):
            await asyncio.to_thread(self.store.purge, utcnow() - KEEP_HANDLED)
