"""The one reader of front matter: knowledge entries and the bulletin's item files both start
with a YAML block between two '---' lines, and staff edit both by hand."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import yaml

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.DOTALL)


class DatesAsText(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so "2026-13-01" is reported on its own field
    (PyYAML's own date parsing raises a bare ValueError for the whole file)."""


DatesAsText.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: str(node.value))


@dataclass(frozen=True)
class FrontMatterError(Exception):
    """Why the front matter cannot be read; callers word it for their readers."""

    kind: Literal["missing", "yaml", "not_mapping"]
    detail: str = ""


def split(text: str) -> tuple[dict[str, Any], str]:
    """The fields and the body of a file's text (a byte-order mark is ignored)."""
    match = FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise FrontMatterError("missing")
    try:
        meta = yaml.load(match.group(1), Loader=DatesAsText)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise FrontMatterError("yaml", " ".join(str(exc).split())) from exc
    if not isinstance(meta, dict):
        raise FrontMatterError("not_mapping")
    return meta, match.group(2)
