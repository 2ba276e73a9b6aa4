"""The weekly bulletin end to end: subscriptions in chat, delivery through a local Bot API server
with injected faults, a process killed mid-broadcast, and two senders sharing the work."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.bulletin.delivery import Broadcast, BroadcastSettings
from bot.bulletin.items import Item, Week
from bot.bulletin.service import BulletinService
from bot.config import BulletinSettings, Settings
from bot.store.bulletins import BulletinRepository
from bot.store.database import create_database_engine
from bot.store.models import Delivery, Subscriber
from bot.store.records import PersonRef
from handlers.sender import TelegramSender
from tests.botapi import TOKEN, Chat, FakeBotApi, Fault, User
from tests.conftest import DATA, ROOT

WEEK = Week(2026, 48)
EPING_CSV = DATA / "eping" / "notifications-2026-W48.csv"
LAN = User(1001, "Lan")
STAFF = User(9001, "Hoa")
GROUP = Chat(-100500, "supergroup", "Cán bộ TBT")
FAST = BroadcastSettings(rate=200, per_chat_interval=0.05, backoff=0.05, max_attempts=3, lease=1)


def items(count: int = 2) -> list[Item]:
    found = [
        Item(
            f"EU: dự thảo số {n} về giới hạn hóa chất trong đồ chơi",
            "Nội dung dự thảo yêu cầu ghi nhãn cảnh báo và thử nghiệm lại. " * 3,
            "tbt",
            ("EU",),
            deadline=WEEK.end_date,
            source="bot",
        )
        for n in range(count)
    ]
    found.append(Item("Sửa đổi QCVN về thép", "Áp dụng từ năm sau.", "conformity", source="bot"))
    return found


def service_for(url: str, settings: Settings, tmp_path: Path) -> BulletinService:
    bulletin = BulletinSettings(
        path=tmp_path / "bulletins", rate=30, per_chat_interval=0.05, max_attempts=3,
        retry_backoff=0.05, lease_seconds=1,
    )  # fmt: skip
    configured = settings.model_copy(update={"base_dir": tmp_path, "bulletin": bulletin})
    engine = create_database_engine(url)
    return BulletinService(BulletinRepository(engine), configured)


def subscribe(service: BulletinService, count: int, first_id: int = 20_000) -> list[int]:
    chats = []
    for n in range(count):
        chat = first_id + n
        person = PersonRef.telegram(chat, f"Doanh nghiệp {n}")
        service.repository.subscribe(person, chat, ("tbt", "conformity"), ("EU", "US"))
        chats.append(chat)
    return chats


def deliveries(service: BulletinService) -> list[Delivery]:
    with Session(service.repository.engine) as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


async def test_faults_are_handled_and_everyone_active_gets_exactly_one_copy(
    botapi: FakeBotApi, database_url: str, settings: Settings, tmp_path: Path
) -> None:
    service = service_for(database_url, settings, tmp_path)
    chats = subscribe(service, 12)
    blocked, gone, flooded, flaky = chats[0], chats[1], chats[2], chats[3]
    botapi.faults = {
        blocked: [Fault(403, "Forbidden: bot was blocked by the user", times=None)],
        gone: [Fault(400, "Bad Request: chat not found", times=None)],
        flooded: [Fault(429, "Too Many Requests: retry after 1", retry_after=1)],
        flaky: [Fault(500, "Internal Server Error", times=2)],
    }
    bulletin_id = service.add_item(WEEK, items()[0])
    service.add_item(WEEK, items()[2])
    service.repository.set_status(bulletin_id, "approved")
    service.prepare(bulletin_id)
    parts = len(service.preview(bulletin_id, WEEK))
    started = time.monotonic()
    async with TelegramSender(TOKEN, botapi.base_url) as sender:
        engine = Broadcast(service.repository, sender, service.renderer(bulletin_id, WEEK), FAST)
        progress = await engine.run(bulletin_id)
    assert progress.counts == {"pending": 0, "claimed": 0, "sent": 10, "failed": 0, "inactive": 2}
    for chat in chats[2:]:
        assert botapi.count_to(chat) == parts, chat  # exactly one copy each
    assert botapi.count_to(blocked) == 0
    assert botapi.count_to(gone) == 0
    assert time.monotonic() - started >= 1.0  # the 429 paused sending for retry_after
    assert (flooded, 429) in botapi.rejected
    assert [s for s in botapi.rejected if s[0] == flaky] == [(flaky, 500), (flaky, 500)]
    with Session(service.repository.engine) as session:
        states = {s.chat_id: s.active for s in session.scalars(select(Subscriber))}
    assert states[blocked] is False
    assert states[gone] is False
    assert all(states[chat] for chat in chats[2:])
    last = botapi.to_chat(chats[5])[-1]
    assert last.button("🔕") == "bt:unsub"  # every bulletin message ends with the button
    service.repository.engine.dispose()


async def test_server_errors_are_retried_then_reported(
    botapi: FakeBotApi, database_url: str, settings: Settings, tmp_path: Path
) -> None:
    service = service_for(database_url, settings, tmp_path)
    [chat] = subscribe(service, 1)
    botapi.faults = {chat: [Fault(500, "Internal Server Error", times=None)]}
    bulletin_id = service.add_item(WEEK, items()[0])
    async with TelegramSender(TOKEN, botapi.base_url) as sender:
        progress = await service.send(bulletin_id, sender)
    assert progress.counts["failed"] == 1
    [delivery] = deliveries(service)
    assert delivery.attempts == 3
    assert "Internal Server Error" in (delivery.last_error or "")
    service.repository.engine.dispose()


async def test_a_restarted_sender_resumes_its_killed_predecessors_claims_at_once(
    botapi: FakeBotApi, database_url: str, settings: Settings, tmp_path: Path
) -> None:
    dead = service_for(database_url, settings, tmp_path)
    chats = subscribe(dead, 30)
    bulletin_id = dead.add_item(WEEK, items()[0])
    dead.prepare(bulletin_id)
    dead.repository.set_status(bulletin_id, "sending")
    taken = dead.repository.claim(bulletin_id, dead.instance, 10)  # then killed: never sent
    assert len(taken) == 10
    restarted = service_for(database_url, settings, tmp_path)  # same folder, new process
    long_lease = restarted.settings.bulletin.model_copy(update={"lease_seconds": 120})
    restarted.settings = restarted.settings.model_copy(update={"bulletin": long_lease})
    assert restarted.instance == dead.instance
    started = time.monotonic()
    async with TelegramSender(TOKEN, botapi.base_url) as sender:
        progress = await restarted.send(bulletin_id, sender)
    assert time.monotonic() - started < 30  # not after the two-minute lease
    assert progress.counts["sent"] == 30
    assert all(botapi.count_to(chat) >= 1 for chat in chats)
    assert restarted.repository.bulletin(bulletin_id).status == "sent"  # type: ignore[union-attr]
    dead.repository.engine.dispose()
    restarted.repository.engine.dispose()


async def test_a_running_sender_takes_over_another_senders_expired_claims(
    botapi: FakeBotApi, database_url: str, settings: Settings, tmp_path: Path
) -> None:
    service = service_for(database_url, settings, tmp_path)
    subscribe(service, 5)
    bulletin_id = service.add_item(WEEK, items()[0])
    service.prepare(bulletin_id)
    service.repository.claim(bulletin_id, "another-host", 5)  # that host then died
    quick = dataclasses.replace(service.broadcast_settings(), lease=1.0)
    calls = 0
    original = service.repository.claim

    def counted(*args: object) -> list:  # type: ignore[type-arg]
        nonlocal calls
        calls += 1
        return original(*args)  # type: ignore[arg-type]

    service.repository.claim = counted  # type: ignore[method-assign,assignment]
    async with TelegramSender(TOKEN, botapi.base_url) as sender:
        engine = Broadcast(service.repository, sender, service.renderer(bulletin_id, WEEK), quick)
        progress = await engine.run(bulletin_id)
    assert progress.counts["sent"] == 5
    assert calls < 10  # it waited for the lease instead of polling every 50 ms
    service.repository.engine.dispose()


async def test_rates_overall_and_per_chat_are_respected(
    botapi: FakeBotApi, database_url: str, settings: Settings, tmp_path: Path
) -> None:
    service = service_for(database_url, settings, tmp_path)
    chats = subscribe(service, 6)
    long_items = [
        Item(
            f"Tin dài số {n}", "Một đoạn tóm tắt khá dài về yêu cầu kỹ thuật. " * 20, "tbt", ("EU",)
        )
        for n in range(12)
    ]
    bulletin_id = 0
    for item in long_items:
        bulletin_id = service.add_item(WEEK, item)
    service.prepare(bulletin_id)
    parts = len(service.preview(bulletin_id, WEEK))
    assert parts >= 2
    limits = BroadcastSettings(rate=10, per_chat_interval=0.5, backoff=0.05, lease=1)
    async with TelegramSender(TOKEN, botapi.base_url) as sender:
        await Broadcast(
            service.repository, sender, service.renderer(bulletin_id, WEEK), limits
        ).run(bulletin_id)
    times = sorted(s.at for s in botapi.sent)
    assert len(times) == parts * len(chats)
    span = times[-1] - times[0]
    assert span >= (len(times) - 1) / 10 * 0.9  # at most 10 messages a second overall
    for chat in chats:
        mine = [s.at for s in botapi.to_chat(chat)]
        assert all(b - a >= 0.45 for a, b in itertools.pairwise(mine))
    service.repository.engine.dispose()


async def test_two_senders_at_once_never_send_the_same_delivery(
    botapi: FakeBotApi, database_url: str, settings: Settings, tmp_path: Path
) -> None:
    first = service_for(database_url, settings, tmp_path)
    second = service_for(database_url, settings, tmp_path)  # its own engine and connections
    chats = subscribe(first, 60)
    bulletin_id = first.add_item(WEEK, items()[0])
    first.prepare(bulletin_id)
    async with (
        TelegramSender(TOKEN, botapi.base_url) as one,
        TelegramSender(TOKEN, botapi.base_url) as two,
    ):
        small = dataclasses.replace(FAST, batch=4, concurrency=4)
        a = Broadcast(first.repository, one, first.renderer(bulletin_id, WEEK), small, "first")
        b = Broadcast(second.repository, two, second.renderer(bulletin_id, WEEK), small, "second")
        await asyncio.gather(a.run(bulletin_id), b.run(bulletin_id))
    assert all(botapi.count_to(chat) == 1 for chat in chats)
    assert len(botapi.sent) == 60
    senders = {d.claimed_by for d in deliveries(first)}
    assert senders == {"first", "second"}  # the work was shared
    first.repository.engine.dispose()
    second.repository.engine.dispose()


async def test_killed_mid_broadcast_resumes_without_sending_twice(
    botapi: FakeBotApi, database_url: str, settings: Settings, tmp_path: Path
) -> None:
    """One scenario end to end (long because each step depends on the last): a sender killed
    mid-broadcast, a new one resuming."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the subprocess run is exercised on SQLite; claims are tested on both")
    service = service_for(database_url, settings, tmp_path)
    chats = subscribe(service, 40)
    blocked = chats[7]
    botapi.faults = {blocked: [Fault(403, "Forbidden: bot was blocked by the user", times=None)]}
    week_folder = tmp_path / "bulletins" / WEEK.key
    week_folder.mkdir(parents=True)
    (week_folder / "eu-toys.md").write_text(
        textwrap.dedent(
            """\
            ---
            title: EU sửa quy định về hóa chất trong đồ chơi
            topic: tbt
            markets: [EU]
            deadline: 2027-01-31
            ---
            Dự thảo hạ giới hạn một số chất trong đồ chơi; doanh nghiệp xuất khẩu nên góp ý.
            """
        ),
        encoding="utf-8",
    )
    config = tmp_path / "config.toml"
    config.write_text(
        (ROOT / "config.toml")
        .read_text(encoding="utf-8")
        .replace("lease_seconds = 120", "lease_seconds = 1")
        .replace("rate = 25", "rate = 20")
        .replace('path = "bulletins"', f'path = "{tmp_path}/bulletins"')
        .replace('path = "knowledge"', f'path = "{ROOT}/knowledge"'),
        encoding="utf-8",
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "BOT_CONFIG": str(config),
        "DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": botapi.base_url,
    }
    command = [sys.executable, "-m", "bot", "bulletin", "send", "--week", WEEK.key]
    botapi.stall_after = 15
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await botapi.wait_until(lambda: botapi.stalled >= 3, 30)
    process.send_signal(signal.SIGKILL)  # killed in the middle, sends in flight
    await process.wait()
    delivered_before = len(botapi.sent)
    assert 0 < delivered_before < 39
    botapi.release_stalled(deliver=False)  # what was in flight never reached anyone
    await asyncio.sleep(1.2)  # the dead process's claims expire (lease: 1 s)
    second = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(second.communicate(), 60)
    assert second.returncode == 0, err.decode()
    assert "sent 39, failed 0, inactive 1, pending 0" in out.decode()
    for chat in chats:
        assert botapi.count_to(chat) == (0 if chat == blocked else 1), chat
    service.repository.engine.dispose()


