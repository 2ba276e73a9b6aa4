"""Retrieval benchmark: accuracy, abstention and latency of the engine against two baselines.

    .venv/bin/python bench/retrieval.py [--sets tests/data/questions*.tsv] [--synthetic 5000]

Baselines use the same knowledge base (entries and out-of-scope groups); their abstention
cut-off is tuned on the labelled set itself (an advantage the engine does not get), so the
comparison is generous to them. Prints Markdown tables for README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import bm25s
import numpy as np
from rapidfuzz import fuzz, process, utils

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.qa.answers import Answerer  # noqa: E402
from bot.qa.evaluation import Labelled, Scores, evaluate, read_labelled  # noqa: E402
from bot.qa.knowledge import KnowledgeBase, load_knowledge  # noqa: E402
from bot.qa.retrieval import Document  # noqa: E402

Predict = Callable[[str], str | None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sets", nargs="*", type=Path, default=sorted(ROOT.glob("tests/data/questions*.tsv"))
    )
    parser.add_argument("--synthetic", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    settings = load_settings(ROOT / "config.toml")
    start = time.perf_counter()
    loaded = load_knowledge(ROOT / "knowledge", settings.agency, settings.knowledge)
    load_seconds = time.perf_counter() - start
    knowledge = loaded.knowledge
    answerer = Answerer(knowledge, settings.agency, settings.retrieval)
    labelled = [item for path in args.sets for item in read_labelled(path)]
    docs = [*knowledge.index.documents]

    print(
        f"Knowledge base: {len(knowledge)} entries, {len(knowledge.out_of_scope)} out-of-scope "
        f"groups, loaded and indexed in {load_seconds * 1000:.0f} ms"
    )
    print(f"Labelled questions: {len(labelled)} from {', '.join(p.name for p in args.sets)}\n")

    engine: Predict = lambda q: answerer.ask(q).topic  # noqa: E731
    fuzzy, fuzzy_cut = _tuned(_wratio_baseline(docs), labelled)
    bm25, bm25_cut = _tuned(_bm25_baseline(docs), labelled)

    print("| method | in-scope topic accuracy | out-of-scope abstention | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for name, predict in (
        ("this engine", engine),
        (f"rapidfuzz extractOne WRatio (cut-off {fuzzy_cut:.0f}, tuned)", fuzzy),
        (f"BM25 via bm25s (cut-off {bm25_cut:.2f}, tuned)", bm25),
    ):
        scores = evaluate(predict, labelled)
        p50, p99 = _latency(predict, labelled, args.repeat)
        print(
            f"| {name} | {_pct(scores.accuracy)} ({scores.correct}/{scores.in_scope}) | "
            f"{_pct(scores.abstention)} ({scores.abstained}/{scores.out_of_scope}) | "
            f"{p50:.3f} | {p99:.3f} |"
        )
    for path in args.sets:
        scores = evaluate(engine, read_labelled(path))
        print(
            f"\nthis engine on {path.name}: accuracy {_pct(scores.accuracy)}, "
            f"abstention {_pct(scores.abstention)}"
        )

    if args.synthetic:
        _synthetic(knowledge, answerer, labelled, args.synthetic, args.repeat)


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _latency(predict: Predict, labelled: Sequence[Labelled], repeat: int) -> tuple[float, float]:
    for item in labelled:  # warm caches once, as a running bot would be
        predict(item.question)
    samples = []
    for _ in range(repeat):
        for item in labelled:
            start = time.perf_counter()
            predict(item.question)
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), float(np.percentile(samples, 99))


def _tuned(
    scorer: Callable[[str], tuple[str | None, float]], labelled: Sequence[Labelled]
) -> tuple[Predict, float]:
    """Pick the abstention cut-off that maximises the mean of accuracy and abstention."""
    results = [scorer(item.question) for item in labelled]
    best_cut, best_value = 0.0, -1.0
    for cut in sorted({score for _, score in results}):
        scores = Scores()
        for item, (topic, score) in zip(labelled, results, strict=True):
            got = topic if score >= cut else None
            if item.topic is None:
                scores.out_of_scope += 1
                scores.abstained += got is None
            else:
                scores.in_scope += 1
                scores.correct += got == item.topic
        value = (scores.accuracy + scores.abstention) / 2
        if value > best_value:
            best_cut, best_value = cut, value

    def predict(question: str) -> str | None:
        topic, score = scorer(question)
        return topic if score >= best_cut else None

    return predict, best_cut


def _phrasings(docs: Sequence[Document]) -> tuple[list[str], list[str | None]]:
    texts: list[str] = []
    topics: list[str | None] = []
    for doc in docs:
        for text in (*doc.title, *doc.questions):
            texts.append(text)
            topics.append(doc.topic)
    return texts, topics


def _wratio_baseline(docs: Sequence[Document]) -> Callable[[str], tuple[str | None, float]]:
    texts, topics = _phrasings(docs)
    processed = [utils.default_process(t) for t in texts]

    def score(question: str) -> tuple[str | None, float]:
        found = process.extractOne(
            utils.default_process(question), processed, scorer=fuzz.WRatio, processor=None
        )
        if not found:
            return None, 0.0
        return topics[found[2]], float(found[1])

    return score


def _bm25_baseline(docs: Sequence[Document]) -> Callable[[str], tuple[str | None, float]]:
    corpus = [" ".join((*d.title, *d.questions, *d.keywords)) for d in docs]
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(corpus, stopwords=None, show_progress=False), show_progress=False
    )

    def score(question: str) -> tuple[str | None, float]:
        query = bm25s.tokenize([question], stopwords=None, show_progress=False)
        if not query.vocab:
            return None, 0.0
        try:
            found, scores = retriever.retrieve(query, k=1, show_progress=False)
        except (ValueError, KeyError):
            return None, 0.0
        return docs[int(found[0, 0])].topic, float(scores[0, 0])

    return score


def _synthetic(
    knowledge: KnowledgeBase,
    answerer: Answerer,
    labelled: Sequence[Labelled],
    size: int,
    repeat: int,
) -> None:
    """Grow the knowledge base to `size` entries with plausible filler and time it."""
    rng = random.Random(42)
    real = list(knowledge.entries.values())
    vocabulary = sorted({w for e in real for q in e.questions for w in q.split()})
    syllables = _syllables(rng, 3000)

    def phrase(low: int, high: int) -> str:
        pool = [rng.choice(vocabulary if rng.random() < 0.6 else syllables) for _ in range(high)]
        return " ".join(pool[: rng.randint(low, high)])

    entries = list(real)
    template = real[0]
    for number in range(size - len(real)):
        entries.append(
            dataclasses.replace(
                template,
                id=f"synthetic-{number}",
                topic=rng.choice(["barcode", "ip", "conformity", "tbt"]),
                title=phrase(4, 8),
                title_en=phrase(3, 6),
                questions=tuple(phrase(5, 12) for _ in range(7)),
                keywords=tuple(phrase(1, 2) for _ in range(5)),
                related=(),
            )
        )
    groups = list(knowledge.out_of_scope.values())
    builds = []
    for _ in range(3):
        start = time.perf_counter()
        synthetic = KnowledgeBase(entries, knowledge.glossary, groups)
        builds.append(time.perf_counter() - start)
    big = Answerer(synthetic, answerer.agency, answerer.settings)
    p50, p99 = _latency(lambda q: big.ask(q).topic, labelled, repeat)
    print(
        f"\nSynthetic knowledge base of {len(entries)} entries: index build median "
        f"{statistics.median(builds):.2f} s; per question p50 {p50:.3f} ms, p99 {p99:.3f} ms"
    )


def _syllables(rng: random.Random, count: int) -> list[str]:
    initials = [
        "b",
        "c",
        "ch",
        "d",
        "g",
        "gh",
        "h",
        "k",
        "kh",
        "l",
        "m",
        "n",
        "ng",
        "nh",
        "p",
        "ph",
        "qu",
        "s",
        "t",
        "th",
        "tr",
        "v",
        "x",
    ]
    vowels = [
        "a",
        "ai",
        "ao",
        "au",
        "e",
        "eo",
        "i",
        "ia",
        "ieu",
        "o",
        "oa",
        "oi",
        "u",
        "ua",
        "uo",
        "uoi",
        "uy",
        "y",
    ]
    finals = ["", "", "c", "ch", "m", "n", "ng", "nh", "p", "t"]
    return [rng.choice(initials) + rng.choice(vowels) + rng.choice(finals) for _ in range(count)]


if __name__ == "__main__":
    main()
