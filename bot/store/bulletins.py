"""Storage of the TBT bulletin: subscriptions, bulletins and their items, and deliveries.

Deliveries are claimed before they are sent. On PostgreSQL the claim uses FOR UPDATE SKIP
LOCKED, so several sending processes share the work without ever taking the same row; on SQLite
the write lock taken at BEGIN IMMEDIATE serialises claims.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.store.models import Bulletin, BulletinItem, Delivery, Person, Subscriber
from bot.store.records import PersonRef
from bot.store.repository import Repository, _person

STATUSES = ("pending", "claimed", "sent", "failed", "inactive")


@dataclass(frozen=True)
class Subscription:
    subscriber_id: int
    chat_id: int
    topics: tuple[str, ...]
    markets: tuple[str, ...]
    active: bool


@dataclass(frozen=True)
class StoredItem:
    title: str
    summary: str
    topic: str
    markets: tuple[str, ...]
    link: str | None
    deadline: dt.date | None
    source: str
    source_ref: str | None


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    subscriber_id: int
    chat_id: int
    topics: tuple[str, ...]
    markets: tuple[str, ...]
    parts_sent: int
    attempts: int


@dataclass(frozen=True)
class BulletinInfo:
    id: int
    week: str
    title: str
    status: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    items: int
    counts: dict[str, int]


def _split(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split(",") if part)


def _join(values: Iterable[str]) -> str:
    return ",".join(values)


class BulletinRepository(Repository):
    # --- subscriptions -----------------------------------------------------------------------

    def subscribe(
        self, person: PersonRef, chat_id: int, topics: Sequence[str], markets: Sequence[str]
    ) -> None:
        def work(session: Session) -> None:
            row = _person(session, person)
            subscriber = session.scalar(select(Subscriber).where(Subscriber.person_id == row.id))
            if subscriber is None:
                subscriber = Subscriber(person_id=row.id, subscribed_at=utcnow())
                session.add(subscriber)
            elif not subscriber.active:
                subscriber.subscribed_at = utcnow()
            subscriber.chat_id = chat_id
            subscriber.topics = _join(topics)
            subscriber.markets = _join(markets)
            subscriber.active = True
            subscriber.unsubscribed_at = None
            subscriber.inactive_reason = None

        self._run(work)

    def unsubscribe(self, person_key: str, reason: str = "unsubscribed") -> bool:
        def work(session: Session) -> bool:
            subscriber = session.scalar(
                select(Subscriber)
                .join(Person, Person.id == Subscriber.person_id)
                .where(Person.key == person_key)
                .where(Subscriber.active.is_(True))
            )
            if subscriber is None:
                return False
            subscriber.active = False
            subscriber.unsubscribed_at = utcnow()
            subscriber.inactive_reason = reason
            return True

        return self._run(work)

    def subscription(self, person_key: str) -> Subscription | None:
        def work(session: Session) -> Subscription | None:
            row = session.scalar(
                select(Subscriber)
                .join(Person, Person.id == Subscriber.person_id)
                .where(Person.key == person_key)
            )
            return _subscription(row) if row else None

        return self._run(work)

    def active_subscriptions(self) -> list[Subscription]:
        return self._run(
            lambda s: [
                _subscription(row)
                for row in s.scalars(select(Subscriber).where(Subscriber.active.is_(True)))
            ]
        )

    # --- bulletins and items -----------------------------------------------------------------

    def bulletin_for_week(self, week: str, title: str) -> int:
        def work(session: Session) -> int:
            bulletin = session.scalar(select(Bulletin).where(Bulletin.week == week))
            if bulletin is None:
                bulletin = Bulletin(week=week, title=title, status="draft", created_at=utcnow())
                session.add(bulletin)
                session.flush()
            return bulletin.id

        return self._run(work)

    def bulletin(self, bulletin_id: int) -> BulletinInfo | None:
        def work(session: Session) -> BulletinInfo | None:
            row = session.get(Bulletin, bulletin_id)
            return None if row is None else _info(session, row)

        return self._run(work)

    def bulletins(self, limit: int = 20) -> list[BulletinInfo]:
        return self._run(
            lambda session: [
                _info(session, row)
                for row in session.scalars(
                    select(Bulletin).order_by(Bulletin.week.desc()).limit(limit)
                )
            ]
        )

    def replace_items(self, bulletin_id: int, source: str, items: Sequence[StoredItem]) -> None:
        """New items of one source (the week's files, an ePing import) replace its old ones."""

        def work(session: Session) -> None:
            session.execute(
                delete(BulletinItem)
                .where(BulletinItem.bulletin_id == bulletin_id)
                .where(BulletinItem.source == source)
            )
            _add_items(session, bulletin_id, items)

        self._run(work)

    def add_items(self, bulletin_id: int, items: Sequence[StoredItem]) -> None:
        self._run(lambda session: _add_items(session, bulletin_id, items))

    def items(self, bulletin_id: int) -> list[StoredItem]:
        return self._run(
            lambda s: [
                StoredItem(
                    row.title,
                    row.summary,
                    row.topic,
                    _split(row.markets),
                    row.link,
                    row.deadline,
                    row.source,
                    row.source_ref,
                )
                for row in s.scalars(
                    select(BulletinItem)
                    .where(BulletinItem.bulletin_id == bulletin_id)
                    .order_by(BulletinItem.position, BulletinItem.id)
                )
            ]
        )

    def set_status(self, bulletin_id: int, status: str, by: int | None = None) -> None:
        def work(session: Session) -> None:
            bulletin = session.get(Bulletin, bulletin_id)
            if bulletin is None:
                return
            bulletin.status = status
            now = utcnow()
            if status == "approved":
                bulletin.approved_by, bulletin.approved_at = by, now
            elif status == "sending" and bulletin.started_at is None:
                bulletin.started_at = now
            elif status == "sent":
                bulletin.finished_at = now

        self._run(work)

    def prepare_deliveries(self, bulletin_id: int, subscriber_ids: Iterable[int]) -> int:
        """One pending delivery per recipient; recipients that already have one are left."""

        def work(session: Session) -> int:
            existing = set(
                session.scalars(
                    select(Delivery.subscriber_id).where(Delivery.bulletin_id == bulletin_id)
                )
            )
            rows = [
                {"bulletin_id": bulletin_id, "subscriber_id": sid, "status": "pending",
                 "attempts": 0, "parts_sent": 0}
                for sid in dict.fromkeys(subscriber_ids)
                if sid not in existing
            ]  # fmt: skip
            if rows:
                session.execute(insert(Delivery), rows)
            return len(rows)

        return self._run(work)

    def release_stale_claims(self, bulletin_id: int, older_than: dt.datetime) -> int:
        """Claims left by a process that died: back to pending so the work is resumed."""

        def work(session: Session) -> int:
            result = session.execute(
                update(Delivery)
                .where(Delivery.bulletin_id == bulletin_id)
                .where(Delivery.status == "claimed")
                .where(Delivery.claimed_at < older_than)
                .values(status="pending", claimed_by=None)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

        return self._run(work)

    def release_claims_of(self, bulletin_id: int, instance: str) -> int:
        """Claims of this instance's predecessor (killed before it finished): back to pending
        at once, without waiting for their lease."""

        def work(session: Session) -> int:
            result = session.execute(
                update(Delivery)
                .where(Delivery.bulletin_id == bulletin_id)
                .where(Delivery.status == "claimed")
                .where(Delivery.claimed_by == instance)
                .values(status="pending", claimed_by=None)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

        return self._run(work)

    def oldest_claim(self, bulletin_id: int) -> dt.datetime | None:
        """When the oldest claim still open was taken (None: no claim open)."""
        return self._run(
            lambda s: s.scalar(
                select(func.min(Delivery.claimed_at))
                .where(Delivery.bulletin_id == bulletin_id)
                .where(Delivery.status == "claimed")
            )
        )

    def claim(self, bulletin_id: int, instance: str, limit: int) -> list[Claim]:
        """Take up to `limit` deliveries due now; no other process can take them meanwhile."""

        def work(session: Session) -> list[Claim]:
            now = utcnow()
            due = (
                select(Delivery.id)
                .where(Delivery.bulletin_id == bulletin_id)
                .where(Delivery.status == "pending")
                .where((Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now))
                .order_by(Delivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            ids = list(session.scalars(due))
            if not ids:
                return []
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(status="claimed", claimed_by=instance, claimed_at=now)
            )
            rows = session.execute(
                select(Delivery, Subscriber.chat_id, Subscriber.topics, Subscriber.markets)
                .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                .where(Delivery.id.in_(ids))
                .order_by(Delivery.id)
            ).all()
            return [
                Claim(
                    row.Delivery.id,
                    row.Delivery.subscriber_id,
                    row.chat_id,
                    _split(row.topics),
                    _split(row.markets),
                    row.Delivery.parts_sent,
                    row.Delivery.attempts,
                )
                for row in rows
            ]

        return self._run(work)

    def next_due(self, bulletin_id: int) -> dt.datetime | None:
        """When the earliest delivery waiting for a retry is due (None: nothing waits)."""
        return self._run(
            lambda s: s.scalar(
                select(func.min(func.coalesce(Delivery.next_attempt_at, utcnow())))
                .where(Delivery.bulletin_id == bulletin_id)
                .where(Delivery.status == "pending")
            )
        )

    def mark_part_sent(self, delivery_id: int, parts_sent: int) -> None:
        self._set(delivery_id, parts_sent=parts_sent)

    def mark_sent(self, delivery_id: int, parts_sent: int) -> None:
        self._set(delivery_id, status="sent", parts_sent=parts_sent, sent_at=utcnow())

    def mark_retry(
        self, delivery_id: int, error: str, at: dt.datetime, count_attempt: bool = True
    ) -> None:
        values: dict[str, object] = {
            "status": "pending", "last_error": error[:500], "next_attempt_at": at,
            "claimed_by": None,
        }  # fmt: skip
        if count_attempt:
            values["attempts"] = Delivery.attempts + 1
        self._set(delivery_id, **values)

    def mark_failed(self, delivery_id: int, error: str) -> None:
        self._set(
            delivery_id, status="failed", last_error=error[:500], attempts=Delivery.attempts + 1
        )

    def mark_inactive(self, delivery_id: int, subscriber_id: int, reason: str) -> None:
        def work(session: Session) -> None:
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id)
                .values(status="inactive", last_error=reason[:500])
            )
            session.execute(
                update(Subscriber)
                .where(Subscriber.id == subscriber_id)
                .values(active=False, inactive_reason=reason[:200], unsubscribed_at=utcnow())
            )

        self._run(work)

    def _set(self, delivery_id: int, **values: object) -> None:
        self._run(
            lambda s: s.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))
        )

    def progress(self, bulletin_id: int) -> dict[str, int]:
        return self._run(lambda s: _counts(s, bulletin_id))


