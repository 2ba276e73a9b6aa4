"""Reads and writes of the staff side: the staff list, hand-off threads, log review, curation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.store.models import (
    Consultation,
    DeniedAttempt,
    Handoff,
    Organisation,
    Person,
    StaffMember,
    ThreadMessage,
)
from bot.store.records import LogFilter, ThreadInfo
from bot.store.repository import Repository


class StaffRepository(Repository):
    """Reads and writes of the staff side: staff list, handoff threads, log review, curation."""

    # --- staff -------------------------------------------------------------------------------

    def staff_members(self) -> list[StaffMember]:
        return self._run(
            lambda s: list(
                s.scalars(
                    select(StaffMember)
                    .where(StaffMember.removed_at.is_(None))
                    .order_by(StaffMember.added_at)
                )
            )
        )

    def add_staff(self, telegram_id: int, name: str, role: str, added_by: int) -> None:
        def work(session: Session) -> None:
            member = session.scalar(
                select(StaffMember).where(StaffMember.telegram_id == telegram_id)
            )
            if member is None:
                member = StaffMember(telegram_id=telegram_id, name=name, added_at=utcnow())
                session.add(member)
            member.name = name or member.name
            member.role = role
            member.added_by = added_by
            member.removed_at = None

        self._run(work)

    def remove_staff(self, telegram_id: int) -> bool:
        def work(session: Session) -> bool:
            member = session.scalar(
                select(StaffMember)
                .where(StaffMember.telegram_id == telegram_id)
                .where(StaffMember.removed_at.is_(None))
            )
            if member is None:
                return False
            member.removed_at = utcnow()
            return True

        return self._run(work)

    def log_denied(self, telegram_id: int, command: str) -> None:
        self._run(
            lambda s: s.add(
                DeniedAttempt(telegram_id=telegram_id, command=command[:64], at=utcnow())
            )
        )

    def thread_info(self, consultation_id: str) -> ThreadInfo | None:
        def work(session: Session) -> ThreadInfo | None:
            row = session.execute(
                select(
                    Consultation,
                    Person.name,
                    Person.username,
                    Organisation.name.label("organisation"),
                    Organisation.tax_code,
                    Handoff.group_message_id,
                    Handoff.group_chat_id,
                )
                .join(Person, Person.id == Consultation.person_id)
                .outerjoin(Organisation, Organisation.id == Consultation.organisation_id)
                .outerjoin(Handoff, Handoff.consultation_id == Consultation.id)
                .where(Consultation.id == consultation_id)
            ).first()
            if row is None:
                return None
            c = row.Consultation
            return ThreadInfo(
                c.id,
                c.created_at,
                c.question,
                c.topic,
                c.entry_id,
                c.confidence,
                c.outcome,
                c.chat_id,
                row.name,
                row.username,
                row.organisation,
                row.tax_code,
                row.group_message_id,
                row.group_chat_id,
            )

        return self._run(work)

    def record_handoff_post(self, consultation_id: str, chat_id: int, message_id: int) -> None:
        def work(session: Session) -> None:
            if session.scalar(select(Handoff).where(Handoff.consultation_id == consultation_id)):
                return
            session.add(
                Handoff(
                    consultation_id=consultation_id,
                    group_chat_id=chat_id,
                    group_message_id=message_id,
                    posted_at=utcnow(),
                )
            )
            session.add(_thread(consultation_id, chat_id, message_id, "to_staff", None))

        self._run(work)

    def is_handed_off(self, consultation_id: str) -> bool:
        return self._run(
            lambda s: (
                s.scalar(select(Handoff.id).where(Handoff.consultation_id == consultation_id))
                is not None
            )
        )

    def record_thread_messages(
        self,
        consultation_id: str,
        messages: list[tuple[int, int, str]],
        author: int | None,
    ) -> None:
        """Remember messages of a thread, as (chat id, message id, direction), in one go."""

        def work(session: Session) -> None:
            for chat_id, message_id, direction in messages:
                exists = session.scalar(
                    select(ThreadMessage.id)
                    .where(ThreadMessage.chat_id == chat_id)
                    .where(ThreadMessage.message_id == message_id)
                )
                if exists is None:
                    session.add(_thread(consultation_id, chat_id, message_id, direction, author))

        self._run(work)

    def consultation_of_message(self, chat_id: int, message_id: int) -> str | None:
        return self._run(
            lambda s: s.scalar(
                select(ThreadMessage.consultation_id)
                .where(ThreadMessage.chat_id == chat_id)
                .where(ThreadMessage.message_id == message_id)
            )
        )

    def mark_staff_answered(self, consultation_id: str, staff_id: int) -> bool:
        """Record a staff answer; True when it is the first one (later ones are follow-ups)."""

        def work(session: Session) -> bool:
            consultation = session.get(Consultation, consultation_id)
            if consultation is None:
                return False
            first = consultation.staff_answered_at is None
            if first:
                consultation.outcome = "staff_answered"
                consultation.staff_answered_at = utcnow()
                consultation.answered_by = staff_id
                if consultation.handed_off_at is None:
                    consultation.handed_off_at = consultation.staff_answered_at
            return first

        return self._run(work)

    def unanswered_handoffs(self, older_than: dt.datetime | None = None) -> list[ThreadInfo]:
        """Handed-off questions staff have not answered yet, oldest first. With `older_than`:
        those posted before it and not yet recalled, and those never posted to staff (the post
        failed, or the hand-off was spooled while the database was down)."""

        def work(session: Session) -> list[str]:
            query = (
                select(Consultation.id)
                .outerjoin(Handoff, Handoff.consultation_id == Consultation.id)
                .where(Consultation.outcome == "handed_off")
                .order_by(func.coalesce(Handoff.posted_at, Consultation.handed_off_at))
            )
            if older_than is not None:
                query = query.where(
                    or_(
                        Handoff.id.is_(None),
                        and_(Handoff.posted_at <= older_than, Handoff.reminded_at.is_(None)),
                    )
                )
            return list(session.scalars(query))

        ids = self._run(work)
        return [info for i in ids if (info := self.thread_info(i)) is not None]

    def mark_reminded(self, consultation_ids: list[str]) -> None:
        self._run(
            lambda s: s.execute(
                update(Handoff)
                .where(Handoff.consultation_id.in_(consultation_ids))
                .values(reminded_at=utcnow())
            )
        )

    # --- log review and curation -------------------------------------------------------------

    def review_page(self, where: LogFilter, page: int, size: int) -> tuple[list[Consultation], int]:
        """One page of consultations, newest first, and how many match in all."""

        def work(session: Session) -> tuple[list[Consultation], int]:
            query = _filtered(select(Consultation), where)
            total = session.scalar(_filtered(select(func.count(Consultation.id)), where)) or 0
            rows = session.scalars(
                query.order_by(Consultation.created_at.desc()).offset(page * size).limit(size)
            )
            return list(rows), int(total)

        return self._run(work)

    def curation_candidates(self, limit: int = 500) -> list[Consultation]:
        """Questions the bot could not answer or answered badly, not yet dealt with."""
        return self._run(
            lambda s: list(
                s.scalars(
                    select(Consultation)
                    .where(Consultation.curation.is_(None))
                    .where(
                        (Consultation.outcome.in_(("abstained", "handed_off", "staff_answered")))
                        | (Consultation.feedback == "not_helpful")
                    )
                    .where((Consultation.topic.is_(None)) | (Consultation.topic != "smalltalk"))
                    .order_by(Consultation.created_at.desc())
                    .limit(limit)
                )
            )
        )

    def mark_curated(self, consultation_ids: list[str], curation: str) -> None:
        self._run(
            lambda s: s.execute(
                update(Consultation)
                .where(Consultation.id.in_(consultation_ids))
                .values(curation=curation, curated_at=utcnow())
            )
        )


def _thread(
    consultation_id: str, chat_id: int, message_id: int, direction: str, author: int | None
) -> ThreadMessage:
    return ThreadMessage(
        consultation_id=consultation_id,
        chat_id=chat_id,
        message_id=message_id,
        direction=direction,
        author_id=author,
        at=utcnow(),
    )


def _filtered(query: Any, where: LogFilter) -> Any:
    if where.topic == "none":
        query = query.where(Consultation.topic.is_(None))
    elif where.topic:
        query = query.where(Consultation.topic == where.topic)
    if where.outcome == "negative":
        query = query.where(Consultation.feedback == "not_helpful")
    elif where.outcome:
        query = query.where(Consultation.outcome == where.outcome)
    if where.start is not None:
        query = query.where(Consultation.created_at >= where.start)
    if where.end is not None:
        query = query.where(Consultation.created_at < where.end)
    return query
