"""End to end: the real bot, over real HTTP, against a local Bot API server and a real database."""

from __future__ import annotations

import asyncio
import gc
import json
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.qa.knowledge import KnowledgeBase, load_knowledge
from bot.store.models import Consultation, Organisation, Person
from bot.store.records import ConsultationRecord, DatabaseUnavailable, Record
from tests.botapi import BOT_USERNAME, Chat, FakeBotApi, Fault, User
from tests.conftest import ENTRY, Harness, backend, bot_settings, running_bot
from tests.tcpproxy import TcpProxy

LAN = User(1001, "Lan", "Nguyễn", "lan_nguyen")
MINH = User(1002, "Minh")


def rows(harness: Harness) -> list[Consultation]:
    with Session(harness.services.engine) as session:
        return list(session.scalars(select(Consultation).order_by(Consultation.created_at)))


async def ask(harness: Harness, user: User, text: str, count: int = 1) -> list:  # type: ignore[type-arg]
    harness.api.send_text(user, text)
    return await harness.api.replies(user.id, count)


async def test_start_greets_names_the_agency_and_offers_topics(bot: Harness) -> None:
    [greeting] = await ask(bot, LAN, "/start")
    assert "Sở Khoa học và Công nghệ tỉnh Hưng Yên" in greeting.text
    assert [text for text, _ in greeting.buttons] == [
        "📦 Mã số mã vạch",
        "📐 Tiêu chuẩn cơ sở",
        "✅ Hợp chuẩn, hợp quy",
        "™️ Sở hữu công nghiệp",
        "🌐 TBT, bản tin TBT",
    ]
    menu = bot.api.commands['{"type": "default"}']
    assert {c["command"] for c in menu} >= {"start", "help", "hoso", "hoicanbo", "chude"}


async def test_help_lists_the_same_commands_as_the_menu(bot: Harness) -> None:
    [help_message] = await ask(bot, LAN, "/help")
    for command in bot.api.commands['{"type": "default"}']:
        assert f"/{command['command']}" in help_message.text


async def test_question_with_diacritics_is_answered_with_legal_basis(bot: Harness) -> None:
    [answer] = await ask(bot, LAN, "Phí đăng ký mã số mã vạch là bao nhiêu?")
    assert "1.000.000" in answer.text
    assert "Căn cứ: " in answer.text
    assert "Thông tin rà soát ngày" in answer.text
    assert answer.params.get("parse_mode") == "HTML"
    labels = [text for text, _ in answer.buttons]
    assert "👍 Hữu ích" in labels
    assert "👎 Chưa đúng" in labels
    [row] = rows(bot)
    assert row.topic == "barcode"
    assert row.entry_id == "barcode-fees"
    assert row.outcome == "answered"
    assert row.channel == "telegram"
    assert row.chat_id == LAN.id
    assert row.question == "Phí đăng ký mã số mã vạch là bao nhiêu?"


async def test_question_without_diacritics_finds_the_same_answer(bot: Harness) -> None:
    [answer] = await ask(bot, LAN, "phi dang ky ma vach bao nhieu")
    assert "1.000.000" in answer.text
    assert rows(bot)[0].entry_id == "barcode-fees"


async def test_follow_up_button_answers_the_related_question(bot: Harness) -> None:
    [answer] = await ask(bot, LAN, "hồ sơ đăng ký nhãn hiệu gồm những gì")
    data = answer.button("❓")
    bot.api.press(LAN, answer, data)
    [follow_up] = await bot.api.replies(LAN.id)
    assert "Căn cứ" in follow_up.text
    logged = rows(bot)
    assert len(logged) == 2
    assert logged[1].entry_id == data.removeprefix("q:")
    assert logged[1].outcome == "answered"


async def test_a_bare_subject_gets_clarifying_buttons_that_answer(bot: Harness) -> None:
    [question] = await ask(bot, LAN, "mã vạch")
    labels = [label for label, data in question.buttons if data.startswith("cl:")]
    assert "Phí, lệ phí" in labels
    bot.api.press(LAN, question, question.button("Phí, lệ phí"))
    [answer] = await bot.api.replies(LAN.id)
    assert "1.000.000" in answer.text
    bot.api.send_text(LAN, "còn hồ sơ thì sao")  # the button set the conversation's subject
    await bot.api.replies(LAN.id)
    await bot.services.log.flush()
    assert [r.entry_id for r in rows(bot)][-2:] == ["barcode-fees", "barcode-dossier"]


