"""A local chat in the terminal with the same answers as on Telegram (no token needed)."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.answers import Answerer, Suggestion
from bot.config import Settings

WELCOME = (
    "Trợ lý tư vấn TBT và sở hữu công nghiệp của {name}.\n"
    "Hỏi về mã số mã vạch, tiêu chuẩn cơ sở, công bố hợp chuẩn/hợp quy, sở hữu công nghiệp, TBT.\n"
    "Gõ số để chọn câu hỏi gợi ý; gõ 'thoat' hoặc Ctrl-D để kết thúc.\n"
)
QUIT = {"thoat", "thoát", "exit", "quit", "q"}


def run_console(
    answerer: Answerer, settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> int:
    print(WELCOME.format(name=settings.agency.name), file=stdout)
    offered: tuple[Suggestion, ...] = ()
    while True:
        print("Bạn: ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line or line.strip().lower() in QUIT:
            print("\nTạm biệt!", file=stdout)
            return 0
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= len(offered):
            reply = answerer.answer_entry(offered[int(text) - 1].entry_id)
        else:
            reply = answerer.ask(text)
        print(f"\nBot: {reply.text}\n", file=stdout)
        offered = reply.suggestions
        if offered:
            print("Gợi ý:", file=stdout)
            for number, suggestion in enumerate(offered, start=1):
                print(f"  {number}. {suggestion.title}", file=stdout)
            print(file=stdout)
