"""Plain records of what happened, written to the database or, during an outage, to the spool.

Each record is one change, serialisable to JSON, and applying it twice has the same effect as
applying it once: the spool can be replayed after a crash without duplicating anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from bot.clock import utcnow


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class PersonRef:
    key: str
    name: str
    telegram_id: int | None = None
    username: str | None = None
    language: str | None = None

    @classmethod
    def console(cls, login: str) -> PersonRef:
        return cls(key=f"console:{login}", name=login)

    @classmethod
    def telegram(
        cls, user_id: int, name: str, username: str | None = None, language: str | None = None
    ) -> PersonRef:
        return cls(f"tg:{user_id}", name, user_id, username, language)


@dataclass(frozen=True)
class ConsultationRecord:
    kind: ClassVar[str] = "consultation"
    id: str
    person: PersonRef
    channel: str
    question: str
    topic: str | None
    entry_id: str | None
    confidence: float
    outcome: str
    chat_id: int | None = None
    created_at: dt.datetime = dataclasses.field(default_factory=utcnow)
    subject: str | None = None
    intent: str | None = None


@dataclass(frozen=True)
class Turn:
    """One earlier question of a conversation, as the next question's context needs it."""

    at: dt.datetime
    topic: str | None
    entry_id: str | None
    subject: str | None
    intent: str | None
    outcome: str = "answered"


@dataclass(frozen=True)
class FeedbackRecord:
    kind: ClassVar[str] = "feedback"
    consultation_id: str
    feedback: str
    at: dt.datetime = dataclasses.field(default_factory=utcnow)


@dataclass(frozen=True)
class HandoffRecord:
    kind: ClassVar[str] = "handoff"
    consultation_id: str
    at: dt.datetime = dataclasses.field(default_factory=utcnow)


Record = ConsultationRecord | FeedbackRecord | HandoffRecord
KINDS: dict[str, type[Record]] = {
    cls.kind: cls for cls in (ConsultationRecord, FeedbackRecord, HandoffRecord)
}


def to_json(record: Record) -> dict[str, Any]:
    data = {"kind": record.kind}
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        elif isinstance(value, PersonRef):
            value = dataclasses.asdict(value)
        data[field.name] = value
    return data


def from_json(data: dict[str, Any]) -> Record:
    cls = KINDS[data["kind"]]
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        value = data.get(field.name)
        if field.name in ("created_at", "at") and isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        elif field.name == "person" and isinstance(value, dict):
            value = PersonRef(**value)
        if value is not None or field.name in data:
            values[field.name] = value
    return cls(**values)


# --- what the services hand to the channels ---------------------------------------------------


class DatabaseUnavailable(Exception):
    """The database could not be reached or is locked; the caller may spool and retry."""


@dataclass(frozen=True)
class Profile:
    organisation: str
    tax_code: str | None
    phone: str | None


@dataclass(frozen=True)
class ThreadInfo:
    """What staff need to see about a consultation handed to them."""

    consultation_id: str
    created_at: dt.datetime
    question: str
    topic: str | None
    entry_id: str | None
    confidence: float
    outcome: str
    chat_id: int | None
    person_name: str
    username: str | None
    organisation: str | None
    tax_code: str | None
    group_message_id: int | None = None
    group_chat_id: int | None = None


@dataclass(frozen=True)
class LogFilter:
    topic: str | None = None  # a topic, "none" for unclassified, None for all
    outcome: str | None = None  # an outcome, "negative" for negative feedback, None for all
    start: dt.datetime | None = None  # naive UTC
    end: dt.datetime | None = None
