"""A local append-only file that keeps log records while the database is unavailable."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from bot.store.records import DatabaseUnavailable, Record, from_json, to_json

log = logging.getLogger(__name__)
T = TypeVar("T")
# Spool and inbox files are written on threads of their own: while a database hangs, every
# thread of the default pool may be waiting on it, and the fallback must not wait behind them.
FILE_WRITER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="spool")


async def on_file_thread(work: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(FILE_WRITER, work, *args)


def append_durably(path: Path, text: str) -> None:
    """Append and fsync: the text is on disk when this returns (the caller holds a lock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


class Spool:
    """Appends never wait for a replay: a replay works on a snapshot and then drops exactly the
    lines it wrote, so records appended meanwhile stay in the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = threading.Lock()
        self._replaying = threading.Lock()
        self._pending = path.exists()  # read once; this process keeps it up to date

    @property
    def pending(self) -> bool:
        """Whether records wait in the spool (no file-system call on the hot path)."""
        return self._pending

    def append(self, record: Record) -> None:
        line = json.dumps(to_json(record), ensure_ascii=False)
        with self._file:
            append_durably(self.path, line + "\n")
            self._pending = True

    def _read(self) -> list[str]:
        if not self.path.exists():
            return []
        return [line for line in self.path.read_text(encoding="utf-8").splitlines() if line]

    def replay(self, apply: Callable[[Record], None]) -> int:
        """Write spooled records in order; stop at the first outage and keep the rest."""
        if not self._pending or not self._replaying.acquire(blocking=False):
            return 0
        try:
            with self._file:
                snapshot = self._read()
            done = 0
            try:
                for line in snapshot:
                    try:
                        record = from_json(json.loads(line))
                    except (ValueError, KeyError, TypeError):
                        log.error("spool: unreadable line set aside: %s", line[:200])
                        self._set_aside(line)
                    else:
                        try:
                            apply(record)
                        except DatabaseUnavailable:
                            raise
                        except Exception:  # one bad record must not hold up all the others
                            log.exception("spool: record the database refuses set aside")
                            self._set_aside(line)
                    done += 1
            except DatabaseUnavailable:
                pass
            if done:
                with self._file:
                    self._rewrite(self._read()[done:])
            return done
        finally:
            self._replaying.release()

    def _rewrite(self, lines: list[str]) -> None:
        if not lines:
            self.path.unlink(missing_ok=True)
            self._pending = False
            return
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def _set_aside(self, line: str) -> None:
        with self.path.with_suffix(".rejected").open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