async def test_feedback_is_recorded_and_its_buttons_disappear(bot: Harness) -> None:
    [answer] = await ask(bot, LAN, "gia hạn nhãn hiệu")
    bot.api.press(LAN, answer, answer.button("👍"))
    await bot.api.wait_until(lambda: bool(bot.api.edits))
    assert bot.api.callback_answers[-1]["text"] == "Cảm ơn bạn đã đánh giá!"
    remaining = json.dumps(bot.api.edits[-1].get("reply_markup") or {}, ensure_ascii=False)
    assert "fb:" not in remaining
    await bot.api.wait_until(lambda: rows(bot)[0].feedback == "helpful")


async def test_an_update_the_library_cannot_read_is_skipped_and_polling_goes_on(
    bot: Harness,
) -> None:
    broken = bot.api.user_message(LAN, "phí mã vạch bao nhiêu")
    broken["chat"] = "not a chat"  # python-telegram-bot cannot build a Message from this
    bot.api._enqueue("message", broken)
    [answer] = await ask(bot, LAN, "tccs là gì")
    assert "Tiêu chuẩn cơ sở" in answer.text
    await bot.api.settle()
    assert bot.api.count_to(LAN.id) == 1


async def test_transient_send_errors_are_retried_and_the_answer_arrives(bot: Harness) -> None:
    bot.api.faults[LAN.id] = [
        Fault(502, "Bad Gateway"),
        Fault(500, "Internal Server Error"),
        Fault(503, "Service Unavailable"),
    ]
    [answer] = await ask(bot, LAN, "phí mã vạch bao nhiêu")
    assert "1.000.000" in answer.text
    assert [status for _, status in bot.api.rejected] == [502, 500, 503]
    await bot.api.settle()
    assert bot.api.count_to(LAN.id) == 1  # the answer once, no apology


async def test_buttons_act_only_on_a_consultation_of_their_own_chat(bot: Harness) -> None:
    [lans] = await ask(bot, LAN, "tccs là gì")
    [minhs] = await ask(bot, MINH, "mã vạch là gì")
    lan_id = lans.button("👎").split(":", 2)[2]
    bot.api.press(MINH, minhs, f"fb:0:{lan_id}")  # a crafted button on Minh's own message
    bot.api.press(MINH, minhs, "ho:0123456789abcdef0123456789abcdef")  # no such consultation
    await bot.api.wait_until(lambda: len(bot.api.callback_answers) >= 2)
    assert all("không thuộc" in a["text"] for a in bot.api.callback_answers)
    await bot.services.log.flush()
    assert all(r.feedback is None for r in rows(bot))
    assert bot.api.count_to(MINH.id) == 1  # no hand-off confirmation


async def test_negative_feedback_offers_to_ask_staff(bot: Harness) -> None:
    [answer] = await ask(bot, LAN, "tccs là gì")
    bot.api.press(LAN, answer, answer.button("👎"))
    [offer] = await bot.api.replies(LAN.id)
    assert offer.button("🙋 Hỏi cán bộ").startswith("ho:")
    await bot.api.wait_until(lambda: rows(bot)[0].feedback == "not_helpful")


async def test_abstention_says_so_and_hands_off_to_staff(bot: Harness) -> None:
    [answer] = await ask(bot, LAN, "quy định mới về đo lường xăng dầu tại cây xăng")
    assert "chưa chắc chắn" in answer.text
    bot.api.press(LAN, answer, answer.button("🙋 Hỏi cán bộ"))
    [confirmation] = await bot.api.replies(LAN.id)
    assert "chuyển câu hỏi của bạn tới cán bộ" in confirmation.text
    await bot.api.wait_until(lambda: rows(bot)[0].outcome == "handed_off")
    assert rows(bot)[0].topic is None


