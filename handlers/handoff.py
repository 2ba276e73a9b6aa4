"""Passing a question to staff and back: the post in the staff group, staff replies delivered to
the business, the business replying back, and reminders of what is still unanswered.

Everything is keyed on the consultation id and on the message ids recorded for each thread,
never on forwarded messages (users can hide who they are from forwards).
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    MessageHandler,
    filters,
)

from bot.clock import VIETNAM, utcnow
from bot.messages import split_html
from bot.staff import handoff as texts
from bot.store.records import DatabaseUnavailable, ThreadInfo
from handlers.common import Context, services
from handlers.state import TelegramApp
from handlers.texts import handoff as relay_texts

log = logging.getLogger(__name__)
REMINDER_CHECK_SECONDS = 600
WORKING_DAYS = (0, 1, 2, 3, 4)  # Monday to Friday


async def post_to_staff(context: Context, consultation_id: str) -> bool:
    """Post a handed-off question in its staff group; False when no group is configured or the
    post failed (the hand-off itself is already logged and will be listed in reminders)."""
    svc = services(context)
    try:
        info = await svc.handoffs.thread(consultation_id)
    except DatabaseUnavailable:
        info = None
    if info is None:
        return False
    group = svc.settings.staff.group_for(info.topic)
    if not group or info.group_message_id is not None:
        return info.group_message_id is not None
    entry = svc.knowledge.entries.get(info.entry_id or "")
    try:
        post = await context.bot.send_message(
            group, texts.staff_post(info, entry.title if entry else None)
        )
    except TelegramError as error:
        log.error(
            "could not post consultation %s to staff group %s: %s", consultation_id, group, error
        )
        return False
    await svc.handoffs.posted(consultation_id, group, post.message_id)
    return True


async def on_staff_reply(update: Update, context: Context) -> None:
    """A staff member replied in the staff group to a thread message: deliver it."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.reply_to_message is None:
        return
    svc = services(context)
    replied = message.reply_to_message
    consultation_id = await svc.handoffs.consultation_of(message.chat.id, replied.message_id)
    if consultation_id is None:
        return  # an ordinary conversation among staff
    info = await svc.handoffs.thread(consultation_id)
    if info is None or info.chat_id is None:
        await message.reply_text(relay_texts.THREAD_NOT_FOUND)
        raise ApplicationHandlerStop
    follow_up = info.outcome == "staff_answered"
    try:
        sent = await _deliver(context, message, info, follow_up)
    except TelegramError as error:  # not answered: the question stays in the reminders
        await message.reply_text(relay_texts.not_delivered(error.message))
        raise ApplicationHandlerStop from None
    await svc.handoffs.answered(consultation_id, user.id)
    thread = [(info.chat_id, message_id, "to_business") for message_id in sent]
    thread.append((message.chat.id, message.message_id, "to_staff"))
    await svc.handoffs.relayed(consultation_id, thread, user.id)
    await message.reply_text(relay_texts.reply_sent(info.person_name, follow_up))
    raise ApplicationHandlerStop  # not also a question to the bot


async def _deliver(
    context: Context, message: Message, info: ThreadInfo, follow_up: bool
) -> list[int]:
    """Send the staff reply to the business; returns the ids of the messages it received."""
    assert info.chat_id is not None
    agency = services(context).settings.agency.name
    delivered = [
        (await context.bot.send_message(info.chat_id, part)).message_id
        for part in split_html(texts.delivered(agency, info, message.text, follow_up))
    ]  # a long answer arrives in parts; the business may reply to any of them
    if message.text is None:  # a photo, a document...: copied with its caption
        copy = await context.bot.copy_message(info.chat_id, message.chat.id, message.message_id)
        delivered.append(copy.message_id)
    return delivered


async def on_business_reply(update: Update, context: Context) -> None:
    """The business replied to a staff answer: the thread continues in the staff group."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.reply_to_message is None:
        return
    svc = services(context)
    consultation_id = await svc.handoffs.consultation_of(
        message.chat.id, message.reply_to_message.message_id
    )
    if consultation_id is None:
        return  # not a reply to staff: handled as a new question
    info = await svc.handoffs.thread(consultation_id)
    if info is None or info.group_chat_id is None or info.group_message_id is None:
        return
    posted = [
        (
            await context.bot.send_message(
                info.group_chat_id, part, reply_to_message_id=info.group_message_id
            )
        ).message_id
        for part in split_html(texts.business_follow_up(info, message.text))
    ]
    if message.text is None:  # a photo, a document...: copied with its caption
        copy = await context.bot.copy_message(
            info.group_chat_id,
            message.chat.id,
            message.message_id,
            reply_to_message_id=posted[0],
        )
        posted.append(copy.message_id)
    thread = [(info.group_chat_id, message_id, "to_staff") for message_id in posted]
    thread.append((message.chat.id, message.message_id, "to_business"))
    await svc.handoffs.relayed(consultation_id, thread, user.id)
    await message.chat.send_message(relay_texts.FORWARDED_TO_STAFF)
    raise ApplicationHandlerStop


async def remind_unanswered(context: Context, morning: bool) -> None:
    """List unanswered questions to their groups (each morning), or recall the ones that have
    waited too long (every few minutes, once per question)."""
    svc = services(context)
    staff = svc.settings.staff
    now = utcnow()
    older = None if morning else now - dt.timedelta(hours=staff.remind_after_hours)
    try:
        infos = await svc.handoffs.waiting(older)
    except DatabaseUnavailable:
        return
    by_group: dict[int, list[ThreadInfo]] = {}
    for info in infos:
        if info.group_chat_id:
            by_group.setdefault(info.group_chat_id, []).append(info)
        else:  # its post failed, or it was spooled while the database was down: post it now
            await post_to_staff(context, info.consultation_id)
    for group, waiting in by_group.items():
        try:
            if morning:
                await context.bot.send_message(group, texts.reminder(waiting, now))
            else:
                for info in waiting:
                    hours = (now - info.created_at).total_seconds() / 3600
                    await context.bot.send_message(
                        group,
                        relay_texts.overdue(texts.short_id(info.consultation_id), hours),
                        reply_to_message_id=info.group_message_id,
                    )
        except TelegramError as error:
            log.warning("reminder to staff group %s failed: %s", group, error)
            continue
        if not morning:
            await svc.handoffs.reminded([i.consultation_id for i in waiting])


async def _morning(context: Context) -> None:
    await remind_unanswered(context, morning=True)


async def _overdue(context: Context) -> None:
    await remind_unanswered(context, morning=False)


def schedule(application: TelegramApp) -> None:
    settings = application.bot_data.config.staff
    if application.job_queue is None:
        return
    morning = dt.time(settings.morning_hour, 0, tzinfo=VIETNAM)
    application.job_queue.run_daily(_morning, morning, days=WORKING_DAYS, name="morning")
    application.job_queue.run_repeating(_overdue, REMINDER_CHECK_SECONDS, first=60, name="overdue")


def register(application: TelegramApp) -> None:

    settings = application.bot_data.config.staff
    groups = settings.groups
    staff_only = application.bot_data.staff_only
    if groups:
        application.add_handler(
            MessageHandler(
                filters.Chat(chat_id=list(groups)) & filters.REPLY & staff_only & ~filters.COMMAND,
                on_staff_reply,
            ),
            group=-3,
        )
    application.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.REPLY & ~filters.COMMAND, on_business_reply
        ),
        group=-3,
    )
