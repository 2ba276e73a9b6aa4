"""The documentation keeps up with the product: every command is in the README and in /help."""

from __future__ import annotations

from handlers.application import COMMANDS
from handlers.staff import STAFF_COMMANDS
from handlers.start import help_text
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
CLI = (
    "python -m bot ask",
    "python -m bot kb check",
    "python -m bot console",
    "python -m bot run",
    "python -m bot report",
    "python -m bot bulletin import",
    "python -m bot bulletin preview",
    "python -m bot bulletin send",
    "python -m bot db upgrade",
)


def test_every_telegram_command_is_documented_in_the_readme() -> None:
    for name, _ in (*COMMANDS, *STAFF_COMMANDS):
        assert f"`/{name}" in README, name


def test_help_lists_every_public_command() -> None:
    text = help_text(COMMANDS)
    for name, _ in COMMANDS:
        assert f"/{name} " in text, name


def test_every_command_line_tool_is_documented() -> None:
    for command in CLI:
        assert command in README, command


def test_readme_gives_the_two_commands_of_a_fresh_machine() -> None:
    assert "make run" in README
    assert "make test" in README
