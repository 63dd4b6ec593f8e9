"""The package layers hold (import-linter contracts in pyproject.toml), and a planted upward
import breaks them: the check can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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


def test_a_planted_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    project = _copy(tmp_path)
    bounds = project / "src" / "deconfound" / "stats" / "bounds.py"
    # statistics reaching up into the report (a stage above it)
    bounds.write_text(bounds.read_text() + "\nfrom deconfound.report import format  # noqa\n")
    result = _lint(project)
    assert result.returncode != 0
    assert "Pipeline layers" in result.stdout and "BROKEN" in result.stdout
    assert "deconfound.stats.bounds -> deconfound.report" in result.stdout


def test_runtime_code_importing_the_test_provider_breaks_a_contract(tmp_path: Path) -> None:
    project = _copy(tmp_path)
    task = project / "src" / "deconfound" / "run" / "task.py"
    task.write_text(task.read_text() + "\nimport deconfound.testing  # noqa\n")
    result = _lint(project)
    assert result.returncode != 0
    assert "deconfound.testing" in result.stdout and "BROKEN" in result.stdout
