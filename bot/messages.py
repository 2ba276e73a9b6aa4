"""Telegram limits a message to 4,096 characters; long HTML is split at paragraph, line or word
boundaries, closing tags at the end of a part and reopening them at the start of the next."""

from __future__ import annotations

import re

LIMIT = 4096
_TAG = re.compile(r"<(/?)([a-z]+)([^>]*)>")


def split_html(text: str, limit: int = LIMIT) -> list[str]:
    parts: list[str] = []
    reopen = ""
    rest = text
    while rest:
        room = limit - len(reopen) - 40  # space for the tags closed at the end of the part
        if len(rest) <= room:
            parts.append(reopen + rest)
            break
        cut = _cut(rest, room)
        piece, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        chunk = reopen + piece
        still_open = _open_tags(chunk)
        parts.append(chunk + "".join(f"</{name}>" for name, _ in reversed(still_open)))
        reopen = "".join(f"<{name}{attrs}>" for name, attrs in still_open)
    return [part for part in parts if part.strip()]


def _cut(text: str, room: int) -> int:
    window = text[:room]
    for separator in ("\n\n", "\n", " "):
        position = window.rfind(separator)
        if position > room // 2:
            return _outside_tag(text, position)
    return _outside_tag(text, room)


def _outside_tag(text: str, position: int) -> int:
    start = text.rfind("<", 0, position)
    if start != -1 and text.find(">", start) >= position:
        return start  # never cut inside a tag
    entity = text.rfind("&", 0, position)
    if entity != -1 and ";" not in text[entity:position] and position - entity < 10:
        return entity  # nor inside an entity such as &amp;
    return position


def _open_tags(html: str) -> list[tuple[str, str]]:
    stack: list[tuple[str, str]] = []
    for closing, name, attrs in _TAG.findall(html):
        if closing:
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    del stack[i]
                    break
        else:
            stack.append((name, attrs))
    return stack
