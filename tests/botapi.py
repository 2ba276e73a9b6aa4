"""A local Telegram Bot API server for end-to-end tests and benchmarks.

It speaks the HTTP Bot API that python-telegram-bot talks to through `base_url`: users send
messages and press buttons on one side, the bot's real HTTP requests arrive on the other, and
tests assert on what the user would see. Faults (403, 429, 5xx) can be injected per chat, and an
overall send rate can be enforced the way Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456789:TEST_token_abcdefghijklmnopqrstuvwxyz"
BOT_ID = 123456789
BOT_USERNAME = "tbt_test_bot"
SENDING = {"sendMessage", "sendPhoto", "sendDocument", "copyMessage"}


@dataclass(frozen=True)
class User:
    id: int
    first_name: str = "Lan"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "vi"

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class Chat:
    id: int
    type: str = "private"
    title: str | None = None

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title:
            data["title"] = self.title
        return data


@dataclass
class Sent:
    """One message the bot sent, as the user sees it."""

    method: str
    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None
    at: float
    params: dict[str, Any]

    @property
    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    def button(self, label_start: str) -> str:
        for text, data in self.buttons:
            if text.startswith(label_start):
                return data
        raise AssertionError(f"no button starting with {label_start!r} in {self.buttons}")


@dataclass
class Fault:
    """An error the server answers instead of delivering, for one chat."""

    status: int
    description: str
    retry_after: int | None = None
    times: int | None = 1  # None: every time


@dataclass
class FakeBotApi:
    token: str = TOKEN
    rate_limit: float | None = None  # messages per second overall, like Telegram's flood limit
    sent: list[Sent] = field(default_factory=list)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    faults: dict[int, list[Fault]] = field(default_factory=dict)
    rejected: list[tuple[int, int]] = field(default_factory=list)  # (chat id, status)
    enqueued_at: dict[int, float] = field(default_factory=dict)  # update id -> time
    # After this many messages, sends hang (as if Telegram stopped answering) until released.
    stall_after: int | None = None
    delivered_at: dict[int, float] = field(default_factory=dict)  # update id -> getUpdates

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callback_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._changed = asyncio.Event()
        self._chat_waiters: dict[int, list[tuple[int, asyncio.Future[None]]]] = {}
        self._recent_sends: deque[float] = deque()
        self._runner: web.AppRunner | None = None
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._by_chat: dict[int, list[Sent]] = {}
        self._released = asyncio.Event()
        self._drop_stalled = False
        self.stalled = 0
        self.webhook: dict[str, Any] | None = None
        self.base_url = ""

    # --- server lifecycle --------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        return self.base_url

    def release_stalled(self, deliver: bool) -> None:
        """Let hanging sends go on (`deliver`) or fail them as never delivered."""
        self.stall_after = None
        self._drop_stalled = not deliver
        self._released.set()

    def count_to(self, chat_id: int) -> int:
        return len(self.to_chat(chat_id))

    async def stop(self) -> None:
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- the user's side ---------------------------------------------------------------------

    def _message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, kind: payload})
        self.enqueued_at[update_id] = time.perf_counter()
        self._new_update.set()
        return update_id

    def user_message(
        self,
        user: User,
        text: str | None = None,
        chat: Chat | None = None,
        reply_to: Sent | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        chat = chat or Chat(user.id)
        message: dict[str, Any] = {
            "message_id": self._message_id(chat.id),
            "date": int(time.time()),
            "chat": chat.to_api(),
            "from": user.to_api(),
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
            mention = f"@{BOT_USERNAME}"
            if mention in text:
                before = text[: text.index(mention)]
                message.setdefault("entities", []).append(  # in UTF-16 code units, as Telegram
                    {"type": "mention", "offset": _units(before), "length": _units(mention)}
                )
        if reply_to is not None:
            message["reply_to_message"] = self.messages[(reply_to.chat_id, reply_to.message_id)]
        message.update(extra)
        self.messages[(chat.id, message["message_id"])] = message
        return message

    def send_text(
        self, user: User, text: str, chat: Chat | None = None, reply_to: Sent | None = None
    ) -> int:
        return self._enqueue("message", self.user_message(user, text, chat, reply_to))

    def send_edit(self, user: User, text: str) -> int:
        """The user edits a message they sent: Telegram sends an edited_message update."""
        edited = self.user_message(user, text) | {"edit_date": int(time.time())}
        return self._enqueue("edited_message", edited)

    def send_sticker(self, user: User, chat: Chat | None = None) -> int:
        sticker = {
            "file_id": "CAACAgIAAxkBAAE",
            "file_unique_id": "AgADsticker",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self._enqueue("message", self.user_message(user, None, chat, sticker=sticker))

    def send_photo(self, user: User, caption: str | None = None, chat: Chat | None = None) -> int:
        photo = [
            {
                "file_id": "AgACAgIAAxkBAAphoto",
                "file_unique_id": "AQADphoto",
                "width": 90,
                "height": 90,
                "file_size": 1200,
            }
        ]
        extra: dict[str, Any] = {"photo": photo}
        if caption:
            extra["caption"] = caption
        return self._enqueue("message", self.user_message(user, None, chat, **extra))

    def press(self, user: User, message: Sent, data: str) -> int:
        original = self.messages[(message.chat_id, message.message_id)]
        query = {
            "id": str(next(self._callback_ids)),
            "from": user.to_api(),
            "chat_instance": str(message.chat_id),
            "message": original,
            "data": data,
        }
        return self._enqueue("callback_query", query)

    # --- waiting for the bot -----------------------------------------------------------------

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; the bot sent: {[s.text[:80] for s in self.sent]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.2))

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = 10.0) -> None:
        """Until `count` messages have been sent to the chat. Only this chat's waiter wakes, so
        that 50 simulated users do not all wake on every message (bench/e2e.py measures the
        bot, not this server)."""
        if len(self.to_chat(chat_id)) >= count:
            return
        future = asyncio.get_running_loop().create_future()
        waiters = self._chat_waiters.setdefault(chat_id, [])
        waiters.append((count, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            sent = [s.text[:80] for s in self.sent]
            raise AssertionError(f"timed out; the bot sent: {sent}") from None
        finally:
            if (count, future) in waiters:
                waiters.remove((count, future))

    def _wake(self, chat_id: int) -> None:
        have = len(self.to_chat(chat_id))
        for count, future in self._chat_waiters.get(chat_id, []):
            if have >= count and not future.done():
                future.set_result(None)

    def to_chat(self, chat_id: int) -> list[Sent]:
        return self._by_chat.get(chat_id, [])

    async def replies(self, chat_id: int, count: int = 1, timeout: float = 10.0) -> list[Sent]:
        """Wait for `count` new messages in a chat (after those already read) and return them."""
        seen = getattr(self, "_read", {})
        self._read = seen
        start = seen.get(chat_id, 0)
        await self.wait_for_messages(chat_id, start + count, timeout)
        got = self.to_chat(chat_id)[start : start + count]
        seen[chat_id] = start + count
        return got

    async def settle(self, quiet: float = 0.3) -> None:
        """Wait until the bot has been silent for `quiet` seconds."""
        last = len(self.sent) + len(self.edits) + len(self.callback_answers)
        while True:
            await asyncio.sleep(quiet)
            now = len(self.sent) + len(self.edits) + len(self.callback_answers)
            if now == last:
                return
            last = now

    # --- the bot's side ----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        self.requests.append(method)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        if method in SENDING:
            if self.stall_after is not None and len(self.sent) >= self.stall_after:
                self.stalled += 1
                self._changed.set()
                await self._released.wait()
                if self._drop_stalled:  # the sender is gone: nothing was delivered
                    return _error(502, "Bad Gateway")
            refused = self._refuse(int(params.get("chat_id", 0)))
            if refused is not None:
                return refused
        result = handler(params)
        if asyncio.iscoroutine(result):
            result = await result
        self._changed.set()
        return web.json_response({"ok": True, "result": result})

    def _refuse(self, chat_id: int) -> web.Response | None:
        plan = self.faults.get(chat_id)
        if plan:
            fault = plan[0]
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    plan.pop(0)
            self.rejected.append((chat_id, fault.status))
            self._changed.set()
            return _error(fault.status, fault.description, fault.retry_after)
        if self.rate_limit:
            now = time.monotonic()
            while self._recent_sends and now - self._recent_sends[0] > 1.0:
                self._recent_sends.popleft()
            if len(self._recent_sends) >= self.rate_limit:
                self.rejected.append((chat_id, 429))
                return _error(429, "Too Many Requests: retry after 1", 1)
            self._recent_sends.append(now)
        return None

    def _bot(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý TBT", "username": BOT_USERNAME}

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._bot() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = params
        return True

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        scope = params.get("scope") or {"type": "default"}
        key = json.dumps(scope, sort_keys=True)
        self.commands[key] = params["commands"]
        return True

    def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        scope = params.get("scope") or {"type": "default"}
        self.commands.pop(json.dumps(scope, sort_keys=True), None)
        return True

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            allowed = json.loads(allowed)

        def wanted(update: dict[str, Any]) -> bool:
            # like Telegram, updates of a kind the bot did not ask for are not kept
            return update["update_id"] >= offset and (
                not allowed or any(kind in update for kind in allowed)
            )

        self._updates = [u for u in self._updates if wanted(u)]
        if not self._updates and timeout:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        self._updates = [u for u in self._updates if wanted(u)]
        batch = self._updates[:limit]
        now = time.perf_counter()
        for update in batch:
            self.delivered_at.setdefault(update["update_id"], now)
        return batch

    def _record(self, method: str, params: dict[str, Any], text: str) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message_id = self._message_id(chat_id)
        markup = params.get("reply_markup")
        sent = Sent(method, chat_id, message_id, text, markup, time.perf_counter(), params)
        self.sent.append(sent)
        self._by_chat.setdefault(chat_id, []).append(sent)
        self._wake(chat_id)
        chat_type = "private" if chat_id > 0 else "supergroup"
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type},
            "from": self._bot(),
        }
        if text:
            message["text" if method == "sendMessage" else "caption"] = text
        if markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message_id)] = message
        return message

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._record("sendMessage", params, str(params.get("text", "")))

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._record("sendPhoto", params, str(params.get("caption", "")))

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._record("sendDocument", params, str(params.get("caption", "")))

    def _api_copyMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        source = self.messages.get((int(params["from_chat_id"]), int(params["message_id"])), {})
        text = source.get("text") or source.get("caption") or ""
        message = self._record("copyMessage", params, str(text))
        return {"message_id": message["message_id"]}

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        self.callback_answers.append(params)
        return True

    def _edit(self, params: dict[str, Any]) -> dict[str, Any]:
        self.edits.append(params)
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = dict(self.messages.get(key, {}))
        if "text" in params:
            message["text"] = params["text"]
        message["reply_markup"] = params.get("reply_markup")
        if message.get("reply_markup") is None:
            message.pop("reply_markup", None)
        self.messages[key] = message
        return message

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params)


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data: dict[str, Any] = await request.json()
        return data
    form = await request.post()
    raw: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, web.FileField):  # an uploaded file: keep its name and bytes
            raw[key] = {"filename": value.filename, "content": value.file.read()}
        else:
            raw[key] = value
    params: dict[str, Any] = {}
    for key, value in raw.items():  # nested values arrive JSON-encoded in forms
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[key] = value
    return params


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
