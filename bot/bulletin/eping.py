"""The WTO ePing export (.xlsx or .csv) read into bulletin items: the notifications of the week,
each with its notifying member's market; a bad row is reported and skipped, never the file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from bot.bulletin.items import (
    TITLE_LIMIT,
    Item,
    Week,
    by_deadline,
    clean_cell,
    nfc_text,
    parse_day,
    shorten,
)
from bot.qa.knowledge import Problem

EPING_SUMMARY_LIMIT = 600  # ePing descriptions are long legal English; keep the gist
EPING_LINK = "https://epingalert.org/"  # the home page; per-notification links need ePing's own id
_PAGES = re.compile(r"[\s.,;]*\(\s*\d+\s*pages?(?:\(s\))?[^()]*\)\s*\.?\s*$", re.IGNORECASE)

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


# --- WTO ePing export --------------------------------------------------------------------------


def market_of(member: str) -> str:
    """The bulletin market of a WTO member as ePing names it ("Korea, Republic of" -> "KR").

    EU member states belong to the EU market even though the EU notifies for them.
    """
    name = " ".join(nfc_text(member).replace("’", "'").replace("‘", "'").split()).casefold()
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
        if all(clean_cell(value) == "" for value in row):
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
        distributed = parse_day(raw_distributed)
    except ValueError:
        reasons.append(_not_a_date("distributed", raw_distributed))
    else:
        if distributed is None:
            reasons.append(f"thiếu {EPING_COLUMNS['distributed']}")
        elif distributed not in week:
            return None, []

    symbol = " ".join(clean_cell(cells.get("symbol")).split())
    member = clean_cell(cells.get("member"))
    title = clean_cell(cells.get("title"))
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
        deadline = parse_day(raw_deadline)
    except ValueError:
        reasons.append(_not_a_date("deadline", raw_deadline))
    if reasons:
        return None, reasons

    heading = _PAGES.sub("", title) or title
    item = Item(
        title=shorten(f"{member}: {heading}", TITLE_LIMIT),
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
    return f"{EPING_COLUMNS[key]} «{clean_cell(value)}» không phải ngày ({hint})"


def _eping_summary(cells: Mapping[str, Any], symbol: str) -> str:
    """The description, then products and HS codes briefly, within EPING_SUMMARY_LIMIT."""
    description = clean_cell(cells.get("description")) or clean_cell(cells.get("objectives"))
    products = shorten(clean_cell(cells.get("products")), 160)
    hs_codes = shorten(clean_cell(cells.get("hs")), 60)
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
    return "\n".join(part for part in (shorten(description, room), tail) if part)


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
            key = names.get(_header_name(clean_cell(value)))
            if key is not None and key not in columns:
                columns[key] = position
        if all(key in columns for key in _EPING_REQUIRED):
            return index, columns
    return None


def _header_name(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").split()).casefold()


def _symbol_key(symbol: str) -> str:
    return "".join(symbol.split()).upper()
