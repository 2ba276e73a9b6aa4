"""Start the Telegram bot in polling or webhook mode, with one clear line for each failure."""

from __future__ import annotations

import logging
import sys

from telegram import Update
from telegram.error import InvalidToken, NetworkError

from bot.app import build_application
from bot.config import Settings


def run_telegram(settings: Settings) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    application = build_application(settings)
    try:
        if settings.telegram.mode == "webhook":
            application.run_webhook(
                listen=settings.telegram.webhook_listen,
                port=settings.telegram.webhook_port,
                webhook_url=settings.telegram.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            application.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        print("Telegram rejected TELEGRAM_BOT_TOKEN: check it with @BotFather.", file=sys.stderr)
        return 2
    except NetworkError as exc:
        print(f"Cannot reach the Telegram Bot API: {exc}", file=sys.stderr)
        return 2
    return 0
