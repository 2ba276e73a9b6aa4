"""The weekly TBT bulletin's items and weeks, and the item files staff write.

Staff write items as Markdown files (bulletins/<2026-W48>/*.md), add them in the bot, or import
the WTO ePing export (eping.py); each subscriber then receives only the items of the topics and
markets they chose (render.py). Plain Python with no Telegram in it, so the delivery engine, the
staff commands and the command line share it and tests need no bot. Like the knowledge base,
every problem is reported as `file: field: reason` and one bad file never stops the rest.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from openpyxl.utils.datetime import from_excel

from bot import frontmatter
from bot.clock import VIETNAM
from bot.qa.knowledge import Problem  # shared with `kb check`
from bot.topics import ENQUIRY_TOPICS, SHORT_LABELS

TOPICS: tuple[str, ...] = ENQUIRY_TOPICS
TOPIC_LABELS: Mapping[str, str] = SHORT_LABELS
MARKETS: tuple[str, ...] = ("EU", "US", "CN", "JP", "KR", "ASEAN", "OTHER")
MARKET_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "EU": "EU",
        "US": "Hoa Kỳ",
        "CN": "Trung Quốc",
        "JP": "Nhật Bản",
        "KR": "Hàn Quốc",
        "ASEAN": "ASEAN",
        "OTHER": "Thị trường khác",
    }
)

TITLE_LIMIT = 200  # a title is one line on a phone; the database column holds 500
SUMMARY_LIMIT = 1500  # staff summaries: a bulletin item, not an article

_WEEK = re.compile(r"^(\d{4})\s*[-/ ]?\s*W\s*(\d{1,2})$", re.IGNORECASE)
_FRONT_MATTER_PROBLEMS = {
    "missing": "thiếu phần đầu: tệp phải bắt đầu bằng dòng '---'",
    "yaml": "YAML không hợp lệ: ",
    "not_mapping": "cần các dòng dạng 'trường: giá trị'",
}
_FILE_FIELDS = ("title", "topic", "markets", "link", "deadline")
_REQUIRED_FIELDS = ("title", "topic", "markets")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_YEAR_FIRST = re.compile(
    r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_NO_DATE = frozenset({"", "-", "–", "n/a", "na", "none", "not applicable", "not stated", "nil"})
# "Draft regulation ... (12 page(s), in English)": the page count is noise in a bulletin title.
# Telegram accepts more tags than the bulletin uses; Markdown summaries are kept to these.

# --- weeks -------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week (Monday to Sunday) in Vietnam time: the bulletin's period and its folder."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9998:
            raise ValueError(f"Năm {self.year} nằm ngoài khoảng có thể lập bản tin.")
        weeks = dt.date(self.year, 12, 28).isocalendar().week  # 28/12 is always in the last week
        if not 1 <= self.number <= weeks:
            raise ValueError(
                f"Năm {self.year} có {weeks} tuần, không có tuần {self.number}. "
                "Hãy ghi theo dạng 2026-W48."
            )

    @classmethod
    def parse(cls, text: str) -> Week:
        """Read "2026-W48" (also "2026W48", "2026-w48") as typed by staff or as a folder name."""
        if match := _WEEK.match(text.strip()):
            return cls(int(match.group(1)), int(match.group(2)))
        raise ValueError(
            f"Không đọc được tuần «{text}». Hãy ghi theo dạng 2026-W48: năm, chữ W và số thứ tự "
            "tuần theo ISO (tuần bắt đầu từ thứ Hai)."
        )

    @classmethod
    def current(cls, today: dt.date) -> Week:
        """The week containing `today`; an aware datetime is first read in Vietnam time."""
        year, number, _ = _local_day(today).isocalendar()
        return cls(year, number)

    def previous(self) -> Week:
        return Week.current(self.start_date - dt.timedelta(days=7))

    def next(self) -> Week:
        return Week.current(self.start_date + dt.timedelta(days=7))

    @property
    def start_date(self) -> dt.date:
        """The Monday."""
        return dt.date.fromisocalendar(self.year, self.number, 1)

    @property
    def end_date(self) -> dt.date:
        """The Sunday (the week is start_date..end_date, both included)."""
        return self.start_date + dt.timedelta(days=6)

    @property
    def key(self) -> str:
        """ "2026-W48": the folder name and the database key."""
        return f"{self.year}-W{self.number:02d}"

    @property
    def label(self) -> str:
        """ "Tuần 48/2026 (23/11–29/11/2026)", as the bulletin heading shows it."""
        start, end = self.start_date, self.end_date
        first = f"{start:%d/%m}" if start.year == end.year else f"{start:%d/%m/%Y}"
        return f"Tuần {self.number}/{self.year} ({first}–{end:%d/%m/%Y})"

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, dt.date):
            return False
        return self.start_date <= _local_day(day) <= self.end_date

    def __str__(self) -> str:
        return self.key


def _local_day(day: dt.date) -> dt.date:
    """A date as is; a datetime's calendar day in Vietnam (naive datetimes are taken as local)."""
    if isinstance(day, dt.datetime):
        return day.astimezone(VIETNAM).date() if day.tzinfo else day.date()
    return day


