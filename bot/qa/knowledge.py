"""The curated knowledge base: loading, validation, and search over it.

Staff edit these files by hand, so every problem is reported as `file: field: reason` and a bad
file never prevents the rest from loading.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from bot import frontmatter
from bot.config import Agency, KnowledgeSettings
from bot.qa.facets import FACETS_FILE, FacetError, Vocabulary, parse_vocabulary
from bot.qa.glossary import Glossary, GlossaryError, load_glossary
from bot.qa.legal import LEGAL_DOCUMENTS_FILE, Registry, cited, load_registry
from bot.qa.products import PRODUCTS_FILE, Catalogue, load_catalogue
from bot.qa.retrieval import Document, Index, SearchResult
from bot.qa.text import tokens
from bot.topics import TOPICS

GLOSSARY_FILE = "glossary.yaml"
OUT_OF_SCOPE_FILE = "out_of_scope.yaml"
MIN_QUESTIONS = 4
LAST_GOOD_SERVED = "invalid: its last valid version is answered until the file is fixed"
REQUIRED = ("id", "topic", "title", "title_en", "questions", "keywords", "legal_basis", "reviewed")
OPTIONAL = ("related", "valid_from", "valid_until", "subjects", "intents", "leads", "sources")
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_AGENCY_FIELD = re.compile(r"\{\{\s*agency\.([a-z_]+)\s*\}\}")
# A figure a business would act on: an amount, a time limit, a rate ("1.000.000 đồng",
# "20 ngày", "10%", "6 tháng"); such an entry needs a source staff can open.
_FIGURE = re.compile(
    r"\b\d{1,3}(?:[.,]\d{3})+\b|\b\d+(?:[.,]\d+)?\s*(?:%|đồng|triệu|nghìn|ngàn|vnd|ngày|tuần|"
    r"tháng|năm|giờ)(?!\w)",
    re.IGNORECASE,
)
_SOURCE_REFERENCE = re.compile(r"\b(?:Điều|Khoản|Phụ lục|Mục|Article|Annex)\b", re.IGNORECASE)
_FRONT_MATTER_PROBLEMS = {
    "missing": "missing: the file must start with '---'",
    "yaml": "not valid YAML: ",
    "not_mapping": "expected 'field: value' lines",
}
_ENGLISH = frozenset(
    [
        "how",
        "what",
        "which",
        "where",
        "when",
        "who",
        "why",
        "does",
        "do",
        "is",
        "are",
        "can",
        "should",
        "the",
        "my",
        "our",
        "we",
        "i",
        "need",
        "to",
        "for",
        "of",
        "register",
        "registration",
        "fee",
        "fees",
        "cost",
        "get",
        "apply",
        "must",
        "much",
        "long",
        "take",
        "an",
        "in",
        "it",
        "you",
        "your",
        "with",
        "about",
        "there",
        "any",
        "have",
        "has",
    ]
)


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    reason: str
    warning: bool = False

    def __str__(self) -> str:
        reason = f"warning: {self.reason}" if self.warning else self.reason
        return f"{self.file}: {self.field}: {reason}"


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    title: str
    title_en: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    legal_basis: tuple[str, ...]
    reviewed: dt.date
    body: str
    related: tuple[str, ...] = ()
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    path: str = ""
    subjects: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    leads: tuple[tuple[str, str], ...] = ()  # (intent, first sentence for that intent)
    sources: tuple[str, ...] = ()

    def lead(self, intent: str | None) -> str | None:
        """The sentence that answers this intent first ("Có, hộ kinh doanh được ..."), when
        the entry's opening would answer another one ("Không bắt buộc ...")."""
        return next((text for key, text in self.leads if key == intent), None)

    def valid_on(self, day: dt.date) -> bool:
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_until and day > self.valid_until)


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

    renderer = _renderer()
    glossary = _load_glossary(path / GLOSSARY_FILE, problems)
    vocabulary = _load_vocabulary(path / FACETS_FILE, glossary, problems)
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    good: dict[str, str] = {}
    for file in sorted(path.glob("*/*.md")):
        key = file.relative_to(path).as_posix()
        found: list[Problem] = []
        try:
            text: str | None = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None  # _load_entry reads it again and reports why it cannot
        entry = _load_entry(file, path, agency, settings, today, renderer, found, vocabulary, text)
        problems.extend(found)
        if entry is None and key in (last_good or {}):
            # An entry whose file became invalid keeps being answered by its last good
            # version (not by a neighbour) until staff fix it.
            previous = (last_good or {})[key]
            entry = _load_entry(
                file, path, agency, settings, today, renderer, [], vocabulary, previous
            )
            if entry is not None:
                problems.append(
                    Problem(_display(file, root=path), "file", LAST_GOOD_SERVED, warning=True)
                )
                good[key] = previous
        elif entry is not None and text is not None:
            good[key] = text
        if entry is None:
            continue
        if entry.id in seen:
            problems.append(
                Problem(entry.path, "id", f"duplicate id, also used by {seen[entry.id]}")
            )
            continue
        seen[entry.id] = entry.path
        entries.append(entry)
    for entry in entries:
        for related in entry.related:
            if related == entry.id:
                problems.append(Problem(entry.path, "related", "an entry cannot relate to itself"))
            elif related not in seen:
                problems.append(Problem(entry.path, "related", f"unknown related id '{related}'"))

    out_of_scope = _load_out_of_scope(
        path / OUT_OF_SCOPE_FILE, set(seen), agency, renderer, problems
    )
    legal = _load_registry(path, problems)
    for entry in entries:
        for finding in legal.check(entry.legal_basis, entry.body, today, entry.sources):
            problems.append(Problem(entry.path, finding.field, finding.reason, finding.warning))
    products = _load_products(path, legal, today, problems)
    knowledge = KnowledgeBase(entries, glossary, out_of_scope, vocabulary, products, legal)
    return LoadResult(knowledge, problems, good)


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
            if not _traceable(source):
                problems.append(Problem(name, f"{product.id}.sources", _untraceable(source)))
        cites = [*(r.number for r in product.regulations), *product.legal_basis]
        for finding in legal.check(cites, "", today, product.sources):
            field_name = f"{product.id}.{finding.field}"
            problems.append(Problem(name, field_name, finding.reason, finding.warning))
    return catalogue


