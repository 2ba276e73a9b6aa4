"""The curated knowledge base: loading, validation, and search over it.

Staff edit these files by hand, so every problem is reported as `file: field: reason` and a bad
file never prevents the rest from loading.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

from bot.config import Agency, KnowledgeSettings
from bot.qa.entries import (
    Entry as Entry,
)
from bot.qa.entries import (
    Problem as Problem,
)
from bot.qa.entries import (
    answer_renderer,
    as_text,
    display_name,
    read_entry,
    render_body,
    traceable,
    untraceable,
)
from bot.qa.facets import FACETS_FILE, FacetError, Vocabulary, parse_vocabulary
from bot.qa.glossary import Glossary, GlossaryError, load_glossary
from bot.qa.legal import LEGAL_DOCUMENTS_FILE, Registry, load_registry
from bot.qa.products import PRODUCTS_FILE, Catalogue, load_catalogue
from bot.qa.retrieval import Document, Index, SearchResult

GLOSSARY_FILE = "glossary.yaml"
OUT_OF_SCOPE_FILE = "out_of_scope.yaml"
LAST_GOOD_SERVED = "invalid: its last valid version is answered until the file is fixed"


@dataclass(frozen=True)
class OutOfScope:
    """A family of questions the office does not handle, with where to go instead."""

    id: str
    title: str
    redirect: str
    questions: tuple[str, ...]


@dataclass
class LoadResult:
    knowledge: KnowledgeBase
    problems: list[Problem] = field(default_factory=list)
    good: dict[str, str] = field(default_factory=dict)  # relative path -> text that loaded

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def ok(self) -> bool:
        return not self.errors


class KnowledgeBase:
    """Validated entries plus the index that answers questions about them."""

    def __init__(
        self,
        entries: Sequence[Entry],
        glossary: Glossary | None = None,
        out_of_scope: Sequence[OutOfScope] = (),
        vocabulary: Vocabulary | None = None,
        products: Catalogue | None = None,
        legal: Registry | None = None,
    ) -> None:
        self.entries = {entry.id: entry for entry in entries}
        self.products = products or Catalogue()
        self.legal = legal or Registry()
        self.vocabulary = vocabulary or Vocabulary()
        self._dated = [e for e in entries if e.valid_from or e.valid_until]
        self.glossary = glossary or Glossary()
        self.out_of_scope = {group.id: group for group in out_of_scope}
        documents = [_entry_document(entry) for entry in entries]
        documents += [_out_of_scope_document(group) for group in out_of_scope]
        self.index = Index(documents, self.glossary)

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, question: str, limit: int = 3, today: dt.date | None = None) -> SearchResult:
        day = today or dt.date.today()
        excluded = [e.id for e in self._dated if not e.valid_on(day)]
        return self.index.search(question, limit=limit, excluded=excluded)

    def by_topic(self, topic: str, today: dt.date | None = None) -> list[Entry]:
        day = today or dt.date.today()
        found = [e for e in self.entries.values() if e.topic == topic and e.valid_on(day)]
        return sorted(found, key=lambda e: e.title)


def _entry_document(entry: Entry) -> Document:
    return Document(
        id=entry.id,
        topic=entry.topic,
        title=(entry.title, entry.title_en),
        questions=entry.questions,
        keywords=entry.keywords,
    )


def _out_of_scope_document(group: OutOfScope) -> Document:
    return Document(
        id=group.id, topic=None, title=(group.title,), questions=group.questions, keywords=()
    )


# --- loading -------------------------------------------------------------------------------


def load_knowledge(
    path: Path,
    agency: Agency | None = None,
    settings: KnowledgeSettings | None = None,
    today: dt.date | None = None,
    last_good: dict[str, str] | None = None,
) -> LoadResult:
    """Load every entry under `path`; problems are collected, broken files are left out (or,
    given `last_good` texts, served in their last version that loaded)."""
    agency = agency or Agency()
    settings = settings or KnowledgeSettings()
    today = today or dt.date.today()
    problems: list[Problem] = []
    if not path.is_dir():
        problems.append(Problem(str(path), "path", "knowledge folder not found"))
        return LoadResult(KnowledgeBase([]), problems)

    renderer = answer_renderer()
    glossary = _load_glossary(path / GLOSSARY_FILE, problems)
    vocabulary = _load_vocabulary(path / FACETS_FILE, glossary, problems)
    reader = _EntryReader(path, agency, settings, today, renderer, vocabulary, last_good or {})
    entries = reader.read_all(problems)
    ids = {entry.id for entry in entries}
    _check_related(entries, ids, problems)
    out_of_scope = _load_out_of_scope(path / OUT_OF_SCOPE_FILE, ids, agency, renderer, problems)
    legal = _load_registry(path, problems)
    for entry in entries:
        for finding in legal.check(entry.legal_basis, entry.body, today, entry.sources):
            problems.append(Problem(entry.path, finding.field, finding.reason, finding.warning))
    products = _load_products(path, legal, today, problems)
    knowledge = KnowledgeBase(entries, glossary, out_of_scope, vocabulary, products, legal)
    return LoadResult(knowledge, problems, reader.good)


@dataclass
class _EntryReader:
    """Reads every entry file once, keeping the text of each that loads (the last good
    version served when the file later breaks)."""

    path: Path
    agency: Agency
    settings: KnowledgeSettings
    today: dt.date
    renderer: jinja2.Environment
    vocabulary: Vocabulary
    last_good: dict[str, str]
    good: dict[str, str] = field(default_factory=dict)

    def read_all(self, problems: list[Problem]) -> list[Entry]:
        entries: list[Entry] = []
        seen: dict[str, str] = {}
        for file in sorted(self.path.glob("*/*.md")):
            entry = self._read(file, problems)
            if entry is None:
                continue
            if entry.id in seen:
                reason = f"duplicate id, also used by {seen[entry.id]}"
                problems.append(Problem(entry.path, "id", reason))
                continue
            seen[entry.id] = entry.path
            entries.append(entry)
        return entries

    def _read(self, file: Path, problems: list[Problem]) -> Entry | None:
        key = file.relative_to(self.path).as_posix()
        try:
            text: str | None = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None  # read_entry reads it again and reports why it cannot
        entry = self._entry(file, text, problems)
        if entry is not None:
            if text is not None:
                self.good[key] = text
            return entry
        previous = self.last_good.get(key)
        if previous is None:
            return None
        # An entry whose file became invalid keeps being answered by its last good version
        # (not by a neighbour) until staff fix it.
        entry = self._entry(file, previous, [])
        if entry is not None:
            name = display_name(file, root=self.path)
            problems.append(Problem(name, "file", LAST_GOOD_SERVED, warning=True))
            self.good[key] = previous
        return entry

    def _entry(self, file: Path, text: str | None, problems: list[Problem]) -> Entry | None:
        return read_entry(
            file,
            self.path,
            self.agency,
            self.settings,
            self.today,
            self.renderer,
            problems,
            self.vocabulary,
            text,
        )


def _check_related(entries: list[Entry], ids: set[str], problems: list[Problem]) -> None:
    for entry in entries:
        for related in entry.related:
            if related == entry.id:
                problems.append(Problem(entry.path, "related", "an entry cannot relate to itself"))
            elif related not in ids:
                problems.append(Problem(entry.path, "related", f"unknown related id '{related}'"))


def _load_registry(path: Path, problems: list[Problem]) -> Registry:
    registry, found = load_registry(path / LEGAL_DOCUMENTS_FILE)
    name = f"{path.name}/{LEGAL_DOCUMENTS_FILE}"
    problems.extend(Problem(name, where, reason) for where, reason in found)
    return registry


def _load_products(
    path: Path, legal: Registry, today: dt.date, problems: list[Problem]
) -> Catalogue:
    catalogue, found = load_catalogue(path / PRODUCTS_FILE, today)
    name = f"{path.name}/{PRODUCTS_FILE}"
    problems.extend(Problem(name, where, reason) for where, reason in found)
    for product in catalogue.products.values():
        for source in product.sources:
            if not traceable(source):
                problems.append(Problem(name, f"{product.id}.sources", untraceable(source)))
        cites = [*(r.number for r in product.regulations), *product.legal_basis]
        for finding in legal.check(cites, "", today, product.sources):
            field_name = f"{product.id}.{finding.field}"
            problems.append(Problem(name, field_name, finding.reason, finding.warning))
    return catalogue


def _load_vocabulary(path: Path, glossary: Glossary, problems: list[Problem]) -> Vocabulary:
    if not path.exists():
        return Vocabulary()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return parse_vocabulary(data, str(path), glossary.expand)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(Problem(str(path), "file", f"not valid YAML: {' '.join(str(exc).split())}"))
    except FacetError as exc:
        file, _, rest = str(exc).partition(": ")
        field_name, _, reason = rest.partition(": ")
        problems.append(Problem(file, field_name, reason or rest))
    return Vocabulary()


def _load_glossary(path: Path, problems: list[Problem]) -> Glossary:
    try:
        return load_glossary(path)
    except GlossaryError as exc:
        file, _, rest = str(exc).partition(": ")
        field_name, _, reason = rest.partition(": ")
        problems.append(Problem(file, field_name, reason or rest))
        return Glossary()


def _load_out_of_scope(
    path: Path,
    entry_ids: Iterable[str],
    agency: Agency,
    renderer: jinja2.Environment,
    problems: list[Problem],
) -> list[OutOfScope]:
    if not path.exists():
        return []
    name = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        problems.append(Problem(name, "file", f"not valid YAML: {' '.join(str(exc).split())}"))
        return []
    if not isinstance(data, list):
        problems.append(Problem(name, "file", "expected a list of groups ('- id: ...')"))
        return []
    groups: list[OutOfScope] = []
    taken = set(entry_ids)
    for number, item in enumerate(data, start=1):
        where = f"group {number}"
        if not isinstance(item, dict):
            problems.append(Problem(name, where, "expected id, title, redirect, questions"))
            continue
        group_id = as_text(item.get("id"))
        where = group_id or where
        raw = item.get("questions") or []
        if not isinstance(raw, list):
            problems.append(Problem(name, f"{where}.questions", "expected a list of phrasings"))
            continue
        questions = [as_text(q) for q in raw if as_text(q)]
        missing = [k for k in ("id", "title", "redirect") if not as_text(item.get(k))]
        if missing or not questions:
            problems.append(Problem(name, where, f"missing {', '.join(missing or ['questions'])}"))
            continue
        if group_id in taken:
            problems.append(Problem(name, where, "id already used"))
            continue
        taken.add(group_id)

        def problem(field_name: str, reason: str, where: str = where) -> None:
            problems.append(Problem(name, f"{where}.{field_name}", reason))

        redirect = render_body(as_text(item["redirect"]), agency, renderer, problem)
        if redirect is not None:
            groups.append(OutOfScope(group_id, as_text(item["title"]), redirect, tuple(questions)))
    return groups
