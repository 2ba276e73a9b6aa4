"""Errors inside handlers are logged with their update; the user gets an apology."""

from __future__ import annotations

import json
import logging

from telegram import Update
from telegram.error import TelegramError

from handlers.common import Context

log = logging.getLogger(__name__)
APOLOGY = (
    "Xin lỗi, tôi gặp lỗi khi xử lý tin nhắn này. Bạn thử gửi lại sau ít phút; nếu vẫn lỗi, "
    "hãy dùng /hoicanbo để gửi câu hỏi cho cán bộ."
)


async def on_error(update: object, context: Context) -> None:
    payload = update.to_dict() if isinstance(update, Update) else repr(update)
    log.error(
        "error while handling update %s",
        json.dumps(payload, ensure_ascii=False, default=str)[:2000],
        exc_info=context.error,
    )
    if isinstance(update, Update) and update.effective_chat:
        try:
            await update.effective_chat.send_message(APOLOGY)
        except TelegramError:
            log.warning("could not send the apology to chat %s", update.effective_chat.id)