def _traceable(source: str) -> bool:
    """A source staff can open: an address, or a legal document (with its article)."""
    text = source.strip()
    return text.startswith(("http://", "https://")) or bool(
        cited(text) or _SOURCE_REFERENCE.search(text)
    )


def _untraceable(source: str) -> str:
    return f"'{source}' is neither a web address nor a legal document with its article"


def _renderer() -> jinja2.Environment:
    # Answers are Markdown, escaped later when rendered to HTML; StrictUndefined catches typos.
    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


def _load_entry(
    file: Path,
    root: Path,
    agency: Agency,
    settings: KnowledgeSettings,
    today: dt.date,
    renderer: jinja2.Environment,
    problems: list[Problem],
    vocabulary: Vocabulary | None = None,
    text: str | None = None,
) -> Entry | None:
    name = _display(file, root)
    found: list[Problem] = []

    def problem(field_name: str, reason: str, warning: bool = False) -> None:
        found.append(Problem(name, field_name, reason, warning))

    if text is None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(name, "file", f"cannot be read: {exc}"))
            return None
    try:
        meta, answer = frontmatter.split(text)
    except frontmatter.FrontMatterError as error:
        problems.append(
            Problem(name, "front matter", _FRONT_MATTER_PROBLEMS[error.kind] + error.detail)
        )
        return None

    for key in meta:
        if key not in REQUIRED and key not in OPTIONAL:
            problem(str(key), "unknown field")
    for key in REQUIRED:
        if key not in meta or meta[key] is None or meta[key] == "":
            if key == "legal_basis" and meta.get("topic") == "smalltalk" and key in meta:
                continue
            problem(key, "missing field")

    entry_id = _text(meta.get("id"))
    if entry_id and not _ID.match(entry_id):
        problem("id", "use lower-case letters, digits and hyphens only")
    elif entry_id and entry_id != file.stem:
        problem("id", f"'{entry_id}' does not match the file name '{file.stem}'")

    topic = _text(meta.get("topic"))
    if topic and topic not in TOPICS:
        problem("topic", f"'{topic}' is not one of {', '.join(TOPICS)}")
    elif topic and file.parent.name != topic:
        problem("topic", f"'{topic}' but the file is in the folder '{file.parent.name}'")

    questions = _strings(meta.get("questions"), "questions", problem)
    if "questions" in meta and len(questions) < MIN_QUESTIONS:
        problem("questions", f"needs at least {MIN_QUESTIONS} phrasings, has {len(questions)}")
    if questions and topic not in (None, "", "smalltalk") and not any(map(_english, questions)):
        problem("questions", "needs at least one phrasing in English")
    keywords = _strings(meta.get("keywords"), "keywords", problem)
    legal_basis = _strings(meta.get("legal_basis"), "legal_basis", problem)
    related = _strings(meta.get("related"), "related", problem)
    sources = _strings(meta.get("sources"), "sources", problem)
    subjects, intents, leads = _facets(meta, topic, vocabulary or Vocabulary(), problem)

    reviewed = _date(meta.get("reviewed"), "reviewed", problem)
    valid_from = _date(meta.get("valid_from"), "valid_from", problem)
    valid_until = _date(meta.get("valid_until"), "valid_until", problem)
    if valid_from and valid_until and valid_from > valid_until:
        problem("valid_until", "is before valid_from")
    if reviewed and reviewed > today:
        problem("reviewed", f"{reviewed.isoformat()} is in the future")
    elif reviewed and (today - reviewed).days > settings.stale_after_days:
        problem("reviewed", f"last reviewed {reviewed.isoformat()}: review it again", True)

    body = _render_body(answer, agency, renderer, problem)
    for unset in sorted(set(_AGENCY_FIELD.findall(answer)) & set(agency.missing())):
        problem(
            "answer",
            f"uses agency.{unset}, which config.toml does not set: that part shows nothing "
            "(write {{ agency.contact }} instead)",
            True,
        )
    if body is not None and topic != "smalltalk":
        figure = _FIGURE.search(body)
        if figure and not sources:
            problem(
                "sources",
                f"the answer states a figure ('{figure.group(0)}') but names no source: add "
                "'sources:' (a web address or a legal document with its article)",
            )
        for source in sources:
            if not _traceable(source):
                problem("sources", _untraceable(source))
    if body is not None:
        if not body.strip():
            problem("answer", "empty answer: write the answer below the front matter")
        elif len(body) > settings.max_answer_chars:
            limit = settings.max_answer_chars
            problem("answer", f"over-long answer: {len(body)} characters (limit {limit})")
        elif len(body) > settings.soft_answer_chars:
            problem("answer", f"{len(body)} characters: hard to read on a phone", True)

    problems.extend(found)
    if any(not p.warning for p in found) or body is None or reviewed is None:
        return None
    return Entry(
        id=entry_id,
        topic=topic,
        title=_text(meta.get("title")),
        title_en=_text(meta.get("title_en")),
        questions=tuple(questions),
        keywords=tuple(keywords),
        legal_basis=tuple(legal_basis),
        reviewed=reviewed,
        body=body,
        related=tuple(related),
        valid_from=valid_from,
        valid_until=valid_until,
        path=name,
        subjects=subjects,
        intents=intents,
        leads=leads,
        sources=tuple(sources),
    )


