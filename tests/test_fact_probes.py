"""Fact probes: questions a business asks about fees, time limits, authorities, effective dates
and product rules, asked exactly as other tools ask (`python -m bot ask --json`), each with the
strings a right answer must contain and the source that settles it (tests/data/fact_probes/)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PROBES = Path(__file__).resolve().parent / "data" / "fact_probes"
MIN_PROBES = 80


def _probes() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted(PROBES.glob("*.yaml")):
        for probe in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            found.append(probe | {"file": path.name})
    return found


def test_every_probe_names_a_question_what_it_needs_and_a_source() -> None:
    probes = _probes()
    assert len(probes) >= MIN_PROBES
    for probe in probes:
        assert str(probe.get("question", "")).strip(), probe
        assert probe.get("must_contain"), probe
        assert all(str(s).strip() for s in probe["must_contain"]), probe
        assert str(probe.get("source", "")).strip(), probe


@pytest.fixture(scope="module")
def answers() -> list[dict[str, Any]]:
    probes = _probes()
    stdin = "".join(" ".join(str(p["question"]).split()) + "\n" for p in probes)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == len(probes), done.stderr
    return lines


def test_every_fact_probe_is_answered_with_the_facts(answers: list[dict[str, Any]]) -> None:
    failures = []
    for probe, answer in zip(_probes(), answers, strict=True):
        text = answer["answer"].lower()
        missing = [s for s in probe["must_contain"] if str(s).lower() not in text]
        if missing:
            failures.append(
                f"{probe['file']}: {probe['question']!r} -> {answer['entry_id']}: missing {missing}"
            )
    assert not failures, f"{len(failures)} probes failed:\n" + "\n".join(failures)
