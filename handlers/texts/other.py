"""What the user reads after sending something that is not text (a sticker, a photo...)."""

from __future__ import annotations

from bot.topics import SCOPE

NOT_TEXT = (
    f"Hiện tôi chỉ đọc được câu hỏi bằng chữ. Bạn gõ câu hỏi về {SCOPE}; cần gửi giấy tờ thì "
    "dùng /hoicanbo để cán bộ hướng dẫn."
)
