"""What the business reads around a free-text question: feedback, and passing it to staff."""

from __future__ import annotations

from html import escape

# A feedback or hand-off button pressed in a chat the consultation does not belong to.
NOT_YOURS = "Nút này không thuộc câu hỏi của cuộc trò chuyện này."

# After two questions in a row the bot could not answer.
SUGGEST_STAFF = (
    "Tôi đã hai lần liền chưa trả lời được câu hỏi của bạn. Để cán bộ trả lời trực tiếp "
    "cho chắc chắn nhé?"
)

# Feedback on an answer.
THANKS_FOR_FEEDBACK = "Cảm ơn bạn đã đánh giá!"
SORRY_NOT_HELPFUL = (
    "Xin lỗi vì câu trả lời chưa đúng ý bạn. Bạn có thể hỏi lại cụ thể hơn, hoặc để tôi "
    "chuyển câu hỏi cho cán bộ."
)

# The "ask staff" button.
ALREADY_HANDED_OFF = "Câu hỏi này đã được chuyển cho cán bộ."
HANDED_OFF = "Đã chuyển câu hỏi cho cán bộ."

# /hoicanbo without a question.
ASK_STAFF_USAGE = (
    "Bạn gõ /hoicanbo kèm câu hỏi, ví dụ:\n"
    "<code>/hoicanbo Sản phẩm nước mắm của tôi cần công bố theo quy chuẩn nào?</code>"
)


def staff_will_answer(agency_name: str, hours: str) -> str:
    """The confirmation once a question is with staff: who answers, where and when."""
    return (
        f"Tôi đã chuyển câu hỏi của bạn tới cán bộ của {escape(agency_name)}. Cán bộ sẽ trả lời "
        f"ngay trong cuộc trò chuyện này trong giờ làm việc ({escape(hours)})."
    )