async def test_out_of_scope_question_points_elsewhere(bot: Harness) -> None:
    [answer] = await ask(bot, LAN, "tra cứu mã số thuế công ty ở đâu")
    assert "cơ quan Thuế" in answer.text
    assert rows(bot)[0].outcome == "abstained"


async def test_sticker_and_photo_get_a_polite_explanation(bot: Harness) -> None:
    bot.api.send_sticker(LAN)
    [reply] = await bot.api.replies(LAN.id)
    assert "chỉ đọc được câu hỏi bằng chữ" in reply.text
    bot.api.send_photo(LAN, caption="giấy chứng nhận của em")
    [reply] = await bot.api.replies(LAN.id)
    assert "chỉ đọc được câu hỏi bằng chữ" in reply.text
    assert rows(bot) == []


@pytest.mark.parametrize(
    "text",
    [
        "😀😀😀",
        "<script>alert('x')</script> mã vạch'; DROP TABLE consultations; --",
        "mã vạch " + "rất dài " * 500,
    ],
)
async def test_odd_questions_get_an_answer_never_an_error(bot: Harness, text: str) -> None:
    [reply] = await ask(bot, LAN, text[:4096])
    assert reply.text
    assert "<script>" not in reply.text
    assert "Xin lỗi, tôi gặp lỗi" not in reply.text
    logged = rows(bot)
    if text.startswith("😀"):
        assert logged == []  # nothing was asked: not a consultation
        assert "gõ câu hỏi" in reply.text
    else:
        assert [row.question for row in logged] == [text[:4096]]


async def test_profile_rejects_a_bad_tax_code_then_attributes_questions(bot: Harness) -> None:
    intro, prompt = await ask(bot, MINH, "/hoso", count=2)
    assert "chưa có hồ sơ" in intro.text
    assert "tên doanh nghiệp" in prompt.text
    [tax_prompt] = await ask(bot, MINH, "Công ty TNHH Nước mắm Diêm Điền")
    assert "Mã số thuế" in tax_prompt.text
    [error] = await ask(bot, MINH, "12345")
    assert "10 chữ số" in error.text
    [error] = await ask(bot, MINH, "0100109107")
    assert "chữ số kiểm tra" in error.text
    [phone_prompt] = await ask(bot, MINH, "0100109106")
    assert "Số điện thoại" in phone_prompt.text
    bot.api.press(MINH, phone_prompt, phone_prompt.button("Bỏ qua"))
    [saved] = await bot.api.replies(MINH.id)
    assert "Đã lưu hồ sơ" in saved.text
    assert "0100109106" in saved.text
    await ask(bot, MINH, "đăng ký mã vạch ở đâu")
    with bot.services.engine.connect() as connection:
        organisation = connection.execute(select(Organisation)).one()
        person = connection.execute(select(Person).where(Person.key == f"tg:{MINH.id}")).one()
    assert organisation.tax_code == "0100109106"
    assert person.organisation_id == organisation.id
    [row] = rows(bot)
    assert row.organisation_id == organisation.id


async def test_a_mention_after_emoji_cuts_the_question_in_the_right_place(bot: Harness) -> None:
    group = Chat(-100201, "supergroup", "Hội doanh nghiệp")
    bot.api.send_text(LAN, f"🙏🙏 @{BOT_USERNAME} hồ sơ đăng ký nhãn hiệu gồm gì", chat=group)
    await bot.api.replies(group.id)
    [row] = rows(bot)
    assert row.question == "🙏🙏  hồ sơ đăng ký nhãn hiệu gồm gì"


async def test_a_nul_in_a_name_or_a_question_loses_no_consultation(bot: Harness) -> None:
    odd = User(4343, "Lan\x00", "Nguyễn")
    bot.api.send_text(odd, "phí mã vạch\x00 bao nhiêu")
    [answer] = await bot.api.replies(odd.id)
    assert "1.000.000" in answer.text
    await bot.services.log.flush()
    [row] = rows(bot)
    assert "\x00" not in row.question


