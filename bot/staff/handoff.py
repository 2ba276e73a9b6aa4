"""What staff and businesses read when a question is passed to a person (Telegram HTML)."""

from __future__ import annotations

import datetime as dt
from html import escape

from bot.clock import to_vietnam
from bot.store.records import ThreadInfo
from bot.topics import TOPIC_LABELS

QUESTION_PREVIEW = 300


def local_time(moment: dt.datetime) -> str:
    return to_vietnam(moment).strftime("%H:%M %d/%m/%Y")


def short_id(consultation_id: str) -> str:
    return consultation_id[:8]


def staff_post(info: ThreadInfo, best_guess: str | None) -> str:
    """The post in the staff group; staff answer by replying to it."""
    who = escape(info.person_name)
    if info.username:
        who += f" (@{escape(info.username)})"
    lines = [f"🙋 <b>Câu hỏi cần cán bộ trả lời</b> · mã #{short_id(info.consultation_id)}"]
    lines.append(f"Người hỏi: {who}")
    if info.organisation:
        organisation = escape(info.organisation)
        if info.tax_code:
            organisation += f", MST {escape(info.tax_code)}"
        lines.append(f"Đơn vị: {organisation}")
    lines.append(f"Lúc: {local_time(info.created_at)}")
    topic = TOPIC_LABELS.get(info.topic or "", "chưa xác định")
    lines.append(f"Chủ đề: {escape(topic)}")
    guess = escape(best_guess) if best_guess else "không có"
    lines.append(f"Bot đoán: {guess} (độ tin cậy {info.confidence:.2f})")
    lines.append("")
    lines.append(f"<i>{escape(info.question[:2000])}</i>")
    lines.append("")
    lines.append("↩️ Trả lời tin nhắn này để gửi câu trả lời tới người hỏi.")
    return "\n".join(lines)


def delivered(agency_name: str, info: ThreadInfo, text: str | None, follow_up: bool) -> str:
    """What the business receives when staff reply."""
    head = "Cán bộ trả lời thêm" if follow_up else "Cán bộ trả lời câu hỏi của bạn"
    question = info.question[:QUESTION_PREVIEW]
    lines = [
        f"💬 <b>{head}</b> ({escape(agency_name)})",
        f"<i>Câu hỏi: {escape(question)}</i>",
    ]
    if text:
        lines += ["", escape(text)]
    lines += ["", "Bạn có thể trả lời tin nhắn này để hỏi thêm cán bộ."]
    return "\n".join(lines)


def business_follow_up(info: ThreadInfo, text: str | None) -> str:
    """A business replied to a staff answer: shown in the staff group under the thread."""
    lines = [
        f"💬 <b>{escape(info.person_name)} hỏi thêm</b> · mã #{short_id(info.consultation_id)}"
    ]
    if text:
        lines += ["", escape(text)]
    lines += ["", "↩️ Trả lời tin nhắn này để gửi tiếp cho người hỏi."]
    return "\n".join(lines)


def reminder(infos: list[ThreadInfo], now: dt.datetime) -> str:
    lines = [f"📋 <b>Còn {len(infos)} câu hỏi chưa trả lời</b>"]
    for info in infos[:30]:
        hours = (now - info.created_at).total_seconds() / 3600
        lines.append(
            f"• #{short_id(info.consultation_id)} ({hours:.0f} giờ): {escape(info.question[:120])}"
        )
    if len(infos) > 30:
        lines.append(f"… và {len(infos) - 30} câu khác.")
    lines.append("Trả lời bài đăng của từng câu hỏi để gửi câu trả lời.")
    return "\n".join(lines)
