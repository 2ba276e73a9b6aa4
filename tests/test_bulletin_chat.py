"""The bulletin in chat: subscribing, the unsubscribe button, staff authoring, sending and the
weekly approval, against the local Bot API server."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.bulletin.items import Week
from bot.config import BulletinSettings, KnowledgeSettings, Settings, StaffSettings
from bot.qa.knowledge import KnowledgeBase
from bot.store.records import PersonRef
from handlers.sender import TelegramSender
from handlers.staff import refresh_staff
from tests.botapi import TOKEN, FakeBotApi, User
from tests.conftest import ROOT, Harness, bot_settings, running_bot
from tests.test_broadcast import (
    GROUP,
    LAN,
    STAFF,
    items,
    subscribe,
)


@pytest.fixture
async def bulletin_bot(
    botapi: FakeBotApi,
    database_url: str,
    tmp_path: Path,
    settings: Settings,
    knowledge: KnowledgeBase,
) -> AsyncIterator[Harness]:
    staff = StaffSettings(staff_ids=(STAFF.id,), group_chat_id=GROUP.id)
    configured = bot_settings(
        settings,
        botapi,
        database_url,
        tmp_path,
        staff=staff,
        bulletin=BulletinSettings(path=tmp_path / "bulletins"),
        knowledge=KnowledgeSettings(path=ROOT / "knowledge"),
    )
    async with running_bot(botapi, configured, knowledge) as harness:
        yield harness


async def test_subscribing_with_toggles_then_unsubscribing(bulletin_bot: Harness) -> None:
    api = bulletin_bot.api
    api.send_text(LAN, "/dangky")
    [menu] = await api.replies(LAN.id)
    assert "✅ Mã số mã vạch" in [text for text, _ in menu.buttons]
    api.press(LAN, menu, "bt:t:barcode")  # not interested in barcodes
    api.press(LAN, menu, "bt:m:OTHER")
    await api.wait_until(lambda: len(api.edits) >= 2)
    assert "⬜ Mã số mã vạch" in str(api.edits[-1]["reply_markup"])
    api.press(LAN, menu, "bt:save")
    [saved] = await api.replies(LAN.id)
    assert "Đã đăng ký nhận bản tin TBT" in saved.text
    assert "mã số mã vạch" not in saved.text
    subscription = bulletin_bot.services.bulletins.repository.subscription(f"tg:{LAN.id}")
    assert subscription is not None
    assert subscription.active
    assert "barcode" not in subscription.topics
    assert subscription.markets == ("EU", "US", "CN", "JP", "KR", "ASEAN")
    api.send_text(LAN, "/huydangky")
    [gone] = await api.replies(LAN.id)
    assert "Đã hủy nhận bản tin TBT" in gone.text
    again = bulletin_bot.services.bulletins.repository.subscription(f"tg:{LAN.id}")
    assert again is not None
    assert not again.active


async def test_a_staff_member_removed_mid_flow_loses_the_flow_and_the_menu(
    bulletin_bot: Harness,
) -> None:
    api, services = bulletin_bot.api, bulletin_bot.services
    hai = User(9101, "Hải")
    await asyncio.to_thread(services.staff.add, hai.id, "Hải", STAFF.id)
    await refresh_staff(bulletin_bot.application)
    assert [scope for scope in api.commands if str(hai.id) in scope]  # the staff menu
    api.send_text(hai, "/bantin them")
    await api.replies(hai.id)
    api.send_text(hai, "Hoa Kỳ sửa quy định nhãn năng lượng quạt")
    [asked] = await api.replies(hai.id)
    assert "tóm tắt" in asked.text
    await asyncio.to_thread(services.staff.remove, hai.id)
    await refresh_staff(bulletin_bot.application)
    assert not [scope for scope in api.commands if str(hai.id) in scope]  # menu taken back
    api.send_text(hai, "Dự thảo nâng mức hiệu suất tối thiểu.")
    await api.settle()
    assert "chủ đề" not in api.to_chat(hai.id)[-1].text  # the flow did not go on


async def test_staff_add_an_item_preview_and_send_to_subscribers(bulletin_bot: Harness) -> None:
    api = bulletin_bot.api
    service = bulletin_bot.services.bulletins
    chats = subscribe(service, 3)
    api.send_text(STAFF, "/bantin them")
    await api.replies(STAFF.id)
    for text, prompt in (
        ("Hoa Kỳ sửa quy định nhãn năng lượng quạt", "tóm tắt"),
        ("Dự thảo nâng mức hiệu suất tối thiểu.", "chủ đề"),
    ):
        api.send_text(STAFF, text)
        [asked] = await api.replies(STAFF.id)
        assert prompt in asked.text
    [topic] = api.to_chat(STAFF.id)[-1:]
    api.press(STAFF, topic, "bt:it:tbt")
    [markets] = await api.replies(STAFF.id)
    api.press(STAFF, markets, "bt:im:US")
    await api.wait_until(lambda: bool(api.edits))
    api.press(STAFF, markets, "bt:imok")
    [link] = await api.replies(STAFF.id)
    api.press(STAFF, link, "bt:skip")
    await api.replies(STAFF.id)
    api.send_text(STAFF, "24/01/2027")
    [done] = await api.replies(STAFF.id)
    assert "Đã thêm tin" in done.text
    api.send_text(STAFF, "/bantin xem")
    header, preview = await api.replies(STAFF.id, 2)
    assert "Xem trước" in header.text
    assert "nhãn năng lượng quạt" in preview.text
    assert "24/01/2027" in preview.text
    api.send_text(STAFF, "/bantin gui")
    [started] = await api.replies(STAFF.id)
    assert "Bắt đầu gửi" in started.text
    await api.wait_until(lambda: all(api.count_to(chat) == 1 for chat in chats), 20)
    [summary] = await api.replies(GROUP.id)
    assert "Đã gửi: 3" in summary.text
    api.send_text(STAFF, "/bantin cu")
    [history] = await api.replies(STAFF.id)
    assert "đã gửi 3" in history.text
    [refused] = await ask_as(api, LAN, "/bantin gui")
    assert refused.text == "Bạn không có quyền dùng lệnh này."


async def ask_as(api: FakeBotApi, user: User, text: str) -> list:  # type: ignore[type-arg]
    api.send_text(user, text)
    return await api.replies(user.id)


async def test_unsubscribe_button_under_a_bulletin(bulletin_bot: Harness) -> None:
    api = bulletin_bot.api
    service = bulletin_bot.services.bulletins
    service.repository.subscribe(PersonRef.telegram(LAN.id, "Lan"), LAN.id, ("tbt",), ("EU",))
    bulletin_id = service.add_item(Week.current(time_today()), items()[0])
    async with TelegramSender(TOKEN, api.base_url) as sender:
        await service.send(bulletin_id, sender)
    [message] = await api.replies(LAN.id)
    api.press(LAN, message, message.button("🔕"))
    await api.wait_until(lambda: bool(api.callback_answers))
    assert "Đã hủy nhận bản tin" in api.callback_answers[-1]["text"]
    subscription = service.repository.subscription(f"tg:{LAN.id}")
    assert subscription is not None
    assert not subscription.active


def time_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


async def test_weekly_bulletin_waits_for_staff_approval(bulletin_bot: Harness) -> None:
    from telegram.ext import CallbackContext

    from handlers import bulletin as bulletin_handlers

    api = bulletin_bot.api
    service = bulletin_bot.services.bulletins
    chats = subscribe(service, 2)
    service.add_item(Week.current(time_today()), items()[0])
    await bulletin_handlers.weekly(CallbackContext(bulletin_bot.application))
    notice, preview = await api.replies(GROUP.id, 2)
    assert "chờ duyệt" in notice.text
    assert all(api.count_to(chat) == 0 for chat in chats)  # nothing sent before approval
    api.press(LAN, preview, preview.button("✅"))  # not staff
    await api.wait_until(lambda: bool(api.callback_answers))
    assert api.callback_answers[-1]["text"] == "Bạn không có quyền dùng lệnh này."
    api.press(STAFF, preview, preview.button("✅ Duyệt và gửi"))
    await api.wait_until(lambda: all(api.count_to(chat) == 1 for chat in chats), 20)
    [summary] = await api.replies(GROUP.id)
    assert "Đã gửi: 2" in summary.text
