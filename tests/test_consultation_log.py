"""The consultation log's writer: group commits, idempotent batches, people found or added."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from bot.store.database import create_database_engine, reading, upgrade
from bot.store.log import ConsultationLog
from bot.store.models import Consultation, Person
from bot.store.records import ConsultationRecord, FeedbackRecord, HandoffRecord, PersonRef, new_id
from bot.store.repository import Repository
from bot.store.spool import Spool


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


def consultation(person: PersonRef, question: str = "mã vạch là gì") -> ConsultationRecord:
    return ConsultationRecord(
        new_id(), person, "telegram", question, "barcode", "barcode-register", 0.9, "answered", 1
    )


def abstention(person: PersonRef, question: str = "giá vàng hôm nay") -> ConsultationRecord:
    return ConsultationRecord(new_id(), person, "telegram", question, None, None, 0.1, "abstained")


def count(engine: Engine, column: Any) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count(column))) or 0)


def commits(engine: Engine) -> list[int]:
    seen: list[int] = []
    event.listen(engine, "commit", lambda _connection: seen.append(1))
    return seen


def statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen


async def test_a_burst_of_questions_is_written_in_a_few_transactions(
    engine: Engine, tmp_path: Path
) -> None:
    log = ConsultationLog(Repository(engine), Spool(tmp_path / "spool.jsonl"), workers=1)
    committed = commits(engine)
    executed = statements(engine)
    people = [PersonRef.telegram(800 + n, f"Khách {n}") for n in range(50)]
    records = [(consultation if n % 3 else abstention)(p) for n, p in enumerate(people)]
    try:
        written = await asyncio.gather(*(log.record(record) for record in records))
    finally:
        log.close()
    assert all(written)
    assert count(engine, Consultation.id) == 50
    assert count(engine, Person.id) == 50
    assert len(committed) <= 2
    inserts = [s for s in executed if s.startswith("INSERT INTO consultations")]
    assert len(inserts) <= 2  # answers and abstentions alike, not one statement each kind


async def test_every_record_is_written_when_several_writers_share_a_burst(
    engine: Engine, tmp_path: Path
) -> None:
    log = ConsultationLog(Repository(engine), Spool(tmp_path / "spool.jsonl"), workers=4)
    people = [PersonRef.telegram(900 + n % 10, f"Khách {n % 10}") for n in range(40)]
    try:
        written = await asyncio.gather(*(log.record(consultation(p)) for p in people))
    finally:
        log.close()
    assert all(written)
    assert count(engine, Consultation.id) == 40
    assert count(engine, Person.id) == 10


def test_feedback_and_handoff_in_the_same_batch_as_their_consultation(engine: Engine) -> None:
    record = consultation(PersonRef.telegram(1, "Lan"))
    other = consultation(PersonRef.telegram(2, "Minh"))
    Repository(engine).apply_all(
        [record, other, FeedbackRecord(record.id, "negative"), HandoffRecord(record.id)]
    )
    with engine.connect() as connection:
        row = connection.execute(
            select(Consultation.feedback, Consultation.outcome).where(Consultation.id == record.id)
        ).one()
    assert tuple(row) == ("negative", "handed_off")


def test_writing_a_batch_again_changes_nothing(engine: Engine) -> None:
    batch = [consultation(PersonRef.telegram(n, f"Khách {n}")) for n in range(5)]
    Repository(engine).apply_all(batch)
    Repository(engine).apply_all([*batch, consultation(PersonRef.telegram(9, "Mới"))])
    assert count(engine, Consultation.id) == 6
    assert count(engine, Person.id) == 6


def test_a_person_known_from_before_keeps_one_row_and_gets_the_new_name(engine: Engine) -> None:
    Repository(engine).apply_all([consultation(PersonRef.telegram(7, "Tên cũ"))])
    renamed = PersonRef.telegram(7, "Nguyễn Văn Lan", "lan_nv")
    Repository(engine).apply_all([consultation(renamed), consultation(renamed, "tccs là gì")])
    with engine.connect() as connection:
        people = connection.execute(select(Person.name, Person.username)).all()
    assert [tuple(p) for p in people] == [("Nguyễn Văn Lan", "lan_nv")]
    assert count(engine, Consultation.id) == 3


async def test_a_record_the_writer_fails_on_is_spooled_not_lost(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = Repository(engine)
    log = ConsultationLog(repository, Spool(tmp_path / "spool.jsonl"), workers=1)

    def broken(_records: object) -> None:
        raise RuntimeError("a bug, not an outage")

    monkeypatch.setattr(repository, "apply_all", broken)
    try:
        assert await log.record(consultation(PersonRef.telegram(1, "Lan"))) is False
        assert log.spool.pending
        monkeypatch.undo()
        assert await log.flush() == 1
    finally:
        log.close()
    assert count(engine, Consultation.id) == 1


def test_a_spooled_record_the_database_refuses_is_set_aside(engine: Engine, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    refused, kept = (
        consultation(PersonRef.telegram(1, "Lan")),
        consultation(PersonRef.telegram(2, "Minh")),
    )
    spool.append(refused)
    spool.append(kept)
    repository = Repository(engine)

    def apply(record: object) -> None:
        if record == refused:
            raise ValueError("refused")
        repository.apply(kept)

    assert spool.replay(apply) == 2
    assert not spool.pending
    assert refused.id in (tmp_path / "spool.rejected").read_text(encoding="utf-8")
    assert count(engine, Consultation.id) == 1


def test_a_report_reading_sqlite_does_not_hold_up_the_log(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/read.sqlite3"
    upgrade(url)
    engine = create_database_engine(url, busy_timeout_ms=100)
    try:
        with reading(engine).connect() as reader:
            reader.execute(select(func.count(Consultation.id))).scalar()  # a report is running
            Repository(engine).apply_all([consultation(PersonRef.telegram(1, "Lan"))])
        assert count(engine, Consultation.id) == 1
    finally:
        engine.dispose()
