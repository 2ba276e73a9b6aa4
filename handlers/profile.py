"""/hoso: the business tells us who it is, so consultations count distinct organisations."""

from __future__ import annotations

from html import escape
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

STEP = "profile_step"
DRAFT = "profile_draft"
SKIP = InlineKeyboardMarkup([[InlineKeyboardButton("Bỏ qua", callback_data="p:skip")]])
PROMPTS = {
    "name": "Bạn cho tôi <b>tên doanh nghiệp hoặc cơ sở</b> (gõ /huy để dừng):",
    "tax_code": "<b>Mã số thuế</b> của doanh nghiệp? (10 chữ số; chi nhánh thêm -3 chữ số)",
    "phone": "<b>Số điện thoại</b> để cán bộ liên hệ khi cần? (không bắt buộc)",
}
NEXT = {"name": "tax_code", "tax_code": "phone", "phone": None}


def describe(profile: Profile) -> str:
    lines = [f"Doanh nghiệp: <b>{escape(profile.organisation)}</b>"]
    lines.append(f"Mã số thuế: {escape(profile.tax_code or 'chưa có')}")
    lines.append(f"Điện thoại: {escape(profile.phone or 'chưa có')}")
    return "\n".join(lines)


async def show_profile(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    profile = await services(context).profiles.of(person_of(user).key)
    if profile is None:
        await message.chat.send_message(
            "Bạn chưa có hồ sơ doanh nghiệp. Hồ sơ giúp Sở thống kê và liên hệ lại khi cần; "
            "bạn có thể bỏ qua các mục không muốn cung cấp."
        )
        await _ask(message, context, "name")
        return
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("✏️ Sửa hồ sơ", callback_data="p:edit"),
                InlineKeyboardButton("🗑 Xóa hồ sơ", callback_data="p:delete"),
            ]
        ]
    )
    await message.chat.send_message(describe(profile), reply_markup=buttons)


BUSY = "Hệ thống đang bận, chưa lưu được hồ sơ. Bạn thử lại sau ít phút nhé."


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
        hint = " Hoặc bấm “Bỏ qua”." if step != "name" else ""
        await message.chat.send_message(
            escape(str(problem)) + hint, reply_markup=SKIP if hint else None
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
    await message.chat.send_message("Đã lưu hồ sơ:\n" + describe(profile))


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
        await message.chat.send_message("Đã xóa hồ sơ doanh nghiệp của bạn khỏi các lần hỏi sau.")
    elif action == "skip" and data.get(STEP) in ("tax_code", "phone"):
        await _advance(message, context, data[STEP], person)  # type: ignore[arg-type]


CANCELLABLE = (STEP, DRAFT, "bulletin_item", "bulletin_choice")


async def cancel(update: Update, context: Context) -> None:
    data = _data(context)
    busy = [data.pop(key) for key in CANCELLABLE if key in data]
    if update.effective_message:
        text = "Đã hủy." if busy else "Không có thao tác nào đang làm."
        await update.effective_message.chat.send_message(text)


def register(application: TelegramApp) -> None:
    application.add_handler(CommandHandler("hoso", show_profile))
    application.add_handler(CommandHandler("huy", cancel))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text), group=-1)
    application.add_handler(CallbackQueryHandler(on_button, pattern=r"^p:"))
