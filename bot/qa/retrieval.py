"""Retrieval: which knowledge entry answers a question, and how sure we are.

Ranking is BM25 over syllables and syllable pairs (most Vietnamese words are two syllables) of
each entry's titles, phrasings and keywords, so rare, telling words ("mã vạch", "hợp quy")
outweigh common ones ("đăng ký", "doanh nghiệp"). The topic is chosen by a vote of its best
entries, which keeps one lucky phrase in another topic from winning.

Confidence is a calibrated probability that the chosen topic is right, from a handful of
features: how much of the question's telling content the entry and its topic explain, how much
of it is unknown to the knowledge base, and how close an out-of-scope group comes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.qa.glossary import Glossary
from bot.qa.text import analyse, bigrams, is_syllable, telex_decode, tokens

FIELD_WEIGHTS = {"title": 2.0, "questions": 1.0, "keywords": 1.5}
K1 = 1.2
B = 0.5
MAX_QUERY_TOKENS = 200
ANALYSED_KEPT = 256
CANDIDATES = 40
VOTES = (1.0, 0.5, 0.25)  # weight of a topic's best, second and third entry in its vote
SPECIFIC = 0.75  # a term is specific to a topic when this share of its entries belong to it
GENERIC_PENALTY = 0.5  # confidence factor when the question has no term specific to the topic
EXACT = 0.95  # similarity at which the question is one of the entry's own phrasings
OUT_OF_SCOPE_PENALTY = 0.5  # confidence factor when out-of-scope groups outvote every topic
UNSEEN_PAIR_WEIGHT = 4.0  # a word pair no entry contains: about as telling as a rare known one
FUNCTION = 2  # analyse(): level of a certain function word

# Logistic calibration of the confidence (the probability that the chosen topic is right);
# fitted by bench/calibrate.py on tests/data/questions.tsv, checked on the other labelled sets.
CALIBRATION = {
    "bias": -2.317,
    "coverage": 1.020,
    "pair_coverage": 0.953,
    "topic_coverage": 1.095,
    "share": 1.325,
    "unknown": -0.058,
    "out_of_scope": -3.204,
    "similarity": 0.615,
    "unseen_pairs": -0.175,
    "specificity": 2.322,
    "specificity_oos": -2.387,
    "length": 0.804,
}


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
class Query:
    words: tuple[str, ...]
    levels: tuple[int, ...]  # 0 content, 1 ambiguous, 2 function word


@dataclass(frozen=True)
class SearchResult:
    question: str
    words: tuple[str, ...]
    matches: tuple[Match, ...]
    out_of_scope: Match | None = None
    features: dict[str, float] | None = None
    scores: dict[str, float] = field(default_factory=dict)  # the candidates' BM25 scores
    assess: Callable[[str], Match | None] | None = field(default=None, compare=False)

    def score(self, doc_id: str) -> float:
        return self.scores.get(doc_id, 0.0)

    def assessed(self, doc_id: str) -> Match | None:
        """The calibrated confidence of any entry (not only the best) for this question."""
        if self.best is not None and self.best.id == doc_id:
            return self.best
        return self.assess(doc_id) if self.assess else None

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
        self._topics = [doc.topic for doc in self.documents]
        self._fields = [self._document_fields(doc) for doc in self.documents]
        self._build_postings()
        self._build_vocabulary()
        self._corrections: dict[str, tuple[str, ...]] = {}
        self._analysed: dict[str, Query] = {}  # the reader and the search analyse one text

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
        self._build_topic_index(docs, terms, len(term_ids))
        self.idf: dict[str, float] = dict(zip(term_ids, idf.tolist(), strict=True))
        self.unknown_idf = math.log(1 + (n_docs + 0.5) / 0.5)
        self._doc_terms: dict[int, frozenset[str]] = {}

    def _build_topic_index(self, docs: NDArray[np.int64], terms: NDArray[np.int64], n: int) -> None:
        self.topic_names: list[str | None] = sorted(
            set(self._topics), key=lambda t: (t is None, t or "")
        )
        column = {topic: k for k, topic in enumerate(self.topic_names)}
        doc_topic = np.array([column[t] for t in self._topics], dtype=np.int64)
        width = len(self.topic_names)
        cells = np.bincount(terms * width + doc_topic[docs], minlength=max(n, 1) * width)
        self._topic_counts = cells.reshape(max(n, 1), width).astype(np.float32)

    def topic_evidence(
        self, weights: dict[str, float]
    ) -> tuple[dict[str | None, float], dict[str | None, float]]:
        """For each topic: the share of the question's telling content that points at it, and
        how specific its most specific term is. A term points at a topic in proportion to how
        many of the entries holding it belong to that topic: "mã vạch" points at barcodes,
        "đăng ký" nowhere in particular."""
        known = [
            (self._term_ids[t], w) for t, w in weights.items() if w > 0 and t in self._term_ids
        ]
        asked = sum(weights.values())
        if not known or asked <= 0:
            return {}, {}
        counts = self._topic_counts[[term_id for term_id, _ in known]]
        parts = counts / counts.sum(axis=1, keepdims=True)
        share = np.array([w for _, w in known]) @ parts / asked
        strongest = parts.max(axis=0)
        present = counts.sum(axis=0) > 0
        return (
            {t: float(share[k]) for k, t in enumerate(self.topic_names) if present[k]},
            {t: float(strongest[k]) for k, t in enumerate(self.topic_names) if present[k]},
        )

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

    def analyse(self, question: str) -> Query:
        """Folded, corrected and glossary-expanded words of a question (the last few kept:
        reading a question and searching it analyse the same text)."""
        found = self._analysed.get(question)
        if found is None:
            if len(self._analysed) >= ANALYSED_KEPT:
                self._analysed.clear()
            found = self._analysed[question] = self._analyse(question)
        return found

    def _analyse(self, question: str) -> Query:
        raw = analyse(question)[:MAX_QUERY_TOKENS]
        corrected: list[tuple[str, int]] = []
        for i, (word, level) in enumerate(raw):
            prev = raw[i - 1][0] if i else ""
            nxt = raw[i + 1][0] if i + 1 < len(raw) else ""
            corrected.extend((w, level) for w in self._correct(word, prev, nxt))
        expanded = self.glossary.expand_tagged(corrected)
        return Query(tuple(w for w, _ in expanded), tuple(level for _, level in expanded))

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

    def _query_weights(self, query: Query) -> tuple[dict[str, float], dict[str, float]]:
        """How telling each query word is (unknown words weigh most), and each word pair.

        Pairs are the closest thing to Vietnamese words: a pair the knowledge base has never
        seen ("sim chính", "nước máy") is content that no entry explains."""
        levels = query.levels
        if not any(level == 0 for level in levels):
            levels = tuple(0 for _ in levels)  # "bạn giúp được gì": only function words
        words: dict[str, float] = {}
        for word, level in zip(query.words, levels, strict=True):
            if level or len(word) < 2:
                weight = 0.0
            elif word.isdigit():
                weight = min(self.idf.get(word, 0.5), 1.0)
            else:
                weight = self.idf.get(word, self.unknown_idf)
            words[word] = max(words.get(word, 0.0), weight)
        pairs: dict[str, float] = {}
        for first, second, level1, level2 in zip(
            query.words, query.words[1:], levels, levels[1:], strict=False
        ):
            if level1 == FUNCTION and level2 == FUNCTION:
                continue
            pair = f"{first} {second}"
            if pair in self.idf:
                pairs[pair] = self.idf[pair]
            elif level1 == 0 and level2 == 0 and len(first) > 1 and len(second) > 1:
                pairs[pair] = UNSEEN_PAIR_WEIGHT
        return words, pairs

    def _coverage(self, weights: dict[str, float], terms: frozenset[str]) -> float:
        asked = sum(weights.values())
        if asked <= 0:
            return 0.0
        return sum(w for t, w in weights.items() if t in terms) / asked

    def _similarity(self, index: int, query: Query) -> float:
        text = " ".join(query.words)
        return max((fuzz.ratio(text, " ".join(w)) for _, w in self._fields[index]), default=0.0)

    def _scores(self, query: Query, excluded: Iterable[str]) -> NDArray[np.float64]:
        scores = np.zeros(len(self.documents))
        for term in {*query.words, *bigrams(list(query.words))}:
            term_id = self._term_ids.get(term)
            if term_id is not None:
                start, stop = self._offsets[term_id], self._offsets[term_id + 1]
                scores[self._docs[start:stop]] += self._weights[start:stop]
        for doc_id in excluded:
            index = self._ids.get(doc_id)
            if index is not None:
                scores[index] = 0.0
        return scores

    def search(self, question: str, limit: int = 3, excluded: Iterable[str] = ()) -> SearchResult:
        query = self.analyse(question)
        if not self.documents or not query.words:
            return SearchResult(question, query.words, ())
        scores = self._scores(query, excluded)
        count = min(CANDIDATES, len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        ranked = [int(i) for i in top[np.argsort(-scores[top])] if scores[i] > 0]
        if not ranked:
            return SearchResult(question, query.words, ())

        by_topic: dict[str | None, list[int]] = {}
        for i in ranked:
            by_topic.setdefault(self._topics[i], []).append(i)
        votes = {
            topic: sum(v * float(scores[i]) for v, i in zip(VOTES, docs, strict=False))
            for topic, docs in by_topic.items()
        }
        topics = sorted((t for t in votes if t is not None), key=votes.__getitem__, reverse=True)
        ordered = [by_topic[t][0] for t in topics]
        ordered += sorted((i for t in topics for i in by_topic[t][1:]), key=lambda i: -scores[i])

        rejected = None
        rejected_docs = by_topic.get(None, [])
        if rejected_docs and (not topics or votes[None] >= votes[topics[0]]):
            doc = rejected_docs[0]
            rejected = Match(self.documents[doc].id, None, float(scores[doc]), 1.0)
        if not ordered:  # only out-of-scope groups matched
            return SearchResult(question, query.words, (), rejected)
        context = self._context(query, by_topic, votes)
        best, features = self._match(ordered[0], float(scores[ordered[0]]), query, context)
        penalty = OUT_OF_SCOPE_PENALTY if rejected is not None else 1.0

        def assess(doc_id: str) -> Match | None:
            index = self._ids.get(doc_id)
            if index is None or self._topics[index] is None:
                return None
            match, _ = self._match(index, float(scores[index]), query, context)
            return replace(match, confidence=match.confidence * penalty)

        # The other candidates are suggestions: their confidence is only relative to the best.
        matches = [best] + [
            Match(
                self.documents[i].id,
                self._topics[i],
                float(scores[i]),
                best.confidence * float(scores[i]) / max(best.score, 1e-9),
            )
            for i in ordered[1:limit]
        ]
        if rejected is not None:
            matches = [replace(m, confidence=m.confidence * OUT_OF_SCOPE_PENALTY) for m in matches]
        candidate_scores = {self.documents[i].id: float(scores[i]) for i in ranked}
        return SearchResult(
            question, query.words, tuple(matches), rejected, features, candidate_scores, assess
        )

    def _context(
        self, query: Query, by_topic: dict[str | None, list[int]], votes: dict[str | None, float]
    ) -> _Context:
        words, pairs = self._query_weights(query)
        weights = words | {p: w for p, w in pairs.items() if p in self.idf}
        share, strongest = self.topic_evidence(weights)
        asked = sum(weights.values()) or 1.0
        rejected = by_topic.get(None, [])
        return _Context(
            weights=weights,
            pairs=pairs,
            votes=votes,
            share=share,
            strongest=strongest,
            topic_docs={t: docs[: len(VOTES)] for t, docs in by_topic.items()},
            terms_of=self._terms_of,
            unknown=sum(w for t, w in weights.items() if t not in self._known and " " not in t)
            / asked,
            unseen=sum(1 for p in pairs if p not in self.idf) / max(len(pairs), 1),
            out_of_scope=self._coverage(weights, self._terms_of(rejected[0])) if rejected else 0.0,
            length=math.log1p(sum(1 for level in query.levels if level == 0)),
        )

    def _match(
        self, index: int, score: float, query: Query, context: _Context
    ) -> tuple[Match, dict[str, float]]:
        topic = self._topics[index]
        terms = self._terms_of(index)
        features = context.features(topic) | {
            "coverage": self._coverage(context.weights, terms),
            "pair_coverage": self._coverage(context.pairs, terms),
            "similarity": self._similarity(index, query) / 100,
        }
        confidence = _calibrated(features)
        generic = context.strongest.get(topic, 0.0) < SPECIFIC
        if generic and features["similarity"] < EXACT:
            confidence *= GENERIC_PENALTY  # only words that every topic uses: ask, don't guess
        return Match(self.documents[index].id, topic, score, confidence), features


@dataclass(frozen=True)
class _Context:
    """What the features of every candidate share: the question's weights and topic votes."""

    weights: dict[str, float]
    pairs: dict[str, float]
    votes: dict[str | None, float]
    share: dict[str | None, float]
    strongest: dict[str | None, float]
    topic_docs: dict[str | None, list[int]]
    terms_of: Callable[[int], frozenset[str]]
    unknown: float
    unseen: float
    out_of_scope: float
    length: float

    def features(self, topic: str | None) -> dict[str, float]:
        total = sum(self.votes.values()) or 1.0
        docs = [self.terms_of(i) for i in self.topic_docs.get(topic, [])]
        asked = sum(self.weights.values())
        covered = sum(w for t, w in self.weights.items() if any(t in terms for terms in docs))
        return {
            "topic_coverage": covered / asked if asked else 0.0,
            "share": self.votes.get(topic, 0.0) / total,
            "unknown": self.unknown,
            "unseen_pairs": self.unseen,
            "specificity": self.share.get(topic, 0.0),
            "specificity_oos": self.share.get(None, 0.0),
            "out_of_scope": self.out_of_scope,
            "length": self.length,
        }


def _calibrated(features: dict[str, float]) -> float:
    z = CALIBRATION["bias"] + sum(CALIBRATION[name] * value for name, value in features.items())
    return 1.0 / (1.0 + math.exp(-z))
