"""Which entry answers the question, given what was asked (subject and intent) and how the
index ranks the entries; or a clarifying question; or an honest "no entry covers that".

An entry answers only when both its subjects and its intents fit the question's. Ranking by
shared words still decides among the entries that fit, and decides alone when the question
names neither a subject nor an intent (small talk, product names the vocabulary lacks).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from bot.qa.knowledge import Entry, KnowledgeBase
from bot.qa.reading import Reading
from bot.qa.retrieval import EXACT, SearchResult

MAX_OPTIONS = 4
NARROW = 2  # a subject with this many entries or fewer: they answer all that is asked of it
# Intents offered first when a question names only its subject, most asked first.
INTENT_ORDER = (
    "dossier",
    "fees",
    "where",
    "time",
    "steps",
    "what",
    "must",
    "validity",
    "online",
    "penalty",
    "changes",
)
# Intents that qualify whatever the previous answer was about ("có cần đóng dấu không?",
# "khai ở đâu?" after the TCCS announcement or the product list): such a follow-up stays
# with an answer about a specific matter rather than jumping to the subject's general entry.
QUALIFYING = frozenset({"must", "may", "where", "steps", "time", "dossier"})
# An answer with one of these intents is about the subject as a whole, not a specific matter.
BROAD = QUALIFYING | {"fees", "what", "penalty", "online", "changes", "compare"}
SUBJECT_ORDER = ("barcode", "trademark", "hop_quy", "tccs", "hop_chuan", "patent")

# Entry-level calibration (bench/calibrate_answers.py, on the answer-level dev sets): the chance
# that the chosen entry answers the question, from the index's confidence and how the facets fit.
ENTRY_CALIBRATION = {
    "bias": -3.761,
    "index": 1.043,
    "subject": 0.892,
    "intent": -0.011,
    "context": -0.807,
    "alone": 1.091,
    "top": 1.381,
    "long": -0.276,
    "first": 0.617,
    "many": -0.247,
    "margin": 2.467,
    "kept": 1.092,
}


@dataclass(frozen=True)
class Answer:
    entry_id: str
    confidence: float
    second: str | None = None  # the entry of the message's other question, offered as a button
    features: tuple[tuple[str, float], ...] = ()  # what the confidence was computed from


@dataclass(frozen=True)
class Clarify:
    """Ask which one: intents of a named subject, or subjects for a bare intent."""

    subject: str | None
    intent: str | None
    pairs: tuple[tuple[str, str], ...]  # (subject, intent) per option


@dataclass(frozen=True)
class NotCovered:
    subject: str
    intent: str


Choice = Answer | Clarify | NotCovered | None  # None: no facet helps, rank alone decides


class Chooser:
    def __init__(
        self, knowledge: KnowledgeBase, threshold: float, low_confidence: float = 1.0
    ) -> None:
        self.knowledge = knowledge
        self.threshold = threshold
        # Below low_confidence (the "Hỏi cán bộ" line) and above the threshold (still answered).
        self.unsure = max(threshold, (threshold + low_confidence) / 2)
        self._by_subject: dict[str, list[Entry]] = {}
        self._by_intent: dict[str, list[Entry]] = {}
        for entry in knowledge.entries.values():
            for subject in entry.subjects:
                self._by_subject.setdefault(subject, []).append(entry)
            for intent in entry.intents:
                self._by_intent.setdefault(intent, []).append(entry)

    def _candidates(self, reading: Reading, today: dt.date) -> list[Entry]:
        """Entries that could fit at all: those of the question's subjects and their broader
        subjects (or, for a question that names only an intent, of its intents), valid today."""
        broader = self.knowledge.vocabulary.broader(reading.subjects)
        keys, table = (
            ((*reading.subjects, *broader), self._by_subject)
            if reading.subjects
            else (reading.intents, self._by_intent)
        )
        found = {e.id: e for key in keys for e in table.get(key, [])}
        return [e for e in found.values() if e.valid_on(today)]

    def choose(self, reading: Reading, result: SearchResult, today: dt.date) -> Choice:
        entries = self._candidates(reading, today)
        best = result.best
        exact = bool(result.features and result.features.get("similarity", 0.0) >= EXACT)
        if exact and best is not None:
            return Answer(best.id, best.confidence)  # one of an entry's own phrasings
        if result.out_of_scope is not None:
            return None  # another agency's question: the index's abstention stands
        thanks = (
            best is not None and best.topic == "smalltalk" and best.confidence >= self.threshold
        )
        if reading.used_context and thanks:
            return None  # "ok e cảm ơn" after a barcode answer is a thank-you
        kept = self._kept(reading, result, entries)
        if kept is not None:
            return kept
        if reading.subjects and reading.intents:
            return self._both(reading, result, entries)
        if reading.subjects:
            return self._subject_only(reading, result, entries)
        if reading.intents:
            return self._intent_only(reading, result, entries)
        return None

    def _kept(self, reading: Reading, result: SearchResult, entries: list[Entry]) -> Choice:
        """A follow-up that names no subject and asks nothing the previous answer does not
        cover ("phải nộp trước ngày nào?" after the annual fee) stays with the previous answer."""
        previous = next((e for e in entries if e.id == reading.previous_entry), None)
        if previous is None or not reading.subject_from_context:
            return None
        if reading.variation or "example" in reading.intents:
            # "nếu 1000 sản phẩm thì sao?", "ví dụ cho em với": the same answer, asked again
            return self._answer(previous, reading, result, [previous])
        if not reading.intents:
            return None
        asked, covered = set(reading.intents), set(previous.intents)
        about_its_matter = asked <= QUALIFYING and not covered & BROAD
        if not (asked & covered or about_its_matter):
            return None
        return self._answer(previous, reading, result, [previous])

    def _both(self, reading: Reading, result: SearchResult, entries: list[Entry]) -> Choice:
        choice = self._by_intents(reading, result, entries)
        again = isinstance(choice, Answer) and choice.entry_id == reading.previous_entry
        if reading.intent_from_context and again:
            return self._switched(reading, result, entries) or choice
        return choice

    def _by_intents(self, reading: Reading, result: SearchResult, entries: list[Entry]) -> Choice:
        if len(reading.intents) >= 2 and reading.text != reading.message:
            # A long message whose asking sentences name several intents: the order of the
            # cues says little about which is the main question; the entry the asking
            # sentences' words fit best among those of any named intent says more.
            pool = self._fitting_any(reading, entries)
            if pool:
                chosen = max(pool, key=lambda e: _rank(e, reading, result))
                second = self._second(reading, result, entries, chosen, -1)
                return self._answer(chosen, reading, result, pool, second)
        for position, intent in enumerate(reading.intents):
            fitting = self._fitting_intent(entries, reading.subjects, intent)
            if not fitting:
                continue
            chosen = max(fitting, key=lambda e: _rank(e, reading, result))
            second = self._second(reading, result, entries, chosen, position)
            return self._answer(chosen, reading, result, fitting, second)
        best = result.best
        entry = self.knowledge.entries.get(best.id) if best is not None else None
        of_subject = _fitting(entries, reading.subjects, ())
        few = len(of_subject) <= 2  # a narrow subject: its entry likely says it in passing
        sure = best is not None and (few or best.confidence >= self.threshold)
        if (
            sure
            and entry
            and set(entry.subjects) & set(reading.subjects)
            and not reading.used_context
        ):
            # The index is sure of an entry of this subject, whose intent no cue named:
            # answered, but with the confidence of an intent that does not fit.
            fitting = _fitting(entries, reading.subjects, ())
            return self._answer(entry, reading, result, fitting)
        return NotCovered(reading.subjects[0], reading.intents[0])

    def _fitting_any(self, reading: Reading, entries: list[Entry]) -> list[Entry]:
        found = {
            e.id: e
            for intent in reading.intents
            for e in self._fitting_intent(entries, reading.subjects, intent)
        }
        return list(found.values())

    def _switched(self, reading: Reading, result: SearchResult, entries: list[Entry]) -> Choice:
        """ "Thế còn EAN-8?" after the GTIN-13 structure would get the same answer again: the
        new subject's own entries come first."""
        own = [e for e in entries if set(e.subjects) & set(reading.subjects)]
        if not own:
            return None
        chosen = max(own, key=lambda e: _rank(e, reading, result))
        return self._answer(chosen, reading, result, own)

    def _fitting_intent(
        self, entries: list[Entry], subjects: tuple[str, ...], intent: str
    ) -> list[Entry]:
        """Entries of the subjects that answer the intent; failing that, entries of the
        intent's fallbacks, then of the broader subjects (the nearest first)."""
        vocabulary = self.knowledge.vocabulary
        for position, scope in enumerate((subjects, *((s,) for s in vocabulary.broader(subjects)))):
            for wanted in (intent, *vocabulary.fallbacks.get(intent, ())):
                fitting = _fitting(entries, scope, (wanted,))
                if fitting:
                    return fitting
            own = _fitting(entries, scope, ())
            if position == 0 and 0 < len(own) <= NARROW:
                return own  # a narrow subject's one entry says it in passing (the GI's users)
        return []

    def _second(
        self,
        reading: Reading,
        result: SearchResult,
        entries: list[Entry],
        chosen: Entry,
        position: int,
    ) -> str | None:
        for intent in reading.intents[position + 1 :]:
            if intent in chosen.intents:
                continue
            fitting = self._fitting_intent(entries, reading.subjects, intent)
            if fitting:
                return max(fitting, key=lambda e: _rank(e, reading, result)).id
        return None

    def _subject_only(self, reading: Reading, result: SearchResult, entries: list[Entry]) -> Choice:
        fitting = _fitting(entries, reading.subjects, ())
        if not fitting:
            return None
        best = result.best
        if not reading.bare and best is not None and best.confidence >= self.threshold:
            chosen = next((e for e in fitting if e.id == best.id), None)
            if chosen is not None:
                return self._answer(chosen, reading, result, fitting)
        if len(fitting) == 1:
            only = fitting[0]
            return self._answer(only, reading, result, fitting)
        intents = [i for i in INTENT_ORDER if any(i in e.intents for e in fitting)]
        intents += sorted({i for e in fitting for i in e.intents} - set(intents))
        subject = reading.subjects[0]
        return Clarify(subject, None, tuple((subject, i) for i in intents[:MAX_OPTIONS]))

    def _intent_only(self, reading: Reading, result: SearchResult, entries: list[Entry]) -> Choice:
        best = result.best
        intent = reading.intents[0]
        if best is not None and best.confidence >= self.threshold:
            entry = self.knowledge.entries.get(best.id)
            if entry is not None and (
                set(entry.intents) & set(reading.intents) or not entry.subjects
            ):
                return Answer(entry.id, best.confidence)
        if result.out_of_scope is not None or not reading.bare_intent:
            # "mã số thuế đăng ký ở đâu", "làm sổ đỏ cần giấy tờ gì": the question names a
            # subject of its own that is not ours; no choice among our subjects fits it.
            return None
        subjects = [
            s
            for s in SUBJECT_ORDER
            if any(s in e.subjects and intent in e.intents for e in entries)
        ]
        if not subjects:
            return None
        return Clarify(None, intent, tuple((s, intent) for s in subjects[:MAX_OPTIONS]))

    def _answer(
        self,
        entry: Entry,
        reading: Reading,
        result: SearchResult,
        fitting: list[Entry],
        second: str | None = None,
    ) -> Answer:
        features = entry_features(entry, reading, result, fitting)
        confidence = calibrated(features)
        if reading.intents and not set(entry.intents) & set(reading.intents):
            # A fallback or a narrow subject's one entry: it may say it in passing, or not at
            # all ("thời gian kiểm tra bao lâu" of import inspection); answered, with staff at hand.
            confidence = min(confidence, self.unsure)
        return Answer(entry.id, confidence, second, tuple(features.items()))


