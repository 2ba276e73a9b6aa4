"""Quarterly statistics over a real database: every figure of a known quarter, exactly."""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from bot.reports.stats import Quarter, TopEntry, quarter_stats
from bot.store.database import create_database_engine
from bot.store.models import (
    Bulletin,
    Consultation,
    Delivery,
    Organisation,
    Person,
    Subscriber,
)

# Vietnam is UTC+7 all year; written out here rather than taken from the code under test.
OFFSET = dt.timedelta(hours=7)

ORGANISATIONS = [
    {"id": 1, "name": "Công ty TNHH Hải Long", "tax_code": "1000000001"},
    {"id": 2, "name": "Hợp tác xã Nông sản Tiền Hải", "tax_code": "1000000002"},
    {"id": 3, "name": "Công ty CP Gạch ốp lát Sông Hồng", "tax_code": None},
]
# person id -> organisation id (None: the person gave no organisation)
PEOPLE = {1: 1, 2: 1, 3: None, 4: 2, 5: None, 6: 3, 7: None}

TITLES = {
    "barcode-fees": "Phí cấp mã số mã vạch",
    "barcode-register": "Hồ sơ đăng ký mã số mã vạch",
    "ip-trademark": "Đăng ký nhãn hiệu",
}

Q3 = Quarter(2026, 3)


def vn(
    year: int, month: int, day: int, hour: int = 9, minute: int = 0, second: int = 0
) -> dt.datetime:
    """A Vietnam wall-clock time as the database stores it (naive UTC)."""
    return dt.datetime(year, month, day, hour, minute, second) - OFFSET


def consultation(
    cid: str,
    at: dt.datetime,
    person: int,
    topic: str | None,
    entry: str | None = None,
    outcome: str = "answered",
    feedback: str | None = None,
    staff_after: dt.timedelta | None = None,
    question: str | None = None,
) -> dict[str, Any]:
    handed_at = (
        at + dt.timedelta(minutes=5) if outcome in ("handed_off", "staff_answered") else None
    )
    return {
        "id": cid,
        "created_at": at,
        "person_id": person,
        "organisation_id": PEOPLE[person],
        "chat_id": 1000 + person,
        "channel": "telegram",
        "question": question or f"câu hỏi {cid}",
        "topic": topic,
        "entry_id": entry,
        "confidence": 0.85 if entry else 0.3,
        "outcome": outcome,
        "feedback": feedback,
        "feedback_at": at + dt.timedelta(minutes=1) if feedback else None,
        "handed_off_at": handed_at,
        "staff_answered_at": handed_at + staff_after if handed_at and staff_after else None,
    }


HOUR = dt.timedelta(hours=1)

QUARTER_3 = [
    # 00:00:00 on 1 July in Vietnam is still 30 June in UTC: it belongs to Q3, July.
    consultation("c01", vn(2026, 7, 1, 0, 0, 0), 1, "barcode", "barcode-fees", feedback="helpful"),
    consultation("c02", vn(2026, 7, 3), 2, "barcode", "barcode-fees", feedback="helpful"),
    consultation("c03", vn(2026, 7, 15), 3, "barcode", "barcode-register", feedback="not_helpful"),
    consultation("c04", vn(2026, 8, 2), 4, "barcode", "barcode-fees"),
    consultation("c05", vn(2026, 8, 10), 4, "base_standard", "tccs-build", feedback="helpful"),
    consultation(
        "c06",
        vn(2026, 8, 20),
        5,
        "conformity",
        "conformity-declare",
        question="hồ sơ công bố hợp quy\x0b gồm những gì",
    ),
    consultation("c07", vn(2026, 9, 5), 6, "conformity", "conformity-declare", "handed_off"),
    consultation(
        "c08", vn(2026, 9, 10), 1, "ip", "ip-trademark", "staff_answered", staff_after=2 * HOUR
    ),
    consultation(
        "c09", vn(2026, 9, 12), 3, "ip", "ip-trademark", "staff_answered", staff_after=4 * HOUR
    ),
    consultation(
        "c10", vn(2026, 9, 20), 6, "ip", "ip-patent", "staff_answered", staff_after=HOUR / 2
    ),
    consultation(
        "c11", vn(2026, 9, 25), 5, None, None, "abstained", question='=HYPERLINK("http://x")'
    ),
    # 23:59:59 on 30 September in Vietnam: the last second of Q3.
    consultation(
        "c12", vn(2026, 9, 30, 23, 59, 59), 2, "tbt", "tbt-notify", feedback="not_helpful"
    ),
    # Small talk is not an enquiry: none of its people, feedback or counts may appear.
    consultation("s01", vn(2026, 8, 1), 1, "smalltalk", "smalltalk-hello", feedback="helpful"),
    consultation("s02", vn(2026, 8, 2), 7, "smalltalk", "smalltalk-thanks"),
]

