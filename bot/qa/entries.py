"""One knowledge entry file: its front matter checked field by field and its answer rendered,
every problem reported as `file: field: reason` for the staff who edit it by hand."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from bot import frontmatter
from bot.config import Agency, KnowledgeSettings
from bot.qa.facets import Vocabulary
from bot.qa.legal import cited
from bot.qa.text import tokens
from bot.templating import environment
from bot.topics import TOPICS

MIN_QUESTIONS = 4
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


def traceable(source: str) -> bool:
    """A source staff can open: an address, or a legal document (with its article)."""
    text = source.strip()
    return text.startswith(("http://", "https://")) or bool(
        cited(text) or _SOURCE_REFERENCE.search(text)
    )


def untraceable(source: str) -> str:
    return f"'{source}' is neither a web address nor a legal document with its article"


def answer_renderer() -> jinja2.Environment:
    """Answers are Markdown, escaped later when rendered to HTML (the one environment escapes
    only .html.j2 templates); StrictUndefined catches a misspelt agency field."""
    return environment()


def read_entry(
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
    """The entry in `file` (or in `text`, its content), or None when it has an error; every
    problem, warnings included, is added to `problems`."""
    name = display_name(file, root)
    found: list[Problem] = []

    def problem(field_name: str, reason: str, warning: bool = False) -> None:
        found.append(Problem(name, field_name, reason, warning))

    meta_and_answer = _front_matter(file, name, text, problems)
    if meta_and_answer is None:
        return None
    meta, answer = meta_and_answer
    _check_fields(meta, problem)
    entry_id, topic = _identity(meta, file, problem)
    questions = _phrasings(meta, topic, problem)
    keywords = _strings(meta.get("keywords"), "keywords", problem)
    legal_basis = _strings(meta.get("legal_basis"), "legal_basis", problem)
    related = _strings(meta.get("related"), "related", problem)
    sources = _strings(meta.get("sources"), "sources", problem)
    subjects, intents, leads = _facets(meta, topic, vocabulary or Vocabulary(), problem)
    reviewed, valid_from, valid_until = _dates(meta, today, settings, problem)
    body = render_body(answer, agency, renderer, problem)
    _check_answer(body, answer, topic, sources, agency, settings, problem)

    problems.extend(found)
    if any(not p.warning for p in found) or body is None or reviewed is None:
        return None
    return Entry(
        id=entry_id,
        topic=topic,
        title=as_text(meta.get("title")),
        title_en=as_text(meta.get("title_en")),
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


def _front_matter(
    file: Path, name: str, text: str | None, problems: list[Problem]
) -> tuple[dict[str, Any], str] | None:
    if text is None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(name, "file", f"cannot be read: {exc}"))
            return None
    try:
        return frontmatter.split(text)
    except frontmatter.FrontMatterError as error:
        reason = _FRONT_MATTER_PROBLEMS[error.kind] + error.detail
        problems.append(Problem(name, "front matter", reason))
        return None


def _check_fields(meta: dict[str, Any], problem: Any) -> None:
    for key in meta:
        if key not in REQUIRED and key not in OPTIONAL:
            problem(str(key), "unknown field")
    for key in REQUIRED:
        if key not in meta or meta[key] is None or meta[key] == "":
            if key == "legal_basis" and meta.get("topic") == "smalltalk" and key in meta:
                continue
            problem(key, "missing field")


def _identity(meta: dict[str, Any], file: Path, problem: Any) -> tuple[str, str]:
    """The id and the topic, which the file's name and folder must repeat."""
    entry_id = as_text(meta.get("id"))
    if entry_id and not _ID.match(entry_id):
        problem("id", "use lower-case letters, digits and hyphens only")
    elif entry_id and entry_id != file.stem:
        problem("id", f"'{entry_id}' does not match the file name '{file.stem}'")
    topic = as_text(meta.get("topic"))
    if topic and topic not in TOPICS:
        problem("topic", f"'{topic}' is not one of {', '.join(TOPICS)}")
    elif topic and file.parent.name != topic:
        problem("topic", f"'{topic}' but the file is in the folder '{file.parent.name}'")
    return entry_id, topic


def _phrasings(meta: dict[str, Any], topic: str, problem: Any) -> list[str]:
    questions = _strings(meta.get("questions"), "questions", problem)
    if "questions" in meta and len(questions) < MIN_QUESTIONS:
        problem("questions", f"needs at least {MIN_QUESTIONS} phrasings, has {len(questions)}")
    if questions and topic not in (None, "", "smalltalk") and not any(map(_english, questions)):
        problem("questions", "needs at least one phrasing in English")
    return questions


def _dates(
    meta: dict[str, Any], today: dt.date, settings: KnowledgeSettings, problem: Any
) -> tuple[dt.date | None, dt.date | None, dt.date | None]:
    """reviewed, valid_from, valid_until; an entry not reviewed for long gets a warning."""
    reviewed = _date(meta.get("reviewed"), "reviewed", problem)
    valid_from = _date(meta.get("valid_from"), "valid_from", problem)
    valid_until = _date(meta.get("valid_until"), "valid_until", problem)
    if valid_from and valid_until and valid_from > valid_until:
        problem("valid_until", "is before valid_from")
    if reviewed and reviewed > today:
        problem("reviewed", f"{reviewed.isoformat()} is in the future")
    elif reviewed and (today - reviewed).days > settings.stale_after_days:
        problem("reviewed", f"last reviewed {reviewed.isoformat()}: review it again", True)
    return reviewed, valid_from, valid_until


def _check_answer(
    body: str | None,
    answer: str,
    topic: str,
    sources: list[str],
    agency: Agency,
    settings: KnowledgeSettings,
    problem: Any,
) -> None:
    """What a business would read: every figure sourced, no unset agency detail, not empty,
    not too long for a phone."""
    for unset in sorted(set(_AGENCY_FIELD.findall(answer)) & set(agency.missing())):
        problem(
            "answer",
            f"uses agency.{unset}, which config.toml does not set: that part shows nothing "
            "(write {{ agency.contact }} instead)",
            True,
        )
    if body is None:
        return
    if topic != "smalltalk":
        figure = _FIGURE.search(body)
        if figure and not sources:
            problem(
                "sources",
                f"the answer states a figure ('{figure.group(0)}') but names no source: add "
                "'sources:' (a web address or a legal document with its article)",
            )
        for source in sources:
            if not traceable(source):
                problem("sources", untraceable(source))
    if not body.strip():
        problem("answer", "empty answer: write the answer below the front matter")
    elif len(body) > settings.max_answer_chars:
        limit = settings.max_answer_chars
        problem("answer", f"over-long answer: {len(body)} characters (limit {limit})")
    elif len(body) > settings.soft_answer_chars:
        problem("answer", f"{len(body)} characters: hard to read on a phone", True)


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
            elif not as_text(text):
                problem("leads", f"'{key}' has no sentence")
            else:
                leads.append((str(key), as_text(text)))
    return tuple(subjects), tuple(intents), tuple(leads)


def as_text(value: Any) -> str:
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
    items = [as_text(item) for item in value]
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


def render_body(
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


def display_name(file: Path, root: Path) -> str:
    try:
        return str(file.relative_to(root.parent)) if root.parent != Path() else str(file)
    except ValueError:
        return str(file)
