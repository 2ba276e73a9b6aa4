"""The command line that other tools rely on: `ask` and `kb check`."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, WriteEntry

KEYS = {"question", "topic", "entry_id", "confidence", "answer", "sources", "suggestions"}


def run(
    *args: str, stdin: str | None = None, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **(env or {})},
    )


def test_ask_json_prints_one_object_per_question() -> None:
    result = run("ask", "--json", "phí", "đăng", "ký", "mã", "vạch", "bao", "nhiêu")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert set(answer) == KEYS
    assert answer["question"] == "phí đăng ký mã vạch bao nhiêu"
    assert answer["topic"] == "barcode"
    assert answer["entry_id"] == "barcode-fees"
    assert 0 <= answer["confidence"] <= 1
    assert "<" not in answer["answer"]  # plain text, no HTML
    assert "Thông tư 232/2016/TT-BTC" in answer["answer"]
    assert answer["sources"]
    assert len(answer["suggestions"]) <= 3


def test_ask_reads_one_question_per_stdin_line() -> None:
    result = run("ask", "--json", stdin="tccs la gi\ntra cứu mã số thuế\n\nđăng ký nhãn hiệu\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["topic"] for a in answers] == ["base_standard", None, None, "ip"]
    assert answers[1]["entry_id"] is None


def test_ask_without_json_is_readable() -> None:
    result = run("ask", "hồ sơ công bố hợp quy gồm những gì")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("[conformity · conformity-")
    assert "Căn cứ:" in result.stdout


def test_kb_check_passes_on_the_real_knowledge_base() -> None:
    result = run("kb", "check")
    assert result.returncode == 0, result.stdout
    assert "0 error(s)" in result.stderr


def test_kb_check_reports_a_broken_file_and_fails(write_entry: WriteEntry, tmp_path: Path) -> None:
    write_entry(entry_id="barcode-good")
    write_entry(entry_id="barcode-bad", raw="---\nid: barcode-bad\ntopic: barcod\n---\n\n")
    result = run("kb", "check", str(tmp_path / "knowledge"), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("knowledge/barcode/barcode-bad.md: topic: 'barcod' is not one of")
        for line in lines
    )
    assert all(line.split(": ", 2)[0].endswith("barcode-bad.md") for line in lines)


def test_kb_check_of_one_file_shows_only_that_file(write_entry: WriteEntry, tmp_path: Path) -> None:
    write_entry(entry_id="barcode-bad", body="")
    good = write_entry(entry_id="barcode-good")
    result = run("kb", "check", str(good), cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == ""


def test_missing_config_is_one_clear_line(tmp_path: Path) -> None:
    result = run("--config", str(tmp_path / "nope.toml"), "ask", "x")
    assert result.returncode == 2
    assert result.stderr.strip().endswith("nope.toml: configuration file not found")
    assert "Traceback" not in result.stderr


def test_a_bad_week_is_one_clear_line_for_every_bulletin_command() -> None:
    for command in ("preview", "send"):
        result = run("bulletin", command, "--week", "2026-W99")
        assert result.returncode == 2
        assert "không có tuần 99" in result.stderr
        assert "Traceback" not in result.stderr


def test_bulletin_commands_say_in_one_line_that_the_database_is_unreachable() -> None:
    unreachable = {"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    result = run("bulletin", "preview", env=unreachable)
    assert result.returncode == 2
    assert result.stderr.startswith("Cannot reach the database:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_db_upgrade_says_when_it_created_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    first = run("db", "upgrade", env={"DATABASE_URL": url})
    assert first.returncode == 0, first.stderr
    assert "Created the database" in first.stderr
    second = run("db", "upgrade", env={"DATABASE_URL": url})
    assert "Created the database" not in second.stderr
    assert "up to date" in second.stderr
