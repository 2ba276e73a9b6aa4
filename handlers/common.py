"""Helpers shared by the Telegram adapters: services, the asker, keyboards, sending answers."""

from __future__ import annotations

from html import escape

from telegram import (
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ChatType, MessageEntityType

from bot.messages import split_html
from bot.qa.answers import Reply
from bot.qa.conversation import Answered
from bot.qa.text import clean
from bot.services import Services
from bot.store.records import PersonRef
from bot.topics import TOPIC_BUTTONS, TOPIC_LABELS
from handlers.buttons import CallbackButton
from handlers.state import Context as Context
from handlers.texts.common import ASK_STAFF as ASK_STAFF
from handlers.texts.common import BUSY as BUSY
from handlers.texts.common import HELPFUL as HELPFUL
from handlers.texts.common import NOT_HELPFUL as NOT_HELPFUL
from handlers.texts.common import PICK_A_SUGGESTION, SUGGESTED_QUESTION

BUTTON_TEXT = 60


def services(context: Context) -> Services:
    return context.bot_data.services


def person_of(user: User) -> PersonRef:
    """The person as stored: names cleaned (a NUL in a first name would be refused)."""
    return PersonRef.telegram(
        user.id, clean(user.full_name), clean(user.username or "") or None, user.language_code
    )


def short(text: str, limit: int = BUTTON_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def topics_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[CallbackButton(label, callback_data=f"t:{topic}")] for topic, label in TOPIC_BUTTONS]
    )


def answer_keyboard(answered: Answered) -> InlineKeyboardMarkup | None:
    reply = answered.reply
    rows = [
        [CallbackButton(short(option.label), callback_data=f"cl:{option.subject}:{option.intent}")]
        for option in reply.clarify
    ]
    rows += [
        [
            CallbackButton(
                short(SUGGESTED_QUESTION.format(title=s.title)), callback_data=f"q:{s.entry_id}"
            )
        ]
        for s in reply.suggestions
    ]
    if reply.outcome == "answered" and reply.topic != "smalltalk":
        rows.append(
            [
                CallbackButton(HELPFUL, callback_data=f"fb:1:{answered.consultation_id}"),
                CallbackButton(NOT_HELPFUL, callback_data=f"fb:0:{answered.consultation_id}"),
            ]
        )
    if reply.offer_handoff and not reply.empty:
        rows.append([handoff_button(answered.consultation_id)])
    return InlineKeyboardMarkup(rows) if rows else None


def handoff_button(consultation_id: str) -> CallbackButton:
    return CallbackButton(ASK_STAFF, callback_data=f"ho:{consultation_id}")


def reply_html(reply: Reply) -> str:
    if reply.topic is None and reply.suggestions:
        return reply.html + PICK_A_SUGGESTION
    return reply.html


async def send_html(
    message: Message, html: str, markup: InlineKeyboardMarkup | None = None
) -> Message:
    """Send in parts under Telegram's limit; buttons go under the last part."""
    parts = split_html(html)
    sent = message
    for number, part in enumerate(parts, start=1):
        last = number == len(parts)
        sent = await message.chat.send_message(part, reply_markup=markup if last else None)
    return sent


async def send_answer(message: Message, answered: Answered) -> Message:
    return await send_html(message, reply_html(answered.reply), answer_keyboard(answered))


def addressed_text(update: Update, context: Context) -> str | None:
    """The question in a message meant for the bot; in groups only when it is addressed."""
    message = update.effective_message
    if message is None or message.text is None:
        return None
    if message.chat.type == ChatType.PRIVATE:
        return clean(message.text)
    username = context.bot.username
    mention = f"@{username}".lower() if username else None
    text = clean(message.text)
    for entity, value in message.parse_entities([MessageEntityType.MENTION]).items():
        if mention and value.lower() == mention:
            return without_entity(text, entity.offset, entity.length).strip()
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == context.bot.id:
        return text
    return None


def without_entity(text: str, offset: int, length: int) -> str:
    """The text without an entity; Telegram counts offsets in UTF-16 code units, so an emoji
    before the mention (two units, one Python character) must not shift the cut."""
    units = text.encode("utf-16-le", "surrogatepass")
    before, after = units[: 2 * offset], units[2 * (offset + length) :]
    return before.decode("utf-16-le", "replace") + after.decode("utf-16-le", "replace")


def topic_label(topic: str) -> str:
    return escape(TOPIC_LABELS.get(topic, topic))
