"""What a message asks: the asking sentence(s) of a long message, its subject and intent, and
what a follow-up takes from the conversation.

Q&A-page questions open with a paragraph of context ("Công ty tôi sản xuất nước mắm, đã có
nhãn hiệu...") and end with the question; ranking on the whole paragraph drifts to whichever
entry shares the most story words. The asking sentences are found and searched on their own;
the story still lends its subject when the question sentence names none.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from bot.qa.facets import Detected, Vocabulary
from bot.qa.retrieval import Index, Query
from bot.qa.text import fold, tokens, written_tokens
from bot.store.records import Turn

MOST_GENERAL = 2  # facets.yaml `generic` level of an intent that goes last in any message
LONG_MESSAGE = 18  # words: shorter messages are searched whole
SHORT_FOLLOW_UP = 6  # content words: a message this short may lean on the previous turn
LEAN_BARE = 5  # content words: a message naming no facet this short takes the previous subject
# "nếu 1000 sản phẩm thì sao", "trường hợp hộ kinh doanh thì sao": the previous question again.
_VARIATION = re.compile(r"^(?:(?:vay|the|con) )?(?:neu|truong hop|gia su|lo nhu) ")
# "Nhật Bản thì sao?", "còn Hàn Quốc?": the previous question about another case of the same
# subject (another market, another product).
_SWAP = re.compile(
    r"(?:^(?:(?:vay|the) )?con )|(?:(?:thi|the) (?:sao|nao)\s*\??$)|(?:\bwhat about\b)"
)
# Where one question of a message ends and the next starts ("hồ sơ gồm gì và phí bao nhiêu").
_CLAUSE = re.compile(r"[,;?!]|\s(?:và|hay|hoặc|còn|nếu|and|or)\s", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.?!;])\s+|\n+|(?<=:)\s+(?=\S)")
# Words that make a sentence a question (folded); a "?" does too.
_ASKING = frozenset(
    [
        "khong",
        "gi",
        "nao",
        "sao",
        "dau",
        "chua",
        "hoi",
        "how",
        "what",
        "which",
        "where",
        "when",
        "who",
        "whether",
        "can",
        "could",
        "should",
        "is",
        "are",
        "do",
        "does",
        "may",
        "must",
    ]
)
_ASKING_PAIRS = frozenset(
    ["bao nhieu", "bao lau", "the nao", "ra sao", "lam sao", "o dau", "duoc khong", "tu van"]
)
# Phrases after which the question itself starts ("..., xin hỏi hồ sơ gồm những gì?").
_INTRO = (
    ("xin", "hoi"),
    ("cho", "hoi"),
    ("cho", "em", "hoi"),
    ("cho", "toi", "hoi"),
    ("cho", "minh", "hoi"),
    ("xin", "duoc", "hoi"),
    ("muon", "hoi"),
    ("nho", "tu", "van"),
    ("mong", "duoc", "tu", "van"),
    ("xin", "tu", "van"),
    ("please", "advise"),
    ("i", "would", "like", "to", "ask"),
    ("my", "question", "is"),
)


@dataclass(frozen=True)
class Reading:
    message: str
    text: str  # what to search: the asking sentence(s) of a long message, else the message
    subjects: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    subject_from_context: bool = False
    intent_from_context: bool = False
    bare: bool = False  # nothing but the subject's name ("mã vạch?", "đăng ký nhãn hiệu")
    bare_intent: bool = False  # nothing but what is asked ("phí bao nhiêu?", "nộp ở đâu?")
    content_words: int = 0
    previous_entry: str | None = None  # the entry that answered the previous question
    variation: bool = False  # "nếu ... thì sao?": the previous question with another case

    @property
    def subject(self) -> str | None:
        return self.subjects[0] if self.subjects else None

    @property
    def intent(self) -> str | None:
        return self.intents[0] if self.intents else None

    @property
    def used_context(self) -> bool:
        return self.subject_from_context or self.intent_from_context


class Reader:
    def __init__(self, index: Index, vocabulary: Vocabulary) -> None:
        self.index = index
        self.vocabulary = vocabulary

    def read(self, message: str, context: Turn | None = None) -> Reading:
        focus = asking_part(message)
        words = self.index.analyse(focus)
        found = self._detect(focus, words.words)
        subjects = found.subjects
        if not subjects and focus != message:
            subjects = self._detect(message, self.index.analyse(message).words).subjects
        intents = found.intents
        content = sum(1 for level in words.levels if level == 0)
        bare = bool(subjects) and not intents and self._only_cues(words, subjects, ())
        bare_intent = bool(intents) and not subjects and self._only_cues(words, (), intents)
        subject_from_context = intent_from_context = False
        if context is not None and content <= SHORT_FOLLOW_UP:
            if not subjects and context.subject and (intents or content <= LEAN_BARE):
                # "phí bao nhiêu?", or "ví dụ cho em với" / "không đạt thì sao": about the
                # previous question's subject
                subjects, subject_from_context = (context.subject,), True
            elif (
                subjects
                and not intents
                and context.intent
                and (context.subject not in subjects or _SWAP.search(fold(message).strip()))
            ):
                # "thế còn kiểu dáng?": the same question about another subject
                intents, intent_from_context = (context.intent,), True
                bare = False
        previous_entry = None
        used = subject_from_context or intent_from_context
        if used and context is not None and context.outcome == "answered":
            previous_entry = context.entry_id
        return Reading(
            message=message,
            text=focus,
            subjects=subjects,
            intents=intents,
            subject_from_context=subject_from_context,
            intent_from_context=intent_from_context,
            bare=bare,
            bare_intent=bare_intent,
            content_words=content,
            previous_entry=previous_entry,
            variation=bool(_VARIATION.match(fold(message).strip())),
        )

    def _detect(self, text: str, corrected: tuple[str, ...]) -> Detected:
        """Facets of the words as typed (glossary-expanded); the index's typo corrections
        are used only for a facet kind the typed words lack ("ma vahc"), since they also turn
        English words into Vietnamese look-alikes ("importing" -> "exporting")."""
        typed = self.vocabulary.detect(*self._expanded(text))
        fixed = self.vocabulary.detect(corrected)
        intents = self._by_clause(text) if len(typed.intents) > 1 else typed.intents
        return Detected(typed.subjects or fixed.subjects, intents or fixed.intents)

    def _expanded(self, text: str) -> tuple[list[str], list[str]]:
        """The glossary-expanded words and, for each, the word as written (its accents), or
        "" where the glossary put it there ("msmv" -> "mã số mã vạch")."""
        pairs = written_tokens(text)
        tagged = self.index.glossary.expand_tagged([(w, i + 1) for i, (w, _) in enumerate(pairs)])
        words = [word for word, _ in tagged]
        written = [
            pairs[tag - 1][1] if tag and pairs[tag - 1][0] == word else "" for word, tag in tagged
        ]
        return words, written

    def _by_clause(self, text: str) -> tuple[str, ...]:
        """Intents clause by clause: the first clause asks the main question ("hồ sơ gồm gì
        và phí bao nhiêu?"), and within a clause the specific intent comes before the general
        one ("có bắt buộc gửi mẫu thử nghiệm không")."""
        found: list[str] = []
        for clause in _CLAUSE.split(text):
            words, written = self._expanded(clause)
            found += self.vocabulary.detect(words, written).intents if words else ()
        unique = list(dict.fromkeys(found))
        # the most general ("thủ tục thế nào") last even across clauses: it rarely is the point
        general = [i for i in unique if self.vocabulary.generic.get(i, 0) >= MOST_GENERAL]
        return tuple([i for i in unique if i not in general] + general)

    def _only_cues(self, query: Query, subjects: tuple[str, ...], intents: tuple[str, ...]) -> bool:
        """True when every content word is part of a cue of these subjects or intents, or of
        a phrase that asks nothing by itself ("đăng ký", "làm"): nothing else is named."""
        covered = self.vocabulary.covered(query.words, (*subjects, *intents))
        return all(
            level != 0 or i in covered or len(word) < 2
            for i, (word, level) in enumerate(zip(query.words, query.levels, strict=True))
        )


def asking_part(message: str) -> str:
    """The sentence(s) of a long message that ask something; the message itself if short."""
    words = tokens(message)
    if len(words) < LONG_MESSAGE:
        return message
    after = _after_intro(message)
    if after is not None and len(tokens(after)) >= 2:
        return after
    sentences = [s.strip() for s in _SENTENCE.split(message) if s and s.strip()]
    if len(sentences) < 2:
        return message
    asking = [s for s in sentences if _asks(s)]
    if not asking:
        return sentences[-1]
    return " ".join(asking)


def _asks(sentence: str) -> bool:
    if "?" in sentence:
        return True
    words = tokens(sentence)
    if any(word in _ASKING for word in words):
        return True
    return any(f"{a} {b}" in _ASKING_PAIRS for a, b in itertools.pairwise(words))


def _after_intro(message: str) -> str | None:
    """The text after the first "xin hỏi" / "cho em hỏi" (kept in its original spelling)."""
    folded_words = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[^\W_]+", message)]
    folded = [tokens(w)[0] if tokens(w) else "" for _, _, w in folded_words]
    for i in range(8, len(folded)):  # an opening "cho em hỏi" starts the whole story
        for intro in _INTRO:
            if tuple(folded[i : i + len(intro)]) == intro:
                end = folded_words[i + len(intro) - 1][1]
                return message[end:].lstrip(" :,.-")
    return None
