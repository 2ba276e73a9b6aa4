"""Stickers, photos, voice, files, locations: say politely what the bot can do."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import MessageHandler, filters

from handlers.common import Context
from handlers.state import TelegramApp
from handlers.texts.other import NOT_TEXT as NOT_TEXT


async def not_text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is not None and message.chat.type == ChatType.PRIVATE:
        await message.chat.send_message(NOT_TEXT)


def register(application: TelegramApp) -> None:
    application.add_handler(
        MessageHandler(~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL, not_text)
    )
