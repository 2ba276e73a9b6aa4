"""Validation of knowledge files: every problem names the file, the field and the reason."""

import datetime as dt
from pathlib import Path

from bot.config import Agency, KnowledgeSettings
from bot.qa.knowledge import KnowledgeBase, load_knowledge
from bot.topics import TOPICS
from tests.conftest import ROOT, WriteEntry

TODAY = dt.date(2026, 12, 1)


def problems(root: Path) -> list[str]:
    return [str(p) for p in load_knowledge(root, today=TODAY).problems]


def test_every_knowledge_file_passes_validation() -> None:
    loaded = load_knowledge(ROOT / "knowledge", today=TODAY)
    assert loaded.errors == []
    assert len(loaded.knowledge) >= 90


def test_knowledge_base_covers_every_topic_in_depth(knowledge: KnowledgeBase) -> None:
    minimum = {"barcode": 18, "base_standard": 12, "conformity": 18, "ip": 24, "tbt": 10}
    minimum["smalltalk"] = 6
    counts = {topic: len(knowledge.by_topic(topic, TODAY)) for topic in TOPICS}
    for topic, least in minimum.items():
        assert counts[topic] >= least, (topic, counts[topic])


def test_answers_are_short_enough_for_a_phone(knowledge: KnowledgeBase) -> None:
    too_long = [e.id for e in knowledge.entries.values() if len(e.body) > 1500]
    assert too_long == []


def test_agency_details_come_from_config(write_entry: WriteEntry, tmp_path: Path) -> None:
    write_entry(body="Liên hệ {{ agency.name }}, điện thoại {{ agency.phone }}.")
    agency = Agency(name="Sở KH&CN tỉnh Thử", phone="0221 000 000")
    loaded = load_knowledge(tmp_path / "knowledge", agency, today=TODAY)
    body = loaded.knowledge.entries["barcode-test"].body
    assert body == "Liên hệ Sở KH&CN tỉnh Thử, điện thoại 0221 000 000."


def test_missing_field_names_file_and_field(write_entry: WriteEntry, tmp_path: Path) -> None:
    write_entry(raw="---\nid: barcode-test\ntopic: barcode\n---\nTrả lời.\n")
    found = problems(tmp_path / "knowledge")
    assert "knowledge/barcode/barcode-test.md: title: missing field" in found
    assert any(line.endswith(": questions: missing field") for line in found)
    assert any(line.endswith(": reviewed: missing field") for line in found)


def test_bad_topic_is_reported(write_entry: WriteEntry, tmp_path: Path) -> None:
    write_entry(entry_id="weather-today", topic="weather", folder="barcode")
    found = problems(tmp_path / "knowledge")
    assert any(
        line.endswith(
            "barcode/weather-today.md: topic: 'weather' is not one of "
            "barcode, base_standard, conformity, ip, tbt, smalltalk"
        )
        for line in found
    )


def test_duplicate_id_is_reported(write_entry: WriteEntry, tmp_path: Path) -> None:
    write_entry(entry_id="fees", topic="barcode")
    write_entry(entry_id="fees", topic="ip")
    found = problems(tmp_path / "knowledge")
    assert found == [
        "knowledge/ip/fees.md: id: duplicate id, also used by knowledge/barcode/fees.md"
    ]


def test_unknown_related_id_is_reported(write_entry: WriteEntry, tmp_path: Path) -> None:
    path = write_entry()
    path.write_text(path.read_text().replace("related: []", "related: [barcode-nowhere]"))
    found = problems(tmp_path / "knowledge")
    assert any(
        line.endswith("barcode-test.md: related: unknown related id 'barcode-nowhere'")
        for line in found
    )


def test_unparsable_date_is_reported(write_entry: WriteEntry, tmp_path: Path) -> None:
    path = write_entry()
    path.write_text(path.read_text().replace("reviewed: 2026-01-15", "reviewed: 31/02/2026"))
    found = problems(tmp_path / "knowledge")
    assert any(
        line.endswith("barcode-test.md: reviewed: '31/02/2026' is not a date: write YYYY-MM-DD")
        for line in found
    )


def test_empty_answer_is_reported(write_entry: WriteEntry, tmp_path: Path) -> None:
    write_entry(body="   ")
    found = problems(tmp_path / "knowledge")
    assert any("barcode-test.md: answer: empty answer" in line for line in found)


def test_over_long_answer_is_reported(write_entry: WriteEntry, tmp_path: Path) -> None:
    write_entry(body="Rất dài. " * 300)
    found = problems(tmp_path / "knowledge")
    assert any(
        "barcode-test.md: answer: over-long answer: 2699 characters" in line for line in found
    )


