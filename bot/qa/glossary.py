"""Abbreviations, synonyms and spelling variants that staff maintain in knowledge/glossary.yaml.

Abbreviations and spelling variants replace what the user typed ("msmv" -> "mã số mã vạch",
"qui" -> "quy"); synonyms keep the user's word and add the canonical one ("logo" -> "logo nhãn
hiệu") so that an entry written about logos still wins over a generic trademark entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from bot.qa.text import analyse, tokens

SECTIONS = ("abbreviations", "spelling", "synonyms")


class GlossaryError(Exception):
    """The glossary file cannot be used; the message names the file and the entry."""


Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Glossary:
    replace: Mapping[Phrase, Phrase] = field(default_factory=dict)
    add: Mapping[Phrase, Phrase] = field(default_factory=dict)

    @cached_property
    def longest(self) -> int:
        return max((len(key) for key in (*self.replace, *self.add)), default=0)

    @cached_property
    def known_tokens(self) -> frozenset[str]:
        """Tokens the glossary understands, so that typo correction leaves them alone."""
        return frozenset(tok for key in (*self.replace, *self.add) for tok in key)

    @cached_property
    def _starts(self) -> frozenset[str]:
        return frozenset(key[0] for key in (*self.replace, *self.add))

    def expand(self, words: list[str]) -> list[str]:
        """Apply the longest matching glossary phrase at each position."""
        starts = self._starts
        if not any(word in starts for word in words):
            return words  # the common case when indexing: nothing to expand
        return [word for word, _ in self.expand_tagged([(w, 0) for w in words])]

    def expand_tagged(self, words: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """Like `expand`, carrying a tag per word; added words are tagged 0, replacing words
        as the words they replace when those were all tagged alike (shorthand for a function
        word), else as their own function-word level ("ntn" is "như thế nào": no content)."""
        longest = self.longest
        if not longest:
            return words
        starts = self._starts
        out: list[tuple[str, int]] = []
        i = 0
        while i < len(words):
            if words[i][0] not in starts:
                out.append(words[i])
                i += 1
                continue
            size = 1
            for size in range(min(longest, len(words) - i), 0, -1):
                span = words[i : i + size]
                key = tuple(word for word, _ in span)
                if key in self.replace:
                    out.extend(_tagged(self.replace[key], {tag for _, tag in span}))
                    break
                if key in self.add:
                    out.extend(span)
                    out.extend((word, 0) for word in self.add[key])
                    break
            else:
                out.append(words[i])
                size = 1
            i += size
        return out


def parse_glossary(data: Any, source: str = "glossary.yaml") -> Glossary:
    """Build a glossary from parsed YAML, naming the offending entry on error."""
    if data is None:
        return Glossary()
    if not isinstance(data, dict):
        raise GlossaryError(f"{source}: expected sections {', '.join(SECTIONS)}")
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise GlossaryError(f"{source}: {sorted(unknown)[0]}: unknown section")
    replace: dict[Phrase, Phrase] = {}
    add: dict[Phrase, Phrase] = {}
    for section in SECTIONS:
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise GlossaryError(f"{source}: {section}: expected 'term: meaning' lines")
        target = add if section == "synonyms" else replace
        for term, meaning in entries.items():
            key, value = _phrase(term), _phrase(meaning)
            if not key or not value:
                raise GlossaryError(f"{source}: {section}.{term}: empty term or meaning")
            if key in replace or key in add:
                raise GlossaryError(f"{source}: {section}.{term}: term defined twice")
            target[key] = value
    return Glossary(replace=replace, add=add)


def _phrase(value: Any) -> Phrase:
    return tuple(tokens(str(value))) if value is not None else ()


def load_glossary(path: Path) -> Glossary:
    if not path.exists():
        return Glossary()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise GlossaryError(f"{path}: not valid YAML: {exc}") from exc
    return parse_glossary(data, str(path))


def _tagged(replacement: Phrase, tags: set[int]) -> list[tuple[str, int]]:
    if len(tags) == 1 and (tag := next(iter(tags))) > 0:
        return [(word, tag) for word in replacement]
    return [
        (word, level)
        for (_, level), word in zip(analyse(" ".join(replacement)), replacement, strict=False)
    ]
