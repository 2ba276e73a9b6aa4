"""Staff commands to review the log, improve the knowledge base, export and report.

/nhatky (log, filtered and paginated), /chuatraloi (what the bot could not answer, grouped),
/taikb (reload the knowledge files), /xuat (export), /thongke and /baocao (quarterly figures).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable
from html import escape
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from bot.clock import to_utc, vietnam_today
from bot.qa.knowledge import OUT_OF_SCOPE_FILE
from bot.reports.documents import (
    summary_html,
)
from bot.reports.stats import Quarter, QuarterStats
from bot.services import Services
from bot.staff import curation
from bot.staff.handoff import local_time
from bot.store.records import LogFilter
from bot.topics import TOPIC_LABELS
from handlers.common import Context, services, short
from handlers.staff import NOT_PERMITTED, register_staff_command
from handlers.state import TelegramApp
from handlers.texts import review as texts

PAGE = 8
GROUPS_SHOWN = 8
TOPIC_WORDS = {
    "mavach": "barcode", "msmv": "barcode", "barcode": "barcode",
    "tccs": "base_standard", "base_standard": "base_standard",
    "hopquy": "conformity", "hopchuan": "conformity", "conformity": "conformity",
    "shcn": "ip", "shtt": "ip", "ip": "ip", "tbt": "tbt", "smalltalk": "smalltalk",
    "khac": "none", "none": "none",
}  # fmt: skip
OUTCOME_WORDS = {
    "answered": "answered", "traloi": "answered",
    "abstained": "abstained", "chuatraloi": "abstained",
    "handed_off": "handed_off", "chuyen": "handed_off", "canbo": "handed_off",
    "staff_answered": "staff_answered",
    "negative": "negative", "chuadung": "negative",
}  # fmt: skip
CURATION_GROUPS = "curation_groups"


# --- /nhatky ------------------------------------------------------------------------------


def parse_log_filter(args: list[str], today: dt.date) -> LogFilter:
    """`/nhatky [chủ đề] [kết quả] [từ ngày] [đến ngày]`, or `/nhatky 7` for the last 7 days."""
    topic = outcome = None
    days: list[dt.date] = []
    for arg in args:
        word = arg.lower().strip()
        if word in TOPIC_WORDS:
            topic = TOPIC_WORDS[word]
        elif word in OUTCOME_WORDS:
            outcome = OUTCOME_WORDS[word]
        elif word.isdigit() and len(word) <= 3:
            days = [today - dt.timedelta(days=int(word) - 1), today]
        else:
            days.append(parse_day(arg))
    if not days:
        return LogFilter(topic, outcome)
    last = days[1] if len(days) > 1 else days[0]
    return LogFilter(topic, outcome, vietnam_midnight(days[0]), vietnam_midnight(last, 1))


def parse_day(text: str) -> dt.date:
    day = None
    for form in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        with contextlib.suppress(ValueError):
            day = dt.datetime.strptime(text, form).date()
            break
    if day is None:
        raise ValueError(texts.UNREADABLE_DAY.format(text=text))
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(texts.DAY_OUT_OF_RANGE.format(text=text))
    return day


FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


def vietnam_midnight(day: dt.date, plus_days: int = 0) -> dt.datetime:
    """Midnight in Vietnam, as the naive UTC the database stores."""
    return to_utc(dt.datetime.combine(day + dt.timedelta(days=plus_days), dt.time()))


def encode(where: LogFilter, page: int) -> str:
    def moment(value: dt.datetime | None) -> str:
        return value.strftime("%Y%m%d%H") if value else "-"

    parts = (where.topic or "-", where.outcome or "-", moment(where.start), moment(where.end))
    return "nk:" + ":".join(parts) + f":{page}"


def decode(data: str) -> tuple[LogFilter, int]:
    _, topic, outcome, start, end, page = data.split(":")

    def moment(text: str) -> dt.datetime | None:
        return dt.datetime.strptime(text, "%Y%m%d%H") if text != "-" else None

    where = LogFilter(
        None if topic == "-" else topic,
        None if outcome == "-" else outcome,
        moment(start),
        moment(end),
    )
    return where, int(page)


async def log_page(
    context: Context, where: LogFilter, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    rows, total = await services(context).log_desk.page(where, page, PAGE)
    pages = max(1, -(-total // PAGE))
    filters = []
    if where.topic:
        filters.append(TOPIC_LABELS.get(where.topic, texts.UNCLASSIFIED_TOPIC))
    if where.outcome:
        filters.append(texts.OUTCOME_LABELS[where.outcome])
    lines = [texts.log_heading(filters, total, page + 1, pages)]
    for row in rows:
        lines.append(
            texts.log_line(
                local_time(row.created_at),
                TOPIC_LABELS.get(row.topic or "", texts.UNKNOWN_TOPIC),
                row.entry_id or texts.NO_ENTRY,
                row.confidence,
                texts.OUTCOME_LABELS.get(row.outcome, row.outcome),
                row.feedback,
                short(row.question, 200),
            )
        )
    if not rows:
        lines.append(texts.NO_MATCHING_LOG)
    outcome_row = [
        InlineKeyboardButton(
            (texts.SELECTED_FILTER if where.outcome == outcome else "") + label,
            callback_data=encode(LogFilter(where.topic, outcome, where.start, where.end), 0),
        )
        for outcome, label in texts.OUTCOME_BUTTONS
    ]
    paging = []
    if page > 0:
        paging.append(
            InlineKeyboardButton(texts.PREVIOUS_PAGE, callback_data=encode(where, page - 1))
        )
    if page + 1 < pages:
        paging.append(InlineKeyboardButton(texts.NEXT_PAGE, callback_data=encode(where, page + 1)))
    return "\n".join(lines), InlineKeyboardMarkup([outcome_row, *([paging] if paging else [])])


async def show_log(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    try:
        where = parse_log_filter(context.args or [], vietnam_today())
        text, markup = await log_page(context, where, 0)
    except ValueError as problem:
        await message.chat.send_message(escape(str(problem)))
        return
    await message.chat.send_message(text, reply_markup=markup)


async def staff_pressed(update: Update, context: Context) -> bool:
    """Buttons of staff messages can be seen by anyone in a group: check who pressed."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return False
    if services(context).staff.is_staff(query.from_user.id):
        return True
    await query.answer(NOT_PERMITTED, show_alert=True)
    return False


