"""The weekly TBT bulletin in Telegram for staff: authoring and sending (/bantin ...), the
weekly approval; businesses subscribe in handlers/subscriptions.py.

Sending runs as a background task with its own HTTP connections, so answers keep flowing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.bulletin.delivery import Progress
from bot.bulletin.items import MARKET_LABELS, MARKETS, TOPIC_LABELS, TOPICS, Item, Week
from bot.bulletin.service import BulletinService
from bot.clock import vietnam_today
from bot.store.records import DatabaseUnavailable
from handlers.common import Context, services
from handlers.sender import TelegramSender
from handlers.staff import NOT_PERMITTED, register_staff_command
from handlers.state import TelegramApp

log = logging.getLogger(__name__)
DRAFT = "bulletin_item"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
STATUS_LABELS = {
    "draft": "đang soạn", "approved": "đã duyệt", "sending": "đang gửi", "sent": "đã gửi",
}  # fmt: skip


def bulletins(context: Context) -> BulletinService:
    return services(context).bulletins


# --- staff: /bantin ---------------------------------------------------------------------------

HELP = (
    "<b>Bản tin TBT</b>\n"
    "/bantin xem [2026-W48] – xem trước bản tin của tuần\n"
    "/bantin them – thêm một tin vào bản tin tuần này\n"
    "/bantin gui [2026-W48] – gửi ngay\n"
    "/bantin trangthai – tiến độ gửi\n"
    "/bantin cu – các bản tin đã có"
)


async def bantin(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    args = [a.lower() for a in (context.args or [])]
    action = args[0] if args else ""
    try:
        week = Week.parse(args[1]) if len(args) > 1 else Week.current(vietnam_today())
    except ValueError as problem:
        await message.chat.send_message(escape(str(problem)))
        return
    if action == "xem":
        await _preview(message, context, week)
    elif action == "gui":
        await _send_now(message, context, week, update)
    elif action == "trangthai":
        await _status(message, context)
    elif action == "cu":
        await _history(message, context)
    elif action == "them":
        if context.user_data is not None:
            context.user_data[DRAFT] = {"step": "title", "week": week.key}
        await message.chat.send_message(
            f"Thêm tin vào bản tin {escape(week.label)}. Gửi <b>tiêu đề</b> của tin (/huy để dừng):"
        )
    else:
        await message.chat.send_message(HELP)


async def _compose(message: Message, context: Context, week: Week) -> int:
    bulletin_id, problems = await bulletins(context).draft(week)
    if problems:
        lines = ["⚠️ Một số tệp tin chưa đọc được và đã bị bỏ qua:"]
        lines += [f"• {escape(str(p))}" for p in problems[:15]]
        await message.chat.send_message("\n".join(lines))
    return bulletin_id


async def _preview(message: Message, context: Context, week: Week) -> None:
    bulletin_id = await _compose(message, context, week)
    parts = await bulletins(context).preview_of(bulletin_id, week)
    if not parts:
        await message.chat.send_message(f"Bản tin {escape(week.label)} chưa có tin nào.")
        return
    await message.chat.send_message(f"Xem trước ({len(parts)} tin nhắn, người nhận mọi chủ đề):")
    for part in parts:
        await message.chat.send_message(part)


async def _send_now(message: Message, context: Context, week: Week, update: Update) -> None:
    bulletin_id = await _compose(message, context, week)
    if not await bulletins(context).has_items(bulletin_id):
        await message.chat.send_message(f"Bản tin {escape(week.label)} chưa có tin nào để gửi.")
        return
    user = update.effective_user
    await bulletins(context).approve(bulletin_id, user.id if user else None)
    started = start_broadcast(context.application, bulletin_id)
    text = "Bắt đầu gửi bản tin" if started else "Bản tin đang được gửi"
    await message.chat.send_message(f"{text} {escape(week.label)}. Xem tiến độ: /bantin trangthai")


async def _status(message: Message, context: Context) -> None:
    found = await bulletins(context).recent(1)
    if not found:
        await message.chat.send_message("Chưa có bản tin nào.")
        return
    await message.chat.send_message(describe(found[0].week, found[0].status, found[0].counts))


def describe(week: str, status: str, counts: dict[str, int]) -> str:
    label = Week.parse(week).label
    return (
        f"<b>Bản tin {escape(label)}</b> ({STATUS_LABELS.get(status, status)})\n"
        f"Đã gửi: {counts.get('sent', 0)} · Đang chờ: "
        f"{counts.get('pending', 0) + counts.get('claimed', 0)} · Lỗi: {counts.get('failed', 0)} · "
        f"Đã chặn bot hoặc không còn tồn tại: {counts.get('inactive', 0)}"
    )


async def _history(message: Message, context: Context) -> None:
    found = await bulletins(context).recent(12)
    if not found:
        await message.chat.send_message("Chưa có bản tin nào.")
        return
    lines = ["<b>Các bản tin</b>"]
    for info in found:
        lines.append(
            f"• {escape(Week.parse(info.week).label)}: {info.items} tin, "
            f"{STATUS_LABELS.get(info.status, info.status)}, đã gửi {info.counts.get('sent', 0)}"
        )
    await message.chat.send_message("\n".join(lines))


# --- /bantin them: one item, step by step -----------------------------------------------------

ITEM_PROMPTS = {
    "summary": "Gửi <b>tóm tắt</b> nội dung tin:",
    "link": "Gửi <b>đường dẫn</b> (bắt đầu bằng https://) hoặc bấm Bỏ qua:",
    "deadline": "Gửi <b>hạn góp ý</b> (ví dụ 24/01/2027) hoặc bấm Bỏ qua:",
}
SKIP = InlineKeyboardMarkup([[InlineKeyboardButton("Bỏ qua", callback_data="bt:skip")]])


def _still_staff(update: Update, context: Context) -> bool:
    """The role is checked at every step of a staff flow, not only at its command."""
    user = update.effective_user
    return user is not None and services(context).staff.is_staff(user.id)


async def on_item_text(update: Update, context: Context) -> None:
    message = update.effective_message
    draft = (context.user_data or {}).get(DRAFT)
    if message is None or draft is None or message.text is None:
        return
    if not _still_staff(update, context):  # removed with /canbo xoa in the middle
        if context.user_data is not None:
            context.user_data.pop(DRAFT, None)
        return
    text = message.text.strip()
    step = draft["step"]
    if step in ("title", "summary"):
        if not text:
            raise ApplicationHandlerStop
        draft[step] = text
        if step == "title":
            draft["step"] = "summary"
            await message.chat.send_message(ITEM_PROMPTS["summary"])
        else:
            draft["step"] = "topic"
            rows = [
                [InlineKeyboardButton(TOPIC_LABELS[t], callback_data=f"bt:it:{t}")] for t in TOPICS
            ]
            await message.chat.send_message(
                "Chọn <b>chủ đề</b>:", reply_markup=InlineKeyboardMarkup(rows)
            )
    elif step == "link":
        if not text.startswith(("http://", "https://")):
            await message.chat.send_message(
                "Đường dẫn phải bắt đầu bằng https://", reply_markup=SKIP
            )
            raise ApplicationHandlerStop
        draft["link"] = text
        await _next_item_step(message, context, draft)
    elif step == "deadline":
        try:
            draft["deadline"] = dt.datetime.strptime(text, "%d/%m/%Y").date().isoformat()
        except ValueError:
            await message.chat.send_message("Viết ngày dạng 24/01/2027.", reply_markup=SKIP)
            raise ApplicationHandlerStop from None
        await _next_item_step(message, context, draft)
    raise ApplicationHandlerStop


async def _next_item_step(message: Message, context: Context, draft: dict[str, Any]) -> None:
    if draft["step"] == "markets":
        draft["step"] = "link"
        await message.chat.send_message(ITEM_PROMPTS["link"], reply_markup=SKIP)
    elif draft["step"] == "link":
        draft["step"] = "deadline"
        await message.chat.send_message(ITEM_PROMPTS["deadline"], reply_markup=SKIP)
    else:
        await _save_item(message, context, draft)


def _market_keyboard(chosen: set[str]) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            ("✅ " if m in chosen else "⬜ ") + MARKET_LABELS[m], callback_data=f"bt:im:{m}"
        )
        for m in MARKETS
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append(
        [InlineKeyboardButton("Xong (không chọn = mọi thị trường)", callback_data="bt:imok")]
    )
    return InlineKeyboardMarkup(rows)


async def on_item_button(update: Update, context: Context) -> None:
    query = update.callback_query
    draft = (context.user_data or {}).get(DRAFT)
    if query is None or query.data is None or query.message is None:
        return
    if draft is None:
        await query.answer("Không có tin nào đang soạn: /bantin them")
        return
    if not _still_staff(update, context):
        if context.user_data is not None:
            context.user_data.pop(DRAFT, None)
        await query.answer(NOT_PERMITTED, show_alert=True)
        return
    await query.answer()
    message: Message = query.message  # type: ignore[assignment]
    parts = query.data.split(":")
    if parts[1] == "it":
        draft["topic"], draft["step"], draft["markets"] = parts[2], "markets", []
        await message.chat.send_message(
            "Chọn <b>thị trường</b>:", reply_markup=_market_keyboard(set())
        )
    elif parts[1] == "im":
        chosen = set(draft["markets"]) ^ {parts[2]}
        draft["markets"] = [m for m in MARKETS if m in chosen]
        await query.edit_message_reply_markup(_market_keyboard(chosen))
    elif parts[1] == "imok" or (parts[1] == "skip" and draft["step"] in ("link", "deadline")):
        await _next_item_step(message, context, draft)


async def _save_item(message: Message, context: Context, draft: dict[str, Any]) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
    deadline = dt.date.fromisoformat(draft["deadline"]) if draft.get("deadline") else None
    try:
        item = Item(
            draft["title"],
            draft["summary"],
            draft["topic"],
            tuple(draft["markets"]),
            draft.get("link"),
            deadline,
            source="bot",
        )
    except ValueError as problem:
        await message.chat.send_message(escape(str(problem)))
        return
    week = Week.parse(draft["week"])
    await bulletins(context).add(week, item)
    await message.chat.send_message(
        f"Đã thêm tin <b>{escape(item.title)}</b> vào bản tin {escape(week.label)}. "
        "Xem trước: /bantin xem"
    )


# --- sending in the background ----------------------------------------------------------------


def start_broadcast(application: TelegramApp, bulletin_id: int) -> bool:
    """Start sending unless a broadcast is already running; False when one is."""
    running: asyncio.Task[None] | None = application.bot_data.broadcast
    if running is not None and not running.done():
        return False
    application.bot_data.broadcast = application.create_task(_broadcast(application, bulletin_id))
    return True


async def _broadcast(application: TelegramApp, bulletin_id: int) -> None:
    svc = application.bot_data.services
    settings = svc.settings
    assert settings.telegram_token is not None
    try:
        async with TelegramSender(settings.telegram_token, settings.telegram_base_url) as sender:
            flood = application.bot_data.flood
            progress: Progress = await svc.bulletins.send(bulletin_id, sender, limiter=flood)
    except Exception:
        log.exception("bulletin %s: broadcast stopped", bulletin_id)
        await _tell_staff(
            application, "⚠️ Việc gửi bản tin bị gián đoạn; sẽ tiếp tục ở lần chạy sau."
        )
        return
    info = await svc.bulletins.find(bulletin_id)
    if info is not None:
        await _tell_staff(
            application, "📨 Đã gửi xong. " + describe(info.week, info.status, progress.counts)
        )


async def _tell_staff(application: TelegramApp, text: str) -> None:
    for group in application.bot_data.config.staff.groups:
        try:
            await application.bot.send_message(group, text)
        except TelegramError as error:
            log.warning("could not tell staff group %s: %s", group, error)


async def weekly(context: Context) -> None:
    """The scheduled weekly send: compose, then ask for approval or send straight away."""
    svc = services(context)
    week = Week.current(vietnam_today())
    bulletin_id, problems = await svc.bulletins.draft(week)
    parts = await svc.bulletins.preview_of(bulletin_id, week)
    if not parts:
        await _tell_staff(
            context.application, f"Bản tin {escape(week.label)} chưa có tin nào; chưa gửi."
        )
        return
    if not svc.settings.bulletin.require_approval:
        await svc.bulletins.approve(bulletin_id)
        start_broadcast(context.application, bulletin_id)
        return
    note = f" ({len(problems)} tệp lỗi bị bỏ qua, xem /bantin xem)" if problems else ""
    button = InlineKeyboardMarkup(
        [[InlineKeyboardButton("✅ Duyệt và gửi", callback_data=f"bt:ok:{bulletin_id}")]]
    )
    for group in svc.settings.staff.groups:
        await context.bot.send_message(group, f"Bản tin {escape(week.label)} chờ duyệt{note}:")
        for number, part in enumerate(parts, start=1):
            last = number == len(parts)
            await context.bot.send_message(group, part, reply_markup=button if last else None)


async def on_approve(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.data is None or query.from_user is None:
        return
    if not services(context).staff.is_staff(query.from_user.id):
        await query.answer(NOT_PERMITTED, show_alert=True)
        return
    bulletin_id = int(query.data.split(":")[2])
    await bulletins(context).approve(bulletin_id, query.from_user.id)
    started = start_broadcast(context.application, bulletin_id)
    await query.answer("Bắt đầu gửi." if started else "Bản tin đang được gửi.")


async def resume_unfinished(application: TelegramApp) -> None:
    """After a restart, finish a broadcast that was interrupted."""
    svc = application.bot_data.services
    try:
        found = await svc.bulletins.recent(5)
    except DatabaseUnavailable:
        return
    for info in found:
        if info.status == "sending":
            start_broadcast(application, info.id)
            break


def schedule(application: TelegramApp) -> None:
    settings = application.bot_data.config
    if application.job_queue is None:
        return
    config = settings.bulletin
    at = config.send_time.replace(tzinfo=ZoneInfo(settings.staff.timezone))
    day = DAYS.index(config.send_day)
    application.job_queue.run_daily(weekly, at, days=(day,), name="weekly-bulletin")


def register(application: TelegramApp) -> None:
    application.add_handler(CallbackQueryHandler(on_approve, pattern=r"^bt:ok:"))
    application.add_handler(CallbackQueryHandler(on_item_button, pattern=r"^bt:(it|im|imok|skip)"))
    register_staff_command(application, "bantin", bantin)
    gate = application.bot_data.staff_only
    # Its own group: the profile flow's text handler (group -1) must not shadow it.
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & gate, on_item_text), group=-2
    )
