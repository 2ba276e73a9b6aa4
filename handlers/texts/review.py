"""What staff read when they review the log (/nhatky), curate unanswered questions (/chuatraloi),
reload the knowledge base (/taikb) and export (/xuat, /thongke, /baocao): the wording of
handlers/review.py, whose logic stays there."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

# --- /nhatky ------------------------------------------------------------------------------

OUTCOME_LABELS: dict[str, str] = {
    "answered": "bot trả lời",
    "abstained": "chưa trả lời được",
    "handed_off": "đã chuyển cán bộ",
    "staff_answered": "cán bộ đã trả lời",
    "negative": "bị đánh giá chưa đúng",
}
# The outcome filter buttons under the log: (outcome, label); None shows every outcome.
OUTCOME_BUTTONS: tuple[tuple[str | None, str], ...] = (
    (None, "Tất cả"),
    ("abstained", "Chưa trả lời"),
    ("handed_off", "Đã chuyển"),
    ("negative", "👎"),
)
SELECTED_FILTER = "• "  # before the label of the filter in use
PREVIOUS_PAGE = "◀ Trước"
NEXT_PAGE = "Sau ▶"

UNREADABLE_DAY = "Không hiểu “{text}”: ngày viết 2026-11-26 hoặc 26/11/2026."
DAY_OUT_OF_RANGE = "Ngày “{text}” nằm ngoài khoảng nhật ký (2000 đến 2100)."

LOG_TITLE = "<b>Nhật ký tư vấn</b>"
UNCLASSIFIED_TOPIC = "chưa phân loại"  # the topic filter for questions without a topic
UNKNOWN_TOPIC = "chưa rõ chủ đề"  # a log line without a topic
NO_ENTRY = "không có mục"
FEEDBACK_MARKS: dict[str, str] = {"helpful": " · 👍", "not_helpful": " · 👎"}
NO_MATCHING_LOG = "\nKhông có lượt tư vấn nào khớp."


def log_heading(filters: Sequence[str], total: int, page_number: int, pages: int) -> str:
    """The first line of a log page: the title, the filters in use, the count and the page."""
    title = " · ".join([LOG_TITLE, *(escape(label) for label in filters)])
    return title + f": {total} lượt, trang {page_number}/{pages}"


def log_line(
    time: str,
    topic: str,
    entry: str,
    confidence: float,
    outcome: str,
    feedback: str | None,
    question: str,
) -> str:
    """One consultation in the log (`feedback` is "helpful", "not_helpful" or None)."""
    mark = FEEDBACK_MARKS.get(feedback or "", "")
    return (
        f"\n🕘 {time} · {escape(topic)} · {escape(entry)} "
        f"({confidence:.2f}) · {escape(outcome)}{mark}\n"
        f"<i>{escape(question)}</i>"
    )


# --- /chuatraloi ----------------------------------------------------------------------------

NO_UNANSWERED = "Không còn câu hỏi nào bot chưa trả lời được. 🎉"
UNANSWERED_HEADING = (
    "<b>Câu hỏi bot chưa trả lời được</b>: {consultations} lượt, {groups} nhóm. "
    "Nhóm hỏi nhiều nhất nên được viết thành mục mới trước."
)
ATTACH_BUTTON = "📎 Gắn #{number} vào mục"
OUT_OF_SCOPE_BUTTON = "🚫 #{number} ngoài phạm vi"
STALE_LIST = "Danh sách đã cũ, gõ lại /chuatraloi."
ENTRY_GONE = "Mục này không còn trong cơ sở tri thức."
ATTACH_INVALID = "Không thêm được: tệp sau khi sửa không hợp lệ, đã giữ nguyên bản cũ."
OUT_OF_SCOPE_INVALID = "Không ghi được: tệp ngoài phạm vi sau khi sửa không hợp lệ, đã giữ bản cũ."


def unanswered_group(number: int, count: int, example: str, phrasings: int) -> str:
    """A group of unanswered questions: how often it was asked, an example, other phrasings."""
    others = f" (và {phrasings - 1} cách hỏi khác)" if phrasings > 1 else ""
    return f"\n{number}. <b>{count} lượt</b>: <i>{escape(example)}</i>{others}"


def choose_entry(example: str) -> str:
    """Asks which entry the question should be attached to."""
    return f"Gắn câu hỏi <i>{escape(example)}</i> vào mục nào?"


def attached(example: str, title: str, entry_id: str) -> str:
    return (
        f"Đã thêm cách hỏi <i>{escape(example)}</i> vào mục "
        f"<b>{escape(title)}</b> ({escape(entry_id)}) và nạp lại cơ sở tri thức."
    )


def marked_out_of_scope(example: str) -> str:
    return f"Đã đánh dấu <i>{escape(example)}</i> là ngoài phạm vi."


# --- /taikb ---------------------------------------------------------------------------------

RELOAD_REJECTED = (
    "⚠️ Cơ sở tri thức mới có lỗi nên <b>chưa được áp dụng</b>; bot vẫn dùng bản cũ "
    "({entries} mục). Sửa các lỗi sau rồi gửi lại /taikb:"
)
MORE_ERRORS = "… và {count} lỗi khác."
RELOAD_SHRANK = (
    "Bản mới ít mục hơn hẳn bản đang dùng (thư mục bị xoá hoặc chép thiếu?). Nếu đúng là "
    "muốn vậy, gửi <code>/taikb xacnhan</code>."
)


def reloaded(entries: int, warnings: int) -> str:
    """The knowledge base was reloaded with `entries` entries and `warnings` warnings."""
    note = f" ({warnings} cảnh báo, xem bằng python -m bot kb check)" if warnings else ""
    return f"Đã nạp lại cơ sở tri thức: {entries} mục{note}."


def reload_error(problem: str) -> str:
    return f"• {escape(problem)}"


# --- /xuat, /thongke, /baocao ---------------------------------------------------------------

EXPORT_FILE_NAME = "nhat-ky-{first:%Y%m%d}-{last:%Y%m%d}"  # without the extension
EXPORT_CAPTION = "Nhật ký tư vấn từ {first:%d/%m/%Y} đến {last:%d/%m/%Y}"
STATS_CHART_FILE_NAME = "thong-ke.png"
REPORT_FILE_NAME = "bao-cao-{name}"
