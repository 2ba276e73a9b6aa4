from bot.markdown import to_html, to_plain

SOURCE = """Phí gồm **hai khoản** và *một* ghi chú <b>thô</b>:

- Phí cấp: 1.000.000 đ
- Phí duy trì: xem [GS1 Việt Nam](https://gs1.org.vn)

1. Bước một
2. Bước hai"""


def test_html_uses_telegram_tags_and_escapes_raw_html() -> None:
    html = to_html(SOURCE)
    assert "<b>hai khoản</b>" in html
    assert "<i>một</i>" in html
    assert "&lt;b&gt;thô&lt;/b&gt;" in html
    assert '<a href="https://gs1.org.vn">GS1 Việt Nam</a>' in html
    assert "• Phí cấp: 1.000.000 đ\n• Phí duy trì" in html
    assert "1. Bước một\n2. Bước hai" in html
    assert "<ul>" not in html
    assert "<p>" not in html


def test_plain_text_has_no_markup_and_keeps_link_addresses() -> None:
    plain = to_plain(SOURCE)
    assert "**" not in plain
    assert "<b>" not in plain.replace("<b>thô</b>", "")
    assert "GS1 Việt Nam (https://gs1.org.vn)" in plain


def test_link_whose_text_is_its_address_is_not_repeated() -> None:
    assert to_plain("Xem [ipvietnam.gov.vn](https://ipvietnam.gov.vn).") == "Xem ipvietnam.gov.vn."
