"""Answer-level benchmark: did the answer answer the question, in conversations too.

    .venv/bin/python bench/answers.py [--misses FILE] [--synthetic 5000]

Sets (tests/data/answers_*.tsv) are labelled with the entry id(s) that answer each question, or
"abstain"; conversations are scored turn by turn with the context of the earlier turns. A reply
is right when it gives a listed entry, or when the label is "abstain" and the bot does not
answer. A clarifying question counts as not right (it is counted apart as well). The blind sets
(answers_blind_*) are scored only in aggregate; --misses lists misses of the other sets only.

Compared: this engine; this engine with conversation context switched off; BM25 (bm25s) over
the entries' titles, phrasings and keywords, top entry, with an abstention cut-off tuned on the
same questions (which favours it). Prints Markdown tables for README.md.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import random
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.markdown import to_plain  # noqa: E402
from bot.qa.answers import Answerer, Reply  # noqa: E402
from bot.qa.conversation import context_after  # noqa: E402
from bot.qa.knowledge import KnowledgeBase, load_knowledge  # noqa: E402
from bot.store.records import Turn  # noqa: E402

DATA = ROOT / "tests" / "data"


@dataclass(frozen=True)
class Item:
    set: str
    conversation: str | None  # None: a single question
    question: str
    expected: tuple[str, ...]  # entry ids, or () for "abstain"
    follow_up: bool


@dataclass(frozen=True)
class Outcome:
    item: Item
    entry_id: str | None
    confidence: float
    clarified: bool
    length: int  # characters of the answer as read, without the legal basis footer
    topic: str | None = None

    @property
    def right(self) -> bool:
        if not self.item.expected:
            return self.entry_id is None
        return self.entry_id in self.item.expected

    @property
    def wrong_answer(self) -> bool:
        return self.entry_id is not None and not self.right


def read_sets(paths: Iterable[Path]) -> list[Item]:
    items: list[Item] = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
        for row in rows:
            expected = (row.get("expected") or "").split()
            if not expected:
                continue  # not labelled yet
            meaning = (row.get("meaning") or "").lower()
            items.append(
                Item(
                    set=path.stem,
                    conversation=row.get("conv"),
                    question=row["question"],
                    expected=tuple(e for e in expected if e != "abstain"),
                    follow_up="follow-up" in meaning or "follow up" in meaning,
                )
            )
    return items


def run_engine(answerer: Answerer, items: Sequence[Item], context: bool = True) -> list[Outcome]:
    outcomes: list[Outcome] = []
    previous: tuple[str, str] | None = None  # (set, conversation) of the last turn
    turn: Turn | None = None
    for item in items:
        key = (item.set, item.conversation or "")
        if item.conversation is None or key != previous:
            turn = None
        previous = key
        reply = answerer.ask(item.question, context=turn if context else None)
        turn = context_after(turn, reply)
        outcomes.append(_outcome(item, reply))
    return outcomes


def _outcome(item: Item, reply: Reply) -> Outcome:
    answered = reply.outcome == "answered"
    return Outcome(
        item=item,
        entry_id=reply.entry_id if answered else None,
        confidence=reply.confidence,
        clarified=bool(reply.clarify),
        length=len(to_plain(reply.markdown)) if answered else 0,
        topic=reply.topic,
    )


def bm25_baseline(knowledge: KnowledgeBase, items: Sequence[Item]) -> list[Outcome]:
    docs = list(knowledge.index.documents)
    corpus = [" ".join((*d.title, *d.questions, *d.keywords)) for d in docs]
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(corpus, stopwords=None, show_progress=False), show_progress=False
    )
    found: list[tuple[str | None, float]] = []
    for item in items:
        query = bm25s.tokenize([item.question], stopwords=None, show_progress=False)
        try:
            ids, scores = retriever.retrieve(query, k=1, show_progress=False)
            doc = docs[int(ids[0, 0])]
            found.append((doc.id if doc.topic else None, float(scores[0, 0])))
        except (ValueError, KeyError):
            found.append((None, 0.0))
    best_cut, best_right = 0.0, -1
    for cut in sorted({score for _, score in found}):
        right = sum(
            _is_right(item, entry if score >= cut else None)
            for item, (entry, score) in zip(items, found, strict=True)
        )
        if right > best_right:
            best_cut, best_right = cut, right
    return [
        Outcome(item, entry if score >= best_cut else None, 1.0, False, 0)
        for item, (entry, score) in zip(items, found, strict=True)
    ]


def _is_right(item: Item, entry_id: str | None) -> bool:
    return entry_id is None if not item.expected else entry_id in item.expected


@dataclass(frozen=True)
class Figures:
    count: int
    accuracy: float
    follow_ups: float | None
    confidently_wrong: float
    clarification: float
    median_length: float | None


def figures(outcomes: Sequence[Outcome], low_confidence: float) -> Figures:
    follow = [o for o in outcomes if o.item.follow_up]
    lengths = [o.length for o in outcomes if o.length]
    count = max(len(outcomes), 1)
    return Figures(
        count=len(outcomes),
        accuracy=sum(o.right for o in outcomes) / count,
        follow_ups=sum(o.right for o in follow) / len(follow) if follow else None,
        confidently_wrong=sum(o.wrong_answer and o.confidence >= low_confidence for o in outcomes)
        / count,
        clarification=sum(o.clarified for o in outcomes) / count,
        median_length=statistics.median(lengths) if lengths else None,
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _row(name: str, f: Figures) -> str:
    length = "-" if f.median_length is None else f"{f.median_length:.0f}"
    return (
        f"| {name} | {f.count} | {_pct(f.accuracy)} | {_pct(f.follow_ups)} | "
        f"{_pct(f.confidently_wrong)} | {_pct(f.clarification)} | {length} |"
    )


HEADER = (
    "| method | questions | answer-level accuracy | follow-ups | confidently wrong | "
    "clarified | median answer chars |\n|---|---|---|---|---|---|---|"
)


def latency(answerer: Answerer, items: Sequence[Item], repeat: int) -> tuple[float, float]:
    samples: list[float] = []
    for _ in range(repeat):
        turn: Turn | None = None
        for item in items:
            start = time.perf_counter()
            reply = answerer.ask(item.question, context=turn)
            samples.append((time.perf_counter() - start) * 1000)
            turn = context_after(turn, reply) if item.conversation else None
    return statistics.median(samples), float(np.percentile(samples, 99))


def synthetic(knowledge: KnowledgeBase, size: int) -> tuple[KnowledgeBase, float]:
    """The knowledge base grown to `size` entries of plausible filler, each with facets drawn
    from the vocabulary (so the facet filter has real work); returns it and its build time."""
    rng = random.Random(42)
    real = list(knowledge.entries.values())
    words = sorted({w for e in real for q in e.questions for w in q.split()})
    subjects = sorted(knowledge.vocabulary.subjects)
    intents = sorted(knowledge.vocabulary.intents)

    def phrase(low: int, high: int) -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(low, high)))

    entries = list(real)
    for number in range(size - len(real)):
        entries.append(
            dataclasses.replace(
                real[number % len(real)],
                id=f"synthetic-{number}",
                title=phrase(4, 8),
                title_en=phrase(3, 6),
                questions=tuple(phrase(5, 12) for _ in range(7)),
                keywords=tuple(phrase(1, 2) for _ in range(5)),
                related=(),
                subjects=(rng.choice(subjects),),
                intents=(rng.choice(intents),),
            )
        )
    builds = []
    for _ in range(3):
        start = time.perf_counter()
        big = KnowledgeBase(
            entries, knowledge.glossary, list(knowledge.out_of_scope.values()), knowledge.vocabulary
        )
        builds.append(time.perf_counter() - start)
    return big, statistics.median(builds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--misses", type=Path, help="write the misses of the non-blind sets here")
    parser.add_argument("--synthetic", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    settings = load_settings(ROOT / "config.toml")
    knowledge = load_knowledge(ROOT / "knowledge", settings.agency, settings.knowledge).knowledge
    answerer = Answerer(knowledge, settings.agency, settings.retrieval)
    low = settings.retrieval.low_confidence
    paths = sorted(DATA.glob("answers_*.tsv"))
    items = read_sets(paths)
    dev = [i for i in items if "blind" not in i.set]
    blind = [i for i in items if "blind" in i.set]

    engine = run_engine(answerer, items)
    no_context = run_engine(answerer, items, context=False)
    print(
        f"Knowledge base: {len(knowledge)} entries. Labelled: {len(dev)} dev, {len(blind)} blind."
    )
    print("\nAll sets together (dev and blind):\n")
    print(HEADER)
    print(_row("this engine", figures(engine, low)))
    print(_row("this engine, no conversation context", figures(no_context, low)))
    print(_row("BM25 (bm25s), tuned cut-off", figures(bm25_baseline(knowledge, items), low)))
    print("\nThis engine, per set:\n")
    print(HEADER)
    for name in sorted({i.set for i in items}):
        print(_row(name, figures([o for o in engine if o.item.set == name], low)))
    for label, group in (("dev sets", dev), ("blind sets", blind)):
        outcomes = [o for o in engine if o.item in group]
        if outcomes:
            print(_row(f"all {label}", figures(outcomes, low)))

    if args.misses:
        with args.misses.open("w", encoding="utf-8") as out:
            for o in engine:
                if "blind" not in o.item.set and not o.right:
                    expected = " ".join(o.item.expected) or "abstain"
                    out.write(
                        f"{o.item.set}\t{o.item.conversation or ''}\t{o.item.question}\t"
                        f"{expected}\t{o.entry_id}\t{o.confidence:.2f}\t{o.clarified}\n"
                    )

    p50, p99 = latency(answerer, items, args.repeat)
    print(f"\nLatency per question, this knowledge base: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    if args.synthetic:
        big, build = synthetic(knowledge, args.synthetic)
        big_answerer = Answerer(big, settings.agency, settings.retrieval)
        p50, p99 = latency(big_answerer, items, args.repeat)
        print(
            f"Synthetic knowledge base of {len(big)} entries: build {build:.2f} s (median of 3); "
            f"per question p50 {p50:.3f} ms, p99 {p99:.3f} ms"
        )


if __name__ == "__main__":
    main()