QUARTER_2 = [
    consultation("q01", vn(2026, 4, 1, 0, 0, 0), 1, "barcode", "barcode-fees"),
    consultation("q02", vn(2026, 4, 10), 2, "barcode", "barcode-register"),
    consultation("q03", vn(2026, 5, 5), 3, "barcode", "barcode-fees"),
    consultation("q04", vn(2026, 5, 6), 4, "ip", "ip-trademark", feedback="helpful"),
    consultation(
        "q05", vn(2026, 5, 7), 4, "ip", "ip-trademark", "staff_answered", staff_after=HOUR
    ),
    consultation("q06", vn(2026, 6, 1), 6, "ip", "ip-patent"),
    consultation("q07", vn(2026, 6, 2), 6, "ip", "ip-trademark"),
    consultation("q08", vn(2026, 6, 3), 1, "tbt", "tbt-notify", feedback="not_helpful"),
    consultation("q09", vn(2026, 6, 4), 3, None, None, "abstained"),
    # 23:59:59 on 30 June in Vietnam: still Q2.
    consultation("q10", vn(2026, 6, 30, 23, 59, 59), 5, "barcode", "barcode-fees"),
    consultation("q11", vn(2026, 5, 1), 7, "smalltalk", "smalltalk-hello"),
]

OUTSIDE = [
    # 23:59:59 on 31 March in Vietnam: Q1, not Q2.
    consultation("p01", vn(2026, 3, 31, 23, 59, 59), 1, "barcode", "barcode-fees"),
    # 00:00:00 on 1 October in Vietnam: Q4, not Q3.
    consultation("n01", vn(2026, 10, 1, 0, 0, 0), 1, "barcode", "barcode-fees"),
]

BULLETINS = [
    {"id": 1, "week": "2026-W28", "status": "sent", "finished_at": vn(2026, 7, 6, 8)},
    # Finished in the last second of Q3.
    {"id": 2, "week": "2026-W40", "status": "sent", "finished_at": vn(2026, 9, 30, 23, 59, 59)},
    {"id": 3, "week": "2026-W26", "status": "sent", "finished_at": vn(2026, 6, 22, 8)},
    # Not finished: not counted.
    {"id": 4, "week": "2026-W39", "status": "sending", "finished_at": None},
]

# (bulletin, subscriber, status, sent_at)
DELIVERIES = [
    (1, 1, "sent", vn(2026, 7, 6, 8)),
    (1, 2, "sent", vn(2026, 7, 6, 8)),
    (1, 3, "sent", vn(2026, 7, 6, 8)),
    (1, 4, "failed", None),
    (2, 1, "sent", vn(2026, 9, 30, 23, 59, 58)),
    (2, 2, "sent", vn(2026, 9, 30, 23, 59, 59)),
    # Sent a second after Q3 ended: a recipient of Q4, though the bulletin is Q3's.
    (2, 3, "sent", vn(2026, 10, 1, 0, 0, 0)),
    (2, 4, "claimed", None),
    (3, 1, "sent", vn(2026, 6, 22, 8)),
    (3, 2, "sent", vn(2026, 6, 22, 8)),
]


