"""Free-text questions, feedback, and passing a question to staff."""

from __future__ import annotations

import contextlib
import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.store.records import DatabaseUnavailable
from handlers.common import (
    Context,
    addressed_text,
    handoff_button,
    person_of,
    send_answer,
    services,
)
from handlers.handoff import post_to_staff
from handlers.state import TelegramApp
from handlers.texts import questions as texts
from handlers.texts.questions import NOT_YOURS as NOT_YOURS

log = logging.getLogger(__name__)


async def on_text(update: Update, context: Context) -> None:
    message = update.effective_message
    user = update.effective_user
    question = addressed_text(update, context)
    if message is None or user is None or question is None:
        return
    answered = await services(context).conversation.ask(
        person_of(user), question, "telegram", message.chat.id
    )
    await send_answer(message, answered)
    if answered.suggest_staff:
        await message.chat.send_message(
            texts.SUGGEST_STAFF,
            reply_markup=InlineKeyboardMarkup([[handoff_button(answered.consultation_id)]]),
        )


async def on_feedback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    _, helpful, consultation_id = [*query.data.split(":", 2), "", ""][:3]
    conversation = services(context).conversation
    person = person_of(query.from_user).key if query.from_user else None
    if not await conversation.belongs(consultation_id, query.message.chat.id, person):
        log.warning("feedback button refused: %r from %s", query.data, person)
        await query.answer(NOT_YOURS)
        return
    await conversation.feedback(consultation_id, helpful == "1")
    await query.answer(texts.THANKS_FOR_FEEDBACK)
    markup = getattr(query.message, "reply_markup", None)
    if isinstance(markup, InlineKeyboardMarkup):
        kept = [
            row
            for row in markup.inline_keyboard
            if not any(str(b.callback_data or "").startswith("fb:") for b in row)
        ]
        with contextlib.suppress(BadRequest):  # too old to edit; the feedback is recorded anyway
            await query.edit_message_reply_markup(InlineKeyboardMarkup(kept) if kept else None)
    if helpful != "1":
        await query.message.chat.send_message(
            texts.SORRY_NOT_HELPFUL,
            reply_markup=InlineKeyboardMarkup([[handoff_button(consultation_id)]]),
        )


async def on_handoff(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.data is None or query.message is None or query.from_user is None:
        return
    consultation_id = query.data.removeprefix("ho:")
    svc = services(context)
    if not await svc.conversation.belongs(consultation_id, query.message.chat.id):
        log.warning("hand-off button refused: %r from %s", query.data, query.from_user.id)
        await query.answer(NOT_YOURS)
        return
    if await _already_handed_off(context, consultation_id):
        await query.answer(texts.ALREADY_HANDED_OFF)
        return
    await svc.conversation.hand_off(consultation_id, person_of(query.from_user).key)
    await query.answer(texts.HANDED_OFF)
    await post_to_staff(context, consultation_id)
    await query.message.chat.send_message(handoff_confirmation(context))


async def _already_handed_off(context: Context, consultation_id: str) -> bool:
    try:
        return await services(context).handoffs.is_handed_off(consultation_id)
    except DatabaseUnavailable:
        return False


def handoff_confirmation(context: Context) -> str:
    agency = services(context).settings.agency
    return texts.staff_will_answer(agency.name, agency.hours)


async def ask_staff(update: Update, context: Context) -> None:
    """/hoicanbo <question>: the question goes to staff directly."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    question = " ".join(context.args or []).strip()
    conversation = services(context).conversation
    person = person_of(user)
    answered = await conversation.ask(person, question, "telegram", message.chat.id)
    if answered.reply.empty:  # nothing written (or only emoji): nothing to pass on
        await message.chat.send_message(texts.ASK_STAFF_USAGE)
        return
    await conversation.hand_off(answered.consultation_id, person.key)
    await post_to_staff(context, answered.consultation_id)
    await message.chat.send_message(handoff_confirmation(context))


def register(application: TelegramApp) -> None:
    application.add_handler(CommandHandler("hoicanbo", ask_staff))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    application.add_handler(CallbackQueryHandler(on_feedback, pattern=r"^fb:[01]:"))
    application.add_handler(CallbackQueryHandler(on_handoff, pattern=r"^ho:"))
