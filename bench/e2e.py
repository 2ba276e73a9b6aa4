"""End-to-end load: 50 simulated users ask 20 questions each, all at once, through a local Bot API
server; prints reply latency (user message -> bot reply) on SQLite and PostgreSQL and checks that
exactly 1,000 consultations were logged.

    .venv/bin/python bench/e2e.py [--postgres URL] [--users 50] [--questions 20]

Each user waits for the answer before asking the next question, as a person would.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import uvloop
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.evaluation import read_labelled  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.store.database import upgrade  # noqa: E402
from bot.store.models import Consultation  # noqa: E402
from tests.botapi import FakeBotApi, User  # noqa: E402
from tests.conftest import bot_settings, running_bot, with_search_path  # noqa: E402


def telegram_side(
    conn: Connection, users: int, questions: int, pool: list[str], pause: tuple[float, float]
) -> None:
    """The Bot API server and the simulated users, in their own process (as Telegram would be),
    so that the bot under test has the other core to itself."""

    async def run() -> tuple[dict[str, float], list[float]]:
        loop = asyncio.get_running_loop()
        api = FakeBotApi()
        await api.start()
        conn.send(api.base_url)
        await loop.run_in_executor(None, conn.recv)  # "go": the bot is polling
        latencies: list[float] = []
        waits: list[float] = []
        rng = random.Random(7)

        def answered(chat_id: int, seen: int) -> bool:
            return len(api.to_chat(chat_id)) > seen

        async def user(number: int) -> None:
            person = User(700_000 + number, f"Khách {number}")
            for _ in range(questions):
                seen = len(api.to_chat(person.id))
                update_id = api.send_text(person, rng.choice(pool))
                await api.wait_until(partial(answered, person.id, seen), 60)
                reply = api.to_chat(person.id)[seen]
                latencies.append((reply.at - api.enqueued_at[update_id]) * 1000)
                fetched = api.delivered_at.get(update_id, reply.at)
                waits.append((fetched - api.enqueued_at[update_id]) * 1000)
                if any(data.startswith("ho:") for _, data in reply.buttons):
                    await asyncio.sleep(0.05)  # the bot may follow up with an offer of staff
                if pause[1]:
                    await asyncio.sleep(rng.uniform(*pause))  # reading the answer

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(user(n) for n in range(users)))
        elapsed = time.perf_counter() - wall
        figures = {
            "fetch_p50": statistics.median(waits),
            "throughput": users * questions / elapsed,
            "api_cpu": (time.process_time() - cpu) / elapsed,
        }
        conn.send("done")
        await loop.run_in_executor(None, conn.recv)  # "stopped": the bot no longer polls
        await api.stop()
        return figures, latencies

    conn.send(asyncio.run(run()))


async def bot_side(url: str, conn: Connection) -> int:
    settings = load_settings(ROOT / "config.toml", environ={})
    knowledge = load_knowledge(settings.knowledge_path, settings.agency, settings.knowledge)
    api = FakeBotApi()  # only its address and token are used here
    api.base_url = conn.recv()
    with tempfile.TemporaryDirectory() as scratch:
        configured = bot_settings(
            settings,
            api,
            url,
            Path(scratch),
            busy_timeout_ms=settings.database.busy_timeout_ms,
            write_timeout_s=settings.database.write_timeout_s,
        )
        async with running_bot(api, configured, knowledge.knowledge) as harness:
            conn.send("go")
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "done"
            await harness.services.log.flush()
            with harness.services.engine.connect() as connection:
                rows = int(connection.scalar(select(func.count(Consultation.id))) or 0)
    conn.send("stopped")
    return rows


def load(
    url: str, users: int, questions: int, pool: list[str], pause: tuple[float, float]
) -> tuple[list[float], int, dict[str, float]]:
    here, there = multiprocessing.Pipe()
    process = multiprocessing.Process(
        target=telegram_side, args=(there, users, questions, pool, pause)
    )
    process.start()
    rows = uvloop.run(bot_side(url, here))  # as `python -m bot run` does
    figures, latencies = here.recv()
    process.join()
    return latencies, rows, figures


def postgres_schema(base: str) -> tuple[str, str]:
    schema = "bench_" + uuid.uuid4().hex[:10]
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return with_search_path(base, schema), schema


def drop_schema(base: str, schema: str) -> None:
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


SCENARIOS = (
    ("users read each answer for 1-3 s before asking again", (1.0, 3.0)),
    ("no pause: every user asks again as soon as answered (saturation)", (0.0, 0.0)),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/test"),
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args()
    pool = [item.question for item in read_labelled(ROOT / "tests/data/questions.tsv")]
    expected = args.users * args.questions
    print(f"{args.users} users x {args.questions} questions, all users at once\n")
    print(
        "| load | database | replies | p50 ms | p99 ms | max ms | replies/s "
        "| consultations logged |"
    )
    print("|---|---|---|---|---|---|---|---|")
    failed = False
    for scenario, pause in SCENARIOS:
        with tempfile.TemporaryDirectory() as scratch:
            for name, url, schema in _databases(scratch, args.postgres):
                try:
                    latencies, rows, figures = load(url, args.users, args.questions, pool, pause)
                finally:
                    if schema:
                        drop_schema(args.postgres, schema)
                ok = rows == expected
                failed |= not ok
                print(
                    f"| {scenario} | {name} | {len(latencies)} "
                    f"| {statistics.median(latencies):.1f} "
                    f"| {float(np.percentile(latencies, 99)):.1f} | {max(latencies):.1f} "
                    f"| {figures['throughput']:.0f} "
                    f"| {rows} {'(ok)' if ok else f'(expected {expected})'} |",
                    flush=True,
                )
    sys.exit(1 if failed else 0)


def _databases(scratch: str, postgres: str) -> list[tuple[str, str, str | None]]:
    sqlite_url = f"sqlite:///{scratch}/bench.sqlite3"
    upgrade(sqlite_url)
    targets: list[tuple[str, str, str | None]] = [("SQLite (WAL)", sqlite_url, None)]
    try:
        pg_url, schema = postgres_schema(postgres)
        upgrade(pg_url)
        targets.append(("PostgreSQL", pg_url, schema))
    except Exception as exc:
        print(f"(PostgreSQL skipped: {str(exc).splitlines()[0]})")
    return targets


if __name__ == "__main__":
    main()
