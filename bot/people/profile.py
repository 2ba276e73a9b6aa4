"""Business profile checks: the tax code (mã số thuế) and phone a business gives us."""

from __future__ import annotations

import re

_TAX_CODE = re.compile(r"^(\d{10})(?:-(\d{3}))?$")
_PERSONAL_ID = re.compile(r"^\d{12}$")
_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_PHONE = re.compile(r"^(?:\+?84|0)(\d{9})$")


class InvalidInput(ValueError):
    """The message says, in Vietnamese, what is wrong and what is expected."""


def normalise_tax_code(text: str) -> str:
    """A valid tax code in canonical form, or InvalidInput explaining the expected form.

    Enterprises have 10 digits, the last a check digit; branches and dependent units add "-" and
    3 digits. Since 7/2025 individuals and household businesses use their 12-digit personal
    identification number as tax code, so that form is accepted too.
    """
    compact = re.sub(r"[\s.]", "", text.strip()).replace("–", "-").replace("—", "-")
    if _PERSONAL_ID.match(compact):
        return compact
    match = _TAX_CODE.match(compact)
    if not match:
        raise InvalidInput(
            "Mã số thuế gồm 10 chữ số (ví dụ 0100109106), chi nhánh thêm dấu gạch và 3 chữ số "
            "(ví dụ 0100109106-001); hộ kinh doanh, cá nhân dùng số định danh 12 chữ số."
        )
    digits = match.group(1)
    total = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=False))
    if (10 - total % 11) % 11 != int(digits[9]):
        raise InvalidInput(
            "Mã số thuế này không đúng (chữ số kiểm tra không khớp). Bạn kiểm tra lại trên giấy "
            "chứng nhận đăng ký doanh nghiệp giúp tôi."
        )
    return compact


def normalise_phone(text: str) -> str:
    compact = re.sub(r"[\s.\-()]", "", text.strip())
    match = _PHONE.match(compact)
    if not match:
        raise InvalidInput("Số điện thoại gồm 10 chữ số bắt đầu bằng 0, ví dụ 0912 345 678.")
    return "0" + match.group(1)


def normalise_name(text: str) -> str:
    name = " ".join(text.split())
    if len(name) < 2 or not any(ch.isalpha() for ch in name):
        raise InvalidInput(
            "Bạn cho tôi tên đầy đủ của doanh nghiệp hoặc cơ sở, ví dụ: Công ty TNHH ABC."
        )
    if len(name) > 300:
        raise InvalidInput("Tên doanh nghiệp dài quá 300 ký tự; bạn gửi tên ngắn gọn hơn giúp tôi.")
    return name
