"""What happens when a business asks, whatever the channel: the answer is computed with the
conversation's context, the consultation is logged (before the business sees anything), and
follow-ups refer to it.

The context of a question is the chat's previous question, read from the consultation log (so
it survives a restart and is shared by several bot instances); what this process answered last
stands in for it while the database cannot be read.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass

from bot.clock import utcnow
from bot.qa.answers import Answerer, Reply
from bot.store.inbox import consultation_id
from bot.store.log import ConsultationLog
from bot.store.records import (
    ConsultationRecord,
    FeedbackRecord,
    HandoffRecord,
    PersonRef,
    Turn,
    new_id,
)

REMEMBERED_CHATS = 10_000


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


def context_after(previous: Turn | None, reply: Reply) -> Turn | None:
    """The context the next question gets after this reply (without a log: the command line,
    benchmarks): small talk and empty messages keep the thread; anything else replaces it."""
    if reply.empty or reply.topic == "smalltalk":
        return previous
    if not (reply.subject or reply.intent):
        return None
    return Turn(utcnow(), reply.topic, reply.entry_id, reply.subject, reply.intent, reply.outcome)


class Conversation:
    def __init__(self, answerer: Answerer, log: ConsultationLog, context_minutes: int = 30) -> None:
        self.answerer = answerer
        self.log = log
        self.context_window = dt.timedelta(minutes=context_minutes)
        self._abstentions: dict[str, int] = {}  # person key -> abstentions in a row
        self._last: OrderedDict[tuple[str, int | None], Turn] = OrderedDict()
        # consultation id -> (chat, person key) of the newest consultations of this process,
        # for button checks before the log has written them
        self._owners: OrderedDict[str, tuple[int | None, str]] = OrderedDict()

    async def ask(
        self, person: PersonRef, question: str, channel: str, chat_id: int | None = None
    ) -> Answered:
        context = await self.context(person, chat_id)
        reply = self.answerer.ask(question, context=context)
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

    async def clarified(
        self, person: PersonRef, subject: str, intent: str, channel: str, chat_id: int | None
    ) -> Answered | None:
        """A clarifying button was pressed: answer exactly that subject and intent."""
        vocabulary = self.answerer.knowledge.vocabulary
        if subject not in vocabulary.subjects or intent not in vocabulary.intents:
            return None
        reply = self.answerer.answer_facets(subject, intent)
        return await self._logged(person, reply, channel, chat_id)

    async def context(self, person: PersonRef, chat_id: int | None) -> Turn | None:
        """The previous question this one may lean on: the newest that named a subject or an
        intent, within the idle window; small talk in between does not break the thread."""
        if not self.context_window:
            return None
        since = utcnow() - self.context_window
        remembered = self._last.get((person.key, chat_id))
        turns = [] if remembered else await self.log.recent_turns(person.key, chat_id, since)
        if remembered is not None and remembered.at >= since:
            turns = [remembered]
        for turn in turns:
            if turn.topic == "smalltalk":
                continue
            return turn if (turn.subject or turn.intent) else None
        return None

    def _remember(self, person: PersonRef, chat_id: int | None, turn: Turn) -> None:
        key = (person.key, chat_id)
        self._last[key] = turn
        self._last.move_to_end(key)
        while len(self._last) > REMEMBERED_CHATS:
            self._last.popitem(last=False)

    async def _logged(
        self, person: PersonRef, reply: Reply, channel: str, chat_id: int | None
    ) -> Answered:
        record = ConsultationRecord(
            id=consultation_id() or new_id(),
            person=person,
            channel=channel,
            question=reply.question.replace("\x00", ""),
            topic=reply.topic,
            entry_id=reply.entry_id,
            confidence=round(reply.confidence, 4),
            outcome=reply.outcome,
            chat_id=chat_id,
            subject=reply.subject,
            intent=reply.intent,
        )
        logged = await self.log.record(record)
        self._owners[record.id] = (chat_id, person.key)
        while len(self._owners) > REMEMBERED_CHATS:
            self._owners.popitem(last=False)
        turn = Turn(
            record.created_at,
            reply.topic,
            reply.entry_id,
            reply.subject,
            reply.intent,
            reply.outcome,
        )
        if reply.topic != "smalltalk":
            self._remember(person, chat_id, turn)
        return Answered(record.id, reply, logged)

    async def belongs(
        self, consultation_id: str, chat_id: int, person_key: str | None = None
    ) -> bool:
        """Whether a button pressed in this chat (by this person) may act on the
        consultation: a crafted or forwarded button must not touch another business's."""
        owner = self._owners.get(consultation_id)
        if owner is None:
            owner = await self.log.owner(consultation_id)
        if owner is None:
            return False
        owner_chat, owner_key = owner
        return owner_chat == chat_id and (person_key is None or owner_key == person_key)

    async def feedback(self, consultation_id: str, helpful: bool) -> None:
        value = "helpful" if helpful else "not_helpful"
        await self.log.record(FeedbackRecord(consultation_id, value))

    async def hand_off(self, consultation_id: str, person_key: str | None = None) -> None:
        await self.log.record(HandoffRecord(consultation_id))
        if person_key:
            self._abstentions.pop(person_key, None)
