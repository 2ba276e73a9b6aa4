"""What staff and the business read while a handed-off question goes back and forth: replies to
staff in their group, the business's confirmation and the overdue reminder (the staff post,
the delivered answer and the morning list are in bot/staff/handoff.py)."""

from __future__ import annotations

from html import escape

# A staff reply to a thread message whose conversation is gone.
THREAD_NOT_FOUND = "Không tìm thấy cuộc trò chuyện của câu hỏi này."

# To the business, once its reply to staff is posted in the staff group.
FORWARDED_TO_STAFF = "Đã chuyển tin nhắn của bạn tới cán bộ."


def not_delivered(error: str) -> str:
    """To staff: their reply could not be sent to the business; error is Telegram's reason."""
    return f"Chưa gửi được tới người hỏi: {escape(error)}"


def reply_sent(person_name: str, follow_up: bool) -> str:
    """To staff: their reply (the answer, or a further one) reached the business."""
    note = "trả lời bổ sung" if follow_up else "câu trả lời"
    return f"✅ Đã gửi {note} tới {escape(person_name)}."


def overdue(short_id: str, hours: float) -> str:
    """To the staff group, under the post of a question that has waited too long."""
    return f"⏰ Câu hỏi #{short_id} đã chờ {hours:.0f} giờ chưa có câu trả lời."
