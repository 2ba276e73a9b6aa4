"""Improving the knowledge base from real questions: group what the bot could not answer, add a
question as a new phrasing of an entry, or mark it out of scope. Edits go to the files staff
maintain, and are undone if the knowledge base would no longer load."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from rapidfuzz import fuzz

from bot import frontmatter
from bot.qa.knowledge import OUT_OF_SCOPE_FILE
from bot.qa.text import tokens

STAFF_GROUP = "oos-staff-marked"
SIMILAR = 75  # token-set similarity (0-100) above which two questions are one group


class Asked(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def question(self) -> str: ...


@dataclass
class QuestionGroup:
    key: str
    questions: list[str] = field(default_factory=list)  # distinct wordings, in order seen
    consultation_ids: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.consultation_ids)

    @property
    def example(self) -> str:
        """The wording to show and to add as a phrasing: one written with diacritics if any."""
        return max(self.questions, key=lambda q: sum(not ch.isascii() for ch in q))


def group_questions(asked: Sequence[Asked]) -> list[QuestionGroup]:
    """Similar questions together, the most asked first, so staff write those entries first."""
    groups: list[QuestionGroup] = []
    for item in asked:
        key = " ".join(tokens(item.question))
        if not key:
            continue
        home = next((g for g in groups if fuzz.token_set_ratio(key, g.key) >= SIMILAR), None)
        if home is None:
            home = QuestionGroup(key)
            groups.append(home)
        if item.question.strip() not in home.questions:
            home.questions.append(item.question.strip())
        home.consultation_ids.append(item.id)
    return sorted(groups, key=lambda g: -g.count)


class CurationError(Exception):
    """The edit could not be made; the message says why, in Vietnamese."""


def add_phrasing(entry_file: Path, question: str) -> str:
    """Add `question` to the entry's `questions`; returns the previous text for undoing."""
    original = entry_file.read_text(encoding="utf-8")
    question = " ".join(question.split())
    if not question:
        raise CurationError("Câu hỏi trống.")
    match = re.match(r"\A(---[ \t]*\r?\n)(.*?)(\r?\n---[ \t]*(?:\r?\n|\Z))", original, re.DOTALL)
    try:  # the same reader as loading, then the block itself is edited line by line
        meta: Any = frontmatter.split(original)[0]
    except frontmatter.FrontMatterError:
        meta = None
    if match is None or meta is None:
        raise CurationError(f"{entry_file.name}: không tìm thấy phần đầu (front matter).")
    existing = meta.get("questions") if isinstance(meta, dict) else None
    if not isinstance(existing, list):
        raise CurationError(f"{entry_file.name}: trường questions không phải danh sách.")
    if any(" ".join(str(q).split()).lower() == question.lower() for q in existing):
        raise CurationError("Mục này đã có đúng cách hỏi đó.")
    lines = match.group(2).split("\n")
    start = next((i for i, line in enumerate(lines) if line.startswith("questions:")), None)
    if start is None or lines[start].strip() != "questions:":
        meta["questions"] = [*existing, question]
        head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=100).rstrip("\n")
    else:
        end = start + 1
        while end < len(lines) and re.match(r"^\s*- ", lines[end]):
            end += 1
        indent = re.match(r"^(\s*)- ", lines[end - 1]) if end > start + 1 else None
        prefix = indent.group(1) if indent else "  "
        lines.insert(end, f"{prefix}- {json.dumps(question, ensure_ascii=False)}")
        head = "\n".join(lines)
    updated = match.group(1) + head + match.group(3) + original[match.end() :]
    entry_file.write_text(updated, encoding="utf-8")
    return original


def mark_out_of_scope(knowledge_root: Path, question: str) -> str:
    """Add `question` to the staff-marked out-of-scope group; returns the previous text."""
    path = knowledge_root / OUT_OF_SCOPE_FILE
    original = path.read_text(encoding="utf-8") if path.exists() else ""
    header = "".join(line for line in original.splitlines(keepends=True) if line.startswith("#"))
    groups: Any = yaml.safe_load(original) or []
    if not isinstance(groups, list):
        raise CurationError(f"{OUT_OF_SCOPE_FILE} không đúng định dạng danh sách.")
    group = next((g for g in groups if isinstance(g, dict) and g.get("id") == STAFF_GROUP), None)
    if group is None:
        group = {
            "id": STAFF_GROUP,
            "title": "Câu hỏi cán bộ đánh dấu ngoài phạm vi",
            "redirect": (
                "Câu hỏi này nằm ngoài phạm vi tư vấn của điểm hỏi đáp TBT và sở hữu công "
                "nghiệp; bạn hãy liên hệ cơ quan quản lý chuyên ngành tương ứng."
            ),
            "questions": [],
        }
        groups.append(group)
    question = " ".join(question.split())
    if question not in group["questions"]:
        group["questions"].append(question)
    body = yaml.safe_dump(groups, allow_unicode=True, sort_keys=False, width=100)
    path.write_text((header + "\n" if header else "") + body, encoding="utf-8")
    return original
