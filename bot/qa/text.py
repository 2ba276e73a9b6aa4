"""Vietnamese text normalisation shared by the index and the query side.

People type on phones without diacritics, with Telex slips and shorthand; everything is folded
to lower-case ASCII syllables so that "Mã vạch", "ma vach" and "MÃ VẠCH" meet in one form.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import lru_cache

_TOKEN = re.compile(r"[a-z0-9]+")
_WRITTEN = re.compile(r"[^\W_]+")
_WORD = re.compile(r"[^\W_]+")

# Function words carry no topic. With diacritics they are unambiguous ("chị" is not "chỉ");
# typed without diacritics some could be content ("chi" may be "chỉ dẫn"), so they are
# "ambiguous": they weigh nothing alone, but a known pair they form ("chi dan") still counts.
FUNCTION_ACCENTED = frozenset(
    [
        "bạn",
        "mình",
        "tôi",
        "tớ",
        "em",
        "anh",
        "chị",
        "ad",
        "admin",
        "ạ",
        "à",
        "ơi",
        "nhé",
        "nha",
        "nhỉ",
        "nhá",
        "vậy",
        "thế",
        "thì",
        "là",
        "và",
        "với",
        "của",
        "cho",
        "các",
        "những",
        "một",
        "có",
        "không",
        "ko",
        "k",
        "được",
        "đc",
        "gì",
        "j",
        "nào",
        "sao",
        "như",
        "này",
        "đó",
        "kia",
        "ở",
        "hỏi",
        "xin",
        "vui",
        "lòng",
        "giúp",
        "giùm",
        "ấy",
        "rồi",
        "chưa",
        "đã",
        "sẽ",
        "đang",
        "cần",
        "phải",
        "làm",
        "bị",
        "nếu",
        "khi",
        "thể",
        "mà",
        "hay",
        "hoặc",
        "thôi",
        "luôn",
        "lắm",
        "ai",
        "đâu",
        "về",
        "để",
        "từ",
        "ra",
        "đến",
        "trong",
        "ạh",
        "ah",
        "ak",
        "uh",
        "ừ",
        "ok",
        "oke",
        "shop",
        "bên",
        "cty",
        "chúng",
        "ta",
        "họ",
        "nó",
    ]
)
FUNCTION_SURE = frozenset(
    [
        "a",
        "ad",
        "admin",
        "ah",
        "ak",
        "oi",
        "nhe",
        "nha",
        "nhi",
        "nha",
        "vay",
        "the",
        "thi",
        "la",
        "va",
        "voi",
        "cua",
        "cho",
        "cac",
        "nhung",
        "mot",
        "khong",
        "ko",
        "k",
        "duoc",
        "dc",
        "gi",
        "j",
        "nao",
        "sao",
        "nhu",
        "nay",
        "o",
        "xin",
        "vui",
        "long",
        "giup",
        "gium",
        "roi",
        "chua",
        "se",
        "lam",
        "neu",
        "khi",
        "ma",
        "hay",
        "hoac",
        "thoi",
        "luon",
        "lam",
        "ai",
        "ok",
        "oke",
        "uh",
        "u",
        "the",
        "a",
        "an",
        "is",
        "are",
        "am",
        "be",
        "do",
        "does",
        "did",
        "i",
        "my",
        "me",
        "we",
        "our",
        "us",
        "you",
        "your",
        "to",
        "of",
        "for",
        "in",
        "on",
        "at",
        "it",
        "its",
        "this",
        "that",
        "what",
        "how",
        "can",
        "could",
        "would",
        "should",
        "please",
        "pls",
        "tell",
        "about",
        "which",
        "there",
        "any",
    ]
)
FUNCTION_AMBIGUOUS = frozenset(
    [
        "ban",
        "minh",
        "toi",
        "em",
        "anh",
        "chi",
        "co",
        "hoi",
        "da",
        "dang",
        "can",
        "phai",
        "bi",
        "the",
        "de",
        "tu",
        "ve",
        "ra",
        "den",
        "trong",
        "dau",
        "chung",
    ]
)

# A folded Vietnamese syllable: optional initial consonant, a vowel cluster, optional final.
# Used to tell a real (if unknown) word from a typing slip worth correcting.
_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|g|h|k|l|m|n|p|r|s|t|v|x)?"
    r"[aeiouy]{1,3}(ch|ng|nh|c|m|n|p|t)?$"
)

# Telex keys: tone marks typed after the syllable, and doubled letters for modified vowels.
_TELEX_TONES = frozenset("sfrxj")
_TELEX_PAIRS = (("dd", "d"), ("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"))
_TELEX_PAIRS_U = (("uw", "u"), ("w", "u"))


def _build_fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for code in range(0x00C0, 0x1EFA):
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[0].lower()
        if base.isascii() and base.isalpha() and base != char.lower():
            table[code] = base
    for code in range(0x0300, 0x0370):  # stray combining marks
        table[code] = None
    table[ord("đ")] = "d"
    table[ord("Đ")] = "d"
    table[ord("ð")] = "d"
    return table


_FOLD_TABLE = _build_fold_table()


def nfc(text: str) -> str:
    """Compose decomposed input (some keyboards and macOS send NFD) into one canonical form."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower-case and strip diacritics: 'Đăng ký Mã vạch' -> 'dang ky ma vach'."""
    return nfc(text).lower().translate(_FOLD_TABLE)


