"""The composition root: build_application(settings) wires everything; nothing else does."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    BaseUpdateProcessor,
    Defaults,
)

from bot import memory
from bot.bulletin.delivery import RateLimiter
from bot.config import Settings
from bot.services import Services
from handlers import HANDLER_MODULES, bulletin, errors, handoff, staff
from handlers.flood import FloodControl
from handlers.inbox import InboxApplication, RecordingQueue, replay
from handlers.state import CONTEXT_TYPES, Context, TelegramApp
from handlers.texts.start import COMMANDS as COMMANDS
from handlers.transport import AiohttpRequest

log = logging.getLogger(__name__)

# Only what the handlers use: an edited message must not be answered and logged a second time.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
SPOOL_FLUSH_SECONDS = 10
INBOX_PURGE_SECONDS = 3600
POLL_TIMEOUT = 10  # seconds a getUpdates long poll may wait
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; updates of one chat keep their order.

    The concurrency limit counts running updates only: an update waiting for its chat's earlier
    ones holds no slot, so one chat sending many messages cannot hold up the others.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(2**31 - 1)  # the real limit is `_running`, taken after the chat lock
        self._running = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._queued: Counter[int] = Counter()  # updates of a chat running or waiting

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = getattr(update, "effective_chat", None)
        user = getattr(update, "effective_user", None)
        key = chat.id if chat else (user.id if user else 0)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._queued[key] += 1
        try:
            async with lock, self._running:
                await coroutine
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:  # the last one of this chat: nobody waits on the lock
                del self._queued[key], self._locks[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def build_application(settings: Settings, services: Services | None = None) -> TelegramApp:
    """Everything the bot needs, from settings alone (services may be given by tests)."""
    if not settings.telegram_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    flood = RateLimiter(settings.bulletin.rate)  # shared by answers and the broadcast
    transports = (
        AiohttpRequest(settings.telegram.connection_pool_size),
        AiohttpRequest(1, read_timeout=POLL_TIMEOUT + 10),
    )
    builder = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .application_class(InboxApplication)
        .update_queue(RecordingQueue())
        .token(settings.telegram_token)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW))
        .concurrent_updates(ChatOrderedProcessor(settings.telegram.concurrent_updates))
        .request(transports[0])
        .get_updates_request(transports[1])
        .rate_limiter(FloodControl(flood))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.telegram_base_url:
        base = settings.telegram_base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.replace("/bot", "/file/bot"))
    application = builder.build()
    application.bot_data.settings = settings
    application.bot_data.transports = transports
    application.bot_data.flood = flood
    application.bot_data.opened = services  # None: opened by post_init, and closed at shutdown
    for module in HANDLER_MODULES:
        module.register(application)
    application.add_error_handler(errors.on_error)
    return application


async def _post_init(application: TelegramApp) -> None:
    data = application.bot_data
    if data.opened is None:
        data.opened = await Services.start(data.config)
        data.owns_services = True
    services = data.services
    if isinstance(application.update_queue, RecordingQueue):
        application.update_queue.inbox = services.inbox
    if data.transports is not None:
        data.transports[1].on_updates = services.inbox.record_batch
    await replay(application)  # before polling starts: what a killed process left unhandled
    await application.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
    await staff.refresh_staff(application)
    if application.job_queue is not None:
        application.job_queue.run_repeating(_flush_spool, SPOOL_FLUSH_SECONDS, first=1)
        application.job_queue.run_repeating(_purge_inbox, INBOX_PURGE_SECONDS, first=60)
        handoff.schedule(application)
        bulletin.schedule(application)
    await bulletin.resume_unfinished(application)
    memory.settle()


async def _post_shutdown(application: TelegramApp) -> None:
    services = application.bot_data.opened
    if services is not None:
        await services.log.flush()
        await services.inbox.flush(now=True)
        if application.bot_data.owns_services:
            services.close()


async def _flush_spool(context: Context) -> None:
    services: Services = context.application.bot_data.services
    await services.log.flush()
    await services.inbox.flush()


async def _purge_inbox(context: Context) -> None:
    services: Services = context.application.bot_data.services
    await services.inbox.purge()
