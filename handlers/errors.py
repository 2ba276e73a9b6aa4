"""Errors inside handlers are logged with their update; the user gets an apology."""

from __future__ import annotations

import contextlib
import json
import logging

from telegram import Update
from telegram.error import TelegramError

from bot.store.records import DatabaseUnavailable
from handlers.common import BUSY, Context
from handlers.texts.errors import APOLOGY as APOLOGY
from handlers.texts.errors import STALE_BUTTON as STALE_BUTTON

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    if isinstance(context.error, DatabaseUnavailable) and isinstance(update, Update):
        # A moment's outage, not a bug: say so plainly (no /hoicanbo, which needs it too).
        log.warning("database unavailable while handling a %s", _kind(update))
        await _tell(update, BUSY)
        return
    if isinstance(update, Update) and _malformed_button(update, context.error):
        # Callback data the bot never made (crafted, or from an old version of a keyboard):
        # a neutral answer, one log line, no traceback.
        log.warning("malformed button data refused: %r", update.callback_query.data)  # type: ignore[union-attr]
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer(STALE_BUTTON)  # type: ignore[union-attr]
        return
    payload = update.to_dict() if isinstance(update, Update) else repr(update)
    log.error(
        "error while handling update %s",
        json.dumps(payload, ensure_ascii=False, default=str)[:2000],
        exc_info=context.error,
    )
    if isinstance(update, Update):
        await _tell(update, APOLOGY)


async def _tell(update: Update, text: str) -> None:
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):  # stop the button's spinner
            await update.callback_query.answer()
    if update.effective_chat is None:
        return
    try:
        await update.effective_chat.send_message(text)
    except TelegramError:
        log.warning("could not tell chat %s about an error", update.effective_chat.id)


def _malformed_button(update: Update, error: BaseException | None) -> bool:
    return update.callback_query is not None and isinstance(
        error, ValueError | IndexError | KeyError
    )


def _kind(update: Update) -> str:
    return "button press" if update.callback_query is not None else "message"
