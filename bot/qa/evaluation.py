"""Measure retrieval on a labelled question set (topic, or `none` for out of scope).

Staff can rerun it after editing the knowledge base to see that nothing got worse.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

OUT_OF_SCOPE = "none"


@dataclass(frozen=True)
class Labelled:
    topic: str | None  # None: out of scope, the bot must abstain
    question: str


@dataclass
class Scores:
    in_scope: int = 0
    correct: int = 0
    out_of_scope: int = 0
    abstained: int = 0
    misses: list[tuple[Labelled, str | None]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_scope if self.in_scope else 0.0

    @property
    def abstention(self) -> float:
        return self.abstained / self.out_of_scope if self.out_of_scope else 0.0


def read_labelled(path: Path) -> list[Labelled]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            Labelled(None if row["topic"] == OUT_OF_SCOPE else row["topic"], row["question"])
            for row in rows
        ]


def evaluate(predict: Callable[[str], str | None], labelled: Iterable[Labelled]) -> Scores:
    """`predict` returns the topic it would answer from, or None when it abstains."""
    scores = Scores()
    for item in labelled:
        topic = predict(item.question)
        if item.topic is None:
            scores.out_of_scope += 1
            scores.abstained += topic is None
        else:
            scores.in_scope += 1
            scores.correct += topic == item.topic
        if topic != item.topic:
            scores.misses.append((item, topic))
    return scores