def _subscription(row: Subscriber) -> Subscription:
    return Subscription(row.id, row.chat_id, _split(row.topics), _split(row.markets), row.active)


def _add_items(session: Session, bulletin_id: int, items: Sequence[StoredItem]) -> None:
    start = session.scalar(
        select(func.coalesce(func.max(BulletinItem.position), 0)).where(
            BulletinItem.bulletin_id == bulletin_id
        )
    )
    for offset, item in enumerate(items, start=1):
        session.add(
            BulletinItem(
                bulletin_id=bulletin_id,
                position=int(start or 0) + offset,
                title=item.title[:500],
                summary=item.summary,
                topic=item.topic,
                markets=_join(item.markets),
                link=item.link,
                deadline=item.deadline,
                source=item.source,
                source_ref=item.source_ref,
            )
        )


def _info(session: Session, row: Bulletin) -> BulletinInfo:
    items = session.scalar(
        select(func.count(BulletinItem.id)).where(BulletinItem.bulletin_id == row.id)
    )
    return BulletinInfo(
        row.id,
        row.week,
        row.title,
        row.status,
        row.created_at,
        row.finished_at,
        int(items or 0),
        _counts(session, row.id),
    )


def _counts(session: Session, bulletin_id: int) -> dict[str, int]:
    found: Counter[str] = Counter({status: 0 for status in STATUSES})
    for status, count in session.execute(
        select(Delivery.status, func.count(Delivery.id))
        .where(Delivery.bulletin_id == bulletin_id)
        .group_by(Delivery.status)
    ):
        found[status] = int(count)
    return dict(found)
