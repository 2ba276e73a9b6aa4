"""What a business notices: the right answer however it types, and honesty when unsure."""

import pytest

from bot.qa.answers import Answerer


def topic_of(answerer: Answerer, question: str) -> str | None:
    return answerer.ask(question).topic


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("Phí đăng ký mã số mã vạch là bao nhiêu?", "barcode-fees"),
        ("phi dang ky ma vach bao nhieu", "barcode-fees"),
        ("mã vạhc hết bao nhiêu tiền", "barcode-fees"),  # Telex slip
        ("ddawng kys max vachj het bao nhieu tieenf", "barcode-fees"),  # raw Telex
        ("MSMV PHÍ DUY TRÌ HẰNG NĂM", "barcode-annual-fee"),
        ("tccs la gi", "tccs-what-is"),
        ("cbhq là gì", "conformity-what-is"),
        ("How much does it cost to register a trademark in Vietnam?", "ip-trademark-fees"),
        ("gia hạn văn bằng nhãn hiệu", "ip-trademark-renewal"),
        ("cách tính số kiểm tra mã ean13", "barcode-check-digit"),
    ],
)
def test_question_finds_its_entry(answerer: Answerer, question: str, entry: str) -> None:
    reply = answerer.ask(question)
    assert reply.entry_id == entry
    assert reply.outcome == "answered"
    assert 0.0 <= reply.confidence <= 1.0


def test_thuong_hieu_means_trademark(answerer: Answerer) -> None:
    assert topic_of(answerer, "đăng ký thương hiệu cho quán cà phê") == "ip"
    assert topic_of(answerer, "dang ky logo cong ty") == "ip"


def test_qui_and_quy_are_the_same(answerer: Answerer) -> None:
    assert (
        answerer.ask("hồ sơ công bố hợp qui").entry_id
        == answerer.ask("hồ sơ công bố hợp quy").entry_id
    )


@pytest.mark.parametrize(
    "question",
    [
        "tra cứu mã số thuế của công ty",
        "thủ tục đăng ký kinh doanh hộ cá thể",
        "làm sổ đỏ cần giấy tờ gì",
        "đổi giấy phép lái xe ở đâu",
        "thời tiết Hưng Yên ngày mai",
        "What is the weather tomorrow?",
    ],
)
def test_out_of_scope_question_abstains(answerer: Answerer, question: str) -> None:
    reply = answerer.ask(question)
    assert reply.topic is None
    assert reply.outcome == "abstained"
    assert reply.offer_handoff


def test_out_of_scope_answer_says_where_to_go(answerer: Answerer) -> None:
    reply = answerer.ask("tra cứu mã số thuế doanh nghiệp")
    assert reply.out_of_scope == "oos-tax"
    assert "cơ quan Thuế" in reply.text


@pytest.mark.parametrize("generic", ["đăng ký", "doanh nghiệp", "giấy chứng nhận", "mã số"])
def test_a_generic_word_alone_does_not_decide(answerer: Answerer, generic: str) -> None:
    reply = answerer.ask(generic)
    assert reply.outcome == "abstained" or reply.offer_handoff


def test_abstention_lists_closest_topics_and_offers_staff(answerer: Answerer) -> None:
    reply = answerer.ask("quy định mới về đo lường xăng dầu tại cây xăng")
    assert reply.topic is None
    assert "chưa chắc chắn" in reply.text
    assert "cán bộ" in reply.text
    assert len(reply.suggestions) <= 3


def test_answer_ends_with_legal_basis_and_review_date(answerer: Answerer) -> None:
    reply = answerer.ask("phí duy trì mã vạch hằng năm")
    assert reply.text.splitlines()[-1].startswith("Thông tin rà soát ngày ")
    assert "Căn cứ: " in reply.text
    assert reply.sources
    assert all(source in reply.text for source in reply.sources)


def test_answer_offers_up_to_three_follow_ups(answerer: Answerer) -> None:
    reply = answerer.ask("hồ sơ đăng ký nhãn hiệu gồm những gì")
    assert 1 <= len(reply.suggestions) <= 3
    assert reply.entry_id not in {s.entry_id for s in reply.suggestions}


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "???", "🙏"])
def test_empty_or_emoji_only_question_asks_for_words(answerer: Answerer, text: str) -> None:
    reply = answerer.ask(text)
    assert reply.empty
    assert reply.topic is None
    assert "gõ câu hỏi" in reply.text


def test_html_and_sql_looking_text_is_harmless(answerer: Answerer) -> None:
    reply = answerer.ask("<script>alert(1)</script> mã vạch'; DROP TABLE consultations;--")
    assert "<script>" not in reply.html
    assert reply.topic in (None, "barcode")


def test_very_long_question_still_answers(answerer: Answerer) -> None:
    question = ("Công ty em sản xuất nước mắm. " * 150) + "Phí đăng ký mã vạch bao nhiêu?"
    assert len(question) > 4000
    reply = answerer.ask(question)
    assert reply.topic in (None, "barcode")


def test_smalltalk_is_answered_without_legal_footer(answerer: Answerer) -> None:
    reply = answerer.ask("xin chào")
    assert reply.topic == "smalltalk"
    assert "Căn cứ" not in reply.text


def test_question_matching_only_out_of_scope_groups_abstains(answerer: Answerer) -> None:
    reply = answerer.ask("xổ số")
    assert reply.topic is None
    assert reply.outcome == "abstained"


def test_search_where_only_an_out_of_scope_group_matches() -> None:
    import datetime as dt

    from bot.qa.knowledge import Entry, KnowledgeBase, OutOfScope

    entry = Entry(
        "barcode-fees", "barcode", "Phí mã vạch", "Barcode fees",
        ("phí mã vạch", "mã vạch bao nhiêu tiền", "phi ma vach", "How much is a barcode?"),
        ("phí",), ("Thông tư 232/2016/TT-BTC",), dt.date(2026, 11, 26), "1.000.000 đồng.",
    )  # fmt: skip
    group = OutOfScope("oos-lottery", "Xổ số", "Hỏi công ty xổ số.", ("kết quả xổ số",))
    result = KnowledgeBase([entry], out_of_scope=[group]).search("xổ số hôm nay")
    assert result.best is None
    assert result.out_of_scope is not None
    assert result.out_of_scope.id == "oos-lottery"
