"""The bulletin rendered for one subscriber: the items of the topics and markets they chose,
grouped, as Telegram HTML split under the message limit (bot/templates/bulletin.html.j2, which
staff may override)."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from bot.bulletin.eping import EPING_LINK
from bot.bulletin.items import MARKET_LABELS, TOPIC_LABELS, Item, Week, is_web_link
from bot.markdown import to_html
from bot.messages import LIMIT, split_html
from bot.templating import environment

# Groups in the bulletin: the notifications it is named after first.
GROUP_ORDER: tuple[str, ...] = ("tbt", "conformity", "base_standard", "barcode", "ip")
TEMPLATE = "bulletin.html.j2"
CONTINUED_ROOM = 200  # room kept in every part for the "continued" heading of parts 2..n
_EXTRA_TAGS = re.compile(r"</?(?:s|code|pre)>")
_ANY_TAG = re.compile(r"<[^>]*>")
_LINK_TAG = re.compile(r"<a\s+href=([\"'])(.*?)\1\s*>(.*?)</a>", re.DOTALL | re.IGNORECASE)


# --- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    """An item as the template sees it: labels resolved, summary already safe HTML."""

    number: int
    title: str
    summary: Markup
    topic: str
    topic_label: str
    markets: tuple[str, ...]  # labels; empty means every market
    deadline: dt.date | None
    link: str | None
    source: str
    source_ref: str | None


@dataclass(frozen=True)
class TopicGroup:
    topic: str
    label: str
    items: list[ItemView]


def _environment(templates: Path | None) -> jinja2.Environment:
    return environment(templates)


def _summary_html(item: Item) -> Markup:
    """Staff files are Markdown (bold, italics, links); other sources are plain text.

    A Markdown link that is not a web address (a relative path, a typo) keeps only its text:
    Telegram refuses a whole message over one bad link.
    """
    if item.source != "file":
        return Markup(html.escape(item.summary, quote=False))
    rendered = _EXTRA_TAGS.sub("", to_html(item.summary))
    rendered = _LINK_TAG.sub(
        lambda match: (
            match.group(0) if is_web_link(html.unescape(match.group(2))) else match.group(3)
        ),
        rendered,
    )
    return Markup(rendered)


def _context(items: Sequence[Item], week: Week, agency_name: str) -> dict[str, Any]:
    groups: list[TopicGroup] = []
    number = 0
    for topic in GROUP_ORDER:
        views: list[ItemView] = []
        for item in items:
            if item.topic != topic:
                continue
            number += 1
            views.append(
                ItemView(
                    number=number,
                    title=item.title,
                    summary=_summary_html(item),
                    topic=topic,
                    topic_label=TOPIC_LABELS[topic],
                    markets=tuple(MARKET_LABELS[market] for market in item.markets),
                    deadline=item.deadline,
                    link=item.link if item.link and is_web_link(item.link) else None,
                    source=item.source,
                    source_ref=item.source_ref if item.source == "eping" else None,
                )
            )
        if views:
            groups.append(TopicGroup(topic, TOPIC_LABELS[topic], views))
    return {
        "week_label": week.label,
        "week_key": week.key,
        "agency_name": agency_name,
        "count": number,
        "groups": groups,
        "has_eping": any(item.source == "eping" for item in items),
        "eping_link": EPING_LINK,
    }


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row (edited templates drift)."""
    lines = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", lines).strip()


def _render_module(
    items: Sequence[Item], week: Week, agency_name: str, templates: Path | None
) -> tuple[str, Any]:
    template = _environment(templates).get_template(TEMPLATE)
    module = template.make_module(_context(items, week, agency_name))
    return _tidy(str(module)), getattr(module, "continued", None)


def render(
    items: Sequence[Item], week: Week, agency_name: str, templates: Path | None = None
) -> list[str]:
    """The bulletin as Telegram HTML messages, each under 4,096 characters; [] with no item.

    Pass the items one subscriber receives (see `matching`). Long bulletins are split between
    items; parts after the first start with the template's `continued` heading.
    """
    if not items:
        return []
    text, continued = _render_module(items, week, agency_name, templates)
    parts = split_html(text, LIMIT - CONTINUED_ROOM)
    if len(parts) > 1 and callable(continued):
        headed = [parts[0]]
        for position, part in enumerate(parts[1:], start=2):
            heading = _tidy(str(continued(position, len(parts))))
            fits = heading and len(heading) + 2 + len(part) <= LIMIT
            headed.append(f"{heading}\n\n{part}" if fits else part)
        parts = headed
    return parts


def render_text(
    items: Sequence[Item], week: Week, agency_name: str, templates: Path | None = None
) -> str:
    """The bulletin as plain text for the command line: the same words subscribers get."""
    if not items:
        return f"Bản tin TBT {week.label}: chưa có tin nào."
    text, _ = _render_module(items, week, agency_name, templates)
    return html_to_text(text)


def html_to_text(text: str) -> str:
    """Telegram HTML -> plain text; a link keeps its address in brackets."""
    text = _LINK_TAG.sub(
        lambda match: (
            f"{match.group(3)} ({match.group(2)})"
            if match.group(2) not in match.group(3)
            else match.group(3)
        ),
        text,
    )
    return html.unescape(_ANY_TAG.sub("", text))