def tokens(text: str) -> list[str]:
    """Folded word tokens; punctuation, emoji and markup separate or vanish."""
    return _TOKEN.findall(fold(text))


def written_tokens(text: str) -> list[tuple[str, str]]:
    """(folded token, the word as written, lower-cased) pairs, the tokens of `tokens(text)`:
    "bạn là" and "bàn là" fold alike, and a word typed with accents says which one it is."""
    pairs: list[tuple[str, str]] = []
    for word in _WRITTEN.findall(nfc(text).lower()):
        pieces = _TOKEN.findall(fold(word))
        written = word
        pairs.extend((piece, written if len(pieces) == 1 else piece) for piece in pieces)
    folded = tokens(text)
    if [piece for piece, _ in pairs] != folded:  # stray combining marks: no accents to go by
        return [(piece, piece) for piece in folded]
    return pairs


def analyse(text: str) -> list[tuple[str, int]]:
    """Folded tokens with a function-word level: 0 content, 1 ambiguous, 2 function word."""
    out: list[tuple[str, int]] = []
    for raw in _WORD.findall(nfc(text).lower()):
        accented = not raw.isascii()
        for token in _TOKEN.findall(raw.translate(_FOLD_TABLE)):
            if accented:
                level = 2 if raw in FUNCTION_ACCENTED else 0
            elif token in FUNCTION_SURE:
                level = 2
            else:
                level = 1 if token in FUNCTION_AMBIGUOUS else 0
            out.append((token, level))
    return out


def is_syllable(token: str) -> bool:
    """True when a folded token could be a real Vietnamese syllable (not a slip)."""
    return bool(_SYLLABLE.match(token))


@lru_cache(maxsize=65536)
def telex_decode(token: str) -> str:
    """Read a token typed in raw Telex ('ddawngj', 'vachj', 'kys') as its folded syllable."""
    word = token
    if len(word) > 2 and word[-1] in _TELEX_TONES and any(v in word[:-1] for v in "aeiouyw"):
        word = word[:-1]
    for pair, plain in _TELEX_PAIRS:
        word = word.replace(pair, plain)
    for pair, plain in _TELEX_PAIRS_U:
        word = word.replace(pair, plain)
    # Tone keys typed in the middle of a syllable ("vajch").
    if not is_syllable(word):
        stripped = "".join(c for i, c in enumerate(word) if not (i and c in _TELEX_TONES))
        if is_syllable(stripped):
            word = stripped
    return word


def bigrams(words: list[str]) -> list[str]:
    """Adjacent pairs: Vietnamese words are mostly two syllables ('ma vach', 'nhan hieu')."""
    return [f"{a} {b}" for a, b in itertools.pairwise(words)]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean(text: str) -> str:
    """Text as it may be stored and shown: control characters (a NUL, which PostgreSQL
    refuses) become spaces and lone UTF-16 surrogates become U+FFFD, one character for one,
    so Telegram's entity offsets still point at the same places."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", text))


def cleaned(value: object) -> object:
    """`clean` over every string of a JSON value (an update as Telegram sent it)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [cleaned(item) for item in value]
    if isinstance(value, dict):
        return {key: cleaned(item) for key, item in value.items()}
    return value
