"""Quarterly statistics of the consultation log, for the department's quarterly report.

Plain Python over SQLAlchemy Core (no Telegram): the report, the staff statistics message and
the command line all read the same `QuarterStats`. Times are stored as naive UTC, but the
department reports by calendar quarter in Vietnam time, so quarters are cut at local midnight.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from bot.clock import to_utc, to_vietnam
from bot.store.statistics import PeriodCounts, period_counts, statistics_reader
from bot.topics import ENQUIRY_TOPICS

if TYPE_CHECKING:
    from sqlalchemy import Engine  # a type only: the queries live in bot/store

# Topics that count as enquiries, in report order; small talk is not an enquiry.
REPORT_TOPICS: tuple[str, ...] = ENQUIRY_TOPICS
TOP_ENTRIES = 5
ROMAN = ("I", "II", "III", "IV")
_NO_TITLES: Mapping[str, str] = MappingProxyType({})
_YEAR_FIRST = re.compile(r"^(\d{4})\s*[-/ ]?\s*q\s*([1-4])$", re.IGNORECASE)
_QUARTER_FIRST = re.compile(r"^q\s*([1-4])\s*[-/ ]?\s*(\d{4})$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter in Vietnam time (the department's reporting period)."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4:
            raise ValueError(f"Quý phải từ 1 đến 4 (đang là {self.number}).")
        if not 1900 <= self.year <= 9998:
            raise ValueError(f"Năm {self.year} nằm ngoài khoảng có thể thống kê.")

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Read "2026-Q3" (also "2026Q3", "q3-2026", "Q3/2026") as typed by staff."""
        cleaned = text.strip()
        if match := _YEAR_FIRST.match(cleaned):
            return cls(int(match.group(1)), int(match.group(2)))
        if match := _QUARTER_FIRST.match(cleaned):
            return cls(int(match.group(2)), int(match.group(1)))
        raise ValueError(
            f"Không đọc được quý «{text}». Hãy ghi theo dạng 2026-Q3: năm, chữ Q và số thứ tự "
            "quý từ 1 đến 4."
        )

    @classmethod
    def current(cls, today: dt.date) -> Quarter:
        """The quarter containing `today` (a date in Vietnam)."""
        return cls(today.year, (today.month - 1) // 3 + 1)

    @classmethod
    def containing(cls, utc: dt.datetime) -> Quarter:
        """The quarter a stored (naive UTC) time falls in, in Vietnam time."""
        return cls.current(to_vietnam(utc).date())

    def previous(self) -> Quarter:
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    def next(self) -> Quarter:
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)

    @property
    def label(self) -> str:
        """ "Quý III/2026", as the department writes it."""
        return f"Quý {ROMAN[self.number - 1]}/{self.year}"

    @property
    def months(self) -> tuple[int, int, int]:
        first = 3 * (self.number - 1) + 1
        return (first, first + 1, first + 2)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.months[0], 1)

    @property
    def last_day(self) -> dt.date:
        following = self.next()
        return dt.date(following.year, following.months[0], 1) - dt.timedelta(days=1)

    @property
    def start(self) -> dt.datetime:
        """Naive UTC of local midnight on the first day (2026-Q3 -> 2026-06-30 17:00)."""
        return to_utc(dt.datetime.combine(self.first_day, dt.time()))

    @property
    def end(self) -> dt.datetime:
        """Naive UTC of the next quarter's start; the quarter is [start, end)."""
        return self.next().start

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


@dataclass(frozen=True)
class TopEntry:
    """A knowledge-base entry and how many enquiries it answered."""

    entry_id: str
    title: str
    count: int


