"""The one clock: times are stored as naive UTC and read by staff and businesses in Vietnam
time (Asia/Ho_Chi_Minh, no daylight saving)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def to_utc(local: dt.datetime) -> dt.datetime:
    """Naive Vietnam time -> naive UTC, the way times are stored."""
    return local.replace(tzinfo=VIETNAM).astimezone(dt.UTC).replace(tzinfo=None)


def to_vietnam(utc: dt.datetime) -> dt.datetime:
    """Naive UTC as stored -> naive Vietnam time, the way staff read times."""
    return utc.replace(tzinfo=dt.UTC).astimezone(VIETNAM).replace(tzinfo=None)


def vietnam_today() -> dt.date:
    return to_vietnam(utcnow()).date()
