"""Property-based tests (Hypothesis) over every path that takes outside input: whatever arrives,
the answer is a clear message or a result, never an exception other than the documented ones."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import shutil
import textwrap
from collections.abc import Callable
from functools import partial
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bulletin.eping import EPING_COLUMNS, import_eping
from bot.bulletin.items import Week, load_week_folder
from bot.people.profile import InvalidInput, normalise_name, normalise_phone, normalise_tax_code
from bot.qa.answers import Answerer
from bot.qa.knowledge import KnowledgeBase, load_knowledge
from bot.qa.legal import load_registry
from bot.qa.products import load_catalogue
from bot.qa.text import clean, tokens, written_tokens
from handlers.common import without_entity
from handlers.review import decode, parse_log_filter
from tests.conftest import ROOT

ANY_TEXT = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()), max_size=400
)  # every code point, surrogates and NUL included
VIETNAMESE = st.text(
    alphabet=st.sampled_from(list("aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạếềểễệ ?.,!0123456789")),
    max_size=200,
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TODAY = dt.date(2026, 12, 1)


@FAST
@given(ANY_TEXT)
def test_cleaned_text_can_be_stored_and_keeps_its_length(text: str) -> None:
    cleaned = clean(text)
    assert "\x00" not in cleaned
    cleaned.encode("utf-8")  # no lone surrogate left
    assert len(cleaned) == len(text)  # one for one: entity offsets still hold


@FAST
@given(ANY_TEXT)
def test_written_tokens_fold_to_the_tokens(text: str) -> None:
    assert [folded for folded, _ in written_tokens(text)] == tokens(text)


@FAST
@given(st.one_of(ANY_TEXT, VIETNAMESE))
def test_any_message_gets_a_reply_that_can_be_sent(answerer: Answerer, text: str) -> None:
    reply = answerer.ask(clean(text), today=TODAY)
    assert reply.outcome in ("answered", "abstained")
    assert reply.markdown
    json.dumps(reply.as_conversation_json(), ensure_ascii=False).encode("utf-8")
    reply.html.encode("utf-8")


@FAST
@given(VIETNAMESE, VIETNAMESE)
def test_any_follow_up_after_any_question_gets_a_reply(
    answerer: Answerer, first: str, second: str
) -> None:
    from bot.qa.conversation import context_after

    turn = context_after(None, answerer.ask(first, today=TODAY))
    assert answerer.ask(second, today=TODAY, context=turn).markdown


@FAST
@given(ANY_TEXT, st.integers(-5, 500), st.integers(-5, 500))
def test_cutting_an_entity_never_raises(text: str, offset: int, length: int) -> None:
    without_entity(clean(text), offset, length)


@FAST
@given(ANY_TEXT)
def test_log_buttons_with_any_data_fail_only_as_bad_input(data: str) -> None:
    with contextlib.suppress(ValueError, IndexError):
        decode(data)


@FAST
@given(st.lists(ANY_TEXT, max_size=4))
def test_log_filters_fail_only_with_a_message(args: list[str]) -> None:
    problem = _failure(lambda: parse_log_filter(args, TODAY), ValueError)
    assert problem is None or str(problem)


@FAST
@given(ANY_TEXT)
def test_profile_fields_fail_only_with_a_message(text: str) -> None:
    for normalise in (normalise_tax_code, normalise_phone, normalise_name):
        problem = _failure(partial(normalise, clean(text)), InvalidInput)
        assert problem is None or str(problem)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=600))
def test_a_knowledge_file_of_any_content_is_reported_not_raised(
    tmp_path_factory: object, text: str
) -> None:
    root = _scratch(tmp_path_factory) / "knowledge"
    (root / "barcode").mkdir(parents=True, exist_ok=True)
    (root / "barcode" / "barcode-x.md").write_text(text, encoding="utf-8")
    for name, body in (("out_of_scope.yaml", text), ("products.yaml", text)):
        (root / name).write_text(body, encoding="utf-8")
    loaded = load_knowledge(root, today=TODAY)
    assert isinstance(loaded.knowledge, KnowledgeBase)
    load_registry(root / "out_of_scope.yaml")
    load_catalogue(root / "products.yaml", TODAY)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(st.one_of(ANY_TEXT, st.integers(), st.none()), max_size=12), max_size=6))
def test_an_eping_export_of_any_rows_is_reported_not_raised(
    tmp_path_factory: object, rows: list[list[object]]
) -> None:
    path = _scratch(tmp_path_factory) / "eping.csv"
    header = list(EPING_COLUMNS.values())
    with path.open("w", encoding="utf-8", errors="replace", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([clean(str(cell)) if cell is not None else "" for cell in row])
    items, problems = import_eping(path, Week.parse("2026-W48"))
    assert isinstance(items, list)
    assert isinstance(problems, list)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=600))
def test_a_bulletin_file_of_any_content_is_reported_not_raised(
    tmp_path_factory: object, text: str
) -> None:
    folder = _scratch(tmp_path_factory) / "2026-W48"
    folder.mkdir()
    (folder / "tin.md").write_text(text, encoding="utf-8")
    items, problems = load_week_folder(folder)
    assert isinstance(items, list)
    assert isinstance(problems, list)


def _failure(work: Callable[[], object], allowed: type[Exception]) -> Exception | None:
    """The documented error `work` raised, or None; any other exception fails the test."""
    try:
        work()
    except allowed as problem:
        return problem
    return None


def _scratch(factory: object) -> Path:
    path: Path = factory.mktemp("prop")  # type: ignore[attr-defined]
    return path


def test_the_real_knowledge_base_survives_being_copied_with_a_bad_file(tmp_path: Path) -> None:
    """A guard for the property above: a valid copy loads, so the property tests real code."""
    root = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", root)
    (root / "ip" / "ip-bad.md").write_text(textwrap.dedent("---\nid: [\n---\nx"), "utf-8")
    loaded = load_knowledge(root, today=TODAY)
    assert len(loaded.knowledge) >= 100
    assert any("ip-bad.md" in str(p) for p in loaded.errors)
