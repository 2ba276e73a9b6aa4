"""Retrieval: which knowledge entry answers a question, and how sure we are.

Scoring is BM25 over syllables and syllable pairs of each entry's titles, phrasings and keywords,
so rare, telling words ("mã vạch", "hợp quy") outweigh common ones ("đăng ký", "doanh nghiệp").
Confidence is the share of the question's telling words that the best entry explains, so that a
question which merely shares a generic word with the knowledge base ("mã số thuế") abstains.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.glossary import Glossary
from bot.text import bigrams, is_syllable, telex_decode, tokens

# Function words that carry no topic; they never count for or against a match on their own.
STOPWORDS = frozenset(
    """
    a a1 ad ah ak ai anh ban bi cac cai chi cho chung con cua da de den di duoc dc em gium giup
    hay hoi ha hi in ja khi khong ko k kh la lam minh mot nao nay neu nhe nha nhi nhu nhung
    o oi ong phai ra roi sao se shop the thi toi tu va van vay ve voi vui long xin xem
    j gi ak ah u uh ui ba co
    the a an is are am be do does did i my me we our us you your to of for in on at it its this
    that what how can could would should please pls hi hello tell about which there
    """.split()
)
FIELD_WEIGHTS = {"title": 2.0, "questions": 1.0, "keywords": 1.5}
K1 = 1.2
B = 0.5
MAX_QUERY_TOKENS = 200
CANDIDATES = 12


@dataclass(frozen=True)
class Document:
    """What the index needs of an entry (or of an out-of-scope group, whose topic is None)."""

    id: str
    topic: str | None
    title: tuple[str, ...]
    questions: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    id: str
    topic: str | None
    score: float
    confidence: float


@dataclass(frozen=True)
class SearchResult:
    question: str
    words: tuple[str, ...]
    matches: tuple[Match, ...]
    out_of_scope: Match | None = None

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    @property
    def confidence(self) -> float:
        return self.matches[0].confidence if self.matches else 0.0


class Index:
    """An immutable search index; build a new one to change the knowledge base."""

    def __init__(self, documents: Sequence[Document], glossary: Glossary) -> None:
        self.documents = list(documents)
        self.glossary = glossary
        self._ids = {doc.id: i for i, doc in enumerate(self.documents)}
        self._fields = [self._document_fields(doc) for doc in self.documents]
        self._build_postings()
        self._build_vocabulary()
        self._corrections: dict[str, tuple[str, ...]] = {}

    # --- building ------------------------------------------------------------------------

    def _normalise(self, text: str) -> list[str]:
        return self.glossary.expand(tokens(text))

    def _document_fields(self, doc: Document) -> list[tuple[float, list[str]]]:
        fields: list[tuple[float, list[str]]] = []
        for name, texts in (("title", doc.title), ("questions", doc.questions)):
            fields += [(FIELD_WEIGHTS[name], self._normalise(t)) for t in texts]
        fields += [(FIELD_WEIGHTS["keywords"], self._normalise(k)) for k in doc.keywords]
        return fields

    def _build_postings(self) -> None:
        """BM25 weights in one CSR-like layout: a slice of doc ids and weights per term."""
        n_docs = len(self.documents)
        flat_terms: list[str] = []
        flat_docs: list[int] = []
        flat_weights: list[float] = []
        lengths = np.zeros(max(n_docs, 1))
        for i, fields in enumerate(self._fields):
            for weight, words in fields:
                terms = words + bigrams(words)
                flat_terms.extend(terms)
                flat_docs.extend([i] * len(terms))
                flat_weights.extend([weight] * len(terms))
                lengths[i] += weight * len(words)
        term_ids: dict[str, int] = {}
        ids = np.array([term_ids.setdefault(t, len(term_ids)) for t in flat_terms], dtype=np.int64)
        n_terms = max(len(term_ids), 1)
        keys = np.array(flat_docs, dtype=np.int64) * n_terms + ids
        pairs, inverse = np.unique(keys, return_inverse=True)
        freqs = np.bincount(inverse, weights=np.array(flat_weights))
        docs, terms = pairs // n_terms, pairs % n_terms
        df = np.bincount(terms, minlength=len(term_ids)).astype(np.float64)
        idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        average = float(lengths[:n_docs].mean()) if n_docs else 1.0
        norm = K1 * (1 - B + B * lengths[docs] / average)
        weights = freqs * (K1 + 1) / (freqs + norm) * idf[terms]
        order = np.argsort(terms, kind="stable")
        self._docs = docs[order]
        self._weights = weights[order]
        self._offsets = np.concatenate(([0], np.cumsum(df.astype(np.int64))))
        self._term_ids = term_ids
        self.idf: dict[str, float] = dict(zip(term_ids, idf.tolist(), strict=True))
        self.unknown_idf = math.log(1 + (n_docs + 0.5) / 0.5)
        self._doc_terms: dict[int, frozenset[str]] = {}

    def _terms_of(self, index: int) -> frozenset[str]:
        """Terms of one document, computed when it first becomes a candidate."""
        found = self._doc_terms.get(index)
        if found is None:
            fields = self._fields[index]
            found = frozenset(t for _, words in fields for t in (*words, *bigrams(words)))
            self._doc_terms[index] = found
        return found

    def _build_vocabulary(self) -> None:
        words = {t for t in self.idf if " " not in t}
        self._known = frozenset(words | self.glossary.known_tokens)
        self._fuzzy_choices = sorted(w for w in self._known if len(w) >= 3 and not w.isdigit())
        self._neighbours: dict[str, list[str]] = {}

    # --- query side ------------------------------------------------------------------------

    def query_words(self, question: str) -> list[str]:
        """Folded, corrected and glossary-expanded words of a question."""
        raw = tokens(question)[:MAX_QUERY_TOKENS]
        corrected: list[str] = []
        for i, word in enumerate(raw):
            prev = raw[i - 1] if i else ""
            nxt = raw[i + 1] if i + 1 < len(raw) else ""
            corrected.extend(self._correct(word, prev, nxt))
        return self.glossary.expand(corrected)

    def _correct(self, word: str, prev: str, nxt: str) -> tuple[str, ...]:
        if word in self._known or word.isdigit() or len(word) < 2:
            return (word,)
        if is_syllable(word):
            return (self._correct_in_context(word, prev, nxt),)
        cached = self._corrections.get(word)
        if cached is None:
            cached = self._correct_slip(word)
            self._corrections[word] = cached
        return cached

    def _correct_in_context(self, word: str, prev: str, nxt: str) -> str:
        """A real but unknown syllable is changed only if that completes a known word pair."""
        neighbours = self._neighbours.get(word)
        if neighbours is None:
            found = process.extract(
                word, self._fuzzy_choices, scorer=OSA.distance, score_cutoff=1, limit=30
            )
            neighbours = [str(choice) for choice, _, _ in found]
            self._neighbours[word] = neighbours
        pairs = [
            (self.idf.get(f"{prev} {c}", 0.0) + self.idf.get(f"{c} {nxt}", 0.0), c)
            for c in neighbours
        ]
        best = max(pairs, default=(0.0, word))
        return best[1] if best[0] > 0 else word

    def _correct_slip(self, word: str) -> tuple[str, ...]:
        decoded = telex_decode(word)
        if decoded in self._known:
            return (decoded,)
        for cut in range(2, len(word) - 1):
            head, tail = word[:cut], word[cut:]
            if head in self._known and tail in self._known and f"{head} {tail}" in self.idf:
                return (head, tail)
        limit = 1 if len(word) <= 5 else 2
        found = process.extractOne(
            word, self._fuzzy_choices, scorer=OSA.distance, score_cutoff=limit
        )
        return (str(found[0]),) if found else (word,)

    def weight(self, word: str) -> float:
        """How telling a query word is; unknown content words count against every match."""
        if word in STOPWORDS:
            return 0.0
        if word.isdigit():
            return self.idf.get(word, 0.5)
        return self.idf.get(word, self.unknown_idf)

    def search(self, question: str, limit: int = 3, excluded: Iterable[str] = ()) -> SearchResult:
        words = self.query_words(question)
        terms = {w for w in words if w not in STOPWORDS} | set(bigrams(words))
        if not self.documents or not terms:
            return SearchResult(question, tuple(words), ())
        scores = np.zeros(len(self.documents))
        for term in terms:
            term_id = self._term_ids.get(term)
            if term_id is not None:
                start, stop = self._offsets[term_id], self._offsets[term_id + 1]
                scores[self._docs[start:stop]] += self._weights[start:stop]
        for doc_id in excluded:
            index = self._ids.get(doc_id)
            if index is not None:
                scores[index] = -1.0
        count = min(CANDIDATES, len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        ranked = [int(i) for i in top[np.argsort(-scores[top])] if scores[i] > 0]
        matches = [self._match(i, float(scores[i]), words) for i in ranked]
        matches.sort(key=lambda m: (m.confidence, m.score), reverse=True)
        entries = [m for m in matches if m.topic is not None]
        rejected = next((m for m in matches if m.topic is None), None)
        entries = _discount_ambiguity(entries)
        if rejected and entries and rejected.confidence >= entries[0].confidence:
            entries = [_scaled(m, 0.5) for m in entries]
        elif rejected and not entries:
            pass
        else:
            rejected = None
        return SearchResult(question, tuple(words), tuple(entries[:limit]), rejected)

    def _match(self, index: int, score: float, words: list[str]) -> Match:
        doc = self.documents[index]
        return Match(doc.id, doc.topic, score, self._coverage(index, words))

    def _coverage(self, index: int, words: list[str]) -> float:
        """Share of the question's telling words (and word pairs) that this entry explains."""
        terms = self._terms_of(index)
        asked = matched = 0.0
        for word in set(words):
            weight = self.weight(word)
            asked += weight
            if word in terms:
                matched += weight
        for pair in set(bigrams(words)):
            first, second = pair.split(" ", 1)
            if pair not in self.idf or (first in STOPWORDS and second in STOPWORDS):
                continue
            weight = self.idf[pair]
            asked += weight
            if pair in terms:
                matched += weight
        if asked == 0:
            return 0.0
        coverage = matched / asked
        similarity = max(
            (fuzz.ratio(" ".join(words), " ".join(w)) for _, w in self._fields[index]), default=0.0
        )
        return min(1.0, 0.8 * coverage + 0.2 * similarity / 100)


def _discount_ambiguity(matches: list[Match]) -> list[Match]:
    """When two topics explain a question equally well, neither answer is certain."""
    if len(matches) < 2:
        return matches
    best = matches[0]
    rival = next((m for m in matches[1:] if m.topic != best.topic), None)
    if rival is None or best.confidence <= 0:
        return matches
    margin = (best.confidence - rival.confidence) / best.confidence
    if margin >= 0.15:
        return matches
    factor = 0.85 + margin
    return [_scaled(m, factor) for m in matches]


def _scaled(match: Match, factor: float) -> Match:
    return Match(match.id, match.topic, match.score, match.confidence * factor)
