"""The one Jinja2 environment for everything a business or staff member reads that is laid out
by a template (answers about products, the bulletin, the report, the statistics message), and
the Vietnamese ways of writing numbers, dates and durations that those templates share.

Templates live in bot/templates; a folder of staff-edited templates overrides those of the same
name. Only `.html.j2` templates are escaped: report text and Markdown must not get `&amp;`.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"
DATE_FORMAT = "%d/%m/%Y"


def format_number(value: int) -> str:
    """1234 -> "1.234": Vietnamese groups thousands with dots."""
    return f"{value:,}".replace(",", ".")


def format_padded(value: int) -> str:
    """Counts as administrative documents write them: 3 -> "03", 12 -> "12", 1234 -> "1.234"."""
    return f"{value:02d}" if 0 < value < 10 else format_number(value)


def format_percent(fraction: float) -> str:
    """0.125 -> "12,5", 0.2 -> "20": one decimal, comma separator, sign left to the words."""
    text = f"{abs(fraction) * 100:,.1f}".translate(str.maketrans(",.", ".,"))
    return text.removesuffix(",0")


def format_duration(value: dt.timedelta) -> str:
    """A waiting time in words: "2 giờ 30 phút", "1 ngày 3 giờ", "dưới 1 phút"."""
    minutes = round(value.total_seconds() / 60)
    if minutes < 1:
        return "dưới 1 phút"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} ngày"] if days else []
    if hours:
        parts.append(f"{hours} giờ")
    if minutes and not days:
        parts.append(f"{minutes} phút")
    return " ".join(parts)


def format_date(day: dt.date | None) -> str:
    """24/01/2027, as Vietnamese documents write dates."""
    return day.strftime(DATE_FORMAT) if day else ""


@lru_cache(maxsize=8)
def environment(overrides: Path | None = None) -> jinja2.Environment:
    """Templates in `overrides` take the place of the packaged ones of the same name."""
    folders = [str(overrides), str(TEMPLATES)] if overrides else [str(TEMPLATES)]
    found = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default=False, default_for_string=False
        ),
        # A misspelt variable in an edited template must fail, not leave a figure out.
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    found.filters.update(
        number=format_number,
        padded=format_padded,
        percent=format_percent,
        duration=format_duration,
        vndate=format_date,
    )
    return found
