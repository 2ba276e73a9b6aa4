"""End to end, staff side: handing questions to people, roles, log review, curation, exports."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import docx
import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram.ext import CallbackContext

from bot.config import KnowledgeSettings, Settings, StaffSettings
from bot.qa.knowledge import load_knowledge
from bot.store.models import Consultation, DeniedAttempt
from handlers import handoff
from tests.botapi import Chat, FakeBotApi, Fault, Sent, User
from tests.conftest import ROOT, Harness, bot_settings, running_bot

LAN = User(1001, "Lan", "Nguyễn")  # a business
STAFF = User(9001, "Hoa", "Trần")
ADMIN = User(9002, "Bình", "Lê")
GROUP = Chat(-100500, "supergroup", "Cán bộ TBT")
OUT_OF_REACH = "quy định mới về đo lường xăng dầu tại cây xăng"


@pytest.fixture
async def staffed(
    botapi: FakeBotApi, database_url: str, tmp_path: Path, settings: Settings
) -> AsyncIterator[Harness]:
    """A bot with staff, an admin and a staff group, serving a copy of the knowledge base."""
    knowledge_copy = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge_copy)
    staff = StaffSettings(staff_ids=(STAFF.id,), admin_ids=(ADMIN.id,), group_chat_id=GROUP.id)
    knowledge_settings = KnowledgeSettings(path=knowledge_copy)
    configured = bot_settings(
        settings, botapi, database_url, tmp_path, staff=staff, knowledge=knowledge_settings
    )
    loaded = load_knowledge(knowledge_copy, configured.agency, configured.knowledge)
    async with running_bot(botapi, configured, loaded.knowledge) as harness:
        yield harness


def consultations(harness: Harness) -> list[Consultation]:
    with Session(harness.services.engine) as session:
        return list(session.scalars(select(Consultation).order_by(Consultation.created_at)))


async def ask(harness: Harness, user: User, text: str, count: int = 1) -> list[Sent]:
    harness.api.send_text(user, text)
    return await harness.api.replies(user.id, count)


async def staff_command(harness: Harness, text: str, count: int = 1) -> list[Sent]:
    return await ask(harness, STAFF, text, count)


async def hand_off(harness: Harness) -> Sent:
    """Lan asks what the bot cannot answer and presses "Hỏi cán bộ"; returns the group post."""
    [answer] = await ask(harness, LAN, OUT_OF_REACH)
    harness.api.press(LAN, answer, answer.button("🙋"))
    [confirmation] = await harness.api.replies(LAN.id)
    assert "chuyển câu hỏi của bạn tới cán bộ" in confirmation.text
    [post] = await harness.api.replies(GROUP.id)
    return post


async def test_handoff_reaches_staff_and_the_reply_reaches_the_business(staffed: Harness) -> None:
    api = staffed.api
    post = await hand_off(staffed)
    consultation = consultations(staffed)[0]
    assert f"#{consultation.id[:8]}" in post.text
    assert "Lan Nguyễn" in post.text
    assert OUT_OF_REACH in post.text
    assert "độ tin cậy" in post.text
    assert consultation.outcome == "handed_off"

    api.send_text(STAFF, "Việc này do Chi cục đo lường phụ trách, chị gọi số ... nhé.", GROUP, post)
    [delivered] = await api.replies(LAN.id)
    assert "Cán bộ trả lời câu hỏi của bạn" in delivered.text
    assert "Chi cục đo lường" in delivered.text
    [confirmation] = await api.replies(GROUP.id)
    assert confirmation.text == "✅ Đã gửi câu trả lời tới Lan Nguyễn."
    answered = consultations(staffed)[0]
    assert answered.outcome == "staff_answered"
    assert answered.answered_by == STAFF.id
    assert answered.staff_answered_at is not None

    api.send_text(STAFF, "Bổ sung: mang theo hóa đơn mua cột bơm.", GROUP, post)
    [extra] = await api.replies(LAN.id)
    assert "Cán bộ trả lời thêm" in extra.text
    [note] = await api.replies(GROUP.id)
    assert "trả lời bổ sung" in note.text

    api.send_text(LAN, "Dạ số điện thoại của chi cục là gì ạ?", reply_to=delivered)
    [forwarded, ack] = [*(await api.replies(GROUP.id)), *(await api.replies(LAN.id))]
    assert "Lan Nguyễn hỏi thêm" in forwarded.text
    assert "số điện thoại của chi cục" in forwarded.text
    assert (
        forwarded.params.get("reply_to_message_id") == post.message_id
        or "reply_parameters" in forwarded.params
    )
    assert ack.text == "Đã chuyển tin nhắn của bạn tới cán bộ."
    api.send_text(STAFF, "Số của chi cục: 0221 3 000 000.", GROUP, forwarded)
    [last] = await api.replies(LAN.id)
    assert "0221 3 000 000" in last.text
    assert len(consultations(staffed)) == 1  # one consultation, one thread


async def test_staff_photo_reply_is_delivered_with_its_caption(staffed: Harness) -> None:
    post = await hand_off(staffed)
    message = staffed.api.user_message(
        STAFF,
        None,
        GROUP,
        reply_to=post,
        photo=[{"file_id": "photo1", "file_unique_id": "p1", "width": 9, "height": 9}],
        caption="Mẫu đơn đây ạ",
    )
    staffed.api._enqueue("message", message)
    intro, copy = await staffed.api.replies(LAN.id, 2)
    assert "Cán bộ trả lời câu hỏi của bạn" in intro.text
    assert copy.method == "copyMessage"
    assert copy.text == "Mẫu đơn đây ạ"


async def test_two_abstentions_in_a_row_offer_a_person(staffed: Harness) -> None:
    await ask(staffed, LAN, OUT_OF_REACH)
    _, offer = await ask(staffed, LAN, "giấy phép an toàn bức xạ cho máy X-quang xin ở đâu", 2)
    assert "hai lần liền" in offer.text
    assert offer.button("🙋").startswith("ho:")


async def test_non_staff_is_refused_and_the_attempt_logged(staffed: Harness) -> None:
    await ask(staffed, LAN, "mã vạch là gì")
    for command in ("/thongke", "/nhatky", "/xuat", "/taikb", "/canbo them 1 X"):
        [reply] = await ask(staffed, LAN, command)
        assert reply.text == "Bạn không có quyền dùng lệnh này."
    with Session(staffed.services.engine) as session:
        attempts = list(session.scalars(select(DeniedAttempt)))
    assert [a.command for a in attempts] == ["/thongke", "/nhatky", "/xuat", "/taikb", "/canbo"]
    assert all(a.telegram_id == LAN.id for a in attempts)


async def test_staff_commands_appear_only_in_staff_menus(staffed: Harness) -> None:
    menus = staffed.api.commands
    default = {c["command"] for c in menus['{"type": "default"}']}
    assert "thongke" not in default
    for chat_id in (STAFF.id, ADMIN.id, GROUP.id):
        scoped = {
            c["command"]
            for c in menus[json.dumps({"chat_id": chat_id, "type": "chat"}, sort_keys=True)]
        }
        assert {"thongke", "nhatky", "chuatraloi", "taikb", "xuat", "baocao", "start"} <= scoped
    assert json.dumps({"chat_id": LAN.id, "type": "chat"}, sort_keys=True) not in menus


async def test_admin_adds_staff_who_can_then_use_staff_commands(staffed: Harness) -> None:
    newcomer = User(9100, "Mai")
    [refused] = await ask(staffed, newcomer, "/nhatky")
    assert refused.text == "Bạn không có quyền dùng lệnh này."
    [denied] = await ask(staffed, STAFF, "/canbo them 9100 Mai")
    assert "Chỉ quản trị viên" in denied.text
    [added] = await ask(staffed, ADMIN, "/canbo them 9100 Phạm Thị Mai")
    assert "Đã thêm cán bộ 9100" in added.text
    [log] = await ask(staffed, newcomer, "/nhatky")
    assert "Nhật ký tư vấn" in log.text
    [removed] = await ask(staffed, ADMIN, "/canbo xoa 9100")
    assert "Đã xóa cán bộ 9100" in removed.text
    [refused] = await ask(staffed, newcomer, "/nhatky")
    assert refused.text == "Bạn không có quyền dùng lệnh này."


async def test_log_review_filters_and_pages(staffed: Harness) -> None:
    for question in ["mã vạch là gì", "tccs là gì", OUT_OF_REACH] * 4:
        await ask(staffed, LAN, question)
    [page] = await staffed_command_log(staffed)
    assert "12 lượt, trang 1/2" in page.text
    staffed.api.press(STAFF, page, page.button("Sau ▶"))
    await staffed.api.wait_until(lambda: bool(staffed.api.edits))
    assert "trang 2/2" in staffed.api.edits[-1]["text"]
    staffed.api.press(STAFF, page, page.button("Chưa trả lời"))
    await staffed.api.wait_until(lambda: len(staffed.api.edits) >= 2)
    filtered = staffed.api.edits[-1]["text"]
    assert "chưa trả lời được: 4 lượt" in filtered
    assert "tccs" not in filtered.lower().replace("tccs-", "")
    [by_topic] = await staff_command(staffed, "/nhatky tccs")
    assert "Tiêu chuẩn cơ sở: 4 lượt" in by_topic.text


async def staffed_command_log(harness: Harness) -> list[Sent]:
    return await staff_command(harness, "/nhatky")


async def test_unanswered_questions_are_grouped_and_can_become_phrasings(
    staffed: Harness, tmp_path: Path
) -> None:
    for question in (OUT_OF_REACH, "quy dinh moi ve do luong xang dau tai cay xang", "giá vàng"):
        await ask(staffed, LAN, question)
    [listing] = await staff_command(staffed, "/chuatraloi")
    assert "<b>2 lượt</b>" in listing.text
    staffed.api.press(STAFF, listing, listing.button("📎 Gắn #1"))
    [choices] = await staffed.api.replies(STAFF.id)
    staffed.api.press(STAFF, choices, choices.buttons[0][1])
    [done] = await staffed.api.replies(STAFF.id)
    assert "Đã thêm cách hỏi" in done.text
    entry_id = choices.buttons[0][1].split(":", 3)[3]
    entry = staffed.services.knowledge.entries[entry_id]
    assert any("xăng dầu" in q for q in entry.questions)
    text = (tmp_path / "knowledge" / entry.topic / f"{entry_id}.md").read_text(encoding="utf-8")
    assert "xăng dầu tại cây xăng" in text
    [again] = await staff_command(staffed, "/chuatraloi")
    assert "<b>2 lượt</b>" not in again.text  # dealt with: no longer listed
    [answer] = await ask(staffed, LAN, OUT_OF_REACH)
    assert "chưa chắc chắn" not in answer.text


async def test_taikb_with_a_broken_file_keeps_the_old_knowledge_base(
    staffed: Harness, tmp_path: Path
) -> None:
    broken = tmp_path / "knowledge" / "barcode" / "barcode-fees.md"
    good = broken.read_text(encoding="utf-8")
    broken.write_text(good.replace("topic: barcode", "topic: [oops"), encoding="utf-8")
    [reply] = await staff_command(staffed, "/taikb")
    assert "chưa được áp dụng" in reply.text
    assert "barcode-fees.md: front matter: not valid YAML" in reply.text
    [answer] = await ask(staffed, LAN, "phí đăng ký mã vạch bao nhiêu")
    assert "1.000.000" in answer.text  # the old knowledge base still answers
    broken.write_text(good.replace("1.000.000", "1.200.000", 1), encoding="utf-8")
    [reply] = await staff_command(staffed, "/taikb")
    assert "Đã nạp lại cơ sở tri thức" in reply.text
    [answer] = await ask(staffed, LAN, "phí đăng ký mã vạch bao nhiêu")
    assert "1.200.000" in answer.text


async def test_taikb_refuses_an_emptied_knowledge_folder_unless_confirmed(
    staffed: Harness, tmp_path: Path
) -> None:
    shutil.rmtree(tmp_path / "knowledge" / "ip")
    [reply] = await staff_command(staffed, "/taikb")
    assert "chưa được áp dụng" in reply.text
    assert "no entry left in: ip" in reply.text
    assert "/taikb xacnhan" in reply.text
    [answer] = await ask(staffed, LAN, "phí đăng ký nhãn hiệu bao nhiêu")
    assert "1.000.000" in answer.text  # the old knowledge base still answers
    [reply] = await staff_command(staffed, "/taikb xacnhan")
    assert "Đã nạp lại cơ sở tri thức" in reply.text


async def test_a_broken_out_of_scope_file_is_reported_not_raised(
    staffed: Harness, tmp_path: Path
) -> None:
    path = tmp_path / "knowledge" / "out_of_scope.yaml"
    path.write_text("- id: oos-x\n  title: X\n  redirect: Y\n  questions: 5\n", "utf-8")
    [reply] = await staff_command(staffed, "/taikb")
    assert "oos-x.questions: expected a list of phrasings" in reply.text


async def test_personal_data_commands_stay_out_of_ordinary_groups(staffed: Harness) -> None:
    await ask(staffed, LAN, "mã vạch là gì")
    other = Chat(-100777, "supergroup", "Hội doanh nghiệp")
    for number, command in enumerate(("/nhatky", "/xuat", "/chuatraloi"), start=1):
        staffed.api.send_text(STAFF, command, chat=other)
        await staffed.api.wait_for_messages(other.id, number)
        assert "chỉ dùng trong tin nhắn riêng" in staffed.api.to_chat(other.id)[-1].text
    await staffed.api.settle()
    assert len(staffed.api.to_chat(other.id)) == 3  # no log, no export posted there
    [log_view] = await staff_command(staffed, "/nhatky")  # in private it works
    assert "mã vạch là gì" in log_view.text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/nhatky 01/01/0001", "nằm ngoài khoảng nhật ký"),
        ("/xuat 31/12/9999", "nằm ngoài khoảng nhật ký"),
        ("/canbo them 12345678901234567890123 X", "Cần mã Telegram (số)"),
    ],
)
async def test_odd_staff_arguments_get_a_clear_message(
    staffed: Harness, command: str, expected: str
) -> None:
    who = ADMIN if command.startswith("/canbo") else STAFF
    [reply] = await ask(staffed, who, command)
    assert expected in reply.text


async def test_a_malformed_button_gets_a_neutral_answer(staffed: Harness) -> None:
    [answer] = await ask(staffed, LAN, "/dangky")
    for data in ("bt:t", "nk:x", "bt:ok:abc"):
        staffed.api.press(STAFF, answer, data)
    await staffed.api.wait_until(lambda: len(staffed.api.callback_answers) >= 3)
    await staffed.api.settle()
    assert all("không còn dùng được" in a.get("text", "") for a in staffed.api.callback_answers)
    assert not [s for s in staffed.api.to_chat(STAFF.id) if "gặp lỗi" in s.text]


async def test_export_returns_a_valid_workbook_and_csv(staffed: Harness) -> None:
    for question in ("mã vạch là gì", "tccs là gì", OUT_OF_REACH):
        await ask(staffed, LAN, question)
    xlsx, csv = await staff_command(staffed, "/xuat", 2)
    assert xlsx.method == "sendDocument"
    document = xlsx.params["document"]
    assert document["filename"].endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(document["content"]))
    sheet = workbook.worksheets[0]
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "tccs là gì" in cells
    assert OUT_OF_REACH in cells
    text = csv.params["document"]["content"].decode("utf-8-sig")
    assert text.count("\n") >= 4
    assert "mã vạch là gì" in text


async def test_morning_reminder_lists_unanswered_questions(staffed: Harness) -> None:
    await hand_off(staffed)
    context = CallbackContext(staffed.application)
    await handoff.remind_unanswered(context, morning=True)
    [reminder] = await staffed.api.replies(GROUP.id)
    assert "Còn 1 câu hỏi chưa trả lời" in reminder.text
    assert "đo lường xăng dầu" in reminder.text


async def test_staff_help_lists_staff_commands(staffed: Harness) -> None:
    [help_message] = await staff_command(staffed, "/help")
    assert "/thongke" in help_message.text
    [public] = await ask(staffed, LAN, "/help")
    assert "/thongke" not in public.text


async def test_thongke_shows_the_quarters_figures_and_a_chart(staffed: Harness) -> None:
    for question in ("mã vạch là gì", "phí mã vạch", "tccs là gì", OUT_OF_REACH):
        await ask(staffed, LAN, question)
    summary, chart = await staff_command(staffed, "/thongke", 2)
    assert "Quý" in summary.text
    assert "4" in summary.text
    assert chart.method == "sendPhoto"
    assert chart.params["photo"]["content"].startswith(b"\x89PNG")
    [refused] = await ask(staffed, LAN, "/thongke")
    assert refused.text == "Bạn không có quyền dùng lệnh này."
    [bad] = await staff_command(staffed, "/thongke quy-nam")
    assert "2026-Q3" in bad.text  # says how to write a quarter


async def test_baocao_sends_the_report_files(staffed: Harness) -> None:
    await ask(staffed, LAN, "phí đăng ký nhãn hiệu")
    docx_file, xlsx_file = await staff_command(staffed, "/baocao", 2)
    assert docx_file.params["document"]["filename"] == "bao-cao-report.docx"
    document = docx.Document(io.BytesIO(docx_file.params["document"]["content"]))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "sở hữu công nghiệp" in text
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_file.params["document"]["content"]))
    assert len(workbook.sheetnames) >= 2
    questions = [row[2] for row in workbook.worksheets[-1].iter_rows(min_row=2, values_only=True)]
    assert "phí đăng ký nhãn hiệu" in questions  # the consultations sheet is filled


async def test_a_staff_reply_that_cannot_be_delivered_leaves_the_question_unanswered(
    staffed: Harness,
) -> None:
    api = staffed.api
    post = await hand_off(staffed)
    api.faults[LAN.id] = [Fault(400, "Bad Request: chat not found")]
    api.send_text(STAFF, "Chị gọi số 0221 3 000 000 nhé.", GROUP, post)
    [failed] = await api.replies(GROUP.id)
    assert "Chưa gửi được tới người hỏi" in failed.text
    assert consultations(staffed)[0].outcome == "handed_off"  # still in the reminders
    api.send_text(STAFF, "Chị gọi số 0221 3 000 000 nhé.", GROUP, post)
    [delivered] = await api.replies(LAN.id)
    assert "Cán bộ trả lời câu hỏi của bạn" in delivered.text  # the first answer, not "thêm"
    [confirmation] = await api.replies(GROUP.id)
    assert confirmation.text == "✅ Đã gửi câu trả lời tới Lan Nguyễn."
    assert consultations(staffed)[0].outcome == "staff_answered"


async def test_a_long_staff_reply_reaches_the_business_in_parts(staffed: Harness) -> None:
    api = staffed.api
    post = await hand_off(staffed)
    reply = "Hồ sơ gồm tờ khai, mẫu nhãn và chứng từ nộp phí. " * 80  # about 4,000 characters
    api.send_text(STAFF, reply.strip(), GROUP, post)
    [confirmation] = await api.replies(GROUP.id)
    assert confirmation.text == "✅ Đã gửi câu trả lời tới Lan Nguyễn."
    parts = api.to_chat(LAN.id)[-2:]
    assert all(len(part.text) <= 4096 for part in parts)
    assert " ".join(p.text for p in parts).count("chứng từ nộp phí") == 80  # nothing lost
    api.send_text(LAN, "Cảm ơn, cho hỏi thêm ạ", reply_to=parts[-1])  # a reply to the last part
    [forwarded] = await api.replies(GROUP.id)
    assert "hỏi thêm" in forwarded.text


async def test_a_post_to_staff_that_fails_once_is_sent_again_at_once(staffed: Harness) -> None:
    api = staffed.api
    api.faults[GROUP.id] = [Fault(502, "Bad Gateway")]
    [answer] = await ask(staffed, LAN, OUT_OF_REACH)
    api.press(LAN, answer, answer.button("🙋"))
    [post] = await api.replies(GROUP.id)
    assert OUT_OF_REACH in post.text


async def test_a_question_whose_post_to_staff_failed_is_posted_at_the_next_reminder(
    staffed: Harness,
) -> None:
    api = staffed.api
    api.faults[GROUP.id] = [Fault(502, "Bad Gateway", times=4)]  # every retry fails too
    [answer] = await ask(staffed, LAN, OUT_OF_REACH)
    api.press(LAN, answer, answer.button("🙋"))
    [confirmation] = await api.replies(LAN.id)
    assert "chuyển câu hỏi của bạn tới cán bộ" in confirmation.text
    assert api.to_chat(GROUP.id) == []
    await handoff.remind_unanswered(CallbackContext(staffed.application), morning=False)
    [post] = await api.replies(GROUP.id)
    assert OUT_OF_REACH in post.text
