"""What the user reads from /start, /help and /chude: the command menu, the welcome, the help
and browsing the knowledge base by topic."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

# Shown in Telegram's menu (set_my_commands) and in /help: (command name, description);
# keep README in step.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Bắt đầu và chọn chủ đề"),
    ("help", "Hướng dẫn sử dụng"),
    ("chude", "Xem câu hỏi theo chủ đề"),
    ("hoicanbo", "Gửi câu hỏi cho cán bộ"),
    ("hoso", "Hồ sơ doanh nghiệp của bạn"),
    ("dangky", "Đăng ký nhận bản tin TBT hằng tuần"),
    ("caidat", "Đổi chủ đề, thị trường nhận bản tin"),
    ("huydangky", "Hủy nhận bản tin TBT"),
    ("huy", "Hủy thao tác đang làm"),
)

# /chude
CHOOSE_TOPIC = "Bạn muốn xem câu hỏi về chủ đề nào?"
# A topic button for a topic that no longer exists.
TOPIC_GONE = "Chủ đề này không còn nữa."
# Above a topic's questions; {topic} is the topic's label, already escaped.
TOPIC_QUESTIONS = "<b>{topic}</b>: chọn câu hỏi bạn quan tâm."
# A suggested or browsed question whose entry has changed since the button was sent.
ENTRY_UPDATED = "Câu hỏi này đã được cập nhật; bạn gõ lại câu hỏi giúp tôi."
# An option of a clarifying question that is no longer offered.
CHOICE_OUTDATED = "Lựa chọn này đã cũ; bạn gõ lại câu hỏi giúp tôi."


def welcome(agency_name: str) -> str:
    """/start: who the bot is and what it answers."""
    return (
        f"Xin chào! Tôi là trợ lý tư vấn của <b>{escape(agency_name)}</b> "
        "(điểm hỏi đáp TBT và sở hữu công nghiệp).\n\n"
        "Tôi trả lời nhanh, có dẫn căn cứ pháp lý, các câu hỏi về:\n"
        "• mã số mã vạch;\n• tiêu chuẩn cơ sở;\n• công bố hợp chuẩn, hợp quy;\n"
        "• đăng ký sở hữu công nghiệp (nhãn hiệu, sáng chế, kiểu dáng, chỉ dẫn địa lý);\n"
        "• hàng rào kỹ thuật trong thương mại (TBT) và bản tin TBT.\n\n"
        "Bạn cứ gõ câu hỏi, có dấu hay không dấu đều được, hoặc chọn một chủ đề bên dưới. "
        "Khi tôi chưa chắc chắn, tôi sẽ chuyển câu hỏi cho cán bộ."
    )


def command_line(name: str, description: str) -> str:
    """One command in /help."""
    return f"/{name} – {escape(description)}"


def help_text(commands: tuple[tuple[str, str], ...]) -> str:
    """/help for everyone: how to ask, then the commands."""
    lines = [
        "<b>Cách dùng</b>",
        "Gõ câu hỏi như khi nhắn tin, ví dụ: <i>phí đăng ký mã vạch</i>.",
        "",
    ]
    lines += [command_line(name, text) for name, text in commands]
    lines += [
        "",
        "Dưới mỗi câu trả lời có câu hỏi gợi ý và nút đánh giá; nút “Hỏi cán bộ” gửi câu hỏi "
        "cho cán bộ, cán bộ trả lời ngay trong cuộc trò chuyện này.",
    ]
    return "\n".join(lines)


def staff_help(commands: Iterable[tuple[str, str]]) -> str:
    """What /help adds for staff: their commands, after the public help."""
    return "\n\n<b>Lệnh dành cho cán bộ</b>\n" + "\n".join(
        command_line(name, label) for name, label in commands
    )
