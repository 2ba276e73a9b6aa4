"""A local chat in the terminal: the same conversation, answers and log as on Telegram.

Numbers always pick from the list printed last (topics, a topic's questions, suggestions or the
options of a clarifying question), so a topic number never collides with a suggestion number.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TextIO

from bot.qa.conversation import Answered
from bot.services import Services
from bot.store.records import PersonRef
from bot.topics import SCOPE, TOPIC_LABELS

WELCOME = (
    "Trợ lý tư vấn TBT và sở hữu công nghiệp của {name}.\n"
    f"Hỏi về {SCOPE}.\n"
    "Gõ số để chọn câu hỏi gợi ý, 'chude' để xem các chủ đề, 'cb' để gửi câu vừa hỏi cho cán bộ "
    "('hoicanbo <câu hỏi>' để gửi thẳng), 'thoat' để kết thúc.\n"
)
QUIT = {"thoat", "thoát", "exit", "quit"}  # not "q" or "huy": a name or a slip
HANDOFF = {"cb", "can bo", "cán bộ", "hoi can bo", "hỏi cán bộ", "hoicanbo"}
HELP = {"help", "start", "giup", "giúp"}
TOPICS = {"chude", "chủ đề", "chu de"}
CANCEL = {"huy", "hủy"}  # only as "/huy": "Huy" alone is a name
TELEGRAM_ONLY = {
    "hoso": "Hồ sơ doanh nghiệp",
    "dangky": "Đăng ký bản tin",
    "caidat": "Cài đặt bản tin",
    "huydangky": "Hủy đăng ký bản tin",
}
NOTHING_TO_PASS = "Bạn chưa hỏi câu nào để chuyển cho cán bộ."
PASSED = "Đã chuyển câu hỏi cho cán bộ."
NOTHING_TO_CANCEL = "Không có gì đang làm dở để hủy. Gõ 'thoat' nếu bạn muốn kết thúc."
ONLY_ON_TELEGRAM = "{what} chỉ dùng được trên Telegram (lệnh /{command}); ở đây bạn hỏi đáp được."
HANDOFF_USAGE = "Gõ 'hoicanbo' rồi câu hỏi, ví dụ: hoicanbo Sản phẩm của tôi cần công bố gì?"
PICK_TOPIC = "Chọn một chủ đề (gõ số):"
PICK_QUESTION = "Các câu hỏi của chủ đề {topic} (gõ số):"


@dataclass(frozen=True)
class Choice:
    label: str
    act: Callable[[], Awaitable[Answered | None]] | None = None  # None: list a topic instead
    topic: str | None = None


class ConsoleChat:
    def __init__(self, services: Services, stdout: TextIO) -> None:
        self.services = services
        self.conversation = services.conversation
        self.person = PersonRef.console(_login())
        self.out = stdout
        self.offered: list[Choice] = []
        self.last: Answered | None = None

    def say(self, text: str) -> None:
        print(f"\nBot: {text}\n", file=self.out)

    async def handle(self, text: str) -> bool:
        """One line typed; False when the chat ends."""
        command, _, rest = text.partition(" ")
        command = command.lower().removeprefix("/")
        whole = text.lower().removeprefix("/")
        if whole in QUIT:
            return False
        if whole in HELP:
            print(WELCOME.format(name=self.services.settings.agency.name), file=self.out)
        elif whole in TOPICS:
            self._list_topics()
        elif text.startswith("/") and whole in CANCEL:
            self.say(NOTHING_TO_CANCEL)
        elif command in TELEGRAM_ONLY and not rest.strip():
            self.say(ONLY_ON_TELEGRAM.format(what=TELEGRAM_ONLY[command], command=command))
        elif whole in HANDOFF:
            await self._hand_off_last()
        elif command == "hoicanbo":
            await self._hand_off_new(rest)
        elif text.isdigit() and 1 <= int(text) <= len(self.offered):
            await self._pick(self.offered[int(text) - 1])
        else:
            self._show(await self.conversation.ask(self.person, text, "console"))
        return True

    async def _hand_off_last(self) -> None:
        if self.last is None:
            self.say(NOTHING_TO_PASS)
            return
        await self.conversation.hand_off(self.last.consultation_id, self.person.key)
        self.say(PASSED)
        self.last = None

    async def _hand_off_new(self, question: str) -> None:
        answered = await self.conversation.ask(self.person, question, "console")
        if not answered.consultation_id:
            self.say(HANDOFF_USAGE)
            return
        await self.conversation.hand_off(answered.consultation_id, self.person.key)
        self.say(PASSED)
        self.last = None

    def _list_topics(self) -> None:
        self.offered = [
            Choice(label, topic=topic)
            for topic, label in TOPIC_LABELS.items()
            if topic != "smalltalk"
        ]
        self._print_offered(PICK_TOPIC)

    async def _pick(self, choice: Choice) -> None:
        if choice.act is None and choice.topic:
            knowledge = self.services.knowledge
            self.offered = [
                self._entry_choice(entry.id, entry.title)
                for entry in knowledge.by_topic(choice.topic)
            ]
            self._print_offered(PICK_QUESTION.format(topic=choice.label))
            return
        if choice.act is not None:
            answered = await choice.act()
            if answered is not None:
                self._show(answered)

    def _entry_choice(self, entry_id: str, title: str) -> Choice:
        async def act() -> Answered | None:
            return await self.conversation.follow_up(self.person, entry_id, "console")

        return Choice(title, act)

    def _show(self, answered: Answered) -> None:
        if answered.consultation_id:  # an empty line or emoji is not a question to pass on
            self.last = answered
        reply = answered.reply
        self.say(reply.text)
        self.offered = [
            self._option_choice(option.label, option.subject, option.intent)
            for option in reply.clarify
        ] + [self._entry_choice(s.entry_id, s.title) for s in reply.suggestions]
        self._print_offered()

    def _option_choice(self, label: str, subject: str, intent: str) -> Choice:
        async def act() -> Answered | None:
            return await self.conversation.clarified(self.person, subject, intent, "console", None)

        return Choice(label, act)

    def _print_offered(self, heading: str | None = None) -> None:
        if heading and self.offered:
            print(heading, file=self.out)
        for number, choice in enumerate(self.offered, start=1):
            print(f"  {number}. {choice.label}", file=self.out)
        if self.offered:
            print(file=self.out)


async def chat(services: Services, stdin: TextIO, stdout: TextIO) -> int:
    console = ConsoleChat(services, stdout)
    print(WELCOME.format(name=services.settings.agency.name), file=stdout)
    loop = asyncio.get_running_loop()
    while True:
        print("Bạn: ", end="", file=stdout, flush=True)
        line = await loop.run_in_executor(None, stdin.readline)
        if not line or not await console.handle(line.strip()):
            print("\nTạm biệt!", file=stdout)
            await services.log.flush()
            return 0


def run_console(services: Services, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    return asyncio.run(chat(services, stdin, stdout))


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "console"
