"""Buttons serialised by hand must reach Telegram exactly as the library would send them."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.buttons import CallbackButton


def test_a_callback_button_serialises_as_the_library_does() -> None:
    ours = InlineKeyboardMarkup(
        [[CallbackButton("👍 Hữu ích", "fb:1:abc"), CallbackButton("Hỏi <cán bộ>", "ho:abc")]]
    )
    theirs = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("👍 Hữu ích", callback_data="fb:1:abc"),
                InlineKeyboardButton("Hỏi <cán bộ>", callback_data="ho:abc"),
            ]
        ]
    )
    assert ours.to_dict() == theirs.to_dict()
    assert ours == theirs  # equal buttons compare equal, whichever class made them
