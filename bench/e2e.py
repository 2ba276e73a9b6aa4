"""End-to-end load: 50 simulated users ask 20 questions each, all at once, through a local Bot API
server; prints reply latency (user message -> bot reply) on SQLite and PostgreSQL and checks that
exactly 1,000 consultations were logged.

    .venv/bin/python bench/e2e.py [--postgres URL] [--users 50] [--questions 20] [--runs 3]

Each user waits for the answer before asking the next question, as a person would. This machine
is shared and its speed varies from minute to minute, so the main load is run several times and
the median run is what counts; the bot's CPU time per reply is printed as a steadier figure.
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
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import uvloop
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.qa.evaluation import read_labelled  # noqa: E402
from bot.qa.knowledge import load_knowledge  # noqa: E402
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

        async def user(number: int) -> None:
            person = User(700_000 + number, f"Khách {number}")
            for _ in range(questions):
                seen = len(api.to_chat(person.id))
                update_id = api.send_text(person, rng.choice(pool))
                await api.wait_for_messages(person.id, seen + 1, 60)
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


async def bot_side(url: str, conn: Connection) -> tuple[int, float]:
    """Runs the bot until the users are done; the rows logged and the CPU seconds it used."""
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
            cpu = time.process_time()
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "done"
            cpu = time.process_time() - cpu
            await harness.services.log.flush()
            with harness.services.engine.connect() as connection:
                rows = int(connection.scalar(select(func.count(Consultation.id))) or 0)
    conn.send("stopped")
    return rows, cpu


def load(
    url: str, users: int, questions: int, pool: list[str], pause: tuple[float, float]
) -> tuple[list[float], int, dict[str, float]]:
    """Latencies (ms), consultations logged, and figures of one run."""
    here, there = multiprocessing.Pipe()
    process = multiprocessing.Process(
        target=telegram_side, args=(there, users, questions, pool, pause)
    )
    process.start()
    rows, cpu = uvloop.run(bot_side(url, here))  # as `python -m bot run` does
    figures, latencies = here.recv()
    process.join()
    figures["cpu_ms"] = cpu * 1000 / max(len(latencies), 1)
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


@dataclass
class Run:
    latencies: list[float]
    rows: int
    figures: dict[str, float]

    @property
    def p99(self) -> float:
        return float(np.percentile(self.latencies, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/test"),
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3, help="runs of the main load, per database")
    args = parser.parse_args()
    pool = [item.question for item in read_labelled(ROOT / "tests/data/questions.tsv")]
    expected = args.users * args.questions
    print(f"{args.users} users x {args.questions} questions, all users at once\n")
    print(
        "| load | database | run | replies | p50 ms | p99 ms | max ms | replies/s "
        "| bot CPU ms per reply | consultations logged |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    failed = False
    medians: list[tuple[str, Run]] = []
    for number, (scenario, pause) in enumerate(SCENARIOS):
        runs = args.runs if number == 0 else 1
        with tempfile.TemporaryDirectory() as scratch:
            for name, url, schema in _databases(scratch, args.postgres):
                try:
                    done = [
                        _one_run(url, schema, scratch, run, args.users, args.questions, pool, pause)
                        for run in range(runs)
                    ]
                finally:
                    if schema:
                        drop_schema(args.postgres, schema)
                for run, result in enumerate(done):
                    label = f"{run + 1}/{runs}"
                    failed |= _print_run(scenario, name, label, result, expected)
                if number == 0:
                    medians.append((name, sorted(done, key=lambda r: r.p99)[len(done) // 2]))
    print("\nMedian run of the main load (target: p99 under 100 ms):")
    for name, median in medians:
        verdict = "met" if median.p99 < 100 else "NOT met"
        print(
            f"- {name}: p50 {statistics.median(median.latencies):.1f} ms, p99 {median.p99:.1f} ms "
            f"({verdict}), bot CPU {median.figures['cpu_ms']:.2f} ms per reply"
        )
    sys.exit(1 if failed else 0)


def _one_run(
    url: str,
    schema: str | None,
    scratch: str,
    run: int,
    users: int,
    questions: int,
    pool: list[str],
    pause: tuple[float, float],
) -> Run:
    """Every run starts from an empty log, so that each run's count can be checked."""
    if run and schema:
        _empty(url)
    elif run:
        url = f"sqlite:///{scratch}/bench-{run}.sqlite3"
        upgrade(url)
    return Run(*load(url, users, questions, pool, pause))


def _print_run(scenario: str, name: str, label: str, run: Run, expected: int) -> bool:
    """Prints one table row; True when the log does not hold exactly one row per question."""
    ok = run.rows == expected
    print(
        f"| {scenario} | {name} | {label} | {len(run.latencies)} "
        f"| {statistics.median(run.latencies):.1f} | {run.p99:.1f} | {max(run.latencies):.1f} "
        f"| {run.figures['throughput']:.0f} | {run.figures['cpu_ms']:.2f} "
        f"| {run.rows} {'(ok)' if ok else f'(expected {expected})'} |",
        flush=True,
    )
    return not ok


def _empty(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in ("consultations", "people"):
            connection.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


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
