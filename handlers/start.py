"""/start, /help and browsing the knowledge base by topic."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.topics import TOPIC_BUTTONS
from handlers.buttons import CallbackButton
from handlers.common import (
    Context,
    person_of,
    send_answer,
    services,
    short,
    topic_label,
    topics_keyboard,
)
from handlers.state import TelegramApp
from handlers.texts import start as texts
from handlers.texts.staff import STAFF_COMMANDS
from handlers.texts.start import COMMANDS
from handlers.texts.start import help_text as help_text
from handlers.texts.start import welcome as welcome


async def start(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    agency = services(context).settings.agency
    await message.chat.send_message(welcome(agency.name), reply_markup=topics_keyboard())


async def show_help(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    text = help_text(COMMANDS)
    if user is not None and services(context).staff.is_staff(user.id):
        text += texts.staff_help(STAFF_COMMANDS)
    await message.chat.send_message(text)


async def topics(update: Update, context: Context) -> None:
    if update.effective_message:
        await update.effective_message.chat.send_message(
            texts.CHOOSE_TOPIC, reply_markup=topics_keyboard()
        )


async def browse_topic(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    topic = query.data.removeprefix("t:")
    if topic not in dict(TOPIC_BUTTONS):
        await query.answer(texts.TOPIC_GONE)
        return
    entries = services(context).knowledge.by_topic(topic)
    await query.answer()
    rows = [[CallbackButton(short(e.title), callback_data=f"q:{e.id}")] for e in entries]
    await query.message.chat.send_message(
        texts.TOPIC_QUESTIONS.format(topic=topic_label(topic)),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def follow_up(update: Update, context: Context) -> None:
    """A suggested question or a browsed entry was pressed: answer it as a consultation."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None or query.from_user is None:
        return
    chat = query.message.chat
    answered = await services(context).conversation.follow_up(
        person_of(query.from_user), query.data.removeprefix("q:"), "telegram", chat.id
    )
    if answered is None:
        await query.answer(texts.ENTRY_UPDATED)
        return
    await query.answer()
    await send_answer(query.message, answered)  # type: ignore[arg-type]


async def clarified(update: Update, context: Context) -> None:
    """An option of a clarifying question was pressed: answer that subject and intent."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None or query.from_user is None:
        return
    _, subject, intent = ([*query.data.split(":"), "", ""])[:3]
    chat = query.message.chat
    answered = await services(context).conversation.clarified(
        person_of(query.from_user), subject, intent, "telegram", chat.id
    )
    if answered is None:
        await query.answer(texts.CHOICE_OUTDATED)
        return
    await query.answer()
    await send_answer(query.message, answered)  # type: ignore[arg-type]


def register(application: TelegramApp) -> None:
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", show_help))
    application.add_handler(CommandHandler("chude", topics))
    application.add_handler(CallbackQueryHandler(browse_topic, pattern=r"^t:"))
    application.add_handler(CallbackQueryHandler(follow_up, pattern=r"^q:"))
    application.add_handler(CallbackQueryHandler(clarified, pattern=r"^cl:"))
