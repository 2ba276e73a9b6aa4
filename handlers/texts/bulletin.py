"""The weekly TBT bulletin's wording in Telegram: what staff read while authoring, approving and
sending it (handlers/bulletin.py), and what businesses read when they subscribe or unsubscribe
(handlers/subscriptions.py). Functions escape the values they put into HTML themselves."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

# --- shared ------------------------------------------------------------------------------------


def toggle_label(label: str, on: bool) -> str:
    """A toggle button's text: the label behind a ticked or an empty box."""
    return ("✅ " if on else "⬜ ") + label


# --- staff: /bantin ----------------------------------------------------------------------------

STATUS_LABELS = {
    "draft": "đang soạn", "approved": "đã duyệt", "sending": "đang gửi", "sent": "đã gửi",
}  # fmt: skip

HELP = (
    "<b>Bản tin TBT</b>\n"
    "/bantin xem [2026-W48] – xem trước bản tin của tuần\n"
    "/bantin them – thêm một tin vào bản tin tuần này\n"
    "/bantin gui [2026-W48] – gửi ngay\n"
    "/bantin trangthai – tiến độ gửi\n"
    "/bantin cu – các bản tin đã có"
)
NO_BULLETINS = "Chưa có bản tin nào."
HISTORY_HEADING = "<b>Các bản tin</b>"


def status_label(status: str) -> str:
    """A bulletin's status as staff read it; an unknown status as it is."""
    return STATUS_LABELS.get(status, status)


def unreadable_files(problems: Iterable[object]) -> str:
    """The item files that could not be read and were left out of the bulletin."""
    lines = ["⚠️ Một số tệp tin chưa đọc được và đã bị bỏ qua:"]
    lines += [f"• {escape(str(problem))}" for problem in problems]
    return "\n".join(lines)


def no_items(week_label: str) -> str:
    return f"Bản tin {escape(week_label)} chưa có tin nào."


def preview_heading(parts: int) -> str:
    return f"Xem trước ({parts} tin nhắn, người nhận mọi chủ đề):"


def no_items_to_send(week_label: str) -> str:
    return f"Bản tin {escape(week_label)} chưa có tin nào để gửi."


def send_started(week_label: str, started: bool) -> str:
    """/bantin gui: sending started now, or was already under way."""
    text = "Bắt đầu gửi bản tin" if started else "Bản tin đang được gửi"
    return f"{text} {escape(week_label)}. Xem tiến độ: /bantin trangthai"


def status_summary(
    week_label: str, status: str, sent: int, waiting: int, failed: int, inactive: int
) -> str:
    """A bulletin's delivery counts: /bantin trangthai and the note when sending ends."""
    return (
        f"<b>Bản tin {escape(week_label)}</b> ({status_label(status)})\n"
        f"Đã gửi: {sent} · Đang chờ: {waiting} · Lỗi: {failed} · "
        f"Đã chặn bot hoặc không còn tồn tại: {inactive}"
    )


def history_line(week_label: str, items: int, status: str, sent: int) -> str:
    """One bulletin in /bantin cu."""
    return f"• {escape(week_label)}: {items} tin, {status_label(status)}, đã gửi {sent}"


# --- /bantin them: one item, step by step ------------------------------------------------------

ITEM_PROMPTS = {
    "summary": "Gửi <b>tóm tắt</b> nội dung tin:",
    "link": "Gửi <b>đường dẫn</b> (bắt đầu bằng https://) hoặc bấm Bỏ qua:",
    "deadline": "Gửi <b>hạn góp ý</b> (ví dụ 24/01/2027) hoặc bấm Bỏ qua:",
}
SKIP_BUTTON = "Bỏ qua"
CHOOSE_TOPIC = "Chọn <b>chủ đề</b>:"
CHOOSE_MARKETS = "Chọn <b>thị trường</b>:"
MARKETS_DONE_BUTTON = "Xong (không chọn = mọi thị trường)"
LINK_NEEDS_HTTPS = "Đường dẫn phải bắt đầu bằng https://"
DATE_FORMAT_HINT = "Viết ngày dạng 24/01/2027."
NO_DRAFT = "Không có tin nào đang soạn: /bantin them"


def add_item_started(week_label: str) -> str:
    return f"Thêm tin vào bản tin {escape(week_label)}. Gửi <b>tiêu đề</b> của tin (/huy để dừng):"


def item_added(title: str, week_label: str) -> str:
    return (
        f"Đã thêm tin <b>{escape(title)}</b> vào bản tin {escape(week_label)}. "
        "Xem trước: /bantin xem"
    )


# --- sending and the weekly approval -----------------------------------------------------------

BROADCAST_INTERRUPTED = "⚠️ Việc gửi bản tin bị gián đoạn; sẽ tiếp tục ở lần chạy sau."
BROADCAST_FINISHED = "📨 Đã gửi xong. {summary}"
APPROVE_BUTTON = "✅ Duyệt và gửi"


def nothing_to_send_this_week(week_label: str) -> str:
    """The scheduled send found no items."""
    return f"Bản tin {escape(week_label)} chưa có tin nào; chưa gửi."


def awaiting_approval(week_label: str, skipped_files: int) -> str:
    """Above the preview the staff groups approve, with how many item files were left out."""
    note = f" ({skipped_files} tệp lỗi bị bỏ qua, xem /bantin xem)" if skipped_files else ""
    return f"Bản tin {escape(week_label)} chờ duyệt{note}:"


def approve_answer(started: bool) -> str:
    """The answer to the approval button: sending started now, or was already under way."""
    return "Bắt đầu gửi." if started else "Bản tin đang được gửi."


# --- businesses: /dangky, /caidat, /huydangky --------------------------------------------------

SUBSCRIBE_CHOICE = (
    "<b>Bản tin TBT hằng tuần</b>: thông báo mới của WTO từ các thị trường xuất khẩu, thay đổi "
    "tiêu chuẩn, quy chuẩn, thủ tục trong nước và các hạn góp ý.\n\n"
    "Chọn <b>chủ đề</b> (hàng trên) và <b>thị trường</b> (hàng dưới) bạn quan tâm, rồi bấm "
    "“Lưu lựa chọn”."
)
SAVE_CHOICE_BUTTON = "💾 Lưu lựa chọn"
CHOOSE_AT_LEAST_ONE = "Chọn ít nhất một chủ đề và một thị trường."
SAVED = "Đã lưu."
UNSUBSCRIBED_BY_BUTTON = "Đã hủy nhận bản tin TBT. Đăng ký lại bằng /dangky."


def subscribed(topic_labels: Iterable[str], market_labels: Iterable[str]) -> str:
    """The confirmation after saving a subscription, with the chosen topics and markets."""
    topics = ", ".join(label.lower() for label in topic_labels)
    markets = ", ".join(market_labels)
    return (
        "Đã đăng ký nhận bản tin TBT hằng tuần.\n"
        f"Chủ đề: {escape(topics)}.\nThị trường: {escape(markets)}.\n"
        "Đổi lựa chọn bằng /caidat, hủy bằng /huydangky hoặc nút ở cuối mỗi bản tin."
    )


def unsubscribed(done: bool) -> str:
    """/huydangky: unsubscribed now, or was not subscribed."""
    text = "Đã hủy nhận bản tin TBT." if done else "Bạn chưa đăng ký nhận bản tin TBT."
    return text + " Đăng ký lại bất cứ lúc nào bằng /dangky."
