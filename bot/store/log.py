"""The consultation log as the conversation sees it: every record is kept, once.

A record goes to the database when it answers quickly; when the database is down or slow it goes
to the spool, so the business gets its answer anyway, and the spool is replayed later. Records
are idempotent, so a write that finishes after its timeout and a replay never duplicate a row.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from bot.store.records import DatabaseUnavailable, Record, Turn
from bot.store.repository import Repository
from bot.store.spool import Spool, on_file_thread

log = logging.getLogger(__name__)


class ConsultationLog:
    def __init__(
        self,
        repository: Repository,
        spool: Spool,
        timeout: float = 2.0,
        workers: int = 8,
        retry_after: float = 5.0,
        batch_size: int = 200,
    ) -> None:
        self.repository = repository
        self.spool = spool
        self.timeout = timeout
        self.retry_after = retry_after
        self.workers = workers
        self.batch_size = batch_size
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="db")
        self._queue: list[tuple[Record, asyncio.Future[None]]] = []
        self._writers = 0  # batches being written now, at most `workers`
        self._tasks: set[asyncio.Task[None]] = set()
        self._down_until = 0.0  # monotonic time before which the database is presumed down

    async def record(self, record: Record) -> bool:
        """True when the record reached the database, False when it was spooled."""
        if time.monotonic() < self._down_until:
            await self._to_spool(record)
            return False
        if self.spool.pending:
            # Keep order: while older records wait in the spool, newer ones queue behind them.
            await self.flush()
            if self.spool.pending:
                await self._to_spool(record)
                return False
        try:
            await asyncio.wait_for(self._queued(record), self.timeout)
            return True
        except (DatabaseUnavailable, TimeoutError) as exc:
            log.warning("database unavailable (%s): %s spooled", exc or "timeout", record.kind)
            self._down_until = time.monotonic() + self.retry_after
            await self._to_spool(record)
            return False
        except Exception:  # never lose a record: the spool keeps it, the replay retries it
            log.exception("writing a %s failed; spooled", record.kind)
            await self._to_spool(record)
            return False

    def _queued(self, record: Record) -> asyncio.Future[None]:
        """Done when the record is committed. The writer starts once the handlers that are
        running now have yielded, so a burst of questions goes in one transaction (a group
        commit), and records that arrive while the writers are busy go in the next one.
        Starting each write at once in a thread was slower: the writer and the answers
        fought over the GIL (bench/e2e.py)."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((record, future))
        if self._writers < self.workers:
            self._writers += 1
            task = asyncio.create_task(self._write_batches())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return future

    async def _write_batches(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                batch = self._queue[: self.batch_size]
                del self._queue[: len(batch)]
                records = [record for record, _ in batch]
                try:
                    await loop.run_in_executor(self._executor, self.repository.apply_all, records)
                except Exception as exc:  # each waiting caller decides (spool, or raise)
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for _, future in batch:
                        if not future.done():
                            future.set_result(None)
        finally:
            self._writers -= 1

    async def recent_turns(
        self, person_key: str, chat_id: int | None, since: dt.datetime
    ) -> list[Turn]:
        """The chat's latest questions, or none when the database cannot say quickly: a
        follow-up then leans on what this process remembers, and the answer is not delayed."""
        if time.monotonic() < self._down_until:
            return []
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self.repository.recent_turns, person_key, chat_id, since),
                min(self.timeout, 0.5),
            )
        except (DatabaseUnavailable, TimeoutError) as exc:
            log.warning("conversation context unavailable: %s", exc or "timeout")
            return []

    async def owner(self, consultation_id: str) -> tuple[int | None, str] | None:
        """Who a consultation belongs to, or None when unknown or the database cannot say."""
        if time.monotonic() < self._down_until:
            return None
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self.repository.consultation_owner, consultation_id),
                min(self.timeout, 1.0),
            )
        except (DatabaseUnavailable, TimeoutError):
            return None

    async def _to_spool(self, record: Record) -> None:
        await on_file_thread(self.spool.append, record)

    async def flush(self) -> int:
        """Replay spooled records; returns how many reached the database."""
        loop = asyncio.get_running_loop()
        try:
            done = await asyncio.wait_for(
                loop.run_in_executor(self._executor, self.spool.replay, self.repository.apply),
                self.timeout,
            )
        except TimeoutError:
            done = 0
        if self.spool.pending:
            self._down_until = time.monotonic() + self.retry_after
        elif done:
            self._down_until = 0.0
            log.info("spool: %d record(s) written to the database", done)
        return done

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=False)