def _facets(
    meta: dict[str, Any], topic: str, vocabulary: Vocabulary, problem: Any
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The subjects and intents an entry answers, checked against knowledge/facets.yaml."""
    subjects = _strings(meta.get("subjects"), "subjects", problem)
    intents = _strings(meta.get("intents"), "intents", problem)
    if vocabulary.subjects and topic not in ("", "smalltalk"):
        if not subjects:
            problem("subjects", "missing: name the subject(s) this entry answers (facets.yaml)")
        if not intents:
            problem("intents", "missing: name what this entry answers (facets.yaml)")
    for name, values, known in (
        ("subjects", subjects, vocabulary.subjects),
        ("intents", intents, vocabulary.intents),
    ):
        for value in values:
            if known and value not in known:
                problem(name, f"'{value}' is not in facets.yaml")
    raw_leads = meta.get("leads") or {}
    leads: list[tuple[str, str]] = []
    if not isinstance(raw_leads, dict):
        problem("leads", "expected 'intent: first sentence' lines")
    else:
        for key, text in raw_leads.items():
            if str(key) not in intents:
                problem("leads", f"'{key}' is not one of this entry's intents")
            elif not _text(text):
                problem("leads", f"'{key}' has no sentence")
            else:
                leads.append((str(key), _text(text)))
    return tuple(subjects), tuple(intents), tuple(leads)


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


def _display(file: Path, root: Path) -> str:
    try:
        return str(file.relative_to(root.parent)) if root.parent != Path() else str(file)
    except ValueError:
        return str(file)


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _strings(value: Any, name: str, problem: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        problem(name, "expected a list ([a, b] or one '- item' per line)")
        return []
    if not isinstance(value, list):
        problem(name, "expected a list")
        return []
    items = [_text(item) for item in value]
    if any(not item for item in items):
        problem(name, "contains an empty item")
    return [item for item in items if item]


def _date(value: Any, name: str, problem: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        problem(name, f"'{value}' is not a date: write YYYY-MM-DD")
        return None


def _english(question: str) -> bool:
    if not question.isascii():
        return False
    return len(set(tokens(question)) & _ENGLISH) >= 2


def _render_body(
    source: str, agency: Agency, renderer: jinja2.Environment, problem: Any
) -> str | None:
    try:
        template = renderer.from_string(source)
        context = agency.template_context()
        return template.render(agency=context).strip()
    except jinja2.UndefinedError as exc:
        problem("answer", f"unknown variable: {exc.message}")
    except jinja2.TemplateError as exc:
        problem("answer", f"template error: {exc}")
    return None


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
        group_id = _text(item.get("id"))
        where = group_id or where
        raw = item.get("questions") or []
        if not isinstance(raw, list):
            problems.append(Problem(name, f"{where}.questions", "expected a list of phrasings"))
            continue
        questions = [_text(q) for q in raw if _text(q)]
        missing = [k for k in ("id", "title", "redirect") if not _text(item.get(k))]
        if missing or not questions:
            problems.append(Problem(name, where, f"missing {', '.join(missing or ['questions'])}"))
            continue
        if group_id in taken:
            problems.append(Problem(name, where, "id already used"))
            continue
        taken.add(group_id)

        def problem(field_name: str, reason: str, where: str = where) -> None:
            problems.append(Problem(name, f"{where}.{field_name}", reason))

        redirect = _render_body(_text(item["redirect"]), agency, renderer, problem)
        if redirect is not None:
            groups.append(OutOfScope(group_id, _text(item["title"]), redirect, tuple(questions)))
    return groups
