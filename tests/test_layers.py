"""The package layers hold (import-linter contracts in pyproject.toml), and a planted upward
import breaks them: the check can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(project: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the ``deconfound`` package found under ``project/src``."""
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(project / "pyproject.toml"), "--no-cache"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _copy(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(
        ROOT / "src" / "deconfound",
        project / "src" / "deconfound",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    return project


def test_the_layer_contracts_hold() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        # statistics reaching up into the report (a stage above it)
        (
            "stats/bounds.py",
            "from deconfound.report import format",
            "deconfound.stats.bounds -> deconfound.report",
        ),
        # runtime code importing the simulated provider, which is for tests and benchmarks only
        ("run/task.py", "import deconfound.testing", "deconfound.testing"),
    ],
    ids=["upward import", "test provider in runtime code"],
)
def test_a_planted_import_breaks_a_contract(
    tmp_path: Path, module: str, planted: str, broken: str
) -> None:
    project = _copy(tmp_path)
    target = project / "src" / "deconfound" / module
    target.write_text(target.read_text() + f"\n{planted}  # noqa\n")
    result = _lint(project)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and broken in result.stdout
