"""The queries behind the quarterly statistics: raw counts of the consultation log and of the
bulletin's deliveries in a period, for bot/reports/stats.py to turn into the report's figures.
Small talk is not an enquiry and is left out here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Engine, and_, case, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import InstrumentedAttribute

from bot.clock import to_vietnam
from bot.store.database import reading
from bot.store.models import Bulletin, Consultation, Delivery, Organisation


@dataclass(frozen=True)
class PeriodCounts:
    """What the log holds for one period [start, end), as the database counts it."""

    per_topic: list[tuple[str | None, int, int]]  # topic, enquiries, distinct askers
    enquiries: int
    people: int
    organisations: int
    askers: int  # an organisation counts once, a person without one counts once
    outcomes: dict[str, int]
    feedback: dict[str, int]
    moments: list[tuple[dt.datetime, str | None]]  # created_at (naive UTC), topic
    waits: list[dt.timedelta]  # hand-off to staff answer, of the staff-answered
    entries: list[tuple[str, str, int]]  # topic, entry id, answers
    bulletins: int  # sent in the period
    recipients: int  # deliveries sent in the period


@contextmanager
def statistics_reader(engine: Engine) -> Iterator[Connection]:
    """One read-only connection for a report's queries (the current and previous quarter)."""
    with reading(engine).connect() as connection:
        yield connection


def period_counts(connection: Connection, start: dt.datetime, end: dt.datetime) -> PeriodCounts:
    where = _enquiries(start, end)
    # Organisation ids are negated so they never collide with person ids.
    asker = case(
        (Consultation.organisation_id.is_not(None), -Consultation.organisation_id),
        else_=Consultation.person_id,
    )
    per_topic = connection.execute(
        select(Consultation.topic, func.count(Consultation.id), func.count(asker.distinct()))
        .where(where)
        .group_by(Consultation.topic)
    ).all()
    totals = connection.execute(
        select(
            func.count(Consultation.id),
            func.count(Consultation.person_id.distinct()),
            func.count(Consultation.organisation_id.distinct()),
            func.count(asker.distinct()),
        ).where(where)
    ).one()
    return PeriodCounts(
        per_topic=[(topic, int(count), int(askers)) for topic, count, askers in per_topic],
        enquiries=int(totals[0]),
        people=int(totals[1]),
        organisations=int(totals[2]),
        askers=int(totals[3]),
        outcomes=_grouped(connection, Consultation.outcome, where),
        feedback=_grouped(connection, Consultation.feedback, where),
        moments=[
            (created_at, topic)
            for created_at, topic in connection.execute(
                select(Consultation.created_at, Consultation.topic).where(where)
            )
        ],
        waits=_waits(connection, where),
        entries=_entry_counts(connection, where),
        bulletins=_sent(connection, Bulletin, Bulletin.finished_at, start, end),
        recipients=_sent(connection, Delivery, Delivery.sent_at, start, end),
    )


def _in_period(
    column: InstrumentedAttribute[Any], start: dt.datetime, end: dt.datetime
) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _enquiries(start: dt.datetime, end: dt.datetime) -> ColumnElement[bool]:
    return and_(
        _in_period(Consultation.created_at, start, end),
        or_(Consultation.topic.is_(None), Consultation.topic != "smalltalk"),
    )


def _grouped(
    connection: Connection, column: InstrumentedAttribute[Any], where: ColumnElement[bool]
) -> dict[str, int]:
    rows = connection.execute(
        select(column, func.count(Consultation.id))
        .where(where, column.is_not(None))
        .group_by(column)
    )
    return {str(value): int(count) for value, count in rows if value is not None}


def _waits(connection: Connection, where: ColumnElement[bool]) -> list[dt.timedelta]:
    rows = connection.execute(
        select(Consultation.handed_off_at, Consultation.staff_answered_at).where(
            where,
            Consultation.outcome == "staff_answered",
            Consultation.handed_off_at.is_not(None),
            Consultation.staff_answered_at.is_not(None),
        )
    )
    return [answered - handed for handed, answered in rows if handed and answered]


def _entry_counts(connection: Connection, where: ColumnElement[bool]) -> list[tuple[str, str, int]]:
    rows = connection.execute(
        select(Consultation.topic, Consultation.entry_id, func.count(Consultation.id))
        .where(where, Consultation.topic.is_not(None), Consultation.entry_id.is_not(None))
        .group_by(Consultation.topic, Consultation.entry_id)
    )
    return [(topic, entry_id, int(count)) for topic, entry_id, count in rows if topic and entry_id]


def _sent(
    connection: Connection,
    model: type[Bulletin] | type[Delivery],
    moment: InstrumentedAttribute[Any],
    start: dt.datetime,
    end: dt.datetime,
) -> int:
    """Bulletins finished, or messages of a bulletin delivered, in the period."""
    found = connection.execute(
        select(func.count(model.id)).where(model.status == "sent", _in_period(moment, start, end))
    ).scalar_one()
    return int(found)


# --- the log, row by row (exports and the report's sheet) ------------------------------------


class ConsultationRow(TypedDict):
    """One consultation as staff see it in the export (time in Vietnam)."""

    time: dt.datetime
    channel: str
    question: str
    topic: str | None
    entry_id: str | None
    confidence: float
    outcome: str
    feedback: str | None
    organisation: str | None
    tax_code: str | None


def consultation_rows(
    engine: Engine,
    start_utc: dt.datetime,
    end_utc: dt.datetime,
    *,
    include_smalltalk: bool = False,
) -> list[ConsultationRow]:
    """Consultations created in [start_utc, end_utc), oldest first.

    Small talk is left out by default so that the rows add up to the statistics.
    """
    query = (
        select(
            Consultation.created_at,
            Consultation.channel,
            Consultation.question,
            Consultation.topic,
            Consultation.entry_id,
            Consultation.confidence,
            Consultation.outcome,
            Consultation.feedback,
            Organisation.name,
            Organisation.tax_code,
        )
        .select_from(Consultation)
        .outerjoin(Organisation, Organisation.id == Consultation.organisation_id)
        .where(Consultation.created_at >= start_utc, Consultation.created_at < end_utc)
        .order_by(Consultation.created_at, Consultation.id)
    )
    if not include_smalltalk:
        query = query.where(or_(Consultation.topic.is_(None), Consultation.topic != "smalltalk"))
    with reading(engine).connect() as connection:
        return [
            ConsultationRow(
                time=to_vietnam(row[0]),
                channel=row[1],
                question=row[2],
                topic=row[3],
                entry_id=row[4],
                confidence=float(row[5]),
                outcome=row[6],
                feedback=row[7],
                organisation=row[8],
                tax_code=row[9],
            )
            for row in connection.execute(query)
        ]
