"""Broadcast benchmark: the weekly bulletin to N subscribers (default 10,000) through a local Bot
API server that, like Telegram, refuses more than 30 messages per second (429 retry_after);
meanwhile businesses keep asking questions. Prints the achieved sending rate against the
configured one, duplicates, and the answers' latency during the broadcast against without it.

    .venv/bin/python bench/broadcast.py [--subscribers 10000] [--askers 10] [--baseline 20]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import uvloop
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.bulletin.items import Item, Week  # noqa: E402
from bot.clock import utcnow  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.qa.evaluation import read_labelled  # noqa: E402
from bot.qa.knowledge import load_knowledge  # noqa: E402
from bot.store.database import create_database_engine, upgrade  # noqa: E402
from bot.store.models import Person, Subscriber  # noqa: E402
from handlers.sender import TelegramSender  # noqa: E402
from tests.botapi import FakeBotApi, User  # noqa: E402
from tests.conftest import bot_settings, running_bot  # noqa: E402

FIRST_SUBSCRIBER = 10_000_000
WEEK = Week(2026, 48)


def seed(url: str, subscribers: int) -> None:
    engine = create_database_engine(url)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            insert(Person),
            [
                {"key": f"tg:{FIRST_SUBSCRIBER + n}", "telegram_id": FIRST_SUBSCRIBER + n,
                 "name": f"Doanh nghiệp {n}", "created_at": now}
                for n in range(subscribers)
            ],
        )  # fmt: skip
        people = connection.execute(
            select(Person.id, Person.telegram_id).where(Person.key.like("tg:1%"))
        ).all()
        connection.execute(
            insert(Subscriber),
            [
                {"person_id": pid, "chat_id": chat, "topics": "tbt,conformity",
                 "markets": "EU,US", "active": True, "subscribed_at": now}
                for pid, chat in people
            ],
        )  # fmt: skip
    engine.dispose()


def telegram_side(
    conn: Connection, askers: int, baseline: float, pool: list[str], limit: float
) -> None:
    """Telegram (30 messages/s at most) and the businesses asking questions."""

    async def run() -> dict[str, object]:
        loop = asyncio.get_running_loop()
        api = FakeBotApi(rate_limit=limit)
        await api.start()
        conn.send(api.base_url)
        await loop.run_in_executor(None, conn.recv)  # the bot is up
        rng = random.Random(3)
        phase = {"name": "before"}
        latencies: dict[str, list[float]] = {"before": [], "during": []}
        stop = asyncio.Event()

        def answered(chat_id: int, count: int) -> bool:
            return len(api.to_chat(chat_id)) > count

        async def asker(number: int) -> None:
            person = User(500 + number, f"Khách {number}")
            asked = 0
            while not stop.is_set():
                update = api.send_text(person, rng.choice(pool))
                name = phase["name"]
                await api.wait_until(partial(answered, person.id, asked), 60)
                reply = api.to_chat(person.id)[asked]
                latencies[name].append((reply.at - api.enqueued_at[update]) * 1000)
                asked = len(api.to_chat(person.id))
                await asyncio.sleep(rng.uniform(1.0, 3.0))  # reading the answer

        tasks = [asyncio.create_task(asker(n)) for n in range(askers)]
        await asyncio.sleep(baseline)
        phase["name"] = "during"
        conn.send("broadcast")
        await loop.run_in_executor(None, conn.recv)  # the broadcast is over
        stop.set()
        await asyncio.gather(*tasks)
        bulletin = [s for s in api.sent if s.chat_id >= FIRST_SUBSCRIBER]
        per_chat = Counter(s.chat_id for s in bulletin)
        times = sorted(s.at for s in bulletin)
        answers = sum(
            1
            for s in api.sent
            if s.chat_id < FIRST_SUBSCRIBER and times and times[0] <= s.at <= times[-1]
        )
        refused = sum(1 for chat, status in api.rejected if status == 429)
        conn.send("done")
        await loop.run_in_executor(None, conn.recv)  # the bot stopped polling
        await api.stop()
        return {
            "latencies": latencies,
            "per_chat": dict(per_chat),
            "span": times[-1] - times[0] if len(times) > 1 else 0.0,
            "refused": refused,
            "answers": answers,
        }

    conn.send(asyncio.run(run()))


async def bot_side(url: str, conn: Connection, scratch: Path) -> dict[str, float]:
    settings = load_settings(ROOT / "config.toml", environ={})
    knowledge = load_knowledge(settings.knowledge_path, settings.agency, settings.knowledge)
    api = FakeBotApi()
    api.base_url = conn.recv()
    configured = bot_settings(
        settings, api, url, scratch,
        busy_timeout_ms=settings.database.busy_timeout_ms,
        write_timeout_s=settings.database.write_timeout_s,
    )  # fmt: skip
    async with running_bot(api, configured, knowledge.knowledge) as harness:
        service = harness.services.bulletins
        item = Item(
            "EU: dự thảo sửa đổi giới hạn hóa chất trong đồ chơi",
            "Dự thảo hạ giới hạn một số chất; doanh nghiệp xuất khẩu nên góp ý trước hạn.",
            "tbt", ("EU",), deadline=WEEK.end_date, source="bot",
        )  # fmt: skip
        bulletin_id = await asyncio.to_thread(service.add_item, WEEK, item)
        conn.send("ready")
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "broadcast"
        started = time.perf_counter()
        assert configured.telegram_token is not None
        async with TelegramSender(configured.telegram_token, api.base_url) as sender:
            flood = harness.application.bot_data["flood"]  # shared with answers, as in the bot
            progress = await service.send(bulletin_id, sender, limiter=flood)
        elapsed = time.perf_counter() - started
        conn.send("finished")
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "done"
    conn.send("stopped")
    return {"elapsed": elapsed, "sent": progress.counts["sent"], "rate": configured.bulletin.rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--askers", type=int, default=10)
    parser.add_argument("--baseline", type=float, default=20.0, help="seconds of Q&A alone")
    parser.add_argument("--limit", type=float, default=30.0, help="server's messages/s")
    args = parser.parse_args()
    pool = [i.question for i in read_labelled(ROOT / "tests/data/questions.tsv") if i.topic]
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        url = f"sqlite:///{scratch}/broadcast.sqlite3"
        upgrade(url)
        seed(url, args.subscribers)
        here, there = multiprocessing.Pipe()
        process = multiprocessing.Process(
            target=telegram_side, args=(there, args.askers, args.baseline, pool, args.limit)
        )
        process.start()
        figures = uvloop.run(bot_side(url, here, scratch))
        result = here.recv()
        process.join()
    per_chat: dict[int, int] = result["per_chat"]
    duplicates = sum(count - 1 for count in per_chat.values() if count > 1)
    missing = args.subscribers - len(per_chat)
    span = result["span"] or float("inf")
    achieved = sum(per_chat.values()) / span
    total = (sum(per_chat.values()) + result["answers"]) / span
    before, during = result["latencies"]["before"], result["latencies"]["during"]

    def p99(values: list[float]) -> float:
        return float(np.percentile(values, 99)) if values else float("nan")

    print(f"{args.subscribers} subscribers, server limit {args.limit:.0f} messages/s, "
          f"{args.askers} businesses asking questions meanwhile\n")  # fmt: skip
    print("| figure | value |")
    print("|---|---|")
    print(f"| configured rate | {figures['rate']:.0f} messages/s |")
    print(f"| achieved rate, all messages (bulletin and answers) | {total:.1f} messages/s "
          f"({total / figures['rate']:.0%}) |")  # fmt: skip
    print(f"| achieved rate, bulletin only (answers go first) | {achieved:.1f} messages/s "
          f"({achieved / figures['rate']:.0%}) |")  # fmt: skip
    print(f"| bulletins delivered | {len(per_chat)} (missing {missing}) |")
    print(f"| duplicates | {duplicates} |")
    print(f"| 429 answers from the server | {result['refused']} |")
    print(f"| broadcast time | {figures['elapsed']:.0f} s |")
    print(f"| Q&A reply p50 / p99 without broadcast | {statistics.median(before):.1f} / "
          f"{p99(before):.1f} ms ({len(before)} replies) |")  # fmt: skip
    print(f"| Q&A reply p50 / p99 during broadcast | {statistics.median(during):.1f} / "
          f"{p99(during):.1f} ms ({len(during)} replies) |")  # fmt: skip
    sys.exit(0 if duplicates == 0 and missing == 0 else 1)


if __name__ == "__main__":
    main()