@dataclass
class QuarterStats:
    """Every figure of the quarterly report. Smalltalk is never counted.

    Topic keys are the knowledge-base topics; None stands for enquiries the bot could not
    place in a topic (it abstained). Dictionaries keyed by topic hold every report topic, with
    zeros, in report order, so tables always have the same rows.
    """

    quarter: Quarter
    enquiries: int
    by_topic: dict[str | None, int]
    by_month: dict[int, dict[str | None, int]]
    people: int
    organisations: int
    # An asker is the organisation when the person gave one, else the person: what the report
    # calls "doanh nghiệp" or "đơn vị".
    askers: int
    askers_by_topic: dict[str | None, int]
    answered_by_bot: int
    answered_by_staff: int
    unanswered: int
    handed_off: int
    median_staff_answer: dt.timedelta | None
    helpful: int
    not_helpful: int
    top_entries: dict[str, list[TopEntry]]
    bulletins: int
    bulletin_recipients: int
    previous: QuarterStats | None = field(default=None)

    @property
    def answered(self) -> int:
        return self.answered_by_bot + self.answered_by_staff

    @property
    def feedback(self) -> int:
        return self.helpful + self.not_helpful

    @property
    def helpful_ratio(self) -> float | None:
        """Share of rated answers found helpful; None when nobody rated anything."""
        return self.helpful / self.feedback if self.feedback else None

    @property
    def change(self) -> float | None:
        """Relative change of enquiries since the previous quarter (0.2 = +20%)."""
        if self.previous is None or self.previous.enquiries == 0:
            return None
        return (self.enquiries - self.previous.enquiries) / self.previous.enquiries


def _topic_keys(seen: set[str | None]) -> list[str | None]:
    """Report topics first, then any topic the log knows and this code does not, then None."""
    unknown = sorted(topic for topic in seen if topic is not None and topic not in REPORT_TOPICS)
    return [*REPORT_TOPICS, *unknown, None]


def quarter_stats(
    engine: Engine,
    quarter: Quarter,
    titles: Mapping[str, str] = _NO_TITLES,
    with_previous: bool = True,
) -> QuarterStats:
    """Compute the quarter's figures (and the previous quarter's, for the comparison)."""
    with statistics_reader(engine) as connection:
        current = _figures(period_counts(connection, quarter.start, quarter.end), quarter, titles)
        if with_previous:
            previous = quarter.previous()
            counts = period_counts(connection, previous.start, previous.end)
            current.previous = _figures(counts, previous, titles)
    return current


def _figures(counts: PeriodCounts, quarter: Quarter, titles: Mapping[str, str]) -> QuarterStats:
    keys = _topic_keys({topic for topic, _, _ in counts.per_topic})
    by_topic: dict[str | None, int] = dict.fromkeys(keys, 0)
    askers_by_topic: dict[str | None, int] = dict.fromkeys(keys, 0)
    for topic, count, askers in counts.per_topic:
        by_topic[topic] = count
        askers_by_topic[topic] = askers
    # Months are cut in Vietnam time; bucketing in Python keeps SQLite and PostgreSQL alike.
    by_month: dict[int, dict[str | None, int]] = {
        month: dict.fromkeys(keys, 0) for month in quarter.months
    }
    for created_at, topic in counts.moments:
        by_month[to_vietnam(created_at).month][topic] += 1
    waits = [wait.total_seconds() for wait in counts.waits]
    median_wait = dt.timedelta(seconds=statistics.median(waits)) if waits else None
    outcomes: Counter[str] = Counter(counts.outcomes)
    feedback: Counter[str] = Counter(counts.feedback)
    return QuarterStats(
        quarter=quarter,
        enquiries=counts.enquiries,
        by_topic=by_topic,
        by_month=by_month,
        people=counts.people,
        organisations=counts.organisations,
        askers=counts.askers,
        askers_by_topic=askers_by_topic,
        answered_by_bot=outcomes["answered"],
        answered_by_staff=outcomes["staff_answered"],
        unanswered=outcomes["abstained"] + outcomes["handed_off"],
        handed_off=outcomes["handed_off"] + outcomes["staff_answered"],
        median_staff_answer=median_wait,
        helpful=feedback["helpful"],
        not_helpful=feedback["not_helpful"],
        top_entries=_top_entries(counts.entries, keys, titles),
        bulletins=counts.bulletins,
        bulletin_recipients=counts.recipients,
    )


def _top_entries(
    found: list[tuple[str, str, int]], keys: list[str | None], titles: Mapping[str, str]
) -> dict[str, list[TopEntry]]:
    entries: defaultdict[str, list[TopEntry]] = defaultdict(list)
    for topic, entry_id, count in found:
        entries[topic].append(TopEntry(entry_id, titles.get(entry_id, entry_id), count))
    return {
        topic: sorted(entries[topic], key=lambda e: (-e.count, e.entry_id))[:TOP_ENTRIES]
        for topic in keys
        if topic is not None and topic in entries
    }