# --- items and problems ------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One piece of news. No markets means every market (e.g. a change in Vietnamese rules).

    Markets are kept in MARKETS order without repeats, so equal choices compare equal.
    """

    title: str
    summary: str
    topic: str
    markets: tuple[str, ...] = ()
    link: str | None = None
    deadline: dt.date | None = None
    source: str = "file"  # file | bot | eping
    source_ref: str | None = None  # e.g. the WTO document symbol

    def __post_init__(self) -> None:
        if self.topic not in TOPICS:
            raise ValueError(
                f"Chủ đề «{self.topic}» không có; chọn một trong: {', '.join(TOPICS)}."
            )
        unknown = [market for market in self.markets if market not in MARKETS]
        if unknown:
            raise ValueError(
                f"Thị trường «{', '.join(unknown)}» không có; chọn trong: {', '.join(MARKETS)}."
            )
        ordered = tuple(market for market in MARKETS if market in self.markets)
        object.__setattr__(self, "markets", ordered)


def by_deadline(items: Iterable[Item]) -> list[Item]:
    """Soonest comment deadline first (items without one last), then by title; stable."""
    return sorted(
        items,
        key=lambda item: (item.deadline is None, item.deadline or dt.date.max, _sort_key(item)),
    )


def _sort_key(item: Item) -> str:
    return unicodedata.normalize("NFC", item.title).casefold()


def matching(
    items: Iterable[Item], topics: Iterable[str] = (), markets: Iterable[str] = ()
) -> list[Item]:
    """The items one subscriber receives, in the given order.

    An empty choice on the subscriber's side means "all"; an item without markets concerns
    every market. A choice may also be the stored comma-separated text ("tbt,conformity");
    blank choices are ignored, so an empty stored string is "all".
    """
    if isinstance(topics, str):
        topics = topics.split(",")
    if isinstance(markets, str):
        markets = markets.split(",")
    wanted_topics = {topic.strip().lower() for topic in topics if topic.strip()}
    wanted_markets = {market.strip().upper() for market in markets if market.strip()}
    return [
        item
        for item in items
        if (not wanted_topics or item.topic in wanted_topics)
        and (not wanted_markets or not item.markets or wanted_markets.intersection(item.markets))
    ]


# --- item files --------------------------------------------------------------------------------


def load_week_folder(folder: Path) -> tuple[list[Item], list[Problem]]:
    """Every item file (*.md) of a week folder; a broken file is skipped and named.

    A missing folder is an empty week (staff may only import ePing that week). Files whose
    name starts with "_" or "." are drafts and are left out. Items come by deadline, then title.
    """
    items: list[Item] = []
    problems: list[Problem] = []
    if not folder.is_dir():
        return items, problems
    for file in sorted(folder.glob("*.md")):
        if file.name.startswith(("_", ".")) or not file.is_file():
            continue
        item = _load_item_file(file, f"{folder.name}/{file.name}", problems)
        if item is not None:
            items.append(item)
    return by_deadline(items), problems


def _load_item_file(file: Path, name: str, problems: list[Problem]) -> Item | None:
    found: list[Problem] = []

    def problem(field_name: str, reason: str) -> None:
        found.append(Problem(name, field_name, reason))

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(name, "file", f"không đọc được tệp (cần lưu dạng UTF-8): {exc}"))
        return None
    try:
        meta, summary_text = frontmatter.split(text)
    except frontmatter.FrontMatterError as error:
        reason = _FRONT_MATTER_PROBLEMS[error.kind] + error.detail
        problems.append(Problem(name, "front matter", reason))
        return None

    _check_fields(meta, problem)
    title = _text(meta.get("title"))
    if len(title) > TITLE_LIMIT:
        problem("title", f"dài {len(title)} ký tự, quá {TITLE_LIMIT}: hãy rút gọn")
    topic = _text(meta.get("topic")).lower()
    if topic and topic not in TOPICS:
        problem("topic", f"«{topic}» không có; chọn một trong: {', '.join(TOPICS)}")
    markets = _file_markets(meta.get("markets"), problem) if "markets" in meta else ()
    link = _text(meta.get("link")) or None
    if link is not None and not is_web_link(link):
        problem("link", f"«{link}» phải là địa chỉ web bắt đầu bằng http:// hoặc https://")
    deadline = _deadline(meta.get("deadline"), problem)
    summary = _summary(summary_text, problem)
    problems.extend(found)
    if found:
        return None
    return Item(
        title=title,
        summary=summary,
        topic=topic,
        markets=markets,
        link=link,
        deadline=deadline,
        source="file",
        source_ref=name,
    )


def _check_fields(meta: dict[str, Any], problem: Any) -> None:
    for key in meta:
        if key not in _FILE_FIELDS:
            problem(str(key), f"trường lạ; chỉ dùng: {', '.join(_FILE_FIELDS)}")
    for key in _REQUIRED_FIELDS:
        if key not in meta or (key != "markets" and _text(meta[key]) == ""):
            problem(key, "thiếu trường này")


def _deadline(value: Any, problem: Any) -> dt.date | None:
    if not _text(value):
        return None
    try:
        return parse_day(value)
    except ValueError:
        problem(
            "deadline",
            f"«{value}» không phải ngày; ghi theo dạng YYYY-MM-DD, ví dụ 2027-01-24",
        )
        return None


def _summary(text: str, problem: Any) -> str:
    summary = nfc_text(text).strip()
    if not summary:
        problem("summary", "chưa có tóm tắt: viết tóm tắt ngay dưới dòng '---' thứ hai")
    elif len(summary) > SUMMARY_LIMIT:
        limit = f"{SUMMARY_LIMIT:,}".replace(",", ".")
        problem("summary", f"tóm tắt dài {len(summary)} ký tự, quá {limit}: hãy rút gọn")
    return summary


def _file_markets(value: Any, problem: Any) -> tuple[str, ...]:
    """A YAML list, or "EU, US" in one line; [] (or empty) means every market."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        problem("markets", "cần một danh sách, ví dụ [EU, US] hoặc [] cho mọi thị trường")
        return ()
    markets: list[str] = []
    for entry in value:
        market = _market_code(_text(entry))
        if market is None:
            problem("markets", f"«{_text(entry)}» không có; chọn trong: {', '.join(MARKETS)}")
        else:
            markets.append(market)
    return tuple(markets)


