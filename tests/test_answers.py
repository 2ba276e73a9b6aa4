"""Answering the question that was asked: subject and intent, the conversation's context, the
question inside a long message, clarifying questions, and answers that lead with the answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import Settings
from bot.qa.answers import Answerer, Reply
from bot.qa.conversation import context_after
from bot.qa.knowledge import KnowledgeBase
from bot.qa.reading import asking_part
from bot.services import Services
from bot.store.records import PersonRef, Turn
from tests.botapi import FakeBotApi
from tests.conftest import bot_settings
from tests.test_cli import run


def conversation(answerer: Answerer, *questions: str) -> list[Reply]:
    replies: list[Reply] = []
    turn: Turn | None = None
    for question in questions:
        reply = answerer.ask(question, context=turn)
        turn = context_after(turn, reply)
        replies.append(reply)
    return replies


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("muốn làm mã vạch cho sản phẩm thì cần hồ sơ gì", "barcode-dossier"),
        ("thủ tục đăng ký nhãn hiệu cần giấy tờ gì", "ip-trademark-dossier"),
        ("phí đăng ký nhãn hiệu bao nhiêu tiền", "ip-trademark-fees"),
        ("nộp hồ sơ công bố hợp quy ở đâu", "conformity-where-to-file"),
        ("dang ky ma vach mat bao lau", "barcode-processing-time"),
        ("tccs co phai nop cho so khcn khong", "tccs-submit-to-dost"),
    ],
)
def test_the_entry_that_answers_the_intent_is_chosen(
    answerer: Answerer, question: str, entry: str
) -> None:
    reply = answerer.ask(question)
    assert reply.entry_id == entry, (reply.entry_id, reply.subject, reply.intent)


def test_follow_ups_take_the_subject_from_the_previous_question(answerer: Answerer) -> None:
    replies = conversation(
        answerer,
        "hồ sơ đăng ký mã số mã vạch gồm những gì",
        "vậy phí bao nhiêu?",
        "mất bao lâu?",
        "nộp ở đâu?",
    )
    assert [r.entry_id for r in replies] == [
        "barcode-dossier",
        "barcode-fees",
        "barcode-processing-time",
        "barcode-where-to-file",
    ]
    assert [r.used_context for r in replies] == [False, True, True, True]


def test_a_new_subject_keeps_the_intent_of_the_previous_question(answerer: Answerer) -> None:
    first, second = conversation(answerer, "phí đăng ký nhãn hiệu", "thế còn kiểu dáng?")
    assert first.entry_id == "ip-trademark-fees"
    assert second.subject == "industrial_design"
    assert second.intent == "fees"
    assert second.entry_id != "ip-trademark-fees"  # never the trademark answer again


def test_a_thank_you_after_an_answer_is_a_thank_you(answerer: Answerer) -> None:
    _, thanks = conversation(answerer, "phí duy trì mã vạch hằng năm bao nhiêu", "ok e cảm ơn")
    assert thanks.entry_id == "smalltalk-thanks", thanks.markdown[:200]


def test_another_case_of_the_same_subject_keeps_the_question(answerer: Answerer) -> None:
    first, second = conversation(
        answerer, "Yêu cầu ghi nhãn hàng xuất khẩu sang Hàn Quốc", "nhật bản thì sao"
    )
    assert first.entry_id == "tbt-export-requirements"
    assert second.entry_id == "tbt-export-requirements", second.markdown[:200]


def test_an_entry_that_does_not_say_what_was_asked_comes_with_staff(answerer: Answerer) -> None:
    _, follow_up = conversation(
        answerer,
        "hàng điện tử nhập về bán trong nước cần làm gì về chất lượng",
        "thời gian kiểm tra bao lâu",  # the import entry states no processing time
    )
    assert follow_up.entry_id in (None, "conformity-imported")
    if follow_up.entry_id is not None:
        assert follow_up.offer_handoff, follow_up.confidence


def test_a_product_named_after_asking_which_regulation_gets_its_rules(
    answerer: Answerer,
) -> None:
    first, second = conversation(
        answerer, "làm sao biết sp của mình phải áp qcvn nào", "vd nồi cơm điện"
    )
    assert first.entry_id == "conformity-find-qcvn"
    assert second.entry_id == "product:household-electrical-appliances", second.entry_id


def test_a_short_follow_up_naming_nothing_stays_on_the_subject(answerer: Answerer) -> None:
    first, second = conversation(
        answerer,
        "hàng của cty bị trả về từ Hàn Quốc vì không đạt yêu cầu kỹ thuật",
        "cần cung cấp thông tin gì",
    )
    assert first.entry_id == "tbt-barrier-help"
    assert second.subject == first.subject, (second.entry_id, second.subject)


def test_a_story_asking_several_things_is_answered_on_what_its_words_fit(
    answerer: Answerer,
) -> None:
    reply = answerer.ask(
        "Luật Tiêu chuẩn và Quy chuẩn kỹ thuật sửa đổi có hiệu lực từ năm 2026, tôi nghe nói có "
        "thay đổi về tiêu chuẩn cơ sở. Công ty tôi đang có khoảng 20 bộ tiêu chuẩn cơ sở. Xin "
        "hỏi doanh nghiệp cần lưu ý gì theo luật mới, các tiêu chuẩn đã ban hành trước đây có "
        "phải làm lại không?"
    )
    assert reply.entry_id == "tccs-2026-law", (reply.entry_id, reply.confidence)


def test_a_question_that_names_its_subject_drops_the_context(answerer: Answerer) -> None:
    _, second = conversation(
        answerer, "phí mã vạch bao nhiêu", "hồ sơ đăng ký nhãn hiệu gồm những gì"
    )
    assert second.entry_id == "ip-trademark-dossier"
    assert not second.used_context


def test_without_context_a_bare_follow_up_asks_which_subject(answerer: Answerer) -> None:
    reply = answerer.ask("phí bao nhiêu?")
    assert reply.outcome == "abstained"
    assert reply.clarify, reply.markdown
    assert {option.intent for option in reply.clarify} == {"fees"}


def test_a_bare_subject_gets_a_clarifying_question(answerer: Answerer) -> None:
    reply = answerer.ask("mã vạch")
    labels = [option.label for option in reply.clarify]
    assert reply.entry_id is None
    assert "Hồ sơ" in labels
    assert "Phí, lệ phí" in labels
    picked = answerer.answer_facets("barcode", "fees")
    assert picked.entry_id == "barcode-fees"


def test_a_yes_no_question_is_answered_with_its_own_polarity(answerer: Answerer) -> None:
    reply = answerer.ask("hộ kinh doanh có được đăng ký mã vạch không")
    assert reply.entry_id == "barcode-who-must"
    assert reply.text.startswith("Có")


def test_a_long_story_is_answered_by_its_question_sentence(answerer: Answerer) -> None:
    story = (
        "Công ty tôi sản xuất nước mắm ở Thái Bình cũ, đã đăng ký nhãn hiệu từ năm 2022 và đang "
        "bán trong các siêu thị. Nay siêu thị yêu cầu in mã vạch trên chai. Xin hỏi hồ sơ đăng ký "
        "mã số mã vạch gồm những giấy tờ gì?"
    )
    assert asking_part(story).startswith("hồ sơ đăng ký")
    assert answerer.ask(story).entry_id == "barcode-dossier"


def test_a_message_with_two_questions_offers_the_second_as_a_button(answerer: Answerer) -> None:
    reply = answerer.ask("Cho hỏi hồ sơ đăng ký mã vạch gồm gì và phí bao nhiêu?")
    assert reply.entry_id == "barcode-dossier"
    assert reply.suggestions[0].entry_id in {"barcode-fees", "barcode-fee-example"}


def test_out_of_scope_follow_up_has_no_subject_to_lean_on(answerer: Answerer) -> None:
    first, second = conversation(answerer, "đăng ký mã số thuế ở đâu", "vậy phí bao nhiêu?")
    assert first.entry_id is None
    assert first.out_of_scope
    assert second.entry_id is None  # asks which subject instead of guessing barcodes


def test_no_answer_shows_a_placeholder_or_the_long_contact_sentence(
    knowledge: KnowledgeBase, answerer: Answerer
) -> None:
    for entry_id in knowledge.entries:
        text = answerer.answer_entry(entry_id).text
        assert "CẦN CẬP NHẬT" not in text, entry_id
        assert "điện thoại: ," not in text, entry_id
        assert "địa chỉ: ," not in text, entry_id


def test_every_in_scope_entry_declares_what_it_answers(knowledge: KnowledgeBase) -> None:
    vocabulary = knowledge.vocabulary
    for entry in knowledge.entries.values():
        if entry.topic == "smalltalk":
            continue
        assert entry.subjects, entry.id
        assert entry.intents, entry.id
        assert set(entry.subjects) <= set(vocabulary.subjects), entry.id
        assert set(entry.intents) <= set(vocabulary.intents), entry.id


def test_answers_are_short_enough_to_read_on_a_phone(knowledge: KnowledgeBase) -> None:
    lengths = sorted(len(entry.body) for entry in knowledge.entries.values())
    assert lengths[len(lengths) // 2] < 900


async def test_context_is_read_from_the_log_after_a_restart(
    database_url: str, tmp_path: Path, settings: Settings, knowledge: KnowledgeBase
) -> None:
    configured = bot_settings(settings, FakeBotApi(), database_url, tmp_path)
    person = PersonRef.telegram(501, "Lan")
    first = Services.open(configured, knowledge=knowledge)
    try:
        answered = await first.conversation.ask(person, "hồ sơ đăng ký mã vạch", "telegram", 501)
        assert answered.logged
    finally:
        first.close()
    second = Services.open(configured, knowledge=knowledge)  # a new process: nothing in memory
    try:
        follow = await second.conversation.ask(person, "vậy phí bao nhiêu?", "telegram", 501)
        other = await second.conversation.ask(
            PersonRef.telegram(502, "Minh"), "vậy phí bao nhiêu?", "telegram", 502
        )
    finally:
        second.close()
    assert follow.reply.entry_id == "barcode-fees"
    assert other.reply.entry_id is None  # another chat has no such context


async def test_context_expires_after_the_idle_time(
    database_url: str, tmp_path: Path, settings: Settings, knowledge: KnowledgeBase
) -> None:
    configured = bot_settings(settings, FakeBotApi(), database_url, tmp_path)
    configured = configured.model_copy(
        update={"retrieval": configured.retrieval.model_copy(update={"context_minutes": 0})}
    )
    services = Services.open(configured, knowledge=knowledge)
    person = PersonRef.telegram(503, "Hà")
    try:
        await services.conversation.ask(person, "hồ sơ đăng ký mã vạch", "telegram", 503)
        follow = await services.conversation.ask(person, "vậy phí bao nhiêu?", "telegram", 503)
    finally:
        services.close()
    assert follow.reply.entry_id is None


def test_ask_conversation_on_the_command_line() -> None:
    stdin = "hồ sơ đăng ký mã vạch\nvậy phí bao nhiêu?\n\nvậy phí bao nhiêu?\n"
    result = run("ask", "--json", "--conversation", stdin=stdin)
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == 3  # the blank line is not a question
    assert all("clarify" in o for o in objects)
    assert objects[1]["entry_id"] == "barcode-fees"
    assert objects[2]["entry_id"] is None
    assert objects[2]["clarify"]
    assert objects[1]["clarify"] == []
