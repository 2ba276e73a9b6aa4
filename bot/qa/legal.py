"""The registry of legal documents the knowledge base cites (knowledge/legal_documents.yaml).

Vietnamese rules change often (2025-2026 replaced the barcode decrees, the IP implementing
texts and the conformity framework). Staff record each cited document once, with when it took
effect and when it was repealed or replaced; `kb check` then finds every entry that still
cites a repealed document as current, and warns a month before a document is known to change.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.qa.text import fold, tokens

LEGAL_DOCUMENTS_FILE = "legal_documents.yaml"
STATUSES = ("in_force", "amended", "repealed", "partly_repealed", "to_confirm")
WARN_AHEAD = dt.timedelta(days=31)
# "74/2018/NĐ-CP", "10/2026/TT-BKHCN", "78/2025/QH15", "QCVN 2:2021/BKHCN"
_NUMBER = re.compile(
    r"(?:QCVN|TCVN)\s*[0-9][0-9A-Za-z.\-]*(?::[0-9]{4})?(?:/[A-ZĐ]+)?"
    r"|\b[0-9]{1,4}/[0-9]{4}/(?:NĐ-CP|ND-CP|QH[0-9]{1,2}|TT-[A-ZĐ]+|TTLT-[A-ZĐ-]+|QĐ-[A-ZĐ][A-Za-zĐ]*)"
)
# Words that say a citation is history, not the rule in force ("đã hết hiệu lực", "trước đây").
HISTORICAL = (
    "het hieu luc",
    "bi thay the",
    "duoc thay the",
    "da thay the",
    "thay the boi",
    "duoc thay bang",
    "thay bang",
    "bi bai bo",
    "da bai bo",
    "bai bo",
    "truoc day",
    "truoc ngay",
    "quy dinh cu",
    "van ban cu",
    "thu tuc cu",
    "khong con ap dung",
    "khong con hieu luc",
    "replaced",
    "repealed",
    "formerly",
)
_SENTENCE = re.compile(r"(?<=[.!?;\n])\s+")


@dataclass(frozen=True)
class LegalDocument:
    number: str
    kind: str
    title: str
    status: str
    in_force: dt.date | None = None
    repealed_on: dt.date | None = None
    replaced_by: str | None = None
    valid_until: dt.date | None = None
    source: str = ""

    def repealed(self, today: dt.date) -> bool:
        if self.repealed_on is not None:
            return self.repealed_on <= today
        return self.status == "repealed"


@dataclass(frozen=True)
class Finding:
    """One problem of one entry: `field` is where the citation is."""

    field: str
    reason: str
    warning: bool = False


class Registry:
    def __init__(self, documents: Iterable[LegalDocument] = ()) -> None:
        self.documents = {key(d.number): d for d in documents}

    def __len__(self) -> int:
        return len(self.documents)

    def get(self, number: str) -> LegalDocument | None:
        return self.documents.get(key(number))

    def check(
        self, legal_basis: Iterable[str], body: str, today: dt.date, sources: Iterable[str] = ()
    ) -> list[Finding]:
        """A repealed document cited as current is an error; a document the registry does not
        know, or one about to change, is a warning. Nothing is checked without a registry."""
        if not self.documents:
            return []
        findings: list[Finding] = []
        places = [("legal_basis", line) for line in legal_basis]
        places += [("answer", s) for s in _SENTENCE.split(body) if s.strip()]
        seen: set[tuple[str, str]] = set()
        for place, text in places:
            for match in _NUMBER.finditer(text):
                number = match.group(0).rstrip(".,;:")
                if (place, key(number)) in seen:
                    continue
                seen.add((place, key(number)))
                replaced = _replaced_here(text[: match.start()])
                findings += self._about(place, number, text, today, replaced)
        for source in sources:
            if source.startswith(("http://", "https://")):
                continue  # an address may spell a number its own way ("qcvn3-2019")
            for number in cited(source):
                if self.get(number) is None and ("sources", key(number)) not in seen:
                    seen.add(("sources", key(number)))
                    findings.append(Finding("sources", _unknown(number), True))
        return findings

    def _about(
        self, place: str, number: str, text: str, today: dt.date, replaced: bool = False
    ) -> list[Finding]:
        document = self.get(number)
        if document is None:
            return [Finding(place, _unknown(number), True)]
        if document.repealed(today) and not (replaced or historical(text)):
            since = document.repealed_on.strftime("%d/%m/%Y") if document.repealed_on else "?"
            by = f" by {document.replaced_by}" if document.replaced_by else ""
            return [
                Finding(
                    place,
                    f"cites {document.number} as current, but it was repealed on {since}{by}: "
                    "cite what replaced it, or say the rule is no longer in force",
                )
            ]
        until = document.valid_until
        if until is not None and today <= until <= today + WARN_AHEAD:
            return [
                Finding(
                    place,
                    f"{document.number} changes after {until.strftime('%d/%m/%Y')}: review "
                    "this entry before then",
                    True,
                )
            ]
        return []


def _replaced_here(before: str) -> bool:
    """ "QCVN 2:2021/BKHCN (thay thế QCVN 2:2008/BKHCN)": the document right after "thay
    thế" / "thay cho" is the one replaced, named as history."""
    words = tokens(before)[-5:]  # "thay thế Thông tư 22/2018/...": the kind in between
    return any(words[i : i + 2] in (["thay", "the"], ["thay", "cho"]) for i in range(len(words)))


