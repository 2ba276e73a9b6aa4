"""The one place that reads and writes the consultation log; methods say what they do."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, Table, Update, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.store.models import (
    Consultation,
    Organisation,
    Person,
)
from bot.store.records import (
    ConsultationRecord,
    DatabaseUnavailable,
    FeedbackRecord,
    HandoffRecord,
    PersonRef,
    Profile,
    Record,
    Turn,
)

T = TypeVar("T")
# Batches are written through the tables (SQLAlchemy Core), one statement each: the ORM's bulk
# insert leaves None values out, so it starts a new statement whenever the columns that are None
# change from one row to the next (24 statements for a burst of 50 questions).
CONSULTATIONS = cast(Table, Consultation.__table__)
PEOPLE = cast(Table, Person.__table__)


@contextmanager
def guarded() -> Iterator[None]:
    """Database errors that mean "not there right now" become DatabaseUnavailable."""
    try:
        yield
    except (OperationalError, PoolTimeout) as exc:
        raise DatabaseUnavailable(str(exc).splitlines()[0]) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise DatabaseUnavailable(str(exc).splitlines()[0]) from exc
        raise


class Repository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # person key -> (person id, organisation id): saves two queries per consultation.
        # Only this process changes a person's organisation, and it updates the cache when so.
        self._people: dict[str, tuple[int, int | None]] = {}
        self._people_lock = threading.Lock()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with guarded(), self._sessions.begin() as session:
            yield session

    def _run(self, work: Callable[[Session], T]) -> T:
        with self._session() as session:
            return work(session)

    # --- writes ------------------------------------------------------------------------------

    def apply_all(self, records: Sequence[Record]) -> None:
        """Write records in one transaction (a group commit: a burst of questions costs one
        commit, not one each); applying them again changes nothing."""
        consultations = [r for r in records if isinstance(r, ConsultationRecord)]
        found: dict[str, tuple[int, int | None]] = {}
        try:
            with self._session() as session:
                found = self._people_in(session, [r.person for r in consultations])
                if consultations:
                    session.execute(
                        insert(CONSULTATIONS),
                        [_consultation_row(r, *found[r.person.key]) for r in consultations],
                    )
                for record in records:
                    if isinstance(record, FeedbackRecord):
                        session.execute(_feedback_statement(record))
                    elif isinstance(record, HandoffRecord):
                        session.execute(_handoff_statement(record))
        except IntegrityError:
            # A record written before (a replay, a write that outlived its timeout) or a person
            # added meanwhile: one by one, each record knows how to be idempotent.
            for record in records:
                self.apply(record)
            return
        with self._people_lock:  # only now: ids from a rolled-back transaction mean nothing
            for key, ids in found.items():  # never over a profile saved meanwhile
                self._people.setdefault(key, ids)

    def _people_in(
        self, session: Session, refs: Sequence[PersonRef]
    ) -> dict[str, tuple[int, int | None]]:
        """Person and organisation ids for these people; new people are added in one insert."""
        with self._people_lock:
            found = {ref.key: self._people[ref.key] for ref in refs if ref.key in self._people}
        unknown = {ref.key: ref for ref in refs if ref.key not in found}
        if not unknown:
            return found
        known = session.execute(
            select(PEOPLE.c.key, PEOPLE.c.id, PEOPLE.c.organisation_id).where(
                PEOPLE.c.key.in_(unknown)
            )
        ).all()
        for key, person_id, organisation_id in known:
            found[key] = (person_id, organisation_id)
        if known:  # back after a restart: names and usernames may have changed meanwhile
            for person in session.scalars(select(Person).where(Person.key.in_(found))):
                if person.key in unknown:
                    _refresh(person, unknown[person.key])
        new = [ref for key, ref in unknown.items() if key not in found]
        if new:
            rows = session.execute(
                insert(PEOPLE).returning(Person.key, Person.id),
                [_person_row(ref) for ref in new],
            )
            found.update({key: (person_id, None) for key, person_id in rows})
        return found

    def apply(self, record: Record) -> None:
        """Write one record; applying the same record again changes nothing."""
        if isinstance(record, ConsultationRecord):
            self.log_consultation(record)
        elif isinstance(record, FeedbackRecord):
            self.set_feedback(record)
        else:
            self.mark_handed_off(record)

    def log_consultation(self, record: ConsultationRecord) -> None:
        row = _consultation_row(record, *self._person_ids(record.person))
        try:
            self._run(lambda session: session.execute(insert(CONSULTATIONS), [row]))
        except IntegrityError:
            if self.has_consultation(record.id):
                return  # already written: a replay of the spool, or a write that timed out
            with self._people_lock:
                self._people.pop(record.person.key, None)  # the cached person may be stale
            raise

    def _person_ids(self, ref: PersonRef) -> tuple[int, int | None]:
        with self._people_lock:
            cached = self._people.get(ref.key)
        if cached is not None:
            return cached

        def work(session: Session) -> tuple[int, int | None]:
            person = _person(session, ref)
            return person.id, person.organisation_id

        found = self._run(work)
        with self._people_lock:
            self._people[ref.key] = found
        return found

    def set_feedback(self, record: FeedbackRecord) -> None:
        self._run(lambda session: session.execute(_feedback_statement(record)))

    def mark_handed_off(self, record: HandoffRecord) -> None:
        self._run(lambda session: session.execute(_handoff_statement(record)))

    def save_profile(self, person: PersonRef, profile: Profile) -> None:
        """Attach the person to an organisation, found by tax code when one is given."""

        def work(session: Session) -> tuple[int, int | None]:
            row = _person(session, person)
            organisation = None
            if profile.tax_code:
                organisation = session.scalar(
                    select(Organisation).where(Organisation.tax_code == profile.tax_code)
                )
            if organisation is None and row.organisation_id is not None:
                current = session.get(Organisation, row.organisation_id)
                if current is not None and current.tax_code in (None, profile.tax_code):
                    organisation = current
            if organisation is None:
                organisation = Organisation(name=profile.organisation, created_at=utcnow())
                session.add(organisation)
            organisation.name = profile.organisation
            organisation.tax_code = profile.tax_code
            organisation.phone = profile.phone
            session.flush()
            row.organisation_id = organisation.id
            return row.id, organisation.id

        ids = self._run(work)
        with self._people_lock:  # after the commit: a rolled-back id would be reused later
            self._people[person.key] = ids

    def forget_profile(self, person: PersonRef) -> None:
        def work(session: Session) -> tuple[int, int | None]:
            row = _person(session, person)
            row.organisation_id = None
            return row.id, None

        ids = self._run(work)
        with self._people_lock:
            self._people[person.key] = ids

    # --- reads -------------------------------------------------------------------------------

    def profile_of(self, person_key: str) -> Profile | None:
        def work(session: Session) -> Profile | None:
            row = session.execute(
                select(Organisation.name, Organisation.tax_code, Organisation.phone)
                .join(Person, Person.organisation_id == Organisation.id)
                .where(Person.key == person_key)
            ).first()
            return Profile(row.name, row.tax_code, row.phone) if row else None

        return self._run(work)

    def consultation_owner(self, consultation_id: str) -> tuple[int | None, str] | None:
        """The chat and the person (key) a consultation belongs to, or None if unknown."""

        def work(session: Session) -> tuple[int | None, str] | None:
            row = session.execute(
                select(Consultation.chat_id, Person.key)
                .join(Person, Person.id == Consultation.person_id)
                .where(Consultation.id == consultation_id)
            ).first()
            return (row[0], row[1]) if row else None

        return self._run(work)

    def has_consultation(self, consultation_id: str) -> bool:
        return self._run(lambda s: s.get(Consultation, consultation_id) is not None)

    def recent_turns(
        self, person_key: str, chat_id: int | None, since: dt.datetime, limit: int = 5
    ) -> list[Turn]:
        """The person's latest questions in this chat (newest first), for follow-ups."""
        query = (
            select(
                Consultation.created_at,
                Consultation.topic,
                Consultation.entry_id,
                Consultation.subject,
                Consultation.intent,
                Consultation.outcome,
            )
            .join(Person, Person.id == Consultation.person_id)
            .where(Person.key == person_key, Consultation.created_at >= since)
            .order_by(Consultation.created_at.desc())
            .limit(limit)
        )
        if chat_id is not None:
            query = query.where(Consultation.chat_id == chat_id)
        rows = self._run(lambda session: session.execute(query).all())
        return [Turn(*row) for row in rows]


