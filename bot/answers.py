"""Turn a search result into what the business reads: an answer with its legal basis, or an
honest abstention that lists the closest topics and offers to ask staff.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html import escape
from typing import Any, Literal

from bot.config import Agency, RetrievalSettings
from bot.knowledge import TOPIC_LABELS, Entry, KnowledgeBase
from bot.markdown import to_html, to_plain
from bot.retrieval import SearchResult
from bot.text import tokens

Outcome = Literal["answered", "abstained"]


@dataclass(frozen=True)
class Suggestion:
    entry_id: str
    title: str
    topic: str


@dataclass(frozen=True)
class Reply:
    question: str
    outcome: Outcome
    markdown: str
    topic: str | None = None
    entry_id: str | None = None
    confidence: float = 0.0
    sources: tuple[str, ...] = ()
    reviewed: dt.date | None = None
    suggestions: tuple[Suggestion, ...] = ()
    offer_handoff: bool = False
    out_of_scope: str | None = None
    empty: bool = False
    footer: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        """Plain text with the legal basis and review date at its end."""
        return "\n\n".join([to_plain(self.markdown), *self.footer])

    @property
    def html(self) -> str:
        footer = [f"<i>{escape(line, quote=False)}</i>" for line in self.footer]
        return "\n\n".join([to_html(self.markdown), *footer])

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "topic": self.topic,
            "entry_id": self.entry_id,
            "confidence": round(self.confidence, 3),
            "answer": self.text,
            "sources": list(self.sources),
            "suggestions": [
                {"entry_id": s.entry_id, "title": s.title, "topic": s.topic}
                for s in self.suggestions
            ],
        }


class Answerer:
    """The question-answering core: knowledge base + thresholds + agency details."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        agency: Agency | None = None,
        settings: RetrievalSettings | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.agency = agency or Agency()
        self.settings = settings or RetrievalSettings()

    def warm(self) -> None:
        """Render every answer once and run one search, before the first business asks: a
        burst of first questions after a restart should not pay for it (bench/e2e.py)."""
        for entry in self.knowledge.entries.values():
            to_html(entry.body)
        self.ask("đăng ký mã số mã vạch")

    def ask(self, question: str, today: dt.date | None = None) -> Reply:
        if not tokens(question):
            return self._empty(question)
        result = self.knowledge.search(question, limit=self.settings.suggestions + 1, today=today)
        best = result.best
        if best is None or best.confidence < self.settings.threshold:
            return self._abstain(question, result)
        entry = self.knowledge.entries[best.id]
        return self._answer(question, entry, result)

    def answer_entry(self, entry_id: str, question: str | None = None) -> Reply:
        """Answer a chosen entry directly (a follow-up button, topic browsing)."""
        entry = self.knowledge.entries[entry_id]
        return self._answer(question or entry.title, entry, None)

    def _answer(self, question: str, entry: Entry, result: SearchResult | None) -> Reply:
        confidence = result.confidence if result else 1.0
        footer: list[str] = []
        if entry.legal_basis:
            footer.append("Căn cứ: " + "; ".join(entry.legal_basis) + ".")
        if entry.topic != "smalltalk":
            footer.append(f"Thông tin rà soát ngày {entry.reviewed.strftime('%d/%m/%Y')}.")
        return Reply(
            question=question,
            outcome="answered",
            markdown=entry.body,
            topic=entry.topic,
            entry_id=entry.id,
            confidence=confidence,
            sources=entry.legal_basis,
            reviewed=entry.reviewed,
            suggestions=self._follow_ups(entry, result),
            offer_handoff=confidence < self.settings.low_confidence,
            footer=tuple(footer),
        )

    def _follow_ups(self, entry: Entry, result: SearchResult | None) -> tuple[Suggestion, ...]:
        ids = [i for i in entry.related if i in self.knowledge.entries]
        if result:
            ids += [m.id for m in result.matches[1:] if m.id != entry.id]
        return self._suggestions(ids)

    def _suggestions(self, ids: list[str]) -> tuple[Suggestion, ...]:
        unique = list(dict.fromkeys(ids))[: self.settings.suggestions]
        entries = [self.knowledge.entries[i] for i in unique if i in self.knowledge.entries]
        return tuple(Suggestion(e.id, e.title, e.topic) for e in entries)

    def _abstain(self, question: str, result: SearchResult) -> Reply:
        rejected = result.out_of_scope
        closest = [m.id for m in result.matches if m.topic != "smalltalk"]
        suggestions = () if rejected else self._suggestions(closest)
        lines = ["Xin lỗi, tôi **chưa chắc chắn** về câu trả lời cho câu hỏi này."]
        if rejected:
            group = self.knowledge.out_of_scope[rejected.id]
            lines = [
                "Câu hỏi này nằm ngoài các lĩnh vực tôi được giao hỗ trợ "
                "(mã số mã vạch, tiêu chuẩn cơ sở, công bố hợp chuẩn/hợp quy, "
                "sở hữu công nghiệp, TBT).",
                group.redirect,
            ]
        elif suggestions:
            lines.append("Có thể bạn muốn hỏi về:")
            lines.append(
                "\n".join(f"- {s.title} ({TOPIC_LABELS[s.topic].lower()})" for s in suggestions)
            )
        lines.append(
            "Bạn có thể hỏi lại cụ thể hơn, hoặc để tôi chuyển câu hỏi tới cán bộ của "
            f"{self.agency.name}; cán bộ sẽ trả lời ngay trong cuộc trò chuyện này."
        )
        best = result.best
        return Reply(
            question=question,
            outcome="abstained",
            markdown="\n\n".join(lines),
            confidence=best.confidence if best else 0.0,
            suggestions=suggestions,
            offer_handoff=True,
            out_of_scope=rejected.id if rejected else None,
        )

    def _empty(self, question: str) -> Reply:
        text = (
            "Tôi chưa đọc được câu hỏi nào. Bạn hãy gõ câu hỏi bằng chữ, ví dụ: "
            "*Phí đăng ký mã số mã vạch là bao nhiêu?* hoặc *Hồ sơ đăng ký nhãn hiệu gồm những gì?*"
        )
        return Reply(question=question, outcome="abstained", markdown=text, empty=True)
