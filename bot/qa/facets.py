"""Subjects and intents: what a question is about and what it asks of it.

A question about barcodes may ask for the fee, the dossier or where to file; ranking by shared
words alone picks the right topic but often the wrong entry. Entries declare the subjects and
intents they answer (knowledge/facets.yaml holds the vocabulary), and the question's own are
recognised by cue phrases over folded, glossary-expanded words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.qa.text import fold, tokens, written_tokens

FACETS_FILE = "facets.yaml"


@dataclass(frozen=True)
class Facet:
    id: str
    label: str
    label_en: str
    topic: str | None = None
    parent: str | None = None  # the broader subject whose entries answer what this one lacks


@dataclass(frozen=True)
class Detected:
    """Facets found in a text, in the order they first appear."""

    subjects: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()


Cue = tuple[str, ...]
Agreement = Callable[[int, Cue], bool]  # does the cue found at this position agree in accents
ANY_SPELLING: Cue = ()  # a cue the glossary rewrites: no spelling to compare
STRICT_SHARE = 0.3  # of a message's words with accents: it is typed with accents
NO_FACET = ""  # what a not_cues phrase maps to: its words name no intent


@dataclass(frozen=True)
class Vocabulary:
    subjects: Mapping[str, Facet] = field(default_factory=dict)
    intents: Mapping[str, Facet] = field(default_factory=dict)
    subject_cues: Mapping[Cue, str] = field(default_factory=dict)
    intent_cues: Mapping[Cue, str] = field(default_factory=dict)
    weak_intent_cues: Mapping[Cue, str] = field(default_factory=dict)
    # An intent no entry of the subject covers is answered by the entry of its fallback
    # ("thủ tục công bố hợp quy" by the dossier entry when no entry lays out the steps).
    fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # How general an intent is (0: specific): a more specific one in the question outranks it
    # ("có bắt buộc gửi mẫu thử nghiệm không" asks about testing; "thủ tục ... cần giấy tờ gì"
    # about the dossier).
    generic: Mapping[str, int] = field(default_factory=dict)
    # A cue's spellings with accents: "trùng" (a duplicate) is not "Trung" (Quốc), "điện tử"
    # (online) not "điện từ khi nào"; a word typed with accents must agree with one of them.
    spellings: Mapping[Cue, frozenset[Cue]] = field(default_factory=dict)

    def detect(self, words: Sequence[str], typed: Sequence[str] | None = None) -> Detected:
        """`typed`: each word as written (with its accents), or folded where unknown."""
        agree = self._agreement(typed)
        subjects = _find(words, self.subject_cues, agree)
        intents = _find(words, self.intent_cues, agree) or _find(
            words, self.weak_intent_cues, agree
        )
        intents.sort(key=lambda intent: self.generic.get(intent, 0))  # stable otherwise
        return Detected(_specific_first(subjects, self.subject_cues), tuple(intents))

    def _agreement(self, typed: Sequence[str] | None) -> Agreement | None:
        if typed is None or not self.spellings:
            return None
        spellings = self.spellings
        # In a message typed with accents, a word without them is meant that way ("Trung
        # Quốc", "tham gia"); in one typed without accents, any spelling may be meant.
        known_words = [w for w in typed if w]
        accented = sum(w != fold(w) for w in known_words)
        strict = bool(known_words) and accented >= STRICT_SHARE * len(known_words)

        def agree(start: int, cue: Cue) -> bool:
            known = spellings.get(cue)
            if not known or ANY_SPELLING in known:
                return True
            written = typed[start : start + len(cue)]
            return any(_agrees(written, spelling, strict) for spelling in known)

        return agree

    def covered(self, words: Sequence[str], facets: Sequence[str]) -> set[int]:
        """Positions of the words that cues of these facets (or weak cues) account for."""
        wanted = set(facets)
        positions: set[int] = set()
        for cues in (self.subject_cues, self.intent_cues, self.weak_intent_cues):
            for start, size, facet in _matches(words, cues):
                if facet in wanted or cues is self.weak_intent_cues:
                    positions.update(range(start, start + size))
        return positions

    def broader(self, subjects: Sequence[str]) -> tuple[str, ...]:
        """The parents of these subjects (once each, nearest first), without the subjects."""
        found: list[str] = []
        for subject in subjects:
            parent = self.subjects[subject].parent if subject in self.subjects else None
            while parent and parent not in found and parent not in subjects:
                found.append(parent)
                parent = self.subjects[parent].parent if parent in self.subjects else None
        return tuple(found)

    def topic_of(self, subject: str | None) -> str | None:
        facet = self.subjects.get(subject or "")
        return facet.topic if facet else None

    def label(self, facet_id: str, english: bool = False) -> str:
        facet = self.subjects.get(facet_id) or self.intents.get(facet_id)
        if facet is None:
            return facet_id
        return facet.label_en if english else facet.label


_STARTS: dict[int, tuple[Mapping[Cue, str], dict[str, tuple[int, ...]]]] = {}


def _starts(cues: Mapping[Cue, str]) -> dict[str, tuple[int, ...]]:
    """For each word a cue starts with, the cue lengths (longest first): built once per table,
    so a long message only tries cues where one can start."""
    found = _STARTS.get(id(cues))
    if found is None or found[0] is not cues:
        table: dict[str, set[int]] = {}
        for cue in cues:
            table.setdefault(cue[0], set()).add(len(cue))
        found = (cues, {w: tuple(sorted(n, reverse=True)) for w, n in table.items()})
        _STARTS[id(cues)] = found
    return found[1]


def _matches(
    words: Sequence[str], cues: Mapping[Cue, str], agree: Agreement | None = None
) -> list[tuple[int, int, str]]:
    """(start, size, facet) of the longest cue at each position, left to right, no overlaps."""
    starts = _starts(cues)
    found: list[tuple[int, int, str]] = []
    i = 0
    while i < len(words):
        for size in starts.get(words[i], ()):
            cue = tuple(words[i : i + size])
            facet = cues.get(cue) if i + size <= len(words) else None
            if facet is not None and (agree is None or agree(i, cue)):
                found.append((i, size, facet))
                i += size
                break
        else:
            i += 1
    return found


def _find(
    words: Sequence[str], cues: Mapping[Cue, str], agree: Agreement | None = None
) -> list[str]:
    """Facets named by cues, each once, in order of first appearance (a phrase that names
    none, such as "đánh giá" around the fee cue "giá", only takes its words out of play)."""
    return list(dict.fromkeys(facet for _, _, facet in _matches(words, cues, agree) if facet))


def _agrees(written: Sequence[str], spelling: Cue, strict: bool) -> bool:
    """A word typed with accents must be spelt as the cue; one typed without them agrees
    with any spelling unless the message is typed with accents; a word the glossary put in
    ("") agrees with anything."""
    return all(
        not w or w == s or (not strict and w == fold(w))
        for w, s in zip(written, spelling, strict=False)
    )


def _specific_first(found: list[str], cues: Mapping[Cue, str]) -> tuple[str, ...]:
    """A subject named by a longer cue ('nhãn hiệu tập thể') outranks the general one it
    contains ('nhãn hiệu'): the general one is dropped when a more specific one of its topic
    was named by a cue that contains one of its own cues."""
    if len(found) < 2:
        return tuple(found)
    cue_sets = {facet: [cue for cue, f in cues.items() if f == facet] for facet in found}
    kept = []
    for facet in found:
        inside_other = any(
            other != facet
            and any(
                _contains(long_cue, short_cue)
                for long_cue in cue_sets[other]
                for short_cue in cue_sets[facet]
                if len(long_cue) > len(short_cue)
            )
            for other in found
        )
        if not inside_other:
            kept.append(facet)
    return tuple(kept or found)


def _contains(long: Cue, short: Cue) -> bool:
    return any(long[i : i + len(short)] == short for i in range(len(long) - len(short) + 1))


class FacetError(Exception):
    """facets.yaml cannot be used; the message is `file: field: reason`."""


def parse_vocabulary(data: Any, source: str, expand: Any = None) -> Vocabulary:
    """Build the vocabulary; `expand` (the glossary's) puts cues in the form queries take."""
    if not isinstance(data, dict) or not isinstance(data.get("subjects"), dict):
        raise FacetError(f"{source}: subjects: expected 'subjects:' and 'intents:' sections")
    if not isinstance(data.get("intents"), dict):
        raise FacetError(f"{source}: intents: expected an 'intents:' section")
    spellings: dict[Cue, set[Cue]] = {}
    subjects, subject_cues, _ = _section(data["subjects"], "subjects", source, expand, spellings)
    intents, intent_cues, weak = _section(data["intents"], "intents", source, expand, spellings)
    fallbacks: dict[str, tuple[str, ...]] = {}
    for key, item in data["intents"].items():
        values = item.get("fallback") or []
        unknown = [str(v) for v in values if str(v) not in intents]
        if unknown:
            raise FacetError(f"{source}: intents.{key}.fallback: unknown intent {unknown[0]}")
        fallbacks[str(key)] = tuple(str(v) for v in values)
    for key, facet in subjects.items():
        if facet.parent and facet.parent not in subjects:
            raise FacetError(f"{source}: subjects.{key}.parent: unknown subject {facet.parent}")
    generic = {str(k): _level(item.get("generic")) for k, item in data["intents"].items()}
    for phrase in _not_cues(data.get("not_cues"), source, expand, spellings):
        intent_cues.setdefault(phrase, NO_FACET)
        weak.setdefault(phrase, NO_FACET)
    known = {cue: frozenset(found) for cue, found in spellings.items() if found}
    # A cue spelt without accents ("online", "qcvn nào" typed plainly) agrees with anything.
    return Vocabulary(subjects, intents, subject_cues, intent_cues, weak, fallbacks, generic, known)


def _cue(value: Any, expand: Any, spellings: dict[Cue, set[Cue]]) -> Cue:
    """The cue as queries take it (folded, glossary-expanded), remembering how it is spelt;
    a cue the glossary rewrites has no spelling to compare and matches as folded."""
    words = tokens(str(value))
    expanded = tuple(expand(words) if expand is not None else words)
    if not expanded:
        return expanded
    written = tuple(w for _, w in written_tokens(str(value)))
    found = spellings.setdefault(expanded, set())
    if expanded == tuple(words) and len(written) == len(expanded):
        found.add(written)
    else:
        found.add(ANY_SPELLING)
    return expanded


def _level(value: Any) -> int:
    """`generic: true` is level 1; a number says how much more general ("steps": 2), or, below
    zero, that the intent outranks specific ones ("phạt bao nhiêu" asks for the fine even
    about printing a code)."""
    if value is True:
        return 1
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _not_cues(raw: Any, source: str, expand: Any, spellings: dict[Cue, set[Cue]]) -> list[Cue]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FacetError(f"{source}: not_cues: expected a list of phrases")
    return [cue for cue in (_cue(p, expand, spellings) for p in raw) if cue]


def _section(
    items: dict[Any, Any], name: str, source: str, expand: Any, spellings: dict[Cue, set[Cue]]
) -> tuple[dict[str, Facet], dict[Cue, str], dict[Cue, str]]:
    facets: dict[str, Facet] = {}
    cues: dict[Cue, str] = {}
    weak: dict[Cue, str] = {}
    for key, item in items.items():
        where = f"{name}.{key}"
        if not isinstance(item, dict) or not item.get("label"):
            raise FacetError(f"{source}: {where}: needs a label and cues")
        raw_cues = item.get("cues") or []
        if not isinstance(raw_cues, list) or not raw_cues:
            raise FacetError(f"{source}: {where}.cues: expected a non-empty list")
        facets[str(key)] = Facet(
            str(key),
            str(item["label"]),
            str(item.get("label_en") or item["label"]),
            str(item["topic"]) if item.get("topic") else None,
            str(item["parent"]) if item.get("parent") else None,
        )
        for target, values in ((cues, raw_cues), (weak, item.get("weak_cues") or [])):
            for value in values:
                cue = _cue(value, expand, spellings)
                if cue:
                    target.setdefault(cue, str(key))
    return facets, cues, weak