async def test_rate_limiter_keeps_a_one_second_window() -> None:
    from bot.bulletin.delivery import RateLimiter

    now = [100.0]
    limiter = RateLimiter(5, clock=lambda: now[0])
    for _ in range(50):  # answers going out all day, no broadcast running
        limiter.yield_slot()
        now[0] += 0.5
    assert len(limiter._recent) <= 3  # only the last second is remembered


def test_a_wrong_file_does_not_wipe_the_weeks_earlier_import(
    database_url: str, settings: Settings, tmp_path: Path
) -> None:
    service = service_for(database_url, settings, tmp_path)
    bulletin_id, count, _ = service.import_eping(EPING_CSV, WEEK)
    assert count > 0
    typo = tmp_path / "eping.xls"
    typo.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ValueError, match="giữ nguyên lần nhập trước"):
        service.import_eping(typo, WEEK)
    assert len(service.items(bulletin_id)) == count


def test_an_older_bulletin_is_found_by_its_id(
    database_url: str, settings: Settings, tmp_path: Path
) -> None:
    repository = service_for(database_url, settings, tmp_path).repository
    ids = [repository.bulletin_for_week(f"2026-W{n:02d}", f"Bản tin {n}") for n in range(1, 23)]
    oldest = repository.bulletin(ids[0])
    assert oldest is not None
    assert (oldest.week, oldest.items) == ("2026-W01", 0)
    assert repository.bulletin(max(ids) + 1) is None
