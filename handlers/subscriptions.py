"""The weekly TBT bulletin for businesses in Telegram: subscribing with a choice of topics and
markets (/dangky, /caidat), unsubscribing (/huydangky, the button under each bulletin)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.bulletin.items import MARKET_LABELS, MARKETS, TOPIC_LABELS, TOPICS
from bot.bulletin.service import BulletinService
from handlers.common import Context, person_of, services
from handlers.state import TelegramApp
from handlers.texts import bulletin as texts

CHOICE = "bulletin_choice"


def bulletins(context: Context) -> BulletinService:
    return services(context).bulletins


def choice_keyboard(topics: set[str], markets: set[str]) -> InlineKeyboardMarkup:
    topic_buttons = [
        InlineKeyboardButton(
            texts.toggle_label(TOPIC_LABELS[t], t in topics), callback_data=f"bt:t:{t}"
        )
        for t in TOPICS
    ]
    market_buttons = [
        InlineKeyboardButton(
            texts.toggle_label(MARKET_LABELS[m], m in markets), callback_data=f"bt:m:{m}"
        )
        for m in MARKETS
    ]
    rows = [topic_buttons[i : i + 2] for i in range(0, len(topic_buttons), 2)]
    rows += [market_buttons[i : i + 3] for i in range(0, len(market_buttons), 3)]
    rows.append([InlineKeyboardButton(texts.SAVE_CHOICE_BUTTON, callback_data="bt:save")])
    return InlineKeyboardMarkup(rows)


async def subscribe(update: Update, context: Context) -> None:
    """/dangky and /caidat: choose topics and markets with toggle buttons."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or context.user_data is None:
        return
    current = await bulletins(context).subscription_of(person_of(user).key)
    if current and current.active:
        topics, markets = set(current.topics or TOPICS), set(current.markets or MARKETS)
    else:
        topics, markets = set(TOPICS), set(MARKETS)
    context.user_data[CHOICE] = {"topics": topics, "markets": markets}
    await message.chat.send_message(
        texts.SUBSCRIBE_CHOICE, reply_markup=choice_keyboard(topics, markets)
    )


async def on_choice(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.data is None or query.from_user is None or query.message is None:
        return
    data = context.user_data if context.user_data is not None else {}
    choice = data.setdefault(CHOICE, {"topics": set(TOPICS), "markets": set(MARKETS)})
    _, kind, *rest = query.data.split(":")
    if kind in ("t", "m"):
        bucket = choice["topics" if kind == "t" else "markets"]
        bucket.symmetric_difference_update({rest[0]})
        await query.answer()
        await query.edit_message_reply_markup(choice_keyboard(choice["topics"], choice["markets"]))
        return
    if not choice["topics"] or not choice["markets"]:
        await query.answer(texts.CHOOSE_AT_LEAST_ONE, show_alert=True)
        return
    topics = [t for t in TOPICS if t in choice["topics"]]
    markets = [m for m in MARKETS if m in choice["markets"]]
    await bulletins(context).subscribe(
        person_of(query.from_user), query.message.chat.id, topics, markets
    )
    data.pop(CHOICE, None)
    await query.answer(texts.SAVED)
    await query.message.chat.send_message(
        texts.subscribed([TOPIC_LABELS[t] for t in topics], [MARKET_LABELS[m] for m in markets])
    )


async def unsubscribe(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    done = await bulletins(context).unsubscribe(person_of(user).key)
    await message.chat.send_message(texts.unsubscribed(done))


async def on_unsubscribe_button(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    await bulletins(context).unsubscribe(person_of(query.from_user).key)
    await query.answer(texts.UNSUBSCRIBED_BY_BUTTON, show_alert=True)


def register(application: TelegramApp) -> None:
    application.add_handler(CommandHandler(("dangky", "caidat"), subscribe))
    application.add_handler(CommandHandler("huydangky", unsubscribe))
    application.add_handler(CallbackQueryHandler(on_unsubscribe_button, pattern=r"^bt:unsub$"))
    application.add_handler(CallbackQueryHandler(on_choice, pattern=r"^bt:(t|m|save)"))