async def turn_log_page(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.data is None or not await staff_pressed(update, context):
        return
    where, page = decode(query.data)
    text, markup = await log_page(context, where, page)
    await query.answer()
    with contextlib.suppress(BadRequest):  # "message is not modified"
        await query.edit_message_text(text, reply_markup=markup)


# --- /chuatraloi ----------------------------------------------------------------------------


async def show_unanswered(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    svc = services(context)
    candidates = await svc.log_desk.unanswered()
    groups = curation.group_questions(candidates)
    if context.chat_data is not None:
        context.chat_data[CURATION_GROUPS] = groups
    if not groups:
        await message.chat.send_message(texts.NO_UNANSWERED)
        return
    lines = [texts.UNANSWERED_HEADING.format(consultations=len(candidates), groups=len(groups))]
    rows = []
    for number, group in enumerate(groups[:GROUPS_SHOWN], start=1):
        lines.append(
            texts.unanswered_group(
                number, group.count, short(group.example, 160), len(group.questions)
            )
        )
        rows.append(
            [
                InlineKeyboardButton(
                    texts.ATTACH_BUTTON.format(number=number), callback_data=f"cg:a:{number - 1}"
                ),
                InlineKeyboardButton(
                    texts.OUT_OF_SCOPE_BUTTON.format(number=number),
                    callback_data=f"cg:o:{number - 1}",
                ),
            ]
        )
    await message.chat.send_message("\n".join(lines), reply_markup=InlineKeyboardMarkup(rows))


async def on_curation(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    if not await staff_pressed(update, context):
        return
    parts = query.data.split(":")
    groups = (context.chat_data or {}).get(CURATION_GROUPS) or []
    number = int(parts[2])
    if number >= len(groups):
        await query.answer(texts.STALE_LIST)
        return
    group = groups[number]
    svc = services(context)
    if parts[1] == "a":  # choose the entry to attach to
        result = svc.knowledge.search(group.example, limit=5)
        buttons = [
            [
                InlineKeyboardButton(
                    short(svc.knowledge.entries[m.id].title), callback_data=f"cg:e:{number}:{m.id}"
                )
            ]
            for m in result.matches
            if m.id in svc.knowledge.entries
        ]
        await query.answer()
        await query.message.chat.send_message(
            texts.choose_entry(short(group.example, 160)),
            reply_markup=InlineKeyboardMarkup(buttons),
        )
        return
    await query.answer()
    if parts[1] == "e":
        text = await _attach(context, group, parts[3])
    else:
        text = await _out_of_scope(context, group)
    await query.message.chat.send_message(text)


async def _attach(context: Context, group: curation.QuestionGroup, entry_id: str) -> str:
    svc = services(context)
    entry = svc.knowledge.entries.get(entry_id)
    if entry is None:
        return texts.ENTRY_GONE
    path = svc.settings.knowledge_path / entry.topic / f"{entry.id}.md"
    problem = await _edit_knowledge(
        svc,
        path,
        lambda: curation.add_phrasing(path, group.example),
        texts.ATTACH_INVALID,
    )
    if problem:
        return problem
    await svc.log_desk.curated(group.consultation_ids, "attached")
    return texts.attached(short(group.example, 160), entry.title, entry.id)


async def _out_of_scope(context: Context, group: curation.QuestionGroup) -> str:
    svc = services(context)
    root = svc.settings.knowledge_path
    problem = await _edit_knowledge(
        svc,
        root / OUT_OF_SCOPE_FILE,
        lambda: curation.mark_out_of_scope(root, group.example),
        texts.OUT_OF_SCOPE_INVALID,
    )
    if problem:
        return problem
    await svc.log_desk.curated(group.consultation_ids, "out_of_scope")
    return texts.marked_out_of_scope(short(group.example, 160))


async def _edit_knowledge(
    svc: Services, path: Path, edit: Callable[[], str], invalid: str
) -> str | None:
    """What went wrong editing the file, if anything (see LogDesk.edit_knowledge)."""
    try:
        return await svc.log_desk.edit_knowledge(path, edit, invalid)
    except curation.CurationError as problem:
        return escape(str(problem))


# --- /taikb ---------------------------------------------------------------------------------


async def reload_knowledge(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    svc = services(context)
    confirmed = [a.lower() for a in context.args or []] in (["xacnhan"], ["xácnhận"], ["confirm"])
    loaded = await svc.reload(confirmed)
    if loaded.ok:
        await message.chat.send_message(texts.reloaded(len(loaded.knowledge), len(loaded.problems)))
        return
    lines = [texts.RELOAD_REJECTED.format(entries=len(svc.knowledge))]
    lines += [texts.reload_error(str(problem)) for problem in loaded.errors[:20]]
    if len(loaded.errors) > 20:
        lines.append(texts.MORE_ERRORS.format(count=len(loaded.errors) - 20))
    if any(p.field == "reload" for p in loaded.errors):
        lines.append(texts.RELOAD_SHRANK)
    await message.chat.send_message("\n".join(lines))


# --- /xuat, /thongke, /baocao ---------------------------------------------------------------


async def export_log(update: Update, context: Context) -> None:
    """/xuat [từ ngày] [đến ngày]: the log as .xlsx and .csv (default: the last 30 days)."""
    message = update.effective_message
    if message is None:
        return
    today = vietnam_today()
    try:
        days = [parse_day(arg) for arg in (context.args or [])] or [
            today - dt.timedelta(days=29),
            today,
        ]
    except ValueError as problem:
        await message.chat.send_message(escape(str(problem)))
        return
    first, last = days[0], days[-1]
    svc = services(context)
    xlsx, csv = await svc.reports.export(vietnam_midnight(first), vietnam_midnight(last, 1))
    name = texts.EXPORT_FILE_NAME.format(first=first, last=last)
    caption = texts.EXPORT_CAPTION.format(first=first, last=last)
    await message.chat.send_document(InputFile(xlsx, filename=f"{name}.xlsx"), caption=caption)
    await message.chat.send_document(InputFile(csv, filename=f"{name}.csv"))


async def _requested_stats(update: Update, context: Context) -> QuarterStats | None:
    """The statistics of the quarter named in the command (default: this quarter)."""
    message = update.effective_message
    if message is None:
        return None
    args = context.args or []
    try:
        quarter = Quarter.parse(args[0]) if args else Quarter.current(vietnam_today())
    except ValueError as problem:
        await message.chat.send_message(escape(str(problem)))
        return None
    return await services(context).reports.quarter(quarter)


async def show_stats(update: Update, context: Context) -> None:
    """/thongke [2026-Q3]: the quarter's figures and a chart, in the chat."""
    stats = await _requested_stats(update, context)
    if stats is None or update.effective_message is None:
        return
    chat = update.effective_message.chat
    await chat.send_message(summary_html(stats))
    chart = await services(context).reports.chart(stats)
    await chat.send_photo(InputFile(chart, filename=texts.STATS_CHART_FILE_NAME))


async def send_report(update: Update, context: Context) -> None:
    """/baocao [2026-Q3]: the report files (.docx and .xlsx) for the department's report."""
    stats = await _requested_stats(update, context)
    if stats is None or update.effective_message is None:
        return
    chat = update.effective_message.chat
    with tempfile.TemporaryDirectory() as folder:
        paths = await services(context).reports.report(stats, Path(folder))
        for path in paths:
            if path.suffix in (".docx", ".xlsx"):
                name = texts.REPORT_FILE_NAME.format(name=path.name)
                await chat.send_document(InputFile(path.read_bytes(), filename=name))


def register(application: TelegramApp) -> None:
    for name, callback in (
        ("nhatky", show_log),
        ("chuatraloi", show_unanswered),
        ("taikb", reload_knowledge),
        ("xuat", export_log),
        ("thongke", show_stats),
        ("baocao", send_report),
    ):
        personal = name in ("nhatky", "chuatraloi", "xuat")
        register_staff_command(application, name, callback, personal_data=personal)
    application.add_handler(CallbackQueryHandler(turn_log_page, pattern=r"^nk:"))
    application.add_handler(CallbackQueryHandler(on_curation, pattern=r"^cg:"))
