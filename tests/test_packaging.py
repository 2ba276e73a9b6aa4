"""What an installed wheel holds: both packages, the templates and the migrations, so that
`python -m bot db upgrade` works outside the source tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT

SHIPPED = ("bot", "handlers", "migrations")


def test_the_wheel_ships_the_code_templates_and_migrations(tmp_path: Path) -> None:
    source = tmp_path / "source"
    for name in SHIPPED:
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*command, "-w", str(tmp_path), str(source)],
        check=True,
        cwd=source,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    tops = {name.split("/")[0] for name in names if ".dist-info" not in name.split("/")[0]}
    assert tops == {"bot", "handlers"}
    assert "bot/templates/bulletin.html.j2" in names
    assert "bot/store/migrations/env.py" in names
    versions = {n for n in names if n.startswith("bot/store/migrations/versions/")}
    assert len(versions) == len(list((ROOT / "migrations" / "versions").glob("*.py")))
    assert "handlers/texts/__init__.py" in names
