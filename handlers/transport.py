"""HTTP transport to the Bot API on aiohttp's client.

python-telegram-bot's default transport (httpx) spent most of the bot's CPU under load: its
connection pool re-checks every idle connection on every request. This transport keeps a small
keep-alive pool and does the same job at a fraction of the cost (bench/e2e.py measures it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import aiohttp
from telegram import Update
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.qa.text import cleaned

log = logging.getLogger(__name__)


def _readable(update: Any) -> dict[str, Any]:
    """The update, or only its id when python-telegram-bot cannot read it: one malformed
    update must not stop polling (it would be fetched again and again)."""
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return {"update_id": 0}
    clean = cast(dict[str, Any], cleaned(update))  # NULs, lone surrogates: cleaned here
    try:
        Update.de_json(clean, None)
    except Exception:
        log.error("update %s cannot be read and is skipped", clean["update_id"])
        return {"update_id": clean["update_id"]}
    return clean


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        connection_pool_size: int = 8,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        # Called with each batch of updates fetched, before it is handed on (the inbox).
        self.on_updates: Callable[[list[dict[str, Any]]], Awaitable[None]] | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        write = write_timeout
        if isinstance(write, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        connect = connect_timeout
        if isinstance(connect, DefaultValue):
            connect = self._connect_timeout
        pool = None if isinstance(pool_timeout, DefaultValue) else pool_timeout
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=pool,
            sock_connect=connect,
            sock_read=max(filter(None, (read, write)), default=None),
        )
        data: Any = None
        body: Any = None
        if request_data is not None and files:
            data = _form(request_data)
        elif request_data is not None:
            body = request_data.parameters  # one JSON body, which the Bot API accepts
        try:
            async with self._session.request(
                method, url, data=data, json=body, timeout=timeout
            ) as response:
                status, payload = response.status, await response.read()
        except TimeoutError as error:  # asyncio.TimeoutError is the same class since 3.11
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error
        if status == 200 and url.endswith("/getUpdates"):
            payload = await self._received(payload)
        return status, payload

    async def _received(self, payload: bytes) -> bytes:
        """A getUpdates answer before python-telegram-bot sees it: updates it could not read
        are reduced to their id (skipped, so polling goes on and confirms them), and the
        batch is recorded in the inbox before the next offset confirms it to Telegram."""
        try:
            answer = json.loads(payload)
        except ValueError:
            return payload
        updates = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(updates, list):
            return payload
        readable = [_readable(update) for update in updates]
        if self.on_updates is not None and readable:
            await self.on_updates(readable)
        answer["result"] = readable
        return json.dumps(answer).encode()


def _form(request_data: RequestData) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, upload in request_data.multipart_data.items():
        filename, content, *rest = upload
        content_type = rest[0] if rest else "application/octet-stream"
        form.add_field(name, content, filename=filename, content_type=content_type)
    return form
