"""The one place that reads and writes the consultation log; methods say what they do."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import Consultation, Organisation, Person, utcnow
from bot.store.records import (
    ConsultationRecord,
    FeedbackRecord,
    HandoffRecord,
    PersonRef,
    Record,
)

T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """The database could not be reached or is locked; the caller may spool and retry."""


@dataclass(frozen=True)
class Profile:
    organisation: str
    tax_code: str | None
    phone: str | None


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
        try:
            with self._sessions.begin() as session:
                yield session
        except (OperationalError, PoolTimeout) as exc:
            raise DatabaseUnavailable(str(exc).splitlines()[0]) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise DatabaseUnavailable(str(exc).splitlines()[0]) from exc
            raise

    def _run(self, work: Callable[[Session], T]) -> T:
        with self._session() as session:
            return work(session)

    # --- writes ------------------------------------------------------------------------------

    def apply(self, record: Record) -> None:
        """Write one record; applying the same record again changes nothing."""
        if isinstance(record, ConsultationRecord):
            self.log_consultation(record)
        elif isinstance(record, FeedbackRecord):
            self.set_feedback(record)
        else:
            self.mark_handed_off(record)

    def log_consultation(self, record: ConsultationRecord) -> None:
        person_id, organisation_id = self._person_ids(record.person)
        row = {
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
        }
        try:
            self._run(lambda session: session.execute(insert(Consultation), [row]))
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
        self._run(
            lambda session: session.execute(
                update(Consultation)
                .where(Consultation.id == record.consultation_id)
                .values(feedback=record.feedback, feedback_at=record.at)
            )
        )

    def mark_handed_off(self, record: HandoffRecord) -> None:
        self._run(
            lambda session: session.execute(
                update(Consultation)
                .where(Consultation.id == record.consultation_id)
                .where(Consultation.outcome.in_(("answered", "abstained")))
                .values(outcome="handed_off", handed_off_at=record.at)
            )
        )

    def save_profile(self, person: PersonRef, profile: Profile) -> None:
        """Attach the person to an organisation, found by tax code when one is given."""

        def work(session: Session) -> None:
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
            with self._people_lock:
                self._people[person.key] = (row.id, organisation.id)

        self._run(work)

    def forget_profile(self, person: PersonRef) -> None:
        def work(session: Session) -> None:
            row = _person(session, person)
            row.organisation_id = None
            with self._people_lock:
                self._people[person.key] = (row.id, None)

        self._run(work)

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

    def has_consultation(self, consultation_id: str) -> bool:
        return self._run(lambda s: s.get(Consultation, consultation_id) is not None)

    def consultation(self, consultation_id: str) -> Consultation | None:
        return self._run(lambda s: s.get(Consultation, consultation_id))

    def count_consultations(self) -> int:
        return self._run(lambda s: int(s.scalar(select(func.count(Consultation.id))) or 0))

    def recent_consultations(self, limit: int = 20) -> list[Consultation]:
        return self._run(
            lambda s: list(
                s.scalars(
                    select(Consultation).order_by(Consultation.created_at.desc()).limit(limit)
                )
            )
        )


def _person(session: Session, ref: PersonRef) -> Person:
    person = session.scalar(select(Person).where(Person.key == ref.key))
    if person is None:
        person = Person(
            key=ref.key,
            telegram_id=ref.telegram_id,
            name=ref.name[:200],
            username=ref.username,
            language=ref.language,
            created_at=utcnow(),
        )
        session.add(person)
        session.flush()
    else:
        person.name = ref.name[:200] or person.name
        person.username = ref.username or person.username
        person.language = ref.language or person.language
    return person


def as_of(moment: dt.datetime) -> dt.datetime:
    """Naive UTC, the form every stored time takes."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment
