"""What happens when a business asks, whatever the channel: the answer is computed, the
consultation is logged (before the business sees anything), and follow-ups refer to it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers import Answerer, Reply
from bot.store.log import ConsultationLog
from bot.store.records import (
    ConsultationRecord,
    FeedbackRecord,
    HandoffRecord,
    PersonRef,
    new_id,
)


@dataclass(frozen=True)
class Answered:
    consultation_id: str
    reply: Reply
    logged: bool  # False: the database was down and the record waits in the spool
    abstentions_in_a_row: int = 0

    @property
    def suggest_staff(self) -> bool:
        """Two questions in a row the bot could not answer: time to offer a person."""
        return self.abstentions_in_a_row >= 2


class Conversation:
    def __init__(self, answerer: Answerer, log: ConsultationLog) -> None:
        self.answerer = answerer
        self.log = log
        self._abstentions: dict[str, int] = {}  # person key -> abstentions in a row

    async def ask(
        self, person: PersonRef, question: str, channel: str, chat_id: int | None = None
    ) -> Answered:
        reply = self.answerer.ask(question)
        if reply.empty:  # emoji, stickers' text, blank: nothing was asked, nothing to count
            return Answered("", reply, logged=False)
        answered = await self._logged(person, reply, channel, chat_id)
        streak = self._abstentions.get(person.key, 0) + 1 if reply.topic is None else 0
        self._abstentions[person.key] = streak
        return Answered(answered.consultation_id, reply, answered.logged, streak)

    async def follow_up(
        self, person: PersonRef, entry_id: str, channel: str, chat_id: int | None = None
    ) -> Answered | None:
        """A suggested question was pressed: answer that entry, logged as a consultation."""
        if entry_id not in self.answerer.knowledge.entries:
            return None
        reply = self.answerer.answer_entry(entry_id)
        return await self._logged(person, reply, channel, chat_id)

    async def _logged(
        self, person: PersonRef, reply: Reply, channel: str, chat_id: int | None
    ) -> Answered:
        record = ConsultationRecord(
            id=new_id(),
            person=person,
            channel=channel,
            question=reply.question.replace("\x00", ""),
            topic=reply.topic,
            entry_id=reply.entry_id,
            confidence=round(reply.confidence, 4),
            outcome=reply.outcome,
            chat_id=chat_id,
        )
        logged = await self.log.record(record)
        return Answered(record.id, reply, logged)

    async def feedback(self, consultation_id: str, helpful: bool) -> None:
        value = "helpful" if helpful else "not_helpful"
        await self.log.record(FeedbackRecord(consultation_id, value))

    async def hand_off(self, consultation_id: str, person_key: str | None = None) -> None:
        await self.log.record(HandoffRecord(consultation_id))
        if person_key:
            self._abstentions.pop(person_key, None)