def seed(engine: Engine) -> None:
    """The known log: Q2 and Q3 of 2026, rows on both sides of each boundary, bulletins."""
    created = vn(2026, 1, 1)
    with engine.begin() as connection:
        connection.execute(
            insert(Organisation), [{**row, "created_at": created} for row in ORGANISATIONS]
        )
        connection.execute(
            insert(Person),
            [
                {
                    "id": pid,
                    "key": f"tg:{pid}",
                    "telegram_id": pid,
                    "name": f"Người hỏi {pid}",
                    "organisation_id": org,
                    "created_at": created,
                }
                for pid, org in PEOPLE.items()
            ],
        )
        connection.execute(insert(Consultation), QUARTER_3 + QUARTER_2 + OUTSIDE)
        connection.execute(
            insert(Subscriber),
            [
                {"id": pid, "person_id": pid, "chat_id": 1000 + pid, "subscribed_at": created}
                for pid in (1, 2, 3, 4)
            ],
        )
        connection.execute(
            insert(Bulletin),
            [
                {**row, "title": f"Bản tin {row['week']}", "created_at": created}
                for row in BULLETINS
            ],
        )
        connection.execute(
            insert(Delivery),
            [
                {"bulletin_id": b, "subscriber_id": s, "status": status, "sent_at": at}
                for b, s, status, at in DELIVERIES
            ],
        )


def add_consultations(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        connection.execute(insert(Consultation), rows)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine)
    return engine


# --- quarters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["2026-Q3", "2026Q3", "2026-q3", " 2026 Q3 ", "q3-2026", "Q3/2026", "2026/Q3"]
)
def test_quarter_parse_accepts_the_ways_staff_write_it(text: str) -> None:
    assert Quarter.parse(text) == Quarter(2026, 3)


@pytest.mark.parametrize("text", ["2026-Q5", "2026-Q0", "Q3", "2026", "quý 3", "", "26-Q3"])
def test_quarter_parse_rejects_nonsense_in_vietnamese(text: str) -> None:
    with pytest.raises(ValueError, match="Hãy ghi theo dạng 2026-Q3"):
        Quarter.parse(text)


def test_quarter_refuses_a_fifth_quarter() -> None:
    with pytest.raises(ValueError, match="Quý phải từ 1 đến 4"):
        Quarter(2026, 5)


def test_quarter_boundaries_are_midnight_in_vietnam() -> None:
    assert Q3.start == dt.datetime(2026, 6, 30, 17, 0, 0)
    assert Q3.end == dt.datetime(2026, 9, 30, 17, 0, 0)
    assert Quarter(2026, 1).start == dt.datetime(2025, 12, 31, 17, 0, 0)
    assert Quarter(2026, 4).end == dt.datetime(2026, 12, 31, 17, 0, 0)
    assert Q3.start.tzinfo is None
    assert Q3.months == (7, 8, 9)
    assert Quarter(2026, 4).months == (10, 11, 12)
    assert (Q3.first_day, Q3.last_day) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert Quarter(2024, 1).last_day == dt.date(2024, 3, 31)


def test_quarter_labels_and_neighbours() -> None:
    assert Q3.label == "Quý III/2026"
    assert Quarter(2026, 4).label == "Quý IV/2026"
    assert str(Q3) == "2026-Q3"
    assert Q3.previous() == Quarter(2026, 2)
    assert Quarter(2026, 1).previous() == Quarter(2025, 4)
    assert Quarter(2026, 4).next() == Quarter(2027, 1)
    assert Quarter.current(dt.date(2026, 9, 30)) == Q3
    assert Quarter.current(dt.date(2026, 10, 1)) == Quarter(2026, 4)
    assert Quarter.current(dt.date(2026, 1, 1)) == Quarter(2026, 1)
    # 30 June 17:00 UTC is already 1 July in Vietnam.
    assert Quarter.containing(dt.datetime(2026, 6, 30, 17, 0, 0)) == Q3
    assert Quarter.containing(dt.datetime(2026, 6, 30, 16, 59, 59)) == Quarter(2026, 2)


# --- the figures -------------------------------------------------------------------------------


