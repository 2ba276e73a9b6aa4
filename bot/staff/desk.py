"""The staff's desk as the channels (Telegram, the console) use it: async methods named after
what staff do. The repository's calls block, so each runs in a worker thread here, once, rather
than in every handler."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.store.models import Consultation
from bot.store.records import LogFilter, ThreadInfo
from bot.store.staff_repository import StaffRepository

Thread = Sequence[tuple[int, int, str]]  # (chat id, message id, direction) of relayed messages


class HandoffDesk:
    """Questions handed to staff: the queue, the thread of messages, who answered."""

    def __init__(self, repository: StaffRepository) -> None:
        self._repository = repository

    async def thread(self, consultation_id: str) -> ThreadInfo | None:
        return await asyncio.to_thread(self._repository.thread_info, consultation_id)

    async def is_handed_off(self, consultation_id: str) -> bool:
        return await asyncio.to_thread(self._repository.is_handed_off, consultation_id)

    async def posted(self, consultation_id: str, group: int, message_id: int) -> None:
        """The question was posted in the staff group as this message."""
        await asyncio.to_thread(
            self._repository.record_handoff_post, consultation_id, group, message_id
        )

    async def consultation_of(self, chat_id: int, message_id: int) -> str | None:
        """The consultation a reply is about, from the message it replies to."""
        return await asyncio.to_thread(
            self._repository.consultation_of_message, chat_id, message_id
        )

    async def answered(self, consultation_id: str, staff_id: int) -> None:
        await asyncio.to_thread(self._repository.mark_staff_answered, consultation_id, staff_id)

    async def relayed(self, consultation_id: str, thread: Thread, by: int) -> None:
        """Messages relayed between the business and staff, so replies to them find the way."""
        await asyncio.to_thread(
            self._repository.record_thread_messages, consultation_id, list(thread), by
        )

    async def waiting(self, older: dt.datetime | None = None) -> list[ThreadInfo]:
        """Hand-offs nobody has answered (posted before `older`, when given)."""
        return await asyncio.to_thread(self._repository.unanswered_handoffs, older)

    async def reminded(self, consultation_ids: Sequence[str]) -> None:
        await asyncio.to_thread(self._repository.mark_reminded, list(consultation_ids))


class LogDesk:
    """The consultation log as staff review it, and the curation of what the bot missed."""

    def __init__(self, repository: StaffRepository, reload: Callable[[], bool]) -> None:
        self._repository = repository
        self._reload = reload  # reloads the knowledge base; True when the result is in service

    async def page(self, where: LogFilter, page: int, size: int) -> tuple[list[Consultation], int]:
        return await asyncio.to_thread(self._repository.review_page, where, page, size)

    async def unanswered(self) -> list[Consultation]:
        """Questions the bot could not answer or that got 👎, not yet curated."""
        return await asyncio.to_thread(self._repository.curation_candidates)

    async def curated(self, consultation_ids: Sequence[str], how: str) -> None:
        await asyncio.to_thread(self._repository.mark_curated, list(consultation_ids), how)

    async def refused(self, user_id: int, command: str) -> None:
        """Someone who is not staff tried a staff command."""
        await asyncio.to_thread(self._repository.log_denied, user_id, command)

    async def edit_knowledge(self, path: Path, edit: Callable[[], str], invalid: str) -> str | None:
        """Edit a knowledge file and reload, in a thread (businesses keep getting answers); the
        file is put back when the result does not load: `invalid` is returned then. An edit
        that cannot be made raises its own error (curation.CurationError), nothing changed."""

        def work() -> str | None:
            original = edit()
            if self._reload():
                return None
            if original:
                path.write_text(original, encoding="utf-8")
            else:  # the file did not exist before
                path.unlink(missing_ok=True)
            return invalid

        return await asyncio.to_thread(work)
