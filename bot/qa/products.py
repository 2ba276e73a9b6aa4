"""Which rules apply to a product (knowledge/products.yaml).

The commonest conformity question names a product ("mũ bảo hiểm có phải công bố hợp quy
không?"). The answer depends on the product: its technical regulation, whether a declaration
or a certification is needed, and which department receives it (often not the DOST). These
facts are data, one row per product group with a source, so staff can review them as a table
and answers compose from them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.qa.text import fold, nfc

PRODUCTS_FILE = "products.yaml"
REQUIREMENTS = ("hop_quy", "self_declaration", "product_notification", "registration", "voluntary")
CONFIDENCE = ("confirmed", "to_confirm")
FIELDS = (
    "id",
    "name",
    "name_en",
    "aliases",
    "ministry",
    "regulations",
    "requirement",
    "certification",
    "import_inspection",
    "where_to_file",
    "legal_basis",
    "reviewed",
    "sources",
    "confidence",
)
OPTIONAL_FIELDS = ("note",)
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_WORD = re.compile(r"\w+")
ENTRY_PREFIX = "product:"  # how a product answer is named where an entry id is expected


@dataclass(frozen=True)
class Regulation:
    number: str
    title: str


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    name_en: str
    aliases: tuple[str, ...]
    ministry: str
    regulations: tuple[Regulation, ...]
    requirement: str
    certification: str
    import_inspection: str
    where_to_file: str
    legal_basis: tuple[str, ...]
    reviewed: dt.date
    sources: tuple[str, ...]
    confirmed: bool
    note: str = ""

    @property
    def entry_id(self) -> str:
        return f"{ENTRY_PREFIX}{self.id}"


class Catalogue:
    """Products by the words businesses call them; the longest name found in a question wins
    ("thép cốt bê tông" before "thép")."""

    def __init__(self, products: Iterable[Product] = ()) -> None:
        self.products = {p.id: p for p in products}
        # folded words -> (the words as written, product id): "ban la" is "bàn là" (an iron)
        # but not "bạn là" ("you are"), so accents typed in the question must agree.
        self._names: dict[tuple[str, ...], tuple[tuple[str, ...], str]] = {}
        for product in self.products.values():
            for name in (product.name, *product.aliases):
                written = tuple(_words(name))
                if written:
                    self._names.setdefault(tuple(map(fold, written)), (written, product.id))
        self._longest = max((len(n) for n in self._names), default=0)

    def __len__(self) -> int:
        return len(self.products)

    def get(self, product_id: str) -> Product | None:
        return self.products.get(product_id.removeprefix(ENTRY_PREFIX))

    def find(self, text: str) -> Product | None:
        found = self.match(text)
        return found[0] if found else None

    def match(self, text: str) -> tuple[Product, int] | None:
        """The product named in the text and how many words its name took."""
        written = _words(text)
        words = [fold(w) for w in written]
        best: tuple[int, str] | None = None
        for start in range(len(words)):
            for size in range(min(self._longest, len(words) - start), 0, -1):
                found = self._names.get(tuple(words[start : start + size]))
                if found is not None and _agree(written[start : start + size], found[0]):
                    if best is None or size > best[0]:
                        best = (size, found[1])
                    break
        return (self.products[best[1]], best[0]) if best else None


def _words(text: str) -> list[str]:
    return _WORD.findall(nfc(text).lower())


def _agree(typed: Sequence[str], name: Sequence[str]) -> bool:
    """Words typed without accents match any accents; words typed with them must match."""
    return all(t == fold(t) or t == n for t, n in zip(typed, name, strict=True))


def load_catalogue(path: Path, today: dt.date) -> tuple[Catalogue, list[tuple[str, str]]]:
    """The catalogue and its problems as (where, reason); a missing file is an empty one.
    A product with a problem is left out: a wrong regulation number is worse than none."""
    if not path.is_file():
        return Catalogue(), []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return Catalogue(), [("file", f"cannot be read: {' '.join(str(exc).split())}")]
    if not isinstance(data, list):
        return Catalogue(), [("file", "expected a list of products ('- id: ...')")]
    products: list[Product] = []
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for position, item in enumerate(data, start=1):
        where = str(item.get("id") or f"product {position}") if isinstance(item, dict) else ""
        found = _problems(item, today)
        if found:
            problems += [(f"{where or f'product {position}'}.{f}", r) for f, r in found]
            continue
        product = _product(item)
        if product.id in seen:
            problems.append((product.id, "listed twice"))
            continue
        seen.add(product.id)
        products.append(product)
    return Catalogue(products), problems


def _problems(item: Any, today: dt.date) -> list[tuple[str, str]]:
    if not isinstance(item, dict):
        return [("", "expected 'id:', 'name:', ... fields")]
    found = [(k, "unknown field") for k in item if k not in FIELDS and k not in OPTIONAL_FIELDS]
    found += [(k, "missing field") for k in FIELDS if k not in item or item[k] in (None, "")]
    if found:
        return found
    if not _ID.match(str(item["id"])):
        found.append(("id", "use lower-case letters, digits and hyphens only"))
    if item["requirement"] not in REQUIREMENTS:
        found.append(("requirement", f"one of {', '.join(REQUIREMENTS)}"))
    if item["confidence"] not in CONFIDENCE:
        found.append(("confidence", f"one of {', '.join(CONFIDENCE)}"))
    for name in ("aliases", "legal_basis", "sources"):
        if not _is_strings(item[name]):
            found.append((name, "expected a non-empty list of texts"))
    regulations = item["regulations"]
    if not isinstance(regulations, list) or not all(
        isinstance(r, dict) and r.get("number") and r.get("title") for r in regulations
    ):
        found.append(("regulations", "expected a list of 'number:' and 'title:'"))
    reviewed = _date(item["reviewed"])
    if reviewed is None:
        found.append(("reviewed", "expected a date (YYYY-MM-DD)"))
    elif reviewed > today:
        found.append(("reviewed", f"{reviewed.isoformat()} is in the future"))
    if item["requirement"] == "hop_quy" and not regulations:
        found.append(("regulations", "a product that must declare conformity names its QCVN"))
    return found


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(str(v).strip() for v in value)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _product(item: dict[str, Any]) -> Product:
    reviewed = _date(item["reviewed"])
    assert reviewed is not None  # checked by _problems
    return Product(
        id=str(item["id"]),
        name=str(item["name"]),
        name_en=str(item["name_en"]),
        aliases=_texts(item["aliases"]),
        ministry=str(item["ministry"]),
        regulations=tuple(
            Regulation(str(r["number"]), str(r["title"])) for r in item["regulations"]
        ),
        requirement=str(item["requirement"]),
        certification=str(item["certification"]),
        import_inspection=str(item["import_inspection"]),
        where_to_file=str(item["where_to_file"]),
        legal_basis=_texts(item["legal_basis"]),
        reviewed=reviewed,
        sources=_texts(item["sources"]),
        confirmed=item["confidence"] == "confirmed",
        note=str(item.get("note") or ""),
    )


def _texts(values: Sequence[Any]) -> tuple[str, ...]:
    return tuple(str(v).strip() for v in values)
