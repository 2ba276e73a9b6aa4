"""Vietnamese text normalisation shared by the index and the query side.

People type on phones without diacritics, with Telex slips and shorthand; everything is folded
to lower-case ASCII syllables so that "Mã vạch", "ma vach" and "MÃ VẠCH" meet in one form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TOKEN = re.compile(r"[a-z0-9]+")

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
    return [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
