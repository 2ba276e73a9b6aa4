"""The one table of topics: what the bot answers about, as each place names it."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Topic:
    id: str
    label: str  # answers, the log, the statistics and the report
    short: str  # the bulletin's choices and headings
    button: str  # the topic menu in Telegram


TABLE: tuple[Topic, ...] = (
    Topic("barcode", "Mã số mã vạch", "Mã số mã vạch", "📦 Mã số mã vạch"),
    Topic("base_standard", "Tiêu chuẩn cơ sở", "Tiêu chuẩn", "📐 Tiêu chuẩn cơ sở"),
    Topic(
        "conformity", "Công bố hợp chuẩn, hợp quy", "Hợp chuẩn, hợp quy", "✅ Hợp chuẩn, hợp quy"
    ),
    Topic("ip", "Sở hữu công nghiệp", "Sở hữu công nghiệp", "™️ Sở hữu công nghiệp"),
    Topic("tbt", "Hàng rào kỹ thuật (TBT)", "Thông báo TBT", "🌐 TBT, bản tin TBT"),
    Topic("smalltalk", "Trò chuyện", "Trò chuyện", "💬 Trò chuyện"),
)
SMALL_TALK = "smalltalk"
# What the bot answers about, in one sentence (abstentions, the console, replies to a photo).
SCOPE = "mã số mã vạch, tiêu chuẩn cơ sở, công bố hợp chuẩn/hợp quy, sở hữu công nghiệp, TBT"

TOPICS: tuple[str, ...] = tuple(topic.id for topic in TABLE)
TOPIC_LABELS = MappingProxyType({topic.id: topic.label for topic in TABLE})
# The office's subjects: what counts as an enquiry, what the bulletin and the menu offer.
ENQUIRY_TOPICS: tuple[str, ...] = tuple(t.id for t in TABLE if t.id != SMALL_TALK)
SHORT_LABELS = MappingProxyType({t.id: t.short for t in TABLE if t.id != SMALL_TALK})
TOPIC_BUTTONS: tuple[tuple[str, str], ...] = tuple(
    (t.id, t.button) for t in TABLE if t.id != SMALL_TALK
)