def test_quarter_stats_counts_every_figure(seeded: Engine) -> None:
    stats = quarter_stats(seeded, Q3, TITLES)

    assert stats.quarter == Q3
    assert stats.enquiries == 12
    assert stats.by_topic == {
        "barcode": 4,
        "base_standard": 1,
        "conformity": 2,
        "ip": 3,
        "tbt": 1,
        None: 1,
    }
    assert list(stats.by_topic) == ["barcode", "base_standard", "conformity", "ip", "tbt", None]
    assert stats.by_month == {
        7: {"barcode": 3, "base_standard": 0, "conformity": 0, "ip": 0, "tbt": 0, None: 0},
        8: {"barcode": 1, "base_standard": 1, "conformity": 1, "ip": 0, "tbt": 0, None: 0},
        9: {"barcode": 0, "base_standard": 0, "conformity": 1, "ip": 3, "tbt": 1, None: 1},
    }
    assert stats.people == 6  # person 7 only made small talk
    assert stats.organisations == 3
    # Organisations 1, 2, 3 and persons 3 and 5, who gave none.
    assert stats.askers == 5
    assert stats.askers_by_topic == {
        "barcode": 3,  # organisation 1 (two people), person 3, organisation 2
        "base_standard": 1,
        "conformity": 2,
        "ip": 3,
        "tbt": 1,
        None: 1,
    }
    assert stats.answered_by_bot == 7
    assert stats.answered_by_staff == 3
    assert stats.answered == 10
    assert stats.unanswered == 2
    assert stats.handed_off == 4
    # Waits of 2 h, 4 h and 30 min.
    assert stats.median_staff_answer == dt.timedelta(hours=2)
    assert (stats.helpful, stats.not_helpful) == (3, 2)  # small talk's "helpful" is not counted
    assert stats.helpful_ratio == pytest.approx(0.6)
    assert stats.top_entries == {
        "barcode": [
            TopEntry("barcode-fees", "Phí cấp mã số mã vạch", 3),
            TopEntry("barcode-register", "Hồ sơ đăng ký mã số mã vạch", 1),
        ],
        "base_standard": [TopEntry("tccs-build", "tccs-build", 1)],  # no title: the id
        "conformity": [TopEntry("conformity-declare", "conformity-declare", 2)],
        "ip": [
            TopEntry("ip-trademark", "Đăng ký nhãn hiệu", 2),
            TopEntry("ip-patent", "ip-patent", 1),
        ],
        "tbt": [TopEntry("tbt-notify", "tbt-notify", 1)],
    }
    assert stats.bulletins == 2
    assert stats.bulletin_recipients == 5


def test_previous_quarter_is_computed_the_same_way(seeded: Engine) -> None:
    stats = quarter_stats(seeded, Q3, TITLES)
    previous = stats.previous
    assert previous is not None
    assert previous.quarter == Quarter(2026, 2)
    assert previous.previous is None
    assert previous.enquiries == 10
    assert previous.by_topic == {
        "barcode": 4,
        "base_standard": 0,
        "conformity": 0,
        "ip": 4,
        "tbt": 1,
        None: 1,
    }
    assert {m: sum(c.values()) for m, c in previous.by_month.items()} == {4: 2, 5: 3, 6: 5}
    assert previous.people == 6
    assert previous.organisations == 3
    assert previous.askers == 5  # organisations 1, 2, 3 and persons 3 and 5
    assert previous.answered_by_bot == 8
    assert previous.answered_by_staff == 1
    assert previous.unanswered == 1
    assert previous.handed_off == 1
    assert previous.median_staff_answer == dt.timedelta(hours=1)
    assert (previous.helpful, previous.not_helpful) == (1, 1)
    assert previous.bulletins == 1
    assert previous.bulletin_recipients == 2
    assert stats.change == pytest.approx(0.2)


def test_rows_on_the_boundaries_fall_in_the_right_quarter(seeded: Engine) -> None:
    q4 = quarter_stats(seeded, Quarter(2026, 4))
    assert q4.enquiries == 1  # n01, 00:00:00 on 1 October
    assert q4.by_month[10]["barcode"] == 1
    assert q4.bulletin_recipients == 1  # the delivery at 00:00:00 on 1 October
    assert q4.bulletins == 0
    assert q4.change == pytest.approx(1 / 12 - 1)
    q1 = quarter_stats(seeded, Quarter(2026, 1))
    assert q1.enquiries == 1  # p01, 23:59:59 on 31 March
    assert q1.by_month[3]["barcode"] == 1
    assert q1.previous is not None
    assert q1.previous.enquiries == 0
    assert q1.change is None  # no comparison against an empty quarter


