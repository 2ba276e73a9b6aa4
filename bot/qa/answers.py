"""Turn a search result into what the business reads: an answer with its legal basis, or an
honest abstention that lists the closest topics and offers to ask staff.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from html import escape
from typing import Any, Literal

import jinja2

from bot.config import Agency, RetrievalSettings
from bot.markdown import to_html, to_plain
from bot.qa import wording
from bot.qa.choice import Answer, Choice, Chooser, Clarify, NotCovered
from bot.qa.knowledge import Entry, KnowledgeBase
from bot.qa.products import Product
from bot.qa.reading import SHORT_FOLLOW_UP, Reader, Reading
from bot.qa.retrieval import SearchResult
from bot.qa.text import tokens
from bot.store.records import Turn
from bot.templating import environment
from bot.topics import TOPIC_LABELS

Outcome = Literal["answered", "abstained"]
# A question about a product's rules: about conformity (or no subject named), asking whether
# it must, which regulation, where to file, how it is assessed ("mũ bảo hiểm áp dụng QCVN
# nào", "đồ điện gia dụng có phải công bố hợp quy không").
PRODUCT_SUBJECTS = frozenset(
    {"hop_quy", "hop_chuan", "import_inspection", "risk_class", "national_standard"}
)
PRODUCT_INTENTS = frozenset(
    {"must", "may", "find_regulation", "where", "what", "methods", "requirements", "compare"}
    | {"changes"}  # "xi măng hợp quy theo quy chuẩn nào, hiệu lực từ bao giờ"
)
ASKS_RULES = frozenset({"must", "may", "find_regulation", "where", "methods", "requirements"})
FULL_NAME = 3  # words: a product named this precisely is what the question is about
PRODUCT_CONFIDENCE = {True: 0.9, False: 0.7}  # confirmed by a source, or to confirm
PRODUCT_FOLLOW_UPS = {
    "hop_quy": ("conformity-dossier-cert", "conformity-dossier-self", "conformity-where-to-file"),
}
DEFAULT_FOLLOW_UPS = ("conformity-who-must", "conformity-find-qcvn")


@dataclass(frozen=True)
class Suggestion:
    entry_id: str
    title: str
    topic: str


@dataclass(frozen=True)
class Option:
    """One choice of a clarifying question: the subject and intent it settles."""

    label: str
    subject: str
    intent: str


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
    subject: str | None = None
    intent: str | None = None
    clarify: tuple[Option, ...] = ()
    used_context: bool = False

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

    def as_conversation_json(self) -> dict[str, Any]:
        return self.as_json() | {"clarify": [option.label for option in self.clarify]}


# Small talk that closes or opens a conversation rather than asking about its subject ("ok e
# cảm ơn"); the contact entry is not one ("trên điện thoại được không" asks about the subject).
SOCIAL = frozenset(
    {"smalltalk-thanks", "smalltalk-greeting", "smalltalk-goodbye", "smalltalk-who-are-you"}
)


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
        self.reader = Reader(knowledge.index, knowledge.vocabulary)
        self.chooser = Chooser(knowledge, self.settings.threshold, self.settings.low_confidence)

    def warm(self) -> None:
        """Render every answer once and run one search, before the first business asks: a
        burst of first questions after a restart should not pay for it (bench/e2e.py)."""
        for entry in self.knowledge.entries.values():
            to_html(entry.body)
        self.ask("đăng ký mã số mã vạch")

    def ask(
        self, question: str, today: dt.date | None = None, context: Turn | None = None
    ) -> Reply:
        if not tokens(question):
            return self._empty(question)
        day = today or dt.date.today()
        reading = self.reader.read(question, context)
        query = self.query_for(reading)
        result = self.knowledge.search(query, limit=self.settings.suggestions + 1, today=day)
        if reading.subject_from_context and not reading.intents:
            # "ok e cảm ơn" after a barcode answer: searched with the barcode's name, the
            # thank-you loses to a barcode entry; the message alone says what it is
            alone = self.knowledge.search(
                reading.text, limit=self.settings.suggestions + 1, today=day
            )
            if self._small_talk(alone):
                reading, result = self.reader.read(question), alone
        named = self._product(reading) or self._product_asked_before(reading, context)
        product = named[0] if named else None
        if named and result.out_of_scope is not None and not _about_rules(reading, named[1]):
            product = None  # "giấy chứng nhận an toàn thực phẩm": another agency's matter
        if product is not None:
            return self.answer_product(question, product, reading.used_context)
        choice = self.chooser.choose(reading, result, day)
        reply = self._reply(question, reading, result, choice)
        return replace(reply, used_context=reading.used_context)

    def answer_entry(self, entry_id: str, question: str | None = None) -> Reply:
        """Answer a chosen entry directly (a follow-up button, topic browsing)."""
        entry = self.knowledge.entries[entry_id]
        return self._answer(question or entry.title, entry, None)

    def answer_facets(self, subject: str, intent: str, today: dt.date | None = None) -> Reply:
        """A clarifying button was pressed: the question is now exactly (subject, intent)."""
        vocabulary = self.knowledge.vocabulary
        question = f"{vocabulary.label(intent)} - {vocabulary.label(subject)}"
        reading = Reading(question, question, (subject,), (intent,))
        result = self.knowledge.search(self.query_for(reading), today=today or dt.date.today())
        choice = self.chooser.choose(reading, result, today or dt.date.today())
        return self._reply(question, reading, result, choice)

    def _product(self, reading: Reading) -> tuple[Product, int] | None:
        catalogue = self.knowledge.products
        if not len(catalogue):
            return None
        if not set(reading.subjects) <= PRODUCT_SUBJECTS:
            return None  # "mã vạch cho mỹ phẩm", "nhãn hiệu cho mũ bảo hiểm": another subject
        if not set(reading.intents) <= PRODUCT_INTENTS:
            return None  # "phí", "hồ sơ", "phạt": the subject's entries answer those
        if not (set(reading.subjects) & PRODUCT_SUBJECTS or set(reading.intents) & ASKS_RULES):
            return None  # "quy định mới về đo lường xăng dầu": not what the product must meet
        found = catalogue.match(reading.text)
        if (
            found is None
            and reading.text != reading.message
            and "find_regulation" in reading.intents
        ):
            # "... tôi sản xuất gạch không nung. Xin hỏi áp dụng quy chuẩn nào?": the product is
            # in the story; a story's product does not answer another question ("giấy phép xây
            # dựng xin ở đâu?")
            found = catalogue.match(reading.message)
        return found

    def _product_asked_before(
        self, reading: Reading, context: Turn | None
    ) -> tuple[Product, int] | None:
        """ "vd nồi cơm điện" after "sản phẩm của tôi phải áp QCVN nào": the product is the
        case the previous question asked about."""
        if context is None or context.intent != "find_regulation" or reading.subjects:
            return None
        if reading.intents or reading.content_words > SHORT_FOLLOW_UP:
            return None
        return self.knowledge.products.match(reading.text) if len(self.knowledge.products) else None

    def answer_product(self, question: str, product: Product, used_context: bool = False) -> Reply:
        """Which rules apply to this product, from the catalogue row with its sources."""
        regulations = "; ".join(f"**{r.number}** ({r.title})" for r in product.regulations)
        markdown = _product_template().render(
            product=product,
            regulations=regulations,
            requirement=wording.PRODUCT_REQUIREMENT[product.requirement],
            agency=self.agency.name,
        )
        footer = [
            wording.LEGAL_BASIS.format(basis="; ".join(product.legal_basis)),
            wording.REVIEWED.format(date=product.reviewed.strftime("%d/%m/%Y")),
        ]
        confidence = PRODUCT_CONFIDENCE[product.confirmed]
        follow_ups = PRODUCT_FOLLOW_UPS.get(product.requirement, DEFAULT_FOLLOW_UPS)
        return Reply(
            question=question,
            outcome="answered",
            markdown=markdown.strip(),
            topic="conformity",
            entry_id=product.entry_id,
            confidence=confidence,
            sources=product.legal_basis,
            reviewed=product.reviewed,
            suggestions=self._suggestions(list(follow_ups)),
            offer_handoff=not product.confirmed or confidence < self.settings.low_confidence,
            footer=tuple(footer),
            subject="hop_quy",
            intent="find_regulation",
            used_context=used_context,
        )

    def query_for(self, reading: Reading) -> str:
        """What the index searches: the asking sentence(s), plus the names of facets taken
        from the conversation ("phí bao nhiêu?" is searched as barcode fees)."""
        if not reading.used_context:
            return reading.text
        vocabulary = self.knowledge.vocabulary
        extra = [
            vocabulary.label(facet_id)
            for facet_id, taken in (
                (reading.subject, reading.subject_from_context),
                (reading.intent, reading.intent_from_context),
            )
            if facet_id and taken
        ]
        return " ".join([reading.text, *extra])

    def _reply(
        self, question: str, reading: Reading, result: SearchResult, choice: Choice
    ) -> Reply:
        subject, intent = reading.subject, reading.intent
        if isinstance(choice, Answer) and self._doubtful(choice, result):
            choice = None  # the facets' pick is doubtful: the index alone decides, as before
        if isinstance(choice, Answer):
            entry = self.knowledge.entries[choice.entry_id]
            reply = self._answer(question, entry, result, choice.confidence, reading.intent)
            if choice.second:
                second = self._suggestions([choice.second])
                reply = replace(reply, suggestions=(second + reply.suggestions)[:3])
            fit_subject = next((s for s in reading.subjects if s in entry.subjects), None)
            fit_intent = next((i for i in reading.intents if i in entry.intents), None)
            return replace(
                reply,
                subject=fit_subject or (entry.subjects[0] if entry.subjects else None),
                intent=fit_intent or (entry.intents[0] if entry.intents else None),
            )
        if isinstance(choice, Clarify):
            return replace(self._clarify(question, choice), subject=subject, intent=intent)
        if isinstance(choice, NotCovered):
            reply = self._not_covered(question, choice, result)
            return replace(reply, subject=subject, intent=intent)
        best = result.best
        if best is None or best.confidence < self.settings.threshold:
            return replace(self._abstain(question, result), subject=subject, intent=intent)
        entry = self.knowledge.entries[best.id]
        reply = self._answer(question, entry, result, best.confidence, reading.intent)
        return replace(
            reply,
            subject=entry.subjects[0] if entry.subjects else None,
            intent=reading.intent or (entry.intents[0] if entry.intents else None),
        )

    def _small_talk(self, result: SearchResult) -> bool:
        best = result.best
        return best is not None and best.id in SOCIAL and best.confidence >= self.settings.threshold

    def _doubtful(self, choice: Answer, result: SearchResult) -> bool:
        """Abstain when neither the entry-level confidence nor the index's own confidence in
        that entry reaches the threshold. An entry the index is sure of but whose facets fit
        less well is answered with its (lower) entry-level confidence, so the business also
        gets "Hỏi cán bộ" (below low_confidence)."""
        if choice.confidence >= self.settings.threshold:
            return False
        match = result.assessed(choice.entry_id)
        return match is None or match.confidence < self.settings.threshold

    def _answer(
        self,
        question: str,
        entry: Entry,
        result: SearchResult | None,
        confidence: float = 1.0,
        intent: str | None = None,
    ) -> Reply:
        footer: list[str] = []
        if entry.legal_basis:
            footer.append(wording.LEGAL_BASIS.format(basis="; ".join(entry.legal_basis)))
        if entry.topic != "smalltalk":
            footer.append(wording.REVIEWED.format(date=entry.reviewed.strftime("%d/%m/%Y")))
        lead = entry.lead(intent)
        return Reply(
            question=question,
            outcome="answered",
            markdown=f"{lead}\n\n{entry.body}" if lead else entry.body,
            topic=entry.topic,
            entry_id=entry.id,
            confidence=confidence,
            sources=entry.legal_basis,
            reviewed=entry.reviewed,
            suggestions=self._follow_ups(entry, result),
            offer_handoff=confidence < self.settings.low_confidence,
            footer=tuple(footer),
            subject=entry.subjects[0] if entry.subjects else None,
            intent=entry.intents[0] if entry.intents else None,
        )

    def _follow_ups(self, entry: Entry, result: SearchResult | None) -> tuple[Suggestion, ...]:
        ids = [i for i in entry.related if i in self.knowledge.entries]
        if result:
            ids += [m.id for m in result.matches[1:] if m.id != entry.id]
        return self._suggestions([i for i in ids if i != entry.id])

    def _suggestions(self, ids: list[str]) -> tuple[Suggestion, ...]:
        unique = list(dict.fromkeys(ids))[: self.settings.suggestions]
        entries = [self.knowledge.entries[i] for i in unique if i in self.knowledge.entries]
        return tuple(Suggestion(e.id, e.title, e.topic) for e in entries)

    def _clarify(self, question: str, choice: Clarify) -> Reply:
        vocabulary = self.knowledge.vocabulary
        if choice.subject:
            text = wording.CLARIFY_INTENT.format(subject=vocabulary.label(choice.subject))
            options = [Option(vocabulary.label(i), s, i) for s, i in choice.pairs]
        else:
            intent = vocabulary.label(choice.intent or "").lower()
            text = wording.CLARIFY_SUBJECT.format(intent=intent)
            options = [Option(vocabulary.label(s), s, i) for s, i in choice.pairs]
        # The topic is known when the subject is: the bot asks which part, it does not abstain.
        return Reply(
            question=question,
            outcome="abstained",
            markdown=text,
            clarify=tuple(options),
            topic=vocabulary.topic_of(choice.subject),
        )

    def _not_covered(self, question: str, choice: NotCovered, result: SearchResult) -> Reply:
        vocabulary = self.knowledge.vocabulary
        text = wording.NOT_COVERED.format(
            intent=vocabulary.label(choice.intent).lower(),
            subject=vocabulary.label(choice.subject).lower(),
            agency=self.agency.name,
        )
        nearby = [e.id for e in self.knowledge.entries.values() if choice.subject in e.subjects]
        nearby.sort(key=lambda i: -result.score(i))
        return Reply(
            question=question,
            outcome="abstained",
            markdown=text,
            suggestions=self._suggestions(nearby),
            offer_handoff=True,
        )

    def _abstain(self, question: str, result: SearchResult, first: str | None = None) -> Reply:
        rejected = result.out_of_scope
        closest = [first] if first else []
        closest += [m.id for m in result.matches if m.topic != "smalltalk"]
        suggestions = () if rejected else self._suggestions(closest)
        lines = [wording.NOT_SURE]
        if rejected:
            group = self.knowledge.out_of_scope[rejected.id]
            lines = [wording.OUT_OF_SCOPE, group.redirect]
        elif suggestions:
            lines.append(wording.MAYBE)
            lines.append(
                "\n".join(f"- {s.title} ({TOPIC_LABELS[s.topic].lower()})" for s in suggestions)
            )
        lines.append(wording.ASK_STAFF.format(agency=self.agency.name))
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
        return Reply(question=question, outcome="abstained", markdown=wording.EMPTY, empty=True)


def _about_rules(reading: Reading, name_words: int) -> bool:
    """The question asks about the rules for conformity ("mũ bảo hiểm quy định thế nào"), or
    whether a product named in full must do something ("thực phẩm chức năng có phải đăng
    ký không"), so the product outweighs words of another agency's matter ("bảo hiểm")."""
    if set(reading.subjects) & PRODUCT_SUBJECTS or "find_regulation" in reading.intents:
        return True
    return name_words >= FULL_NAME and bool(reading.intents)


def _product_template() -> jinja2.Template:
    return environment().get_template("product_answer.md.j2")  # Markdown: not escaped