def test_broken_yaml_names_the_file_and_others_still_load(
    write_entry: WriteEntry, tmp_path: Path
) -> None:
    write_entry(entry_id="barcode-good")
    write_entry(entry_id="barcode-broken", raw="---\nid: [unclosed\n---\nTrả lời\n")
    loaded = load_knowledge(tmp_path / "knowledge", today=TODAY)
    assert any("barcode-broken.md: front matter: not valid YAML" in str(p) for p in loaded.errors)
    assert list(loaded.knowledge.entries) == ["barcode-good"]


def test_unknown_template_variable_is_reported(write_entry: WriteEntry, tmp_path: Path) -> None:
    write_entry(body="Gọi {{ agency.fax }}.")
    found = problems(tmp_path / "knowledge")
    assert any(
        "barcode-test.md: answer: unknown variable" in line and "fax" in line for line in found
    )


def test_stale_review_date_is_only_a_warning(write_entry: WriteEntry, tmp_path: Path) -> None:
    path = write_entry()
    path.write_text(path.read_text().replace("reviewed: 2026-01-15", "reviewed: 2024-05-01"))
    loaded = load_knowledge(tmp_path / "knowledge", today=TODAY)
    assert loaded.ok
    assert [str(p) for p in loaded.problems] == [
        "knowledge/barcode/barcode-test.md: reviewed: warning: last reviewed 2024-05-01: "
        "review it again"
    ]


def test_in_scope_entry_needs_an_english_phrasing(write_entry: WriteEntry, tmp_path: Path) -> None:
    path = write_entry()
    path.write_text(path.read_text().replace("How do I ask about barcode-test?", "hỏi thêm"))
    found = problems(tmp_path / "knowledge")
    assert any(line.endswith("questions: needs at least one phrasing in English") for line in found)


def test_rule_outside_its_validity_dates_is_not_served(
    write_entry: WriteEntry, tmp_path: Path
) -> None:
    path = write_entry(title="Phí duy trì mã vạch năm cũ")
    path.write_text(path.read_text().replace("related: []", "related: []\nvalid_until: 2026-06-30"))
    knowledge = load_knowledge(tmp_path / "knowledge", settings=KnowledgeSettings()).knowledge
    question = "phí duy trì mã vạch năm cũ"
    assert knowledge.search(question, today=dt.date(2026, 6, 1)).best is not None
    assert knowledge.search(question, today=dt.date(2026, 7, 1)).best is None


def test_impossible_date_is_reported_not_a_crash(write_entry: WriteEntry, tmp_path: Path) -> None:
    path = write_entry()
    path.write_text(path.read_text().replace("reviewed: 2026-01-15", "reviewed: 2026-13-01"))
    found = problems(tmp_path / "knowledge")
    assert any(
        line.endswith("barcode-test.md: reviewed: '2026-13-01' is not a date: write YYYY-MM-DD")
        for line in found
    )


FACETS = """\
subjects:
  barcode: {topic: barcode, label: Mã số mã vạch, cues: [mã vạch]}
intents:
  fees: {label: Phí, cues: [phí]}
  where: {label: Nơi nộp, cues: [ở đâu]}
"""


def test_subjects_and_intents_are_checked_against_the_vocabulary(
    write_entry: WriteEntry, tmp_path: Path
) -> None:
    root = tmp_path / "knowledge"
    path = write_entry(entry_id="barcode-test")
    text = path.read_text(encoding="utf-8").replace(
        "related: []",
        "related: []\nsubjects: [barcode]\nintents: [fees, price]\nleads:\n  where: Ở GS1.",
    )
    path.write_text(text, encoding="utf-8")
    write_entry(entry_id="barcode-other")
    (root / "facets.yaml").write_text(FACETS, encoding="utf-8")
    found = problems(root)
    test, other = "knowledge/barcode/barcode-test.md", "knowledge/barcode/barcode-other.md"
    assert f"{test}: intents: 'price' is not in facets.yaml" in found
    assert f"{test}: leads: 'where' is not one of this entry's intents" in found
    assert any(line.startswith(f"{other}: subjects: missing") for line in found)


def test_an_unset_contact_field_in_an_answer_is_flagged(
    write_entry: WriteEntry, tmp_path: Path
) -> None:
    write_entry(body="Gọi {{ agency.phone }} để hỏi.")
    found = problems(tmp_path / "knowledge")
    assert any("uses agency.phone, which config.toml does not set" in line for line in found)
