"""Inline buttons that carry callback data, serialised without python-telegram-bot's generic
walk over every optional field of a button.

That walk was the largest single cost of sending an answer (five buttons each): bench/e2e.py
measured it, and an answer burst is what users wait on.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton


class CallbackButton(InlineKeyboardButton):
    __slots__ = ()

    def __init__(self, text: str, callback_data: str) -> None:
        super().__init__(text, callback_data=callback_data)

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        return {"text": self.text, "callback_data": self.callback_data}
