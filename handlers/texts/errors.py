"""What the user reads when handling their message failed."""

from __future__ import annotations

# An unexpected error while handling a message or a button press.
APOLOGY = (
    "Xin lỗi, tôi gặp lỗi khi xử lý tin nhắn này. Bạn thử gửi lại sau ít phút; nếu vẫn lỗi, "
    "hãy dùng /hoicanbo để gửi câu hỏi cho cán bộ."
)

# A button whose data the bot cannot read (crafted, or from an old keyboard).
STALE_BUTTON = "Nút này không còn dùng được. Bạn gửi lại câu hỏi giúp tôi nhé."
