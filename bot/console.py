"""A local chat in the terminal: the same conversation, answers and log as on Telegram."""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import TextIO

from bot.answers import Suggestion
from bot.conversation import Answered
from bot.services import Services
from bot.store.records import PersonRef

WELCOME = (
    "Trợ lý tư vấn TBT và sở hữu công nghiệp của {name}.\n"
    "Hỏi về mã số mã vạch, tiêu chuẩn cơ sở, công bố hợp chuẩn/hợp quy, sở hữu công nghiệp, TBT.\n"
    "Gõ số để chọn câu hỏi gợi ý, 'cb' để gửi câu vừa hỏi cho cán bộ, 'thoat' để kết thúc.\n"
)
QUIT = {"thoat", "thoát", "exit", "quit", "q", "huy", "hủy"}
HANDOFF = {"cb", "can bo", "cán bộ", "hoi can bo", "hỏi cán bộ", "hoicanbo"}
HELP = {"help", "start", "giup", "giúp"}


async def chat(services: Services, stdin: TextIO, stdout: TextIO) -> int:
    conversation = services.conversation
    person = PersonRef.console(_login())
    print(WELCOME.format(name=services.settings.agency.name), file=stdout)
    offered: tuple[Suggestion, ...] = ()
    last: Answered | None = None
    loop = asyncio.get_running_loop()
    while True:
        print("Bạn: ", end="", file=stdout, flush=True)
        line = await loop.run_in_executor(None, stdin.readline)
        text = line.strip()
        command = text.lower().removeprefix("/")  # people used to Telegram type "/thoat"
        if not line or command in QUIT:
            print("\nTạm biệt!", file=stdout)
            await services.log.flush()
            return 0
        if command in HELP:
            print(WELCOME.format(name=services.settings.agency.name), file=stdout)
            continue
        if command in HANDOFF:
            if last is None:
                print("\nBot: Bạn chưa hỏi câu nào để chuyển cho cán bộ.\n", file=stdout)
                continue
            await conversation.hand_off(last.consultation_id, person.key)
            print("\nBot: Đã chuyển câu hỏi cho cán bộ.\n", file=stdout)
            last = None
            continue
        answered: Answered | None = None
        if text.isdigit() and 1 <= int(text) <= len(offered):
            answered = await conversation.follow_up(
                person, offered[int(text) - 1].entry_id, "console"
            )
        if answered is None:
            answered = await conversation.ask(person, text, "console")
        if answered.consultation_id:  # an empty line or emoji is not a question to pass on
            last = answered
        print(f"\nBot: {answered.reply.text}\n", file=stdout)
        offered = answered.reply.suggestions
        for number, suggestion in enumerate(offered, start=1):
            print(f"  {number}. {suggestion.title}", file=stdout)
        if offered:
            print(file=stdout)


def run_console(services: Services, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    return asyncio.run(chat(services, stdin, stdout))


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "console"
