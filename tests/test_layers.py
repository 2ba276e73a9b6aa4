"""The layering in pyproject.toml holds, and the check would notice a module that breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_of_the_code(tmp_path: Path) -> Path:
    for name in ("bot", "handlers"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_its_layers(tmp_path: Path) -> None:
    result = lint(copy_of_the_code(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_core_importing_telegram_is_caught(tmp_path: Path) -> None:
    tree = copy_of_the_code(tmp_path)
    module = tree / "bot" / "qa" / "answers.py"
    module.write_text(module.read_text(encoding="utf-8") + "\nimport telegram  # noqa\n")
    result = lint(tree)
    assert result.returncode != 0
    assert "The core never imports Telegram" in result.stdout
    assert "bot.qa.answers -> telegram" in result.stdout


def test_a_handler_reaching_for_the_repository_is_caught(tmp_path: Path) -> None:
    tree = copy_of_the_code(tmp_path)
    module = tree / "handlers" / "questions.py"
    text = module.read_text(encoding="utf-8")
    module.write_text(text + "\nfrom bot.store.repository import StaffRepository  # noqa\n")
    result = lint(tree)
    assert result.returncode != 0
    assert "handlers.questions -> bot.store.repository" in result.stdout


def test_the_store_importing_a_capability_is_caught(tmp_path: Path) -> None:
    tree = copy_of_the_code(tmp_path)
    module = tree / "bot" / "store" / "spool.py"
    module.write_text(module.read_text(encoding="utf-8") + "\nimport bot.qa.answers  # noqa\n")
    result = lint(tree)
    assert result.returncode != 0
    assert "bot.store.spool -> bot.qa.answers" in result.stdout


def test_a_query_outside_the_store_is_caught(tmp_path: Path) -> None:
    tree = copy_of_the_code(tmp_path)
    module = tree / "bot" / "reports" / "stats.py"
    text = module.read_text(encoding="utf-8")
    module.write_text(text + "\nfrom sqlalchemy import select  # noqa\n")
    result = lint(tree)
    assert result.returncode != 0
    assert "SQL lives in the store" in result.stdout
