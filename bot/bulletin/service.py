"""The weekly bulletin from items to deliveries, shared by the bot and the command line."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import astuple
from pathlib import Path

from bot.bulletin.delivery import (
    Broadcast,
    BroadcastSettings,
    Progress,
    RateLimiter,
    Render,
    Sender,
)
from bot.bulletin.eping import WHOLE_FILE, import_eping
from bot.bulletin.items import Item, Week, load_week_folder, matching
from bot.bulletin.render import render
from bot.config import Settings
from bot.qa.knowledge import Problem
from bot.store.bulletins import BulletinInfo, BulletinRepository, StoredItem, Subscription
from bot.store.records import PersonRef


def stored(item: Item) -> StoredItem:
    return StoredItem(*astuple(item))


def loaded(item: StoredItem) -> Item:
    return Item(*astuple(item))


class BulletinService:
    def __init__(self, repository: BulletinRepository, settings: Settings) -> None:
        self.repository = repository
        self.settings = settings
        self._resumed: set[int] = set()
        self._instance: str | None = None

    @property
    def instance(self) -> str:
        """This installation's sender name, kept in a file beside the spool so that a
        restarted process recognises the claims its killed predecessor left."""
        if self._instance is None:
            path = self.settings.spool_path.with_name("sender-id")
            try:
                self._instance = path.read_text(encoding="utf-8").strip() or None
            except OSError:
                self._instance = None
            if self._instance is None:
                self._instance = uuid.uuid4().hex[:12]
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(self._instance, encoding="utf-8")
                except OSError:
                    pass  # a read-only folder: claims are then resumed after their lease
        return self._instance

    def title(self, week: Week) -> str:
        return f"Bản tin TBT {week.label}"

    def compose(self, week: Week) -> tuple[int, list[Problem]]:
        """The week's bulletin with the items of its folder read again (other items kept)."""
        bulletin_id = self.repository.bulletin_for_week(week.key, self.title(week))
        items, problems = load_week_folder(self.settings.bulletins_path / week.key)
        self.repository.replace_items(bulletin_id, "file", [stored(i) for i in items])
        return bulletin_id, problems

    def import_eping(self, path: Path, week: Week) -> tuple[int, int, list[Problem]]:
        """Notifications of the week from an ePing export; a new import replaces the last."""
        items, problems = import_eping(path, week)
        unreadable = [p for p in problems if p.field in WHOLE_FILE]
        if unreadable:  # a wrong or broken file must not wipe the week's earlier import
            raise ValueError(f"{unreadable[0]} (chưa nhập gì; giữ nguyên lần nhập trước)")
        bulletin_id = self.repository.bulletin_for_week(week.key, self.title(week))
        self.repository.replace_items(bulletin_id, "eping", [stored(i) for i in items])
        return bulletin_id, len(items), problems

    def add_item(self, week: Week, item: Item) -> int:
        bulletin_id = self.repository.bulletin_for_week(week.key, self.title(week))
        self.repository.add_items(bulletin_id, [stored(item)])
        return bulletin_id

    def items(self, bulletin_id: int) -> list[Item]:
        return [loaded(item) for item in self.repository.items(bulletin_id)]

    def renderer(self, bulletin_id: int, week: Week) -> Render:
        items = self.items(bulletin_id)
        agency = self.settings.agency.name
        templates = self.settings.templates_path

        def parts(topics: tuple[str, ...], markets: tuple[str, ...]) -> list[str]:
            return render(matching(items, topics, markets), week, agency, templates)

        return parts

    def preview(self, bulletin_id: int, week: Week) -> list[str]:
        """The bulletin as a subscriber to every topic and market would receive it."""
        return self.renderer(bulletin_id, week)((), ())

    def prepare(self, bulletin_id: int) -> int:
        """Deliveries for every active subscriber with at least one matching item."""
        items = self.items(bulletin_id)
        found = [
            s.subscriber_id
            for s in self.repository.active_subscriptions()
            if matching(items, s.topics, s.markets)
        ]
        return self.repository.prepare_deliveries(bulletin_id, found)

    def broadcast_settings(self) -> BroadcastSettings:
        config = self.settings.bulletin
        return BroadcastSettings(
            rate=config.rate,
            per_chat_interval=config.per_chat_interval,
            max_attempts=config.max_attempts,
            backoff=config.retry_backoff,
            lease=config.lease_seconds,
        )

    async def send(
        self,
        bulletin_id: int,
        sender: Sender,
        on_progress: Callable[[Progress], None] | None = None,
        instance: str | None = None,
        limiter: RateLimiter | None = None,
    ) -> Progress:
        """Prepare and deliver; safe to run again after a crash, or in two processes at once."""
        info = await asyncio.to_thread(self.repository.bulletin, bulletin_id)
        if info is None:
            raise LookupError(f"no bulletin {bulletin_id}")
        week = Week.parse(info.week)
        await asyncio.to_thread(self.repository.set_status, bulletin_id, "sending")
        await asyncio.to_thread(self.prepare, bulletin_id)
        instance = instance or self.instance
        if bulletin_id not in self._resumed:
            # The first send of this bulletin in this process: claims under this instance's
            # name were left by its predecessor, killed mid-way; they are resumed at once.
            self._resumed.add(bulletin_id)
            await asyncio.to_thread(self.repository.release_claims_of, bulletin_id, instance)
        engine = Broadcast(
            self.repository,
            sender,
            self.renderer(bulletin_id, week),
            self.broadcast_settings(),
            instance,
            limiter,
        )
        progress = await engine.run(bulletin_id, on_progress)
        if not progress.pending:
            await asyncio.to_thread(self.repository.set_status, bulletin_id, "sent")
        return progress

    # --- for the channels: async, each blocking call in a worker thread ------------------------

    async def subscription_of(self, person_key: str) -> Subscription | None:
        return await asyncio.to_thread(self.repository.subscription, person_key)

    async def subscribe(
        self, person: PersonRef, chat_id: int, topics: list[str], markets: list[str]
    ) -> None:
        await asyncio.to_thread(self.repository.subscribe, person, chat_id, topics, markets)

    async def unsubscribe(self, person_key: str) -> bool:
        """False when the person was not subscribed."""
        return await asyncio.to_thread(self.repository.unsubscribe, person_key)

    async def approve(self, bulletin_id: int, by: int | None = None) -> None:
        await asyncio.to_thread(self.repository.set_status, bulletin_id, "approved", by)

    async def recent(self, limit: int) -> list[BulletinInfo]:
        return await asyncio.to_thread(self.repository.bulletins, limit)

    async def find(self, bulletin_id: int) -> BulletinInfo | None:
        return await asyncio.to_thread(self.repository.bulletin, bulletin_id)

    async def draft(self, week: Week) -> tuple[int, list[Problem]]:
        """The week's bulletin composed from the item files (see compose)."""
        return await asyncio.to_thread(self.compose, week)

    async def preview_of(self, bulletin_id: int, week: Week) -> list[str]:
        return await asyncio.to_thread(self.preview, bulletin_id, week)

    async def has_items(self, bulletin_id: int) -> bool:
        return bool(await asyncio.to_thread(self.items, bulletin_id))

    async def add(self, week: Week, item: Item) -> int:
        return await asyncio.to_thread(self.add_item, week, item)
