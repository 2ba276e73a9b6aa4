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
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.store.models import InboxUpdate
from bot.store.records import DatabaseUnavailable
from bot.store.repository import guarded
from bot.store.spool import append_durably, on_file_thread

log = logging.getLogger(__name__)
T = TypeVar("T")
INBOX = cast(Table, InboxUpdate.__table__)
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


def _insert_ignoring_known(dialect: str) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(INBOX).on_conflict_do_nothing(index_elements=["update_id"])
    if dialect == "sqlite":
        return sqlite.insert(INBOX).on_conflict_do_nothing(index_elements=["update_id"])
    return insert(INBOX).prefix_with("IGNORE")  # MySQL/MariaDB


class InboxStore:
    """The inbox table; every method raises DatabaseUnavailable when the database is not there."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
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

    def record_many(self, items: list[tuple[int, str]]) -> None:
        """Record a batch (one getUpdates answer) in one statement; known ones are kept.
        Core on a plain connection: this runs before every batch is handed on, so it is kept
        as cheap as the database allows (INSERT ... ON CONFLICT DO NOTHING)."""
        now = utcnow()
        rows = [{"update_id": i, "payload": p, "received_at": now} for i, p in items]
        statement = _insert_ignoring_known(self.engine.dialect.name)
        with guarded(), self.engine.begin() as connection:
            connection.execute(statement, rows)

    def latest(self) -> int:
        """The highest update id ever recorded (0 when none)."""

        def work(session: Session) -> int:
            return int(session.scalar(select(func.max(InboxUpdate.update_id))) or 0)

        return self._run(work)

    def mark_handled(self, update_ids: list[int]) -> None:
        statement = (
            update(INBOX)
            .where(INBOX.c.update_id.in_(update_ids), INBOX.c.handled_at.is_(None))
            .values(handled_at=utcnow())
        )
        with guarded(), self.engine.begin() as connection:
            connection.execute(statement)

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
        self.append_all([line])

    def append_all(self, lines: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        with self._lock:
            append_durably(self.path, text)

    def take(self) -> list[dict[str, Any]]:
        """Everything in the file, which is then emptied (the caller writes it elsewhere)."""
        return self._read(remove=True)

    def peek(self) -> list[dict[str, Any]]:
        return self._read(remove=False)

    def _read(self, remove: bool) -> list[dict[str, Any]]:
        with self._lock:
            if not self.path.exists():
                return []
            lines = self.path.read_text(encoding="utf-8").splitlines()
            if remove:
                self.path.unlink()
        found = []
        for line in lines:
            try:
                found.append(json.loads(line))
            except ValueError:
                log.error("inbox file: unreadable line set aside: %s", line[:200])
        return found


class Inbox:
    """Record an update durably before it is confirmed; mark it handled once answered."""

    def __init__(
        self,
        store: InboxStore,
        file: InboxFile,
        timeout: float = 0.5,
        retry_after: float = 5.0,
        executor: Executor | None = None,
    ) -> None:
        # The consultation log's writer threads: with SQLite (one writer) inbox writes queue
        # behind the log's instead of waiting on the database lock.
        self.executor = executor
        self.store = store
        self.file = file
        self.timeout = timeout  # short: every update passes here before it is answered
        self.retry_after = retry_after
        self._handled: set[int] = set()  # handled while the database was down, not yet marked
        self._active: set[int] = set()  # being handled by this process now
        self._recorded: set[int] = set()  # recorded by this process and not yet handled
        self._down_until = 0.0  # monotonic time before which the database is presumed down
        # Updates up to this id may have been handled by a process before this one: only
        # those are looked up before handling (0 until `pending` has looked).
        self._horizon = 0
        self._marks: list[tuple[int, asyncio.Future[None]]] = []
        self._marking = False

    async def _db(self, work: Callable[..., T], *args: Any) -> T:
        """Run one store call with a bound; after a failure the database is not tried again
        for `retry_after` seconds, so a hung database costs one timeout, not one per update."""
        if time.monotonic() < self._down_until:
            raise DatabaseUnavailable("presumed down")
        try:
            call = asyncio.get_running_loop().run_in_executor(self.executor, work, *args)
            return await asyncio.wait_for(call, self.timeout)
        except (DatabaseUnavailable, TimeoutError) as exc:
            self._down_until = time.monotonic() + self.retry_after
            raise DatabaseUnavailable(str(exc) or "timeout") from exc

    async def record(self, update_id: int, payload: dict[str, Any]) -> None:
        """Returns once the update is durable: in the database, or in the fsync'ed file."""
        if update_id in self._recorded:
            return  # recorded with its batch when it was fetched
        await self.record_batch([payload])

    async def record_batch(self, payloads: list[dict[str, Any]]) -> None:
        """A whole getUpdates answer in one transaction, before the next offset confirms it."""
        items = [(int(p["update_id"]), p) for p in payloads if "update_id" in p]
        items = [(i, p) for i, p in items if i not in self._recorded]
        if not items:
            return
        rows = [(i, json.dumps(p, ensure_ascii=False)) for i, p in items]
        try:
            await self._db(self.store.record_many, rows)
        except DatabaseUnavailable:
            lines = [{"update_id": i, "payload": p} for i, p in items]
            await on_file_thread(self.file.append_all, lines)
        self._recorded.update(i for i, _ in items)

    def begin(self, update_id: int) -> bool:
        """False when this update is already being handled here (replayed and sent again)."""
        if update_id in self._active or update_id in self._handled:
            return False
        self._active.add(update_id)
        return True

    async def already_handled(self, update_id: int) -> bool:
        if update_id in self._handled:
            return True
        if update_id > self._horizon:
            return False  # received after this process started: nobody else handled it
        try:
            return await self._db(self.store.is_handled, update_id)
        except DatabaseUnavailable:
            return False

    async def handled(self, update_id: int) -> None:
        """Returns once the mark is durable. Marks that arrive while one is being written go
        together in the next transaction (a group commit, as the consultation log does)."""
        self._active.discard(update_id)
        self._recorded.discard(update_id)
        future = asyncio.get_running_loop().create_future()
        self._marks.append((update_id, future))
        if not self._marking:
            self._marking = True
            asyncio.get_running_loop().create_task(self._write_marks())
        await future

    async def _write_marks(self) -> None:
        try:
            while self._marks:
                batch, self._marks = self._marks, []
                ids = [update_id for update_id, _ in batch]
                try:
                    await self._db(self.store.mark_handled, ids)
                except DatabaseUnavailable:
                    self._handled.update(ids)
                    await on_file_thread(self.file.append_all, [{"handled": i} for i in ids])
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
        finally:
            self._marking = False

    async def pending(self) -> list[Pending]:
        """Updates received but never handled (by a process that died), oldest first."""
        await self.flush()
        try:
            found = await asyncio.wait_for(asyncio.to_thread(self.store.unhandled), 5.0)
            self._horizon = await asyncio.wait_for(asyncio.to_thread(self.store.latest), 5.0)
        except (DatabaseUnavailable, TimeoutError):
            found = []
            self._horizon = 2**62  # cannot tell: look every update up (cheap while it is down)
        waiting = {p.update_id: p for p in found}
        lines = await on_file_thread(self.file.peek)
        handled = {int(line["handled"]) for line in lines if "handled" in line}
        for line in lines:
            if "update_id" in line and int(line["update_id"]) not in handled:
                waiting.setdefault(
                    int(line["update_id"]), Pending(int(line["update_id"]), line["payload"])
                )
        return [waiting[k] for k in sorted(waiting) if k not in handled]

    async def flush(self, now: bool = False) -> None:
        """Move what waits in the file into the database, once it is back (`now`: try even
        while it is presumed down, as at shutdown; a slow moment should not outlive us)."""
        if not now and time.monotonic() < self._down_until:
            return
        lines = await on_file_thread(self.file.take)
        if not lines:
            return
        try:
            await asyncio.wait_for(asyncio.to_thread(self._write, lines), 5.0)
            self._handled.clear()
        except (DatabaseUnavailable, TimeoutError):
            self._down_until = time.monotonic() + self.retry_after
            for line in lines:  # still down: put it all back
                await on_file_thread(self.file.append, line)

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
