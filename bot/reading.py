"""What a message asks: the asking sentence(s) of a long message, its subject and intent, and
what a follow-up takes from the conversation.

Q&A-page questions open with a paragraph of context ("Công ty tôi sản xuất nước mắm, đã có
nhãn hiệu...") and end with the question; ranking on the whole paragraph drifts to whichever
entry shares the most story words. The asking sentences are found and searched on their own;
the story still lends its subject when the question sentence names none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.facets import Vocabulary
from bot.retrieval import Index
from bot.store.records import Turn
from bot.text import tokens

LONG_MESSAGE = 18  # words: shorter messages are searched whole
SHORT_FOLLOW_UP = 6  # content words: a message this short may lean on the previous turn
_SENTENCE = re.compile(r"(?<=[.?!;])\s+|\n+|(?<=:)\s+(?=\S)")
# Words that make a sentence a question (folded); a "?" does too.
_ASKING = frozenset(
    "khong gi nao sao dau chua hoi how what which where when who whether can could should "
    "is are do does may must".split()
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
    content_words: int = 0

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
        found = self.vocabulary.detect(words.words)
        subjects = found.subjects
        if not subjects and focus != message:
            subjects = self.vocabulary.detect(self.index.analyse(message).words).subjects
        intents = found.intents
        content = sum(1 for level in words.levels if level == 0)
        bare = bool(subjects) and not intents and self._only_names(words.words, subjects)
        subject_from_context = intent_from_context = False
        if context is not None and content <= SHORT_FOLLOW_UP:
            if not subjects and intents and context.subject:
                subjects, subject_from_context = (context.subject,), True
            elif subjects and not intents and context.intent and context.subject:
                if context.subject not in subjects:  # "thế còn kiểu dáng?": same question
                    intents, intent_from_context = (context.intent,), True
                    bare = False
        return Reading(
            message=message,
            text=focus,
            subjects=subjects,
            intents=intents,
            subject_from_context=subject_from_context,
            intent_from_context=intent_from_context,
            bare=bare,
            content_words=content,
        )

    def _only_names(self, words: tuple[str, ...], subjects: tuple[str, ...]) -> bool:
        """True when every content word belongs to a cue of the subjects or to a word that
        asks nothing by itself ("đăng ký", "làm"): the question names a subject and no more."""
        named = {
            word
            for cue, facet in self.vocabulary.subject_cues.items()
            if facet in subjects
            for word in cue
        }
        named |= {word for cue in self.vocabulary.weak_intent_cues for word in cue}
        query = self.index.analyse(" ".join(words))
        return all(
            level != 0 or word in named or len(word) < 2
            for word, level in zip(query.words, query.levels, strict=True)
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
    return any(f"{a} {b}" in _ASKING_PAIRS for a, b in zip(words, words[1:], strict=False))


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