def _consultation_row(
    record: ConsultationRecord, person_id: int, organisation_id: int | None
) -> dict[str, Any]:
    return {
        "id": record.id,
        "created_at": record.created_at,
        "person_id": person_id,
        "organisation_id": organisation_id,
        "chat_id": record.chat_id,
        "channel": record.channel,
        "question": record.question,
        "topic": record.topic,
        "entry_id": record.entry_id,
        "confidence": record.confidence,
        "outcome": record.outcome,
        "subject": record.subject,
        "intent": record.intent,
    }


def _person_row(ref: PersonRef) -> dict[str, Any]:
    return {
        "key": ref.key,
        "telegram_id": ref.telegram_id,
        "name": ref.name[:200],
        "username": ref.username,
        "language": ref.language,
        "created_at": utcnow(),
    }


def _feedback_statement(record: FeedbackRecord) -> Update:
    return (
        update(Consultation)
        .where(Consultation.id == record.consultation_id)
        .values(feedback=record.feedback, feedback_at=record.at)
    )


def _handoff_statement(record: HandoffRecord) -> Update:
    return (
        update(Consultation)
        .where(Consultation.id == record.consultation_id)
        .where(Consultation.outcome.in_(("answered", "abstained")))
        .values(outcome="handed_off", handed_off_at=record.at)
    )


def _person(session: Session, ref: PersonRef) -> Person:
    person = session.scalar(select(Person).where(Person.key == ref.key))
    if person is None:
        person = Person(**_person_row(ref))
        session.add(person)
        session.flush()
    else:
        _refresh(person, ref)
    return person


def _refresh(person: Person, ref: PersonRef) -> None:
    """Names and usernames change; keep what Telegram says now."""
    person.name = ref.name[:200] or person.name
    person.username = ref.username or person.username
    person.language = ref.language or person.language
