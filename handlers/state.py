"""What the Telegram application keeps for its handlers, typed (PTB's `bot_data`), and the
types of the application and of a handler's context that go with it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, filters

if TYPE_CHECKING:
    from bot.bulletin.delivery import RateLimiter
    from bot.config import Settings
    from bot.services import Services
    from handlers.transport import AiohttpRequest


@dataclass
class BotData:
    """PTB makes it with no arguments; build_application and post_init fill it in."""

    settings: Settings | None = None
    opened: Services | None = None  # the services, once open (given by tests, or by post_init)
    owns_services: bool = False  # opened here, so closed here
    flood: RateLimiter | None = None  # shared by answers and the broadcast
    transports: tuple[AiohttpRequest, AiohttpRequest] | None = None
    staff_filter: filters.User | None = None  # who may use the staff commands, kept current
    broadcast: asyncio.Task[None] | None = None  # the bulletin being sent, if any

    @property
    def services(self) -> Services:
        if self.opened is None:
            raise RuntimeError("the services are not open yet")
        return self.opened

    @property
    def config(self) -> Settings:
        if self.settings is None:
            raise RuntimeError("the application was built without settings")
        return self.settings

    @property
    def staff_only(self) -> filters.User:
        if self.staff_filter is None:
            raise RuntimeError("the staff filter is made when the staff handlers register")
        return self.staff_filter


# The bot's rate-limiter argument type and the job queue's context stay open (Any): PTB's own
# generics do not carry them through `context.application`.
Context: TypeAlias = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
TelegramApp: TypeAlias = Application[Any, Any, dict[Any, Any], dict[Any, Any], BotData, Any]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)
