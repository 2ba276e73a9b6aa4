"""Render the knowledge base's Markdown subset as Telegram HTML or as plain text.

Telegram's HTML has no lists or headings, so lists become bullet lines; raw HTML written in a
knowledge file is shown as text, never interpreted.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark", {"html": False}).disable("html_inline").disable("html_block")

_HTML_TAGS = {
    "strong_open": "<b>",
    "strong_close": "</b>",
    "em_open": "<i>",
    "em_close": "</i>",
    "s_open": "<s>",
    "s_close": "</s>",
}


@lru_cache(maxsize=4096)
def to_html(markdown: str) -> str:
    """Telegram-safe HTML (every piece of text escaped). Cached: answers repeat all day."""
    return _render(markdown, html=True)


@lru_cache(maxsize=4096)
def to_plain(markdown: str) -> str:
    """Plain text for the console, the CLI and JSON consumers."""
    return _render(markdown, html=False)


def _render(markdown: str, html: bool) -> str:
    blocks: list[str] = []
    lists: list[list[int]] = []  # stack of [next number] (0 for bullets)
    prefix = ""
    for token in _PARSER.parse(markdown):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            start = int(token.attrGet("start") or 1) if kind == "ordered_list_open" else 0
            lists.append([start])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            counter = lists[-1]
            indent = "  " * (len(lists) - 1)
            if counter[0]:
                prefix = f"{indent}{counter[0]}. "
                counter[0] += 1
            else:
                prefix = f"{indent}• "
        elif kind == "inline":
            text = _inline(token.children or [], html)
            if token.level and prefix == "" and blocks and lists:
                blocks[-1] += "\n" + text  # continuation paragraph inside a list item
            else:
                blocks.append(prefix + text)
            prefix = ""
        elif kind in ("fence", "code_block"):
            code = token.content.rstrip("\n")
            blocks.append(f"<pre>{escape(code)}</pre>" if html else code)
        elif kind == "hr":
            blocks.append("—")
    return _join(blocks)


def _join(blocks: list[str]) -> str:
    out: list[str] = []
    for block in blocks:
        is_item = block.lstrip().startswith(("• ",)) or _numbered(block)
        if out and is_item and (out[-1].lstrip().startswith("• ") or _numbered(out[-1])):
            out[-1] += "\n" + block
        else:
            out.append(block)
    return "\n\n".join(out).strip()


def _numbered(block: str) -> bool:
    head = block.lstrip().split(". ", 1)[0]
    return head.isdigit() and ". " in block


def _inline(children: list[Token], html: bool) -> str:
    parts: list[str] = []
    links: list[tuple[str, int]] = []  # (href, where the link text starts)
    for child in children:
        kind = child.type
        if kind == "text":
            parts.append(escape(child.content, quote=False) if html else child.content)
        elif kind == "code_inline":
            content = child.content
            parts.append(f"<code>{escape(content, quote=False)}</code>" if html else content)
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind == "link_open":
            href = str(child.attrGet("href") or "")
            links.append((href, len(parts)))
            if html:
                parts.append(f'<a href="{escape(href)}">')
        elif kind == "link_close":
            href, start = links.pop() if links else ("", len(parts))
            label = "".join(parts[start:])
            if html:
                parts.append("</a>")
            elif href and _bare(href) not in label:
                parts.append(f" ({href})")
        elif html and kind in _HTML_TAGS:
            parts.append(_HTML_TAGS[kind])
        elif kind == "image":
            parts.append(escape(child.content) if html else child.content)
    return "".join(parts)


def _bare(url: str) -> str:
    """'https://ipvietnam.gov.vn/' -> 'ipvietnam.gov.vn', to avoid repeating a link's own text."""
    return url.split("://", 1)[-1].rstrip("/")
