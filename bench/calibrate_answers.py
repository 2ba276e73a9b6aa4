"""Fit the entry-level confidence (bot/qa/choice.py ENTRY_CALIBRATION) on the answer-level sets.

    .venv/bin/python bench/calibrate_answers.py

A logistic regression of "the chosen entry answers the question" (the labels of
tests/data/answers_*.tsv, blind sets excluded) on the features of bot.qa.choice.entry_features,
for every question where the facets chose an entry. Prints the fitted weights to paste into
bot/qa/choice.py and the log loss before and after.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from answers import DATA, read_sets  # noqa: E402  (bench/answers.py, beside this script)

from bot.config import load_settings  # noqa: E402
from bot.qa.answers import Answerer  # noqa: E402
from bot.qa.choice import ENTRY_CALIBRATION, Answer  # noqa: E402
from bot.qa.conversation import context_after  # noqa: E402
from bot.qa.knowledge import load_knowledge  # noqa: E402
from bot.store.records import Turn  # noqa: E402

L2 = 0.5  # a light penalty: the sets are a few hundred questions


def main() -> None:
    settings = load_settings(ROOT / "config.toml")
    knowledge = load_knowledge(ROOT / "knowledge", settings.agency, settings.knowledge).knowledge
    answerer = Answerer(knowledge, settings.agency, settings.retrieval)
    items = [i for i in read_sets(sorted(DATA.glob("answers_*.tsv"))) if "blind" not in i.set]
    names = [k for k in ENTRY_CALIBRATION if k != "bias"]
    rows: list[list[float]] = []
    labels: list[float] = []
    turn: Turn | None = None
    previous = None
    today = dt.date.today()
    for item in items:
        key = (item.set, item.conversation)
        if item.conversation is None or key != previous:
            turn = None
        previous = key
        reading = answerer.reader.read(item.question, turn)
        result = knowledge.search(answerer.query_for(reading), today=today)
        choice = answerer.chooser.choose(reading, result, today)
        if isinstance(choice, Answer) and choice.features:
            features = dict(choice.features)
            rows.append([features[n] for n in names])
            labels.append(1.0 if choice.entry_id in item.expected else 0.0)
        turn = context_after(turn, answerer.ask(item.question, context=turn))
    x = np.array(rows)
    y = np.array(labels)

    def loss(w: np.ndarray) -> float:
        z = w[0] + x @ w[1:]
        p = 1 / (1 + np.exp(-z))
        eps = 1e-9
        ll = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
        return float(ll + L2 * np.sum(w[1:] ** 2) / len(y))

    start = np.array([ENTRY_CALIBRATION["bias"], *(ENTRY_CALIBRATION[n] for n in names)])
    fitted = minimize(loss, start, method="L-BFGS-B").x
    print(
        f"{len(y)} chosen entries, {int(y.sum())} right; log loss {loss(start):.3f} -> "
        f"{loss(fitted):.3f}"
    )
    print("ENTRY_CALIBRATION = {")
    print(f'    "bias": {fitted[0]:.3f},')
    for name, weight in zip(names, fitted[1:], strict=True):
        print(f'    "{name}": {weight:.3f},')
    print("}")
    z = fitted[0] + x @ fitted[1:]
    p = 1 / (1 + np.exp(-z))
    for cut in (0.6, 0.75, 0.85):
        chosen = p >= cut
        precision = y[chosen].mean() if chosen.any() else math.nan
        print(f"confidence >= {cut}: {chosen.mean():.1%} of choices, {precision:.1%} right")


if __name__ == "__main__":
    main()
