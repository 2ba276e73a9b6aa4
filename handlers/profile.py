"""/hoso: the business tells us who it is, so consultations count distinct organisations."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.people.profile import InvalidInput, normalise_name, normalise_phone, normalise_tax_code
from bot.qa.text import clean
from bot.store.records import PersonRef, Profile
from handlers.common import Context, person_of, services
from handlers.state import TelegramApp
from handlers.texts import profile as texts

STEP = "profile_step"
DRAFT = "profile_draft"
SKIP = InlineKeyboardMarkup([[InlineKeyboardButton(texts.SKIP_BUTTON, callback_data="p:skip")]])
PROMPTS = {"name": texts.ASK_NAME, "tax_code": texts.ASK_TAX_CODE, "phone": texts.ASK_PHONE}
NEXT = {"name": "tax_code", "tax_code": "phone", "phone": None}


def describe(profile: Profile) -> str:
    return texts.profile_summary(profile.organisation, profile.tax_code, profile.phone)


async def show_profile(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    profile = await services(context).profiles.of(person_of(user).key)
    if profile is None:
        await message.chat.send_message(texts.NO_PROFILE_YET)
        await _ask(message, context, "name")
        return
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(texts.EDIT_BUTTON, callback_data="p:edit"),
                InlineKeyboardButton(texts.DELETE_BUTTON, callback_data="p:delete"),
            ]
        ]
    )
    await message.chat.send_message(describe(profile), reply_markup=buttons)


async def _ask(message: Message, context: Context, step: str) -> None:
    data = _data(context)
    data[STEP] = step
    data.setdefault(DRAFT, {})
    markup = SKIP if step != "name" else None
    await message.chat.send_message(PROMPTS[step], reply_markup=markup)


def _data(context: Context) -> dict[str, Any]:
    return context.user_data if context.user_data is not None else {}


async def on_text(update: Update, context: Context) -> None:
    """While the profile is being filled in, text answers the current question."""
    message, user = update.effective_message, update.effective_user
    data = _data(context)
    step = data.get(STEP)
    if message is None or user is None or step is None or message.chat.type != "private":
        return
    checks = {"name": normalise_name, "tax_code": normalise_tax_code, "phone": normalise_phone}
    try:
        data[DRAFT][step] = checks[step](clean(message.text or ""))
    except InvalidInput as problem:
        can_skip = step != "name"
        await message.chat.send_message(
            texts.invalid_answer(str(problem), can_skip=can_skip),
            reply_markup=SKIP if can_skip else None,
        )
        raise ApplicationHandlerStop from None
    await _advance(message, context, step, person_of(user))
    raise ApplicationHandlerStop


async def _advance(message: Message, context: Context, step: str, person: PersonRef) -> None:
    following = NEXT[step]
    if following is not None:
        await _ask(message, context, following)
        return
    data = _data(context)
    draft = data.pop(DRAFT, {})
    data.pop(STEP, None)
    profile = Profile(draft["name"], draft.get("tax_code"), draft.get("phone"))
    await services(context).profiles.save(person, profile)
    await message.chat.send_message(texts.PROFILE_SAVED.format(summary=describe(profile)))


async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.data is None or query.message is None or query.from_user is None:
        return
    await query.answer()
    data = _data(context)
    person = person_of(query.from_user)
    message = query.message
    action = query.data.removeprefix("p:")
    if action == "edit":
        data[DRAFT] = {}
        await _ask(message, context, "name")  # type: ignore[arg-type]
    elif action == "delete":
        await services(context).profiles.forget(person)
        await message.chat.send_message(texts.PROFILE_DELETED)
    elif action == "skip" and data.get(STEP) in ("tax_code", "phone"):
        await _advance(message, context, data[STEP], person)  # type: ignore[arg-type]


CANCELLABLE = (STEP, DRAFT, "bulletin_item", "bulletin_choice")


async def cancel(update: Update, context: Context) -> None:
    data = _data(context)
    busy = [data.pop(key) for key in CANCELLABLE if key in data]
    if update.effective_message:
        text = texts.CANCELLED if busy else texts.NOTHING_TO_CANCEL
        await update.effective_message.chat.send_message(text)


def register(application: TelegramApp) -> None:
    application.add_handler(CommandHandler("hoso", show_profile))
    application.add_handler(CommandHandler("huy", cancel))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text), group=-1)
    application.add_handler(CallbackQueryHandler(on_button, pattern=r"^p:"))
