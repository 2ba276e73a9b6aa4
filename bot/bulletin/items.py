"""Authoring of the weekly TBT bulletin: items, weeks, sources, choice per subscriber, rendering.

Staff write items as Markdown files (bulletins/<2026-W48>/*.md), add them in the bot, or import
the WTO ePing export; each subscriber then receives only the items of the topics and markets
they chose, as Telegram HTML. Plain Python with no Telegram in it, so the delivery engine, the
staff commands and the command line share it and tests need no bot. Like the knowledge base,
every problem is reported as `file: field: reason` and one bad file or row never stops the rest.
The wording lives in bot/templates/bulletin.html.j2, which staff may override.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jinja2
from markupsafe import Markup
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException

from bot import frontmatter
from bot.clock import VIETNAM
from bot.markdown import to_html
from bot.messages import LIMIT, split_html
from bot.qa.knowledge import Problem  # shared with `kb check`
from bot.templating import environment
from bot.topics import ENQUIRY_TOPICS, SHORT_LABELS

TEMPLATE = "bulletin.html.j2"

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

# Groups in the bulletin: the notifications it is named after first.
GROUP_ORDER: tuple[str, ...] = ("tbt", "conformity", "base_standard", "barcode", "ip")
TITLE_LIMIT = 200  # a title is one line on a phone; the database column holds 500
SUMMARY_LIMIT = 1500  # staff summaries: a bulletin item, not an article
EPING_SUMMARY_LIMIT = 600  # ePing descriptions are long legal English; keep the gist
EPING_LINK = "https://epingalert.org/"  # the home page; per-notification links need ePing's own id
CONTINUED_ROOM = 200  # room kept in every part for the "continued" heading of parts 2..n

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
_PAGES = re.compile(r"[\s.,;]*\(\s*\d+\s*pages?(?:\(s\))?[^()]*\)\s*\.?\s*$", re.IGNORECASE)
# Telegram accepts more tags than the bulletin uses; Markdown summaries are kept to these.
_EXTRA_TAGS = re.compile(r"</?(?:s|code|pre)>")
_ANY_TAG = re.compile(r"<[^>]*>")
_LINK_TAG = re.compile(r"<a\s+href=([\"'])(.*?)\1\s*>(.*?)</a>", re.DOTALL | re.IGNORECASE)

# ePing export columns: internal key -> header as ePing writes it.
EPING_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "symbol": "Document symbol",
        "member": "Notifying Member",
        "title": "Title",
        "description": "Description",
        "products": "Products covered",
        "hs": "HS code(s)",
        "ics": "ICS code(s)",
        "keywords": "Keywords",
        "objectives": "Objectives",
        "distributed": "Distribution date",
        "deadline": "Final date for comments",
    }
)
_EPING_REQUIRED = ("symbol", "member", "title", "distributed")
_HEADER_SEARCH_ROWS = 50  # an export may carry a few lines of preamble above its header

_EU_STATES = (
    "austria",
    "belgium",
    "bulgaria",
    "croatia",
    "cyprus",
    "czech republic",
    "czechia",
    "denmark",
    "estonia",
    "finland",
    "france",
    "germany",
    "greece",
    "hungary",
    "ireland",
    "italy",
    "latvia",
    "lithuania",
    "luxembourg",
    "malta",
    "netherlands",
    "the netherlands",
    "kingdom of the netherlands",
    "poland",
    "portugal",
    "romania",
    "slovak republic",
    "slovakia",
    "slovenia",
    "spain",
    "sweden",
)
_ASEAN_STATES = (
    "brunei darussalam",
    "brunei",
    "cambodia",
    "indonesia",
    "lao people's democratic republic",
    "lao pdr",
    "laos",
    "malaysia",
    "myanmar",
    "philippines",
    "the philippines",
    "singapore",
    "thailand",
    "viet nam",
    "vietnam",
)
_MEMBER_MARKETS: Mapping[str, str] = MappingProxyType(
    {
        "european union": "EU",
        "european communities": "EU",
        **dict.fromkeys(_EU_STATES, "EU"),
        "united states of america": "US",
        "united states": "US",
        "usa": "US",
        "china": "CN",
        "people's republic of china": "CN",
        "japan": "JP",
        "korea, republic of": "KR",
        "republic of korea": "KR",
        "korea": "KR",
        **dict.fromkeys(_ASEAN_STATES, "ASEAN"),
    }
)


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

    for key in meta:
        if key not in _FILE_FIELDS:
            problem(str(key), f"trường lạ; chỉ dùng: {', '.join(_FILE_FIELDS)}")
    for key in _REQUIRED_FIELDS:
        if key not in meta or (key != "markets" and _text(meta[key]) == ""):
            problem(key, "thiếu trường này")

    title = _text(meta.get("title"))
    if len(title) > TITLE_LIMIT:
        problem("title", f"dài {len(title)} ký tự, quá {TITLE_LIMIT}: hãy rút gọn")
    topic = _text(meta.get("topic")).lower()
    if topic and topic not in TOPICS:
        problem("topic", f"«{topic}» không có; chọn một trong: {', '.join(TOPICS)}")
    markets = _file_markets(meta.get("markets"), problem) if "markets" in meta else ()
    link = _text(meta.get("link")) or None
    if link is not None and not _is_web_link(link):
        problem("link", f"«{link}» phải là địa chỉ web bắt đầu bằng http:// hoặc https://")
    deadline = None
    if _text(meta.get("deadline")):
        try:
            deadline = _date(meta.get("deadline"))
        except ValueError:
            problem(
                "deadline",
                f"«{meta.get('deadline')}» không phải ngày; ghi theo dạng YYYY-MM-DD, "
                "ví dụ 2027-01-24",
            )

    summary = _nfc(summary_text).strip()
    if not summary:
        problem("summary", "chưa có tóm tắt: viết tóm tắt ngay dưới dòng '---' thứ hai")
    elif len(summary) > SUMMARY_LIMIT:
        limit = f"{SUMMARY_LIMIT:,}".replace(",", ".")
        problem("summary", f"tóm tắt dài {len(summary)} ký tự, quá {limit}: hãy rút gọn")

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


def _is_web_link(link: str) -> bool:
    return (
        link.startswith(("http://", "https://"))
        and len(link) > len("https://")
        and not any(char.isspace() or char in "<>\"'" for char in link)
    )


# --- WTO ePing export --------------------------------------------------------------------------


def market_of(member: str) -> str:
    """The bulletin market of a WTO member as ePing names it ("Korea, Republic of" -> "KR").

    EU member states belong to the EU market even though the EU notifies for them.
    """
    name = " ".join(_nfc(member).replace("’", "'").replace("‘", "'").split()).casefold()
    return _MEMBER_MARKETS.get(name.rstrip("."), "OTHER")


WHOLE_FILE = ("file", "header")  # problems of an import that make every row unreadable


class _UnreadableFile(Exception):
    """The export as a whole cannot be read; the reason is for staff."""


def import_eping(path: Path, week: Week) -> tuple[list[Item], list[Problem]]:
    """The week's TBT notifications from an ePing export (.xlsx or .csv).

    Rows distributed outside the week are skipped silently, as are empty rows. A row of the
    week (or whose distribution date cannot be read) with a missing symbol, member or title, or
    an unreadable date, is reported by its row number as the spreadsheet shows it and skipped.
    A symbol seen twice keeps its last row. Items come by deadline, then title.
    """
    name = path.name
    try:
        rows = _eping_rows(path)
        header = _find_header(rows)
    except _UnreadableFile as exc:
        return [], [Problem(name, "file", str(exc))]
    if header is None:
        wanted = ", ".join(EPING_COLUMNS[key] for key in _EPING_REQUIRED)
        reason = f"không tìm thấy dòng tiêu đề có đủ các cột {wanted}"
        return [], [Problem(name, "header", reason)]
    header_index, columns = header

    kept: dict[str, Item] = {}
    problems: list[Problem] = []
    for row_number, row in rows[header_index + 1 :]:
        cells = {key: row[index] if index < len(row) else None for key, index in columns.items()}
        if all(_clean(value) == "" for value in row):
            continue
        item, reasons = _eping_item(cells, week)
        if reasons:
            problems.append(Problem(name, f"dòng {row_number}", "; ".join(reasons)))
        elif item is not None:
            key = _symbol_key(item.source_ref or "")
            kept[key] = item  # a symbol seen again: its last row wins
    return by_deadline(kept.values()), problems


def _eping_item(cells: Mapping[str, Any], week: Week) -> tuple[Item | None, list[str]]:
    """The item of one row, None when outside the week, or the reasons the row is bad."""
    reasons: list[str] = []
    distributed: dt.date | None = None
    raw_distributed = cells.get("distributed")
    try:
        distributed = _date(raw_distributed)
    except ValueError:
        reasons.append(_not_a_date("distributed", raw_distributed))
    else:
        if distributed is None:
            reasons.append(f"thiếu {EPING_COLUMNS['distributed']}")
        elif distributed not in week:
            return None, []

    symbol = " ".join(_clean(cells.get("symbol")).split())
    member = _clean(cells.get("member"))
    title = _clean(cells.get("title"))
    missing = [
        EPING_COLUMNS[key]
        for key, value in (("symbol", symbol), ("member", member), ("title", title))
        if not value
    ]
    if missing:
        reasons.insert(0, f"thiếu {', '.join(missing)}")
    deadline: dt.date | None = None
    raw_deadline = cells.get("deadline")
    try:
        deadline = _date(raw_deadline)
    except ValueError:
        reasons.append(_not_a_date("deadline", raw_deadline))
    if reasons:
        return None, reasons

    heading = _PAGES.sub("", title) or title
    item = Item(
        title=_shorten(f"{member}: {heading}", TITLE_LIMIT),
        summary=_eping_summary(cells, symbol),
        topic="tbt",
        markets=(market_of(member),),
        link=None,  # ePing's notification pages are keyed by its own id, not by the symbol
        deadline=deadline,
        source="eping",
        source_ref=symbol,
    )
    return item, []


def _not_a_date(key: str, value: Any) -> str:
    hint = "ghi dạng 24/11/2026 hoặc 2026-11-24"
    return f"{EPING_COLUMNS[key]} «{_clean(value)}» không phải ngày ({hint})"


def _eping_summary(cells: Mapping[str, Any], symbol: str) -> str:
    """The description, then products and HS codes briefly, within EPING_SUMMARY_LIMIT."""
    description = _clean(cells.get("description")) or _clean(cells.get("objectives"))
    products = _shorten(_clean(cells.get("products")), 160)
    hs_codes = _shorten(_clean(cells.get("hs")), 60)
    if products and hs_codes:
        tail = f"Sản phẩm: {products} (mã HS: {hs_codes})"
    elif products:
        tail = f"Sản phẩm: {products}"
    elif hs_codes:
        tail = f"Mã HS: {hs_codes}"
    else:
        tail = ""
    if not description:
        description = f"Chưa có mô tả; xem toàn văn thông báo {symbol}."
    room = EPING_SUMMARY_LIMIT - len(tail) - 1 if tail else EPING_SUMMARY_LIMIT
    return "\n".join(part for part in (_shorten(description, room), tail) if part)


def _eping_rows(path: Path) -> list[tuple[int, list[Any]]]:
    """(row number as the spreadsheet shows it, cells) of the first sheet or of the CSV."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix == ".csv":
        return _csv_rows(path)
    raise _UnreadableFile(
        f"chỉ nhận tệp .xlsx hoặc .csv xuất từ ePing (tệp này là «{path.suffix or 'không đuôi'}»)"
    )


