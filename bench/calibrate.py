"""Fit the confidence calibration (bot/qa/retrieval.py CALIBRATION) by logistic regression.

    .venv/bin/python bench/calibrate.py [--fit tests/data/questions.tsv] [--check ...holdout.tsv]

The target is "the topic the engine would answer from is the right one" (0 for every
out-of-scope question). Fitted on one labelled set, checked on the other; prints the
coefficients to paste into CALIBRATION and the accuracy/abstention they give.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.qa import retrieval  # noqa: E402
from bot.qa.answers import Answerer  # noqa: E402
from bot.qa.evaluation import Labelled, evaluate, read_labelled  # noqa: E402
from bot.qa.knowledge import KnowledgeBase, load_knowledge  # noqa: E402

NAMES = [name for name in retrieval.CALIBRATION if name != "bias"]


def features(knowledge: KnowledgeBase, items: list[Labelled]) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for item in items:
        result = knowledge.search(item.question)
        if result.features is None or result.best is None:
            continue
        rows.append([result.features[name] for name in NAMES])
        labels.append(1.0 if item.topic is not None and result.best.topic == item.topic else 0.0)
    return np.array(rows), np.array(labels)


def fit(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Newton's method for L2-regularised logistic regression (bias not penalised)."""
    design = np.hstack([np.ones((len(x), 1)), x])
    weights = np.zeros(design.shape[1])
    penalty = np.eye(design.shape[1]) * l2
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ weights))
        gradient = design.T @ (p - y) + penalty @ weights
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fit", type=Path, default=ROOT / "tests/data/questions.tsv")
    parser.add_argument("--check", type=Path, default=ROOT / "tests/data/questions_holdout.tsv")
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--sweep", action="store_true", help="show other thresholds")
    parser.add_argument("--drop", nargs="*", default=[], help="features to leave out")
    args = parser.parse_args()

    settings = load_settings(ROOT / "config.toml")
    knowledge = load_knowledge(ROOT / "knowledge", settings.agency, settings.knowledge).knowledge
    for name in args.drop:
        NAMES.remove(name)
        retrieval.CALIBRATION[name] = 0.0
    x, y = features(knowledge, read_labelled(args.fit))
    weights = fit(x, y, args.l2)
    fitted = {"bias": float(weights[0])} | {
        name: float(w) for name, w in zip(NAMES, weights[1:], strict=True)
    }
    print("CALIBRATION = {")
    for name, value in fitted.items():
        print(f'    "{name}": {value:.3f},')
    print("}")
    retrieval.CALIBRATION.update(fitted)
    answerer = Answerer(knowledge, settings.agency, settings.retrieval)
    for path in (args.fit, args.check):
        scores = evaluate(lambda q: answerer.ask(q).topic, read_labelled(path))
        print(f"{path.name}: accuracy {scores.accuracy:.3f}, abstention {scores.abstention:.3f}")
    if args.sweep:
        _sweep(knowledge, [read_labelled(args.fit), read_labelled(args.check)])


def _sweep(knowledge: KnowledgeBase, sets: list[list[Labelled]]) -> None:
    """Accuracy and abstention at other thresholds, to choose config.toml's threshold."""
    results = [[(item, knowledge.search(item.question)) for item in items] for items in sets]
    for threshold in np.arange(0.3, 0.75, 0.05):
        cells = []
        for rows in results:
            right = sum(
                1
                for item, r in rows
                if item.topic
                and r.best
                and r.best.topic == item.topic
                and r.confidence >= threshold
            )
            inside = sum(1 for item, _ in rows if item.topic)
            abstained = sum(
                1 for item, r in rows if not item.topic and (not r.best or r.confidence < threshold)
            )
            outside = len(rows) - inside
            cells.append(f"{right / inside:.3f} / {abstained / outside:.3f}")
        print(f"threshold {threshold:.2f}: " + "   ".join(cells))


if __name__ == "__main__":
    main()
