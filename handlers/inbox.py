"""The inbox in python-telegram-bot's terms: a queue that records an update before anything
confirms it, and an Application that handles each update once and marks it handled after."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.qa import wording
from bot.store.inbox import LATE, Inbox, handling
from handlers.state import TelegramApp

log = logging.getLogger(__name__)


class RecordingQueue(asyncio.Queue[object]):
    """The update queue of both the poller and the webhook server. `put` returns only once
    the update is durable, and the poller asks for the next offset (which confirms the batch
    to Telegram) only after every `put` of the batch returned; the webhook server answers
    Telegram's request only after its `put` returned."""

    def __init__(self) -> None:
        super().__init__()
        self.inbox: Inbox | None = None

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and self.inbox is not None:
            await self.inbox.record(item.update_id, item.to_dict())
        await super().put(item)

    async def put_recorded(self, item: object) -> None:
        """For an update taken from the inbox itself: already recorded."""
        await super().put(item)


class InboxApplication(Application):  # type: ignore[type-arg]
    async def process_update(self, update: object) -> None:
        opened = self.bot_data.opened
        inbox: Inbox | None = opened.inbox if opened is not None else None
        if inbox is None or not isinstance(update, Update):
            await super().process_update(update)
            return
        if not inbox.begin(update.update_id):
            return  # replayed from the inbox and sent again by Telegram: one of them is enough
        try:
            if await inbox.already_handled(update.update_id):
                return
            await _apologise_if_late(self, update)
            with handling(update.update_id):
                await super().process_update(update)
        finally:
            await inbox.handled(update.update_id)


async def _apologise_if_late(application: TelegramApp, update: Update) -> None:
    """A question that waited (the bot was down) gets a short word before its answer."""
    message = update.message
    if message is None or message.date is None or not (message.text or message.caption):
        return
    waited = dt.datetime.now(dt.UTC) - message.date
    if waited < LATE or message.chat.type != "private":
        return
    try:
        await application.bot.send_message(message.chat.id, wording.LATE_APOLOGY)
    except Exception:  # the answer matters more than the apology
        log.warning("inbox: the apology for update %s could not be sent", update.update_id)


async def replay(application: TelegramApp) -> int:
    """Queue the updates a previous process received but did not handle, before polling."""
    inbox = application.bot_data.services.inbox
    queue = application.update_queue
    pending = await inbox.pending()
    for item in pending:
        update = _update(item.payload, application)
        if update is None:
            await inbox.handled(item.update_id)
            continue
        if isinstance(queue, RecordingQueue):
            await queue.put_recorded(update)
        else:
            await queue.put(update)
    if pending:
        log.info("inbox: %d updates received before a restart are handled first", len(pending))
    return len(pending)


def _update(payload: dict[str, Any], application: TelegramApp) -> Update | None:
    try:
        return Update.de_json(payload, application.bot)
    except Exception:
        log.exception("inbox: an update that cannot be read is set aside")
        return None
