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
from bot.clock import VIETNAM, vietnam_today
from bot.store.records import DatabaseUnavailable
from handlers.common import Context, services
from handlers.sender import TelegramSender
from handlers.staff import NOT_PERMITTED, register_staff_command
from handlers.state import TelegramApp
from handlers.texts import bulletin as texts

log = logging.getLogger(__name__)
DRAFT = "bulletin_item"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def bulletins(context: Context) -> BulletinService:
    return services(context).bulletins


# --- staff: /bantin ---------------------------------------------------------------------------


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
        await message.chat.send_message(texts.add_item_started(week.label))
    else:
        await message.chat.send_message(texts.HELP)


async def _compose(message: Message, context: Context, week: Week) -> int:
    bulletin_id, problems = await bulletins(context).draft(week)
    if problems:
        await message.chat.send_message(texts.unreadable_files(problems[:15]))
    return bulletin_id


async def _preview(message: Message, context: Context, week: Week) -> None:
    bulletin_id = await _compose(message, context, week)
    parts = await bulletins(context).preview_of(bulletin_id, week)
    if not parts:
        await message.chat.send_message(texts.no_items(week.label))
        return
    await message.chat.send_message(texts.preview_heading(len(parts)))
    for part in parts:
        await message.chat.send_message(part)


async def _send_now(message: Message, context: Context, week: Week, update: Update) -> None:
    bulletin_id = await _compose(message, context, week)
    if not await bulletins(context).has_items(bulletin_id):
        await message.chat.send_message(texts.no_items_to_send(week.label))
        return
    user = update.effective_user
    await bulletins(context).approve(bulletin_id, user.id if user else None)
    started = start_broadcast(context.application, bulletin_id)
    await message.chat.send_message(texts.send_started(week.label, started))


async def _status(message: Message, context: Context) -> None:
    found = await bulletins(context).recent(1)
    if not found:
        await message.chat.send_message(texts.NO_BULLETINS)
        return
    await message.chat.send_message(describe(found[0].week, found[0].status, found[0].counts))


def describe(week: str, status: str, counts: dict[str, int]) -> str:
    return texts.status_summary(
        Week.parse(week).label,
        status,
        sent=counts.get("sent", 0),
        waiting=counts.get("pending", 0) + counts.get("claimed", 0),
        failed=counts.get("failed", 0),
        inactive=counts.get("inactive", 0),
    )


async def _history(message: Message, context: Context) -> None:
    found = await bulletins(context).recent(12)
    if not found:
        await message.chat.send_message(texts.NO_BULLETINS)
        return
    lines = [texts.HISTORY_HEADING]
    for info in found:
        label = Week.parse(info.week).label
        lines.append(texts.history_line(label, info.items, info.status, info.counts.get("sent", 0)))
    await message.chat.send_message("\n".join(lines))


# --- /bantin them: one item, step by step -----------------------------------------------------

SKIP = InlineKeyboardMarkup([[InlineKeyboardButton(texts.SKIP_BUTTON, callback_data="bt:skip")]])


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
            await message.chat.send_message(texts.ITEM_PROMPTS["summary"])
        else:
            draft["step"] = "topic"
            rows = [
                [InlineKeyboardButton(TOPIC_LABELS[t], callback_data=f"bt:it:{t}")] for t in TOPICS
            ]
            await message.chat.send_message(
                texts.CHOOSE_TOPIC, reply_markup=InlineKeyboardMarkup(rows)
            )
    elif step == "link":
        if not text.startswith(("http://", "https://")):
            await message.chat.send_message(texts.LINK_NEEDS_HTTPS, reply_markup=SKIP)
            raise ApplicationHandlerStop
        draft["link"] = text
        await _next_item_step(message, context, draft)
    elif step == "deadline":
        try:
            draft["deadline"] = dt.datetime.strptime(text, "%d/%m/%Y").date().isoformat()
        except ValueError:
            await message.chat.send_message(texts.DATE_FORMAT_HINT, reply_markup=SKIP)
            raise ApplicationHandlerStop from None
        await _next_item_step(message, context, draft)
    raise ApplicationHandlerStop


async def _next_item_step(message: Message, context: Context, draft: dict[str, Any]) -> None:
    if draft["step"] == "markets":
        draft["step"] = "link"
        await message.chat.send_message(texts.ITEM_PROMPTS["link"], reply_markup=SKIP)
    elif draft["step"] == "link":
        draft["step"] = "deadline"
        await message.chat.send_message(texts.ITEM_PROMPTS["deadline"], reply_markup=SKIP)
    else:
        await _save_item(message, context, draft)


def _market_keyboard(chosen: set[str]) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            texts.toggle_label(MARKET_LABELS[m], m in chosen), callback_data=f"bt:im:{m}"
        )
        for m in MARKETS
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append([InlineKeyboardButton(texts.MARKETS_DONE_BUTTON, callback_data="bt:imok")])
    return InlineKeyboardMarkup(rows)


async def on_item_button(update: Update, context: Context) -> None:
    query = update.callback_query
    draft = (context.user_data or {}).get(DRAFT)
    if query is None or query.data is None or query.message is None:
        return
    if draft is None:
        await query.answer(texts.NO_DRAFT)
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
        await message.chat.send_message(texts.CHOOSE_MARKETS, reply_markup=_market_keyboard(set()))
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
    await message.chat.send_message(texts.item_added(item.title, week.label))


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
        await _tell_staff(application, texts.BROADCAST_INTERRUPTED)
        return
    info = await svc.bulletins.find(bulletin_id)
    if info is not None:
        summary = describe(info.week, info.status, progress.counts)
        await _tell_staff(application, texts.BROADCAST_FINISHED.format(summary=summary))


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
        await _tell_staff(context.application, texts.nothing_to_send_this_week(week.label))
        return
    if not svc.settings.bulletin.require_approval:
        await svc.bulletins.approve(bulletin_id)
        start_broadcast(context.application, bulletin_id)
        return
    button = InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts.APPROVE_BUTTON, callback_data=f"bt:ok:{bulletin_id}")]]
    )
    heading = texts.awaiting_approval(week.label, len(problems))
    for group in svc.settings.staff.groups:
        await context.bot.send_message(group, heading)
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
    await query.answer(texts.approve_answer(started))


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
    at = config.send_time.replace(tzinfo=VIETNAM)
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