def test_without_previous_there_is_no_comparison(seeded: Engine) -> None:
    stats = quarter_stats(seeded, Q3, with_previous=False)
    assert stats.previous is None
    assert stats.change is None
    assert stats.enquiries == 12


def test_an_empty_quarter_has_zeros_everywhere(engine: Engine) -> None:
    stats = quarter_stats(engine, Quarter(2030, 1))
    assert stats.enquiries == 0
    assert stats.by_topic == dict.fromkeys(
        ["barcode", "base_standard", "conformity", "ip", "tbt", None], 0
    )
    assert set(stats.by_month) == {1, 2, 3}
    assert all(set(counts.values()) == {0} for counts in stats.by_month.values())
    assert (stats.people, stats.organisations, stats.askers) == (0, 0, 0)
    assert stats.median_staff_answer is None
    assert stats.helpful_ratio is None
    assert stats.top_entries == {}
    assert (stats.bulletins, stats.bulletin_recipients) == (0, 0)
    assert stats.previous is not None
    assert stats.previous.enquiries == 0


def test_top_entries_keep_the_five_most_asked_with_ties_by_id(engine: Engine) -> None:
    seed(engine)
    counts = {"tbt-e1": 7, "tbt-e2": 6, "tbt-e3": 5, "tbt-e5": 4, "tbt-e4": 4, "tbt-e6": 1}
    rows = [
        consultation(f"{entry}-{n}", vn(2025, 2, 1 + n), 1, "tbt", entry)
        for entry, count in counts.items()
        for n in range(count)
    ]
    add_consultations(engine, rows)
    stats = quarter_stats(engine, Quarter(2025, 1), {"tbt-e1": "Thông báo TBT"})
    assert stats.top_entries == {
        "tbt": [
            TopEntry("tbt-e1", "Thông báo TBT", 7),
            TopEntry("tbt-e2", "tbt-e2", 6),
            TopEntry("tbt-e3", "tbt-e3", 5),
            TopEntry("tbt-e4", "tbt-e4", 4),
            TopEntry("tbt-e5", "tbt-e5", 4),
        ]
    }


def test_median_of_an_even_number_of_waits_is_their_mean(engine: Engine) -> None:
    seed(engine)
    add_consultations(
        engine,
        [
            consultation("w1", vn(2025, 5, 1), 1, "ip", "ip-a", "staff_answered", staff_after=HOUR),
            consultation(
                "w2", vn(2025, 5, 2), 2, "ip", "ip-a", "staff_answered", staff_after=2 * HOUR
            ),
            # Handed off but not yet answered: no wait to measure.
            consultation("w3", vn(2025, 5, 3), 3, "ip", "ip-a", "handed_off"),
        ],
    )
    stats = quarter_stats(engine, Quarter(2025, 2))
    assert stats.median_staff_answer == dt.timedelta(minutes=90)
    assert stats.handed_off == 3
    assert stats.unanswered == 1


def test_an_unknown_topic_is_kept_after_the_known_ones(engine: Engine) -> None:
    add_people(engine)
    add_consultations(engine, [consultation("u1", vn(2025, 8, 1), 1, "metrology", "m-1")])
    stats = quarter_stats(engine, Quarter(2025, 3))
    assert list(stats.by_topic) == [
        "barcode",
        "base_standard",
        "conformity",
        "ip",
        "tbt",
        "metrology",
        None,
    ]
    assert stats.by_topic["metrology"] == 1
    assert stats.by_month[8]["metrology"] == 1


def add_people(engine: Engine) -> None:
    """Only the people and organisations, for tests that add their own consultations."""
    with engine.begin() as connection:
        connection.execute(insert(Organisation), ORGANISATIONS)
        connection.execute(
            insert(Person),
            [
                {"id": pid, "key": f"tg:{pid}", "name": f"Người hỏi {pid}", "organisation_id": org}
                for pid, org in PEOPLE.items()
            ],
        )


def test_statistics_and_reports_do_not_import_telegram() -> None:
    import bot.reports.documents
    import bot.reports.stats

    for module in (bot.reports.stats, bot.reports.documents):
        tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
        imported = {
            name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for name in (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
        }
        assert "telegram" not in imported
        assert "handlers" not in imported
