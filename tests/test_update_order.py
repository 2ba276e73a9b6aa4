"""Updates of one chat run in order; a busy chat does not hold up the others."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from handlers.application import ChatOrderedProcessor


@dataclass
class Chat:
    id: int


@dataclass
class Update:
    effective_chat: Chat
    effective_user: None = None


async def test_one_chats_updates_never_overlap_and_keep_their_order() -> None:
    processor = ChatOrderedProcessor(8)
    running: set[int] = set()
    overlaps: list[int] = []
    order: list[int] = []
    late: list[asyncio.Task[None]] = []

    async def handle(number: int) -> None:
        if running:
            overlaps.append(number)
        running.add(number)
        await asyncio.sleep(0.01)
        if number == 1:  # the third arrives just as the first finishes, the second waiting
            late.append(asyncio.create_task(processor.process_update(Update(Chat(1)), handle(3))))
        order.append(number)
        running.discard(number)

    first = processor.process_update(Update(Chat(1)), handle(1))
    second = processor.process_update(Update(Chat(1)), handle(2))
    await asyncio.gather(first, second)
    await asyncio.gather(*late)
    assert overlaps == []
    assert order == [1, 2, 3]


async def test_a_chat_with_many_waiting_updates_does_not_hold_up_another_chat() -> None:
    processor = ChatOrderedProcessor(2)
    done: list[str] = []

    async def handle(name: str) -> None:
        await asyncio.sleep(0.02)
        done.append(name)

    busy = [processor.process_update(Update(Chat(1)), handle(f"busy {n}")) for n in range(5)]
    other = processor.process_update(Update(Chat(2)), handle("other"))
    await asyncio.gather(*busy, other)
    assert done.index("other") <= 1  # not behind the busy chat's queue