def _xlsx_rows(path: Path) -> list[tuple[int, list[Any]]]:
    try:
        workbook = load_workbook(path, data_only=True)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise _UnreadableFile(f"không mở được bảng tính .xlsx: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        return [
            (number, list(values))
            for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
        ]
    finally:
        workbook.close()


def _csv_rows(path: Path) -> list[tuple[int, list[Any]]]:
    """A record is one spreadsheet row even when a quoted cell spans several lines."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise _UnreadableFile(f"không đọc được tệp: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise _UnreadableFile("tệp CSV không phải UTF-8: hãy lưu lại dạng «CSV UTF-8»") from exc
    # Sniff the separator: the one under which the header's column names appear.
    first: list[tuple[int, list[Any]]] | None = None
    for delimiter in (",", ";", "\t"):
        try:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            rows: list[tuple[int, list[Any]]] = [
                (number, list(record)) for number, record in enumerate(reader, start=1)
            ]
        except csv.Error as exc:
            raise _UnreadableFile(f"tệp CSV hỏng: {exc}") from exc
        if first is None:
            first = rows
        if _find_header(rows) is not None:
            return rows
    return first or []


def _find_header(rows: Sequence[tuple[int, list[Any]]]) -> tuple[int, dict[str, int]] | None:
    """(index in rows, column of each known key) of the first row naming the required columns."""
    names = {_header_name(title): key for key, title in EPING_COLUMNS.items()}
    for index, (_, row) in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for position, value in enumerate(row):
            key = names.get(_header_name(_clean(value)))
            if key is not None and key not in columns:
                columns[key] = position
        if all(key in columns for key in _EPING_REQUIRED):
            return index, columns
    return None


def _header_name(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").split()).casefold()


def _symbol_key(symbol: str) -> str:
    return "".join(symbol.split()).upper()


# --- shared helpers ----------------------------------------------------------------------------


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _text(value: Any) -> str:
    return _nfc(str(value)).strip() if value is not None else ""


def _clean(value: Any) -> str:
    """A cell as one line of text: numbers without ".0", whitespace collapsed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(_nfc(str(value)).split())


def _date(value: Any) -> dt.date | None:
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
    text = _clean(value)
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


def _shorten(text: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    window = text[: limit - 1]
    space = window.rfind(" ")
    if space > limit // 2:
        window = window[:space]
    return window.rstrip(" ,;:-–(") + "…"


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
            match.group(0) if _is_web_link(html.unescape(match.group(2))) else match.group(3)
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
                    link=item.link if item.link and _is_web_link(item.link) else None,
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