async def test_group_chat_answers_only_when_addressed(bot: Harness) -> None:
    group = Chat(-100200, "supergroup", "Hội doanh nghiệp")
    bot.api.send_text(LAN, "mọi người ơi phí mã vạch bao nhiêu", chat=group)
    await bot.api.settle()
    assert bot.api.to_chat(group.id) == []
    bot.api.send_text(LAN, f"@{BOT_USERNAME} phí mã vạch bao nhiêu", chat=group)
    [answer] = await bot.api.replies(group.id)
    assert "1.000.000" in answer.text
    bot.api.send_text(MINH, "còn phí duy trì thì sao", chat=group, reply_to=answer)
    [again] = await bot.api.replies(group.id)
    assert "duy trì" in again.text
    assert len(rows(bot)) == 2


async def test_an_error_inside_a_handler_gets_an_apology_and_the_bot_goes_on(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(bot.services.conversation, "ask", broken)
    [apology] = await ask(bot, LAN, "mã vạch là gì")
    assert "Xin lỗi, tôi gặp lỗi" in apology.text
    monkeypatch.undo()
    [answer] = await ask(bot, LAN, "mã vạch là gì")
    assert "Căn cứ" in answer.text


async def test_a_database_outage_in_any_handler_is_said_plainly(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: object) -> None:
        raise DatabaseUnavailable("connection refused")

    monkeypatch.setattr(bot.services.bulletins.repository, "unsubscribe", down)
    [reply] = await ask(bot, LAN, "/huydangky")
    assert reply.text == "Cơ sở dữ liệu đang bận, bạn thử lại sau ít phút."


async def test_long_answer_is_split_under_telegrams_limit(
    botapi: FakeBotApi, database_url: str, tmp_path: Path, settings: Settings
) -> None:
    body = "\n\n".join(
        f"**Bước {n}.** " + "Chuẩn bị giấy tờ theo hướng dẫn. " * 12 for n in range(25)
    )
    folder = tmp_path / "knowledge" / "barcode"
    folder.mkdir(parents=True)
    (folder / "barcode-long.md").write_text(
        ENTRY.format(id="barcode-long", topic="barcode", title="Quy trình rất dài", body=body)
    )
    long_settings = settings.model_copy(
        update={"knowledge": settings.knowledge.model_copy(update={"max_answer_chars": 50_000})}
    )
    knowledge: KnowledgeBase = load_knowledge(
        tmp_path / "knowledge", long_settings.agency, long_settings.knowledge
    ).knowledge
    configured = bot_settings(long_settings, botapi, database_url, tmp_path)
    async with running_bot(botapi, configured, knowledge) as harness:
        harness.api.send_text(LAN, "quy trình rất dài")
        await harness.api.settle(0.5)
        parts = harness.api.to_chat(LAN.id)
        assert len(parts) >= 3
        assert all(len(part.text) <= 4096 for part in parts)
        assert "Bước 0." in parts[0].text
        assert "Bước 24." in parts[-1].text
        assert parts[-1].buttons  # the buttons come with the last part
        assert not parts[0].buttons
        assert len(rows(harness)) == 1


async def test_database_outage_loses_nothing(
    botapi: FakeBotApi,
    database_url: str,
    tmp_path: Path,
    settings: Settings,
    knowledge: KnowledgeBase,
) -> None:
    proxy: TcpProxy | None = None
    url = database_url
    if backend(database_url) == "postgresql":
        parsed = make_url(database_url)
        proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
        await proxy.start()
        url = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    configured = bot_settings(settings, botapi, url, tmp_path)
    async with running_bot(botapi, configured, knowledge) as harness:
        await ask(harness, LAN, "mã vạch là gì")  # the database works
        lock = None
        if proxy is not None:
            await proxy.stop()  # PostgreSQL goes away
        else:
            lock = sqlite3.connect(make_url(url).database or "", timeout=0.1)
            lock.execute("BEGIN EXCLUSIVE")  # SQLite is locked by another process
        [answer] = await ask(harness, LAN, "phí duy trì mã vạch hằng năm")
        assert "Căn cứ" in answer.text  # the business still gets its answer
        assert harness.services.log.spool.path.exists()
        if proxy is not None:
            await proxy.start()
        else:
            assert lock is not None
            lock.rollback()
            lock.close()
        await harness.services.log.flush()
        await harness.api.wait_until(lambda: not harness.services.log.spool.path.exists())
        direct = create_engine(database_url)  # not through the proxy, which runs in this loop
        with direct.connect() as connection:
            logged = connection.execute(
                select(Consultation.question).order_by(Consultation.created_at)
            ).scalars()
            assert list(logged) == ["mã vạch là gì", "phí duy trì mã vạch hằng năm"]
        direct.dispose()
    if proxy is not None:
        await proxy.stop()


async def test_chats_are_answered_concurrently(bot: Harness) -> None:
    users = [User(5000 + n, f"Khách {n}") for n in range(20)]
    for user in users:
        bot.api.send_text(user, "đăng ký mã vạch ở đâu")
    await bot.api.wait_until(lambda: all(bot.api.to_chat(u.id) for u in users))
    assert len(rows(bot)) == 20
    assert len({r.person_id for r in rows(bot)}) == 20


async def test_one_chats_messages_are_answered_in_order(bot: Harness) -> None:
    questions = ["mã vạch là gì", "tccs là gì", "nhãn hiệu là gì"]
    for question in questions:
        bot.api.send_text(LAN, question)
    answers = await bot.api.replies(LAN.id, 3)
    assert "mã vạch" in answers[0].text.lower()
    assert "tiêu chuẩn cơ sở" in answers[1].text.lower()
    assert "nhãn hiệu" in answers[2].text.lower()
    await asyncio.sleep(0)
    assert [r.question for r in rows(bot)] == questions


def test_sqlite_database_runs_in_wal_mode(tmp_path: Path) -> None:
    from bot.store.database import create_database_engine, upgrade

    url = f"sqlite:///{tmp_path}/wal.sqlite3"
    upgrade(url)
    engine = create_database_engine(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


async def test_a_slow_database_write_does_not_hold_up_other_chats(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = bot.services.repository
    real_apply = repository.apply_all

    def slow_for_lan(records: Sequence[Record]) -> None:
        if any(
            isinstance(record, ConsultationRecord) and record.person.key == f"tg:{LAN.id}"
            for record in records
        ):
            time.sleep(3)  # this one write is stuck for 3 seconds
        real_apply(records)

    monkeypatch.setattr(repository, "apply_all", slow_for_lan)
    bot.api.send_text(LAN, "mã vạch là gì")
    await asyncio.sleep(0.1)
    sent = time.perf_counter()
    bot.api.send_text(MINH, "tccs là gì")
    [answer] = await bot.api.replies(MINH.id)
    assert answer.at - sent < 2.0  # bounded by the write timeout, not by the stuck write
    [slow] = await bot.api.replies(LAN.id)
    assert "Căn cứ" in slow.text
    monkeypatch.undo()
    await asyncio.sleep(3)
    await bot.services.log.flush()
    await bot.api.wait_until(lambda: len(rows(bot)) == 2)
    assert sorted(r.question for r in rows(bot)) == ["mã vạch là gì", "tccs là gì"]


async def test_start_up_objects_are_left_out_of_garbage_collection(bot: Harness) -> None:
    # The knowledge index and the libraries are frozen once the bot is up, so that a full
    # collection does not walk them in the middle of a burst of questions.
    assert gc.get_freeze_count() > 50_000


async def test_an_edited_question_is_not_answered_or_logged_again(bot: Harness) -> None:
    bot.api.send_text(LAN, "phí mã vạch bao nhiêu")
    await bot.api.replies(LAN.id)
    bot.api.send_edit(LAN, "phí mã vạch bao nhiêu tiền")
    bot.api.send_text(LAN, "tccs là gì")
    [answer] = await bot.api.replies(LAN.id)
    assert "tiêu chuẩn cơ sở" in answer.text.lower()
    assert [r.question for r in rows(bot)] == ["phí mã vạch bao nhiêu", "tccs là gì"]


async def test_ask_staff_without_a_question_explains_how_and_passes_nothing_on(
    bot: Harness,
) -> None:
    for text in ("/hoicanbo", "/hoicanbo 😀🙏"):
        bot.api.send_text(LAN, text)
        [usage] = await bot.api.replies(LAN.id)
        assert "/hoicanbo kèm câu hỏi" in usage.text
    assert rows(bot) == []