def _unknown(number: str) -> str:
    return f"{number} is not in legal_documents.yaml: add it with its dates"


def key(number: str) -> str:
    """One spelling per document: accents, case, 'ND'/'NĐ', spaces and leading zeros of a
    regulation's number ("QCVN 03:2019" is "QCVN 3:2019") do not matter."""
    folded = re.sub(r"\s+", "", fold(number)).replace("đ", "d")
    return re.sub(r"^(qcvn|tcvn)0+(?=\d)", r"\1", folded)


def cited(text: str) -> list[str]:
    return [m.group(0).rstrip(".,;:") for m in _NUMBER.finditer(text)]


def historical(text: str) -> bool:
    words = f" {' '.join(tokens(text))} "
    return any(f" {marker} " in words for marker in HISTORICAL)


class RegistryError(Exception):
    """legal_documents.yaml cannot be used; the message is `field: reason`."""


def load_registry(path: Path) -> tuple[Registry, list[tuple[str, str]]]:
    """The registry and its problems as (field, reason); a missing file is an empty registry."""
    if not path.is_file():
        return Registry(), []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return Registry(), [("file", f"cannot be read: {' '.join(str(exc).split())}")]
    if not isinstance(data, list):
        return Registry(), [("file", "expected a list of documents ('- number: ...')")]
    documents: list[LegalDocument] = []
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for position, item in enumerate(data, start=1):
        try:
            document = _document(item)
        except RegistryError as exc:
            problems.append((f"document {position}", str(exc)))
            continue
        if key(document.number) in seen:
            problems.append((document.number, "listed twice"))
            continue
        seen.add(key(document.number))
        documents.append(document)
    return Registry(documents), problems


def _document(item: Any) -> LegalDocument:
    if not isinstance(item, dict):
        raise RegistryError("expected 'number:', 'kind:', 'title:', 'status:' fields")
    for name in ("number", "kind", "title", "status"):
        if not str(item.get(name) or "").strip():
            raise RegistryError(f"{name}: missing")
    status = str(item["status"])
    if status not in STATUSES:
        raise RegistryError(f"status: '{status}' is not one of {', '.join(STATUSES)}")
    repealed_on = _date(item, "repealed_on")
    if status == "repealed" and repealed_on is None:
        raise RegistryError("repealed_on: a repealed document needs the date it stopped applying")
    return LegalDocument(
        number=str(item["number"]).strip(),
        kind=str(item["kind"]),
        title=str(item["title"]),
        status=status,
        in_force=_date(item, "in_force"),
        repealed_on=repealed_on,
        replaced_by=str(item["replaced_by"]) if item.get("replaced_by") else None,
        valid_until=_date(item, "valid_until"),
        source=str(item.get("source") or ""),
    )


def _date(item: dict[str, Any], name: str) -> dt.date | None:
    value = item.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise RegistryError(f"{name}: '{value}' is not a date (YYYY-MM-DD)") from exc
