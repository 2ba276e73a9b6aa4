"""The bulletin engine's Sender over the Bot API, with its own HTTP connections so that a
broadcast never queues the bot's answers behind it."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.bulletin.delivery import Rejected, RetryLater, Transient, Unreachable
from handlers.buttons import CallbackButton
from handlers.flood import retry_seconds
from handlers.texts.common import UNSUBSCRIBE_BUTTON
from handlers.transport import AiohttpRequest

UNSUBSCRIBE = InlineKeyboardMarkup([[CallbackButton(UNSUBSCRIBE_BUTTON, callback_data="bt:unsub")]])
GONE = ("chat not found", "user is deactivated", "bot was blocked", "peer_id_invalid")


class TelegramSender:
    def __init__(self, token: str, base_url: str | None = None, connections: int = 8) -> None:
        kwargs = {}
        if base_url:
            base = base_url.rstrip("/")
            kwargs = {"base_url": base, "base_file_url": base.replace("/bot", "/file/bot")}
        self.bot = Bot(token, request=AiohttpRequest(connections), **kwargs)  # type: ignore[arg-type]

    async def __aenter__(self) -> TelegramSender:
        await self.bot.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bot.shutdown()

    async def send(self, chat_id: int, text: str) -> None:
        try:
            await self.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_markup=UNSUBSCRIBE,
            )
        except RetryAfter as error:
            raise RetryLater(retry_seconds(error), error.message) from error
        except Forbidden as error:
            raise Unreachable(str(error)) from error
        except BadRequest as error:
            if any(reason in error.message.lower() for reason in GONE):
                raise Unreachable(error.message) from error
            raise Rejected(error.message) from error
        except NetworkError as error:  # timeouts and 5xx answers included
            raise Transient(str(error)) from error
        except TelegramError as error:
            raise Transient(str(error)) from error
