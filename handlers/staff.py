"""Staff roles: who may use the staff commands, the staff menu, and /canbo for admins.

Staff handlers are gated with one shared `filters.User`, updated when admins add or remove staff;
anyone else gets a short refusal that reveals nothing, and the attempt is logged.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler, filters

from handlers.common import Context, services
from handlers.state import TelegramApp
from handlers.texts import staff as texts
from handlers.texts.staff import NOT_PERMITTED as NOT_PERMITTED
from handlers.texts.staff import STAFF_COMMANDS as STAFF_COMMANDS
from handlers.texts.start import COMMANDS

log = logging.getLogger(__name__)


def make_staff_filter(application: TelegramApp) -> filters.User:
    settings = application.bot_data.config
    ids = {*settings.staff.staff_ids, *settings.staff.admin_ids}
    user_filter = filters.User(user_id=ids, allow_empty=True)
    application.bot_data.staff_filter = user_filter
    return user_filter


async def refresh_staff(application: TelegramApp) -> None:
    """Load staff from the database, update the filter, and give each of them the staff menu."""
    directory = application.bot_data.services.staff
    try:
        await directory.reread()
    except Exception:
        log.warning("staff list not loaded from the database; using config.toml only")
    user_filter: filters.User = application.bot_data.staff_only
    members = directory.members
    gone = set(user_filter.user_ids) - members
    user_filter.remove_user_ids(gone)
    user_filter.add_user_ids(members)
    for chat_id in gone:  # a removed member's menu goes back to the businesses' one
        with contextlib.suppress(TelegramError):
            await application.bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
    menu = [BotCommand(n, t) for n, t in (*COMMANDS, *STAFF_COMMANDS)]
    chats = [*members, *application.bot_data.config.staff.groups]
    for chat_id in chats:
        with contextlib.suppress(TelegramError):  # a member who never opened the bot
            await application.bot.set_my_commands(menu, scope=BotCommandScopeChat(chat_id))


async def deny(update: Update, context: Context) -> None:
    """A staff command from someone who is not staff: refuse without saying anything more."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    command = (message.text or "").split()[0][:64]
    try:
        await services(context).log_desk.refused(user.id, command)
    except Exception:
        log.warning("could not log a refused staff command from %s", user.id)
    log.info("refused %s to user %s", command, user.id)
    await message.chat.send_message(NOT_PERMITTED)


async def manage_staff(update: Update, context: Context) -> None:
    """/canbo: list staff; admins add (`them <id> <tên>`) or remove (`xoa <id>`) staff."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    directory = services(context).staff
    args = context.args or []
    if args and args[0].lower() in ("them", "thêm", "xoa", "xóa"):
        if not directory.is_admin(user.id):
            await message.chat.send_message(texts.ADMINS_ONLY)
            return
        await _change_staff(update, context, args)
        return
    lines = [texts.STAFF_LIST_TITLE]
    for member in sorted(directory.members):
        lines.append(
            texts.staff_line(
                member,
                directory.name_of(member),
                admin=directory.is_admin(member),
                configured=directory.configured(member),
            )
        )
    lines.append(texts.STAFF_LIST_USAGE)
    await message.chat.send_message("\n".join(lines))


async def _change_staff(update: Update, context: Context, args: list[str]) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    directory = services(context).staff
    if len(args) < 2 or not args[1].isdigit() or not 0 < int(args[1]) < MAX_TELEGRAM_ID:
        await message.chat.send_message(texts.ASK_TELEGRAM_ID)
        return
    member = int(args[1])
    if args[0].lower() in ("them", "thêm"):
        name = " ".join(args[2:]).strip() or str(member)
        await directory.appoint(member, name, user.id)
        text = texts.staff_added(member, name)
    else:
        removed = await directory.dismiss(member)
        if not removed and directory.configured(member):
            text = texts.REMOVE_IN_CONFIG
        elif removed:
            text = texts.STAFF_REMOVED.format(member=member)
        else:
            text = texts.NO_SUCH_STAFF
    await refresh_staff(context.application)
    await message.chat.send_message(text)


StaffCallback = Callable[[Update, Context], Coroutine[Any, Any, None]]


def register_staff_command(
    application: TelegramApp,
    name: str,
    callback: StaffCallback,
    personal_data: bool = False,
) -> None:
    """A staff command: runs for staff, refused (and logged) for everyone else. One that
    shows businesses' personal data runs only in a private chat or a staff group: in any
    other group every member would read it."""
    gate: filters.User = application.bot_data.staff_only
    handler = _private_only(callback) if personal_data else callback
    application.add_handler(CommandHandler(name, handler, filters=gate))
    application.add_handler(CommandHandler(name, deny))


MAX_TELEGRAM_ID = 2**52  # Telegram user ids fit in 52 bits


def _private_only(callback: StaffCallback) -> StaffCallback:
    async def guarded(update: Update, context: Context) -> None:
        chat = update.effective_chat
        groups = services(context).settings.staff.groups
        if chat is not None and chat.type != "private" and chat.id not in groups:
            log.warning("staff command with personal data refused in chat %s", chat.id)
            await chat.send_message(texts.PRIVATE_ONLY)
            return
        await callback(update, context)

    return guarded


def register(application: TelegramApp) -> None:
    make_staff_filter(application)
    register_staff_command(application, "canbo", manage_staff)
