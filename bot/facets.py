"""Subjects and intents: what a question is about and what it asks of it.

A question about barcodes may ask for the fee, the dossier or where to file; ranking by shared
words alone picks the right topic but often the wrong entry. Entries declare the subjects and
intents they answer (knowledge/facets.yaml holds the vocabulary), and the question's own are
recognised by cue phrases over folded, glossary-expanded words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.text import tokens

FACETS_FILE = "facets.yaml"


@dataclass(frozen=True)
class Facet:
    id: str
    label: str
    label_en: str
    topic: str | None = None


@dataclass(frozen=True)
class Detected:
    """Facets found in a text, in the order they first appear."""

    subjects: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.subjects or self.intents)


Cue = tuple[str, ...]


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

    def detect(self, words: Sequence[str]) -> Detected:
        subjects = _find(words, self.subject_cues)
        intents = _find(words, self.intent_cues) or _find(words, self.weak_intent_cues)
        return Detected(_specific_first(subjects, self.subject_cues), tuple(intents))

    def label(self, facet_id: str, english: bool = False) -> str:
        facet = self.subjects.get(facet_id) or self.intents.get(facet_id)
        if facet is None:
            return facet_id
        return facet.label_en if english else facet.label


def _find(words: Sequence[str], cues: Mapping[Cue, str]) -> list[str]:
    """Longest cue at each position; each facet once, in order of first appearance."""
    if not cues:
        return []
    longest = max(len(cue) for cue in cues)
    found: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(longest, len(words) - i), 0, -1):
            facet = cues.get(tuple(words[i : i + size]))
            if facet is not None:
                if facet not in found:
                    found.append(facet)
                i += size
                break
        else:
            i += 1
    return found


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
    subjects, subject_cues, _ = _section(data["subjects"], "subjects", source, expand)
    intents, intent_cues, weak = _section(data["intents"], "intents", source, expand)
    fallbacks: dict[str, tuple[str, ...]] = {}
    for key, item in data["intents"].items():
        values = item.get("fallback") or []
        unknown = [str(v) for v in values if str(v) not in intents]
        if unknown:
            raise FacetError(f"{source}: intents.{key}.fallback: unknown intent {unknown[0]}")
        fallbacks[str(key)] = tuple(str(v) for v in values)
    return Vocabulary(subjects, intents, subject_cues, intent_cues, weak, fallbacks)


def _section(
    items: dict[Any, Any], name: str, source: str, expand: Any
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
        )
        for target, values in ((cues, raw_cues), (weak, item.get("weak_cues") or [])):
            for value in values:
                words = tokens(str(value))
                if expand is not None:
                    words = expand(words)
                if words:
                    target.setdefault(tuple(words), str(key))
    return facets, cues, weak
