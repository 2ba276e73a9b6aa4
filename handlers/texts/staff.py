"""What staff read from the staff commands: the staff menu, refusals and the /canbo replies."""

from __future__ import annotations

from html import escape

# The staff menu: (command name, description), in the order Telegram shows them.
STAFF_COMMANDS: tuple[tuple[str, str], ...] = (
    ("nhatky", "Nhật ký tư vấn (lọc, phân trang)"),
    ("chuatraloi", "Câu hỏi bot chưa trả lời được"),
    ("taikb", "Nạp lại cơ sở tri thức"),
    ("xuat", "Xuất nhật ký ra Excel và CSV"),
    ("thongke", "Thống kê theo quý"),
    ("baocao", "Tệp báo cáo quý"),
    ("bantin", "Bản tin TBT: xem, thêm tin, gửi, tiến độ"),
    ("canbo", "Danh sách cán bộ (quản trị: thêm, xóa)"),
)

# A staff command from someone who is not staff.
NOT_PERMITTED = "Bạn không có quyền dùng lệnh này."

# A command showing businesses' personal data, sent in a group that is not a staff group.
PRIVATE_ONLY = (
    "Lệnh này hiện thông tin của doanh nghiệp nên chỉ dùng trong tin nhắn riêng với bot hoặc "
    "trong nhóm cán bộ."
)

# /canbo
ADMINS_ONLY = "Chỉ quản trị viên được thêm hoặc xóa cán bộ."
STAFF_LIST_TITLE = "<b>Cán bộ dùng được lệnh nghiệp vụ</b>"
ROLE_ADMIN = "quản trị"
ROLE_STAFF = "cán bộ"
DECLARED_IN_CONFIG = "(trong config.toml)"
STAFF_LIST_USAGE = (
    "\nQuản trị viên: <code>/canbo them &lt;id&gt; &lt;tên&gt;</code>, "
    "<code>/canbo xoa &lt;id&gt;</code>"
)
ASK_TELEGRAM_ID = "Cần mã Telegram (số) của cán bộ, ví dụ: /canbo them 123456789 Nguyễn Văn A"
STAFF_REMOVED = "Đã xóa cán bộ {member}."
NO_SUCH_STAFF = "Không có cán bộ này."
REMOVE_IN_CONFIG = "Cán bộ này khai báo trong config.toml; sửa tệp cấu hình để bỏ."


def staff_line(member: int, name: str | None, *, admin: bool, configured: bool) -> str:
    """One member in the /canbo list; a member without a name may come from config.toml."""
    shown = name or (DECLARED_IN_CONFIG if configured else "")
    role = ROLE_ADMIN if admin else ROLE_STAFF
    return f"• {member} {escape(shown)} – {role}"


def staff_added(member: int, name: str) -> str:
    """The reply to `/canbo them <id> <tên>`."""
    return f"Đã thêm cán bộ {member} ({escape(name)})."
