"""The legal-documents registry, sources of figures and the product catalogue, as `kb check`
and a business see them."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import pytest

from bot.qa.answers import Answerer
from bot.qa.knowledge import KnowledgeBase, load_knowledge
from tests.conftest import WriteEntry

TODAY = dt.date(2026, 12, 1)
REAL = Path(__file__).resolve().parent.parent / "knowledge"

REGISTRY = """\
- number: "132/2008/NĐ-CP"
  kind: Nghị định
  title: Quy định chi tiết Luật Chất lượng sản phẩm, hàng hóa
  status: repealed
  repealed_on: 2026-01-23
  replaced_by: "37/2026/NĐ-CP"
- number: "37/2026/NĐ-CP"
  kind: Nghị định
  title: Quy định chi tiết Luật Chất lượng sản phẩm, hàng hóa
  status: in_force
  in_force: 2026-01-23
- number: "01/2026/TT-TEST"
  kind: Thông tư
  title: Thông tư thử nghiệm
  status: in_force
  valid_until: 2026-12-20
"""

PRODUCTS = """\
- id: motorcycle-helmet
  name: Mũ bảo hiểm cho người đi mô tô, xe máy
  name_en: Motorcycle helmets
  aliases: [mũ bảo hiểm, nón bảo hiểm]
  ministry: Bộ Khoa học và Công nghệ
  regulations:
    - number: QCVN 2:2021/BKHCN
      title: Quy chuẩn kỹ thuật quốc gia về mũ bảo hiểm
  requirement: hop_quy
  certification: Chứng nhận hợp quy bởi tổ chức chứng nhận được chỉ định.
  import_inspection: Kiểm tra nhà nước về chất lượng khi nhập khẩu.
  where_to_file: Sở Khoa học và Công nghệ nơi doanh nghiệp đăng ký kinh doanh
  legal_basis: [QCVN 2:2021/BKHCN]
  reviewed: 2026-12-01
  sources: [https://example.gov.vn/qcvn-2-2021]
  confidence: confirmed
- id: cosmetics
  name: Mỹ phẩm
  name_en: Cosmetics
  aliases: [mỹ phẩm, son môi]
  ministry: Bộ Y tế
  regulations: []
  requirement: product_notification
  certification: Không công bố hợp quy.
  import_inspection: Không
  where_to_file: Sở Y tế nơi đặt nhà máy
  legal_basis: [Thông tư 06/2011/TT-BYT]
  reviewed: 2026-12-01
  sources: ["Thông tư 06/2011/TT-BYT, Điều 3"]
  confidence: to_confirm
"""


def _load(root: Path) -> tuple[KnowledgeBase, list[str]]:
    loaded = load_knowledge(root, today=TODAY)
    return loaded.knowledge, [str(p) for p in loaded.problems]


def _registry(root: Path, text: str = REGISTRY) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "legal_documents.yaml").write_text(textwrap.dedent(text), encoding="utf-8")


def test_a_figure_without_a_source_is_reported(write_entry: WriteEntry, tmp_path: Path) -> None:
    write_entry(body="Phí đăng ký là 1.000.000 đồng.")
    _, problems = _load(tmp_path / "knowledge")
    assert any("sources" in p and "1.000.000" in p for p in problems), problems


def test_a_source_must_be_an_address_or_a_document(write_entry: WriteEntry, tmp_path: Path) -> None:
    path = write_entry(body="Phí đăng ký là 1.000.000 đồng.")
    text = path.read_text(encoding="utf-8").replace(
        "related: []", "related: []\nsources: [hỏi chị Lan]"
    )
    path.write_text(text, encoding="utf-8")
    _, problems = _load(tmp_path / "knowledge")
    assert any("'hỏi chị Lan' is neither a web address" in p for p in problems), problems
    path.write_text(text.replace("hỏi chị Lan", "https://example.gov.vn/phi"), encoding="utf-8")
    _, problems = _load(tmp_path / "knowledge")
    assert not [p for p in problems if "sources" in p], problems


def test_citing_a_repealed_document_as_current_is_an_error(
    write_entry: WriteEntry, tmp_path: Path
) -> None:
    root = tmp_path / "knowledge"
    write_entry(body="Thủ tục theo Nghị định 132/2008/NĐ-CP.")
    _registry(root)
    _, problems = _load(root)
    assert any("cites 132/2008/NĐ-CP as current" in p and "37/2026/NĐ-CP" in p for p in problems), (
        problems
    )


@pytest.mark.parametrize(
    "body",
    [
        "Nghị định 132/2008/NĐ-CP đã được thay thế bởi Nghị định 37/2026/NĐ-CP.",
        "Áp dụng Nghị định 37/2026/NĐ-CP (thay thế Nghị định 132/2008/NĐ-CP).",
    ],
)
def test_a_repealed_document_may_be_named_as_history(
    write_entry: WriteEntry, tmp_path: Path, body: str
) -> None:
    """Named as what was replaced, the repealed decree is history, not stated as current."""
    root = tmp_path / "knowledge"
    write_entry(body=body)
    _registry(root)
    _, problems = _load(root)
    assert not [p for p in problems if "as current" in p], problems


def test_a_document_about_to_change_is_a_warning_a_month_ahead(
    write_entry: WriteEntry, tmp_path: Path
) -> None:
    root = tmp_path / "knowledge"
    write_entry()  # cites 01/2026/TT-TEST, valid until 20/12/2026
    _registry(root)
    loaded = load_knowledge(root, today=TODAY)
    assert loaded.ok
    assert any("changes after 20/12/2026" in str(p) for p in loaded.problems)
    later = load_knowledge(root, today=dt.date(2026, 10, 1))
    assert not any("changes after" in str(p) for p in later.problems)


def test_an_unknown_document_is_a_warning(write_entry: WriteEntry, tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    write_entry(body="Theo Thông tư 99/2030/TT-BKHCN.")
    _registry(root)
    loaded = load_knowledge(root, today=TODAY)
    assert loaded.ok
    assert any("99/2030/TT-BKHCN is not in legal_documents.yaml" in str(p) for p in loaded.problems)


def test_a_broken_registry_is_reported(write_entry: WriteEntry, tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    write_entry()
    _registry(root, '- number: "1/2020/NĐ-CP"\n  kind: Nghị định\n  title: X\n  status: gone\n')
    _, problems = _load(root)
    assert any("status: 'gone' is not one of" in p for p in problems), problems


def _catalogue(root: Path, text: str = PRODUCTS) -> None:
    """The catalogue beside the real vocabulary, so questions are read as the bot reads them."""
    (root / "products.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    for name in ("facets.yaml", "glossary.yaml"):
        shutil.copy(REAL / name, root / name)


def test_a_product_question_is_answered_from_the_catalogue(
    write_entry: WriteEntry, tmp_path: Path
) -> None:
    root = tmp_path / "knowledge"
    write_entry()
    _catalogue(root)
    knowledge, problems = _load(root)
    assert len(knowledge.products) == 2, problems
    reply = Answerer(knowledge).ask("sản xuất mũ bảo hiểm có phải công bố hợp quy không")
    assert reply.entry_id == "product:motorcycle-helmet"
    assert "QCVN 2:2021/BKHCN" in reply.text
    assert "Sở Khoa học và Công nghệ" in reply.text
    assert not reply.offer_handoff


def test_a_product_to_confirm_says_so_and_offers_staff(
    write_entry: WriteEntry, tmp_path: Path
) -> None:
    root = tmp_path / "knowledge"
    write_entry()
    _catalogue(root)
    knowledge, _ = _load(root)
    reply = Answerer(knowledge).ask("son môi có phải công bố hợp quy không")
    assert reply.entry_id == "product:cosmetics"
    assert "Sở Y tế" in reply.text
    assert "chưa được đối chiếu" in reply.text
    assert reply.offer_handoff


def test_a_product_named_in_another_subject_is_not_a_product_answer(
    write_entry: WriteEntry, tmp_path: Path
) -> None:
    root = tmp_path / "knowledge"
    write_entry()
    _catalogue(root)
    knowledge, _ = _load(root)
    reply = Answerer(knowledge).ask("đăng ký nhãn hiệu cho mũ bảo hiểm")
    assert not (reply.entry_id or "").startswith("product:")


def test_accents_typed_in_the_question_must_agree_with_the_product_name(
    write_entry: WriteEntry, tmp_path: Path
) -> None:
    root = tmp_path / "knowledge"
    write_entry()
    _catalogue(root, PRODUCTS.replace("[mỹ phẩm, son môi]", "[mỹ phẩm, son môi, bàn là]"))
    knowledge, _ = _load(root)
    assert knowledge.products.find("bàn là hơi nước") is not None
    assert knowledge.products.find("ban la hoi nuoc") is not None  # typed without accents
    assert knowledge.products.find("chào bạn, bạn là ai vậy") is None


def test_regulation_numbers_match_with_or_without_leading_zeros() -> None:
    from bot.qa.legal import key

    assert key("QCVN 03:2019/BKHCN") == key("QCVN 3:2019/BKHCN")
    assert key("37/2026/ND-CP") == key("37/2026/NĐ-CP")


def test_a_broken_product_is_left_out_and_reported(write_entry: WriteEntry, tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    write_entry()
    _catalogue(root, PRODUCTS.replace("requirement: hop_quy", "requirement: maybe"))
    knowledge, problems = _load(root)
    assert knowledge.products.get("motorcycle-helmet") is None
    assert any("motorcycle-helmet.requirement" in p for p in problems), problems


def test_the_real_catalogue_is_valid_and_sourced(knowledge: KnowledgeBase) -> None:
    assert len(knowledge.products) >= 40
    for product in knowledge.products.products.values():
        assert product.sources, product.id
        assert product.legal_basis, product.id


def test_the_real_registry_knows_every_document_the_entries_cite(
    knowledge: KnowledgeBase,
) -> None:
    assert len(knowledge.legal) >= 20
    loaded = load_knowledge(REAL)
    unknown = [str(p) for p in loaded.problems if "is not in legal_documents.yaml" in p.reason]
    assert not unknown, unknown


def test_the_real_knowledge_base_sources_every_figure(answerer: Answerer) -> None:
    loaded = load_knowledge(REAL)
    assert not [str(p) for p in loaded.problems if p.field == "sources"]


def test_an_entry_whose_file_broke_is_served_in_its_last_good_version(tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(REAL, root)
    first = load_knowledge(root)
    assert first.ok
    broken = root / "barcode" / "barcode-fees.md"
    broken.write_text(broken.read_text("utf-8").replace("topic: barcode", "topic: [oops"), "utf-8")
    again = load_knowledge(root, last_good=first.good)
    assert not again.ok  # staff are told: kb check and /taikb still report the broken file
    assert any("last valid version is answered" in str(p) for p in again.problems)
    reply = Answerer(again.knowledge).ask("phí đăng ký mã vạch bao nhiêu")
    assert reply.entry_id == "barcode-fees"  # not a neighbour
    without = load_knowledge(root)
    assert "barcode-fees" not in without.knowledge.entries
