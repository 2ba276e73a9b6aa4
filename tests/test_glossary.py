import re
from pathlib import Path

import pytest

from bot.qa.glossary import Glossary, GlossaryError, load_glossary, parse_glossary
from bot.qa.text import tokens

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return load_glossary(ROOT / "knowledge" / "glossary.yaml")


def expand(glossary: Glossary, text: str) -> str:
    return " ".join(glossary.expand(tokens(text)))


def test_abbreviations_are_replaced_by_their_meaning(glossary: Glossary) -> None:
    assert expand(glossary, "msmv") == "ma so ma vach"
    assert expand(glossary, "TCCS") == "tieu chuan co so"
    assert expand(glossary, "cbhq, shtt") == "cong bo hop quy so huu tri tue"
    assert expand(glossary, "đk nhãn hiệu") == "dang ky nhan hieu"


def test_spelling_variants_are_normalised(glossary: Glossary) -> None:
    assert expand(glossary, "hợp qui") == "hop quy"
    assert expand(glossary, "đăng kí") == "dang ky"


def test_synonyms_keep_the_users_word_and_add_the_canonical_one(glossary: Glossary) -> None:
    assert expand(glossary, "thương hiệu") == "thuong hieu nhan hieu"
    assert expand(glossary, "logo") == "logo nhan hieu"
    assert expand(glossary, "barcode fee") == "barcode ma vach fee phi"


def test_longest_phrase_wins(glossary: Glossary) -> None:
    assert expand(glossary, "industrial design") == "industrial design kieu dang cong nghiep"


def test_unknown_section_is_reported() -> None:
    with pytest.raises(GlossaryError, match=re.escape("glossary.yaml: synonym: unknown section")):
        parse_glossary({"synonym": {"a": "b"}})


def test_term_defined_twice_is_reported() -> None:
    data = {"abbreviations": {"msmv": "mã số mã vạch"}, "synonyms": {"MSMV": "mã vạch"}}
    with pytest.raises(GlossaryError, match=re.escape("synonyms.MSMV: term defined twice")):
        parse_glossary(data)


def test_empty_meaning_is_reported() -> None:
    with pytest.raises(GlossaryError, match=re.escape("abbreviations.abc: empty term or meaning")):
        parse_glossary({"abbreviations": {"abc": ""}})