def entry_features(
    entry: Entry, reading: Reading, result: SearchResult, fitting: list[Entry]
) -> dict[str, float]:
    """How well the chosen entry fits the question: the index's own confidence in it, and
    whether its subject and intent are the question's own (not a broader subject, a fallback
    intent or the conversation's)."""
    match = result.assessed(entry.id)
    best = result.best
    return {
        "index": match.confidence if match else 0.0,
        "subject": 1.0 if set(entry.subjects) & set(reading.subjects) else 0.0,
        "intent": 1.0 if set(entry.intents) & set(reading.intents) else 0.0,
        "context": 1.0 if reading.used_context else 0.0,
        "alone": 1.0 / max(len(fitting), 1),
        "top": 1.0 if best is not None and best.id == entry.id else 0.0,
        "long": 1.0 if reading.text != reading.message else 0.0,
        "kept": 1.0 if entry.id == reading.previous_entry else 0.0,
        "first": 1.0 if reading.intents and reading.intents[0] in entry.intents else 0.0,
        "many": 1.0 if len(reading.intents) >= 3 else 0.0,
        "margin": _margin(entry, result),
    }


def _margin(entry: Entry, result: SearchResult) -> float:
    """How far ahead of the next entry the index puts this one (0 when it is not first)."""
    matches = result.matches
    if not matches or matches[0].id != entry.id:
        return 0.0
    second = matches[1].confidence if len(matches) > 1 else 0.0
    return max(0.0, matches[0].confidence - second)


def calibrated(features: dict[str, float]) -> float:
    z = ENTRY_CALIBRATION["bias"] + sum(ENTRY_CALIBRATION[k] * v for k, v in features.items())
    return 1.0 / (1.0 + math.exp(-z))


def _fitting(
    entries: list[Entry], subjects: tuple[str, ...], intents: tuple[str, ...]
) -> list[Entry]:
    return [
        e
        for e in entries
        if set(e.subjects) & set(subjects) and (not intents or set(e.intents) & set(intents))
    ]


def _rank(entry: Entry, reading: Reading, result: SearchResult) -> tuple[float, ...]:
    """An entry of the question's own subject before one of a broader subject, then the
    entry whose main subject it is, then the index's score."""
    own = 1.0 if set(entry.subjects) & set(reading.subjects) else 0.0
    main = 1.0 if entry.subjects and entry.subjects[0] in reading.subjects else 0.0
    return (own, main, result.score(entry.id))
