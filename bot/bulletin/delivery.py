"""The bulletin delivery engine: every subscriber gets the bulletin once, at the rate Telegram
allows, without holding up the bot's answers. No Telegram here: it sends through a `Sender`.

Each delivery is claimed in the database before it is sent and marked right after each message,
so a process that is killed resumes where it stopped (its stale claims are released after a
lease) and the messages already marked are never sent again. The one unavoidable gap is a crash
between Telegram accepting a message and the mark being written (about a millisecond): that
single message may be sent again on resume.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.clock import utcnow
from bot.store.bulletins import BulletinRepository, Claim

log = logging.getLogger(__name__)


class SendError(Exception):
    """Why a message could not be delivered; the subclass says what to do about it."""


class RetryLater(SendError):
    """Flood control (429): everybody waits `retry_after` seconds, then this is sent again."""

    def __init__(self, retry_after: float, message: str = "Too Many Requests") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unreachable(SendError):
    """The bot was blocked, the account deleted or the chat is gone (403, 400): never retry."""


class Transient(SendError):
    """A server error or a network failure: try again later, a limited number of times."""


class Rejected(SendError):
    """Telegram refused the message itself (another 400): retrying would not help."""


class Sender(Protocol):
    async def send(self, chat_id: int, text: str) -> None: ...


Render = Callable[[tuple[str, ...], tuple[str, ...]], list[str]]


@dataclass(frozen=True)
class BroadcastSettings:
    rate: float = 25.0  # messages per second, overall
    per_chat_interval: float = 1.0  # seconds between two messages to one chat
    max_attempts: int = 5  # for server and network errors
    backoff: float = 2.0  # seconds before the first retry, doubled each time
    concurrency: int = 32  # deliveries in flight
    batch: int = 50  # deliveries claimed at once
    lease: float = 120.0  # seconds after which another process may take over a claim


@dataclass
class Progress:
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        return self.counts.get("pending", 0) + self.counts.get("claimed", 0)


class RateLimiter:
    """At most `rate` messages in any one-second window, evenly spaced; a 429 pauses all.

    The window is counted at the moment messages actually leave, so a stall of the event loop
    followed by a catch-up burst cannot exceed Telegram's limit.
    """

    WINDOW = 1.0

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.interval = 1.0 / rate
        self.clock = clock
        self._next = 0.0
        self._paused_until = 0.0
        self._recent: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _forget(self, now: float) -> None:
        while self._recent and now - self._recent[0] >= self.WINDOW:
            self._recent.popleft()

    async def acquire(self) -> None:
        while True:
            async with self._lock:
                now = self.clock()
                self._forget(now)
                free = len(self._recent) < self.rate
                ready = max(self._next, self._paused_until)
                if free and now >= ready:
                    self._recent.append(now)
                    self._next = now + self.interval
                    return
                wait = ready - now
                if not free:
                    wait = max(wait, self._recent[0] + self.WINDOW - now)
            await asyncio.sleep(max(wait, 0.001))

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    def yield_slot(self) -> None:
        """Another message is going out now (an answer): it counts against the same limit."""
        now = self.clock()
        self._forget(now)  # also when no broadcast runs, so the window never grows
        self._recent.append(now)
        self._next = max(self._next, now) + self.interval


MIN_WAIT = 0.5  # seconds: an idle sender waiting for retries or leases does not spin
MAX_WAIT = 30.0


class Broadcast:
    def __init__(
        self,
        store: BulletinRepository,
        sender: Sender,
        render: Render,
        settings: BroadcastSettings | None = None,
        instance: str | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.store = store
        self.sender = sender
        self.render = render
        self.settings = settings or BroadcastSettings()
        self.instance = instance or uuid.uuid4().hex[:12]
        self.limiter = limiter or RateLimiter(self.settings.rate)
        self._rendered: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}
        self.progress = Progress()

    async def run(
        self, bulletin_id: int, on_progress: Callable[[Progress], None] | None = None
    ) -> Progress:
        """Send every pending delivery of the bulletin; returns when none is left to try."""
        lease = dt.timedelta(seconds=self.settings.lease)
        queue: asyncio.Queue[Claim | None] = asyncio.Queue(maxsize=self.settings.concurrency)
        workers = [
            asyncio.create_task(self._worker(queue, on_progress))
            for _ in range(self.settings.concurrency)
        ]
        try:
            while True:
                # Claims of a sender that died (another process, or one killed before this
                # one started) go back to pending once their lease is over: taken over here.
                await asyncio.to_thread(
                    self.store.release_stale_claims, bulletin_id, utcnow() - lease
                )
                claims = await asyncio.to_thread(
                    self.store.claim, bulletin_id, self.instance, self.settings.batch
                )
                for claim in claims:
                    await queue.put(claim)
                if claims:
                    continue
                await queue.join()  # what is in flight may schedule retries
                wake = await asyncio.to_thread(self._next_wake, bulletin_id, lease)
                if wake is None:
                    break
                seconds = (wake - utcnow()).total_seconds()
                await asyncio.sleep(min(max(seconds, MIN_WAIT), MAX_WAIT))
        finally:
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers, return_exceptions=True)
        self.progress.counts = await asyncio.to_thread(self.store.progress, bulletin_id)
        if on_progress:
            on_progress(self.progress)
        return self.progress

    def _next_wake(self, bulletin_id: int, lease: dt.timedelta) -> dt.datetime | None:
        """When there may be work again: a retry falls due, or another sender's claim runs
        out of lease; None when neither waits (the bulletin is done)."""
        due = self.store.next_due(bulletin_id)
        oldest = self.store.oldest_claim(bulletin_id)
        times = [t for t in (due, oldest + lease if oldest else None) if t is not None]
        return min(times) if times else None

    async def _worker(
        self, queue: asyncio.Queue[Claim | None], on_progress: Callable[[Progress], None] | None
    ) -> None:
        while (claim := await queue.get()) is not None:
            try:
                await self._deliver(claim)
            except Exception:  # a bug must not stop the other deliveries
                log.exception("delivery %s failed unexpectedly", claim.delivery_id)
                await asyncio.to_thread(
                    self.store.mark_retry,
                    claim.delivery_id,
                    "internal error",
                    utcnow() + dt.timedelta(seconds=self.settings.backoff),
                )
            finally:
                queue.task_done()
            if on_progress:
                on_progress(self.progress)

    def _parts(self, claim: Claim) -> list[str]:
        key = (claim.topics, claim.markets)
        if key not in self._rendered:
            self._rendered[key] = self.render(claim.topics, claim.markets)
        return self._rendered[key]

    async def _deliver(self, claim: Claim) -> None:
        parts = self._parts(claim)
        sent = claim.parts_sent
        for number, text in enumerate(parts[sent:], start=sent + 1):
            if number > 1:
                await asyncio.sleep(self.settings.per_chat_interval)  # one message/s per chat
            await self.limiter.acquire()
            try:
                await self.sender.send(claim.chat_id, text)
            except RetryLater as error:
                self.limiter.pause(error.retry_after)
                await self._retry(claim, str(error), error.retry_after, count=False)
                return
            except Unreachable as error:
                await asyncio.to_thread(
                    self.store.mark_inactive, claim.delivery_id, claim.subscriber_id, str(error)
                )
                return
            except Rejected as error:
                await asyncio.to_thread(self.store.mark_failed, claim.delivery_id, str(error))
                return
            except (Transient, OSError, TimeoutError) as error:
                if claim.attempts + 1 >= self.settings.max_attempts:
                    await asyncio.to_thread(self.store.mark_failed, claim.delivery_id, str(error))
                else:
                    delay = self.settings.backoff * 2**claim.attempts
                    await self._retry(claim, str(error) or type(error).__name__, delay, count=True)
                return
            if number < len(parts):
                await asyncio.to_thread(self.store.mark_part_sent, claim.delivery_id, number)
        await asyncio.to_thread(self.store.mark_sent, claim.delivery_id, len(parts))

    async def _retry(self, claim: Claim, error: str, delay: float, count: bool) -> None:
        at = utcnow() + dt.timedelta(seconds=delay)
        await asyncio.to_thread(self.store.mark_retry, claim.delivery_id, error, at, count)
