"""Flood control shared by the bot's answers and the bulletin broadcast.

Telegram refuses a bot more than about 30 messages a second. The broadcast spaces its messages
with a RateLimiter; every answer the bot sends takes one of the broadcast's slots instead of
waiting in line (answers go first), and a 429 from either side pauses both, after which the
answer is sent again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.bulletin.delivery import RateLimiter

SENDING = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "copyMessage", "editMessageText",
     "editMessageReplyMarkup", "sendMediaGroup"}
)  # fmt: skip
RETRIES = 3
BACKOFF = 0.3  # seconds before the first retry of a failed send; doubled each time

JSON = bool | dict[str, Any] | list[dict[str, Any]]


def retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns that the type will become timedelta
        warnings.simplefilter("ignore")
        retry = error.retry_after
    return retry.total_seconds() if isinstance(retry, dt.timedelta) else float(retry)


class FloodControl(BaseRateLimiter[int]):
    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        if endpoint in SENDING:
            self.limiter.yield_slot()
        for attempt in range(RETRIES + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_seconds(error)
                self.limiter.pause(seconds)
                if attempt == RETRIES:
                    raise
                await asyncio.sleep(seconds)
            except NetworkError as error:
                # A 500/502/503 or a reset connection on sending: the answer is already
                # logged, so only the send is tried again, after a short back-off.
                if endpoint not in SENDING or not _transient(error) or attempt == RETRIES:
                    raise
                await asyncio.sleep(BACKOFF * 2**attempt)
        raise AssertionError("unreachable")


def _transient(error: NetworkError) -> bool:
    """Worth sending again: a server error or a broken connection, not a refusal."""
    return not isinstance(error, BadRequest | Forbidden | InvalidToken)
