"""Wording shared by the Telegram flows: the buttons under an answer, the hint under suggested
questions, the busy-database notice and the unsubscribe button under a bulletin."""

from __future__ import annotations

# The buttons under an answer.
HELPFUL = "👍 Hữu ích"
NOT_HELPFUL = "👎 Chưa đúng"
ASK_STAFF = "🙋 Hỏi cán bộ"
# A suggested question, as a button; {title} is the entry's title.
SUGGESTED_QUESTION = "❓ {title}"

# Under a reply that found no topic but has suggested questions.
PICK_A_SUGGESTION = "\n\n<i>Chọn một câu hỏi gợi ý bên dưới, hoặc bấm “Hỏi cán bộ”.</i>"

# The database is briefly unavailable.
BUSY = "Cơ sở dữ liệu đang bận, bạn thử lại sau ít phút."

# The button under every bulletin sent.
UNSUBSCRIBE_BUTTON = "🔕 Hủy nhận bản tin"
