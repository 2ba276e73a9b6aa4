"""What a business reads in the /hoso flow: the questions, the profile card, buttons and replies."""

from __future__ import annotations

from html import escape

# Buttons
SKIP_BUTTON = "Bỏ qua"
EDIT_BUTTON = "✏️ Sửa hồ sơ"
DELETE_BUTTON = "🗑 Xóa hồ sơ"

# The questions, one per step
ASK_NAME = "Bạn cho tôi <b>tên doanh nghiệp hoặc cơ sở</b> (gõ /huy để dừng):"
ASK_TAX_CODE = "<b>Mã số thuế</b> của doanh nghiệp? (10 chữ số; chi nhánh thêm -3 chữ số)"
ASK_PHONE = "<b>Số điện thoại</b> để cán bộ liên hệ khi cần? (không bắt buộc)"

# Appended to the reason an answer was refused, on a step that may be skipped.
SKIP_HINT = f" Hoặc bấm “{SKIP_BUTTON}”."

NO_PROFILE_YET = (
    "Bạn chưa có hồ sơ doanh nghiệp. Hồ sơ giúp Sở thống kê và liên hệ lại khi cần; "
    "bạn có thể bỏ qua các mục không muốn cung cấp."
)
NOT_GIVEN = "chưa có"
PROFILE_SAVED = "Đã lưu hồ sơ:\n{summary}"
PROFILE_DELETED = "Đã xóa hồ sơ doanh nghiệp của bạn khỏi các lần hỏi sau."
SAVE_BUSY = "Hệ thống đang bận, chưa lưu được hồ sơ. Bạn thử lại sau ít phút nhé."

# /huy
CANCELLED = "Đã hủy."
NOTHING_TO_CANCEL = "Không có thao tác nào đang làm."


def profile_summary(organisation: str, tax_code: str | None, phone: str | None) -> str:
    """The profile card: organisation, tax code and phone, a missing one shown as not given."""
    lines = [f"Doanh nghiệp: <b>{escape(organisation)}</b>"]
    lines.append(f"Mã số thuế: {escape(tax_code or NOT_GIVEN)}")
    lines.append(f"Điện thoại: {escape(phone or NOT_GIVEN)}")
    return "\n".join(lines)


def invalid_answer(problem: str, *, can_skip: bool) -> str:
    """Why an answer was refused, with the skip hint when the step may be skipped."""
    return escape(problem) + (SKIP_HINT if can_skip else "")
