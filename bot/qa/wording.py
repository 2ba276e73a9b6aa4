"""What the business reads when the bot does not simply answer: kept apart from the logic so
staff-facing reviewers can read and change the wording in one place."""

from __future__ import annotations

from bot.topics import SCOPE

NOT_SURE = "Xin lỗi, tôi **chưa chắc chắn** về câu trả lời cho câu hỏi này."
MAYBE = "Có thể bạn muốn hỏi về:"
OUT_OF_SCOPE = f"Câu hỏi này nằm ngoài các lĩnh vực tôi được giao hỗ trợ ({SCOPE})."
ASK_STAFF = (
    "Bạn có thể hỏi lại cụ thể hơn, hoặc để tôi chuyển câu hỏi tới cán bộ của {agency}; "
    "cán bộ sẽ trả lời ngay trong cuộc trò chuyện này."
)
NOT_COVERED = (
    "Tôi chưa có thông tin đã được rà soát về **{intent}** đối với **{subject}**, nên không "
    "trả lời đoán. Tôi có thể chuyển câu hỏi tới cán bộ của {agency}; cán bộ sẽ trả lời ngay "
    "trong cuộc trò chuyện này."
)
CLARIFY_INTENT = "Bạn muốn biết gì về **{subject}**?"
CLARIFY_SUBJECT = "Bạn hỏi về **{intent}** của lĩnh vực nào?"
EMPTY = (
    "Tôi chưa đọc được câu hỏi nào. Bạn hãy gõ câu hỏi bằng chữ, ví dụ: "
    "*Phí đăng ký mã số mã vạch là bao nhiêu?* hoặc *Hồ sơ đăng ký nhãn hiệu gồm những gì?*"
)
LEGAL_BASIS = "Căn cứ: {basis}."
REVIEWED = "Thông tin rà soát ngày {date}."

# What a product's requirement means for the business, first line of a product answer.
PRODUCT_REQUIREMENT = {
    "hop_quy": "phải **công bố hợp quy** theo quy chuẩn kỹ thuật trước khi đưa ra thị trường.",
    "self_declaration": "doanh nghiệp **tự công bố sản phẩm**; không công bố hợp quy tại Sở "
    "Khoa học và Công nghệ.",
    "product_notification": "phải **công bố (thông báo) sản phẩm** với cơ quan y tế trước khi "
    "lưu thông.",
    "registration": "phải được **đăng ký hoặc cấp phép lưu hành** trước khi đưa ra thị trường.",
    "voluntary": "**chưa có quy chuẩn kỹ thuật bắt buộc**; công bố hợp chuẩn là tự nguyện.",
}

# Before the answer to a question that waited while the bot was down.
LATE_APOLOGY = "Xin lỗi anh/chị vì trả lời chậm: hệ thống vừa gián đoạn. Câu trả lời ở ngay dưới."