def _market_code(text: str) -> str | None:
    """ "eu" -> "EU"; the Vietnamese label ("Hoa Kỳ") is accepted too."""
    wanted = text.strip().casefold()
    for code in MARKETS:
        if wanted in (code.casefold(), MARKET_LABELS[code].casefold()):
            return code
    return None


def is_web_link(link: str) -> bool:
    return (
        link.startswith(("http://", "https://"))
        and len(link) > len("https://")
        and not any(char.isspace() or char in "<>\"'" for char in link)
    )


# --- shared helpers ----------------------------------------------------------------------------


def nfc_text(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _text(value: Any) -> str:
    return nfc_text(str(value)).strip() if value is not None else ""


def clean_cell(value: Any) -> str:
    """A cell as one line of text: numbers without ".0", whitespace collapsed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(nfc_text(str(value)).split())


def parse_day(value: Any) -> dt.date | None:
    """A date as ePing exports, Excel stores or staff type it; None when there is none.

    Raises ValueError when there is something that is not a date. Day comes before month
    ("24/11/2026"), as in Vietnam and at the WTO.
    """
    if isinstance(value, dt.datetime):
        return _local_day(value)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        if not 1 <= value < 2958466:  # Excel's serial day numbers (1900-01-01 .. 9999-12-31)
            raise ValueError(value)
        serial = from_excel(value)
        if isinstance(serial, dt.datetime):
            return serial.date()
        raise ValueError(value)
    text = clean_cell(value)
    if text.casefold() in _NO_DATE:
        return None
    if match := _DAY_FIRST.match(text):
        day, month, year = (int(group) for group in match.groups())
        return dt.date(year, month, day)
    if match := _YEAR_FIRST.match(text):
        year, month, day = (int(group) for group in match.groups())
        return dt.date(year, month, day)
    for pattern in ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    window = text[: limit - 1]
    space = window.rfind(" ")
    if space > limit // 2:
        window = window[:space]
    return window.rstrip(" ,;:-–(") + "…"
