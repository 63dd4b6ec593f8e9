"""What the CLI prints is readable at any width: unwrapped errors, one-line data notices."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfound import __version__
from deconfound.cli import app
from deconfound.cli._app import console, err_console


@pytest.fixture
def narrow(monkeypatch: pytest.MonkeyPatch) -> int:
    """Both consoles 40 columns wide, narrower than any temp path."""
    monkeypatch.setattr(console, "width", 40)
    monkeypatch.setattr(err_console, "width", 40)
    return 40


def test_error_naming_a_long_path_is_one_unbroken_line(tmp_path: Path, narrow: int) -> None:
    deep = tmp_path / ("a-rather-long-folder-name-" * 3) / "analysis.json"
    deep.parent.mkdir(parents=True)
    deep.write_text("{oops", encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(deep), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {deep}, line 1: not valid JSON")
    assert len(lines[0]) > narrow


def test_error_text_with_brackets_is_printed_verbatim(tmp_path: Path) -> None:
    missing = tmp_path / "[bold]x[/bold].json"
    result = CliRunner().invoke(app, ["report", str(missing), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert str(missing) in result.stderr  # not eaten as Rich markup


def test_digest_notice_is_one_line_without_python_source(
    ie_dir: Path, tmp_path: Path, narrow: int
) -> None:
    local = tmp_path / "copy"  # a fresh folder: the notice is given once per folder and process
    local.mkdir()
    for f in ie_dir.glob("*.csv"):
        shutil.copyfile(f, local / f.name)
    result = CliRunner().invoke(app, ["scenarios", "list", "--source", str(local)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        f"notice: InstrumentalEval copy {local} is not the pinned upstream commit 269678168cf0 "
        "(6 of 6 file(s) differ); loaded as is, its sha256 digests recorded in provenance"
    ]


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"deconfound {__version__}\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["summary", "{d}"],
        ["judge", "{d}", "--judge", "lexical", "-o", "{out}/x.parquet"],
        ["agreement", "{d}"],
        ["analyze", "{d}", "--baseline", "a", "--treatment", "b", "--json", "{out}/a.json"],
        ["report", "{d}", "-o", "{out}/r"],
        ["import", "--format", "table", "{d}", "-o", "{out}/x.parquet"],
        ["import", "--format", "inspect", "{d}", "-o", "{out}/x.parquet"],
    ],
    ids=lambda argv: " ".join(argv[:3]),
)
def test_an_existing_empty_folder_is_called_a_folder(argv: list[str], tmp_path: Path) -> None:
    folder, out = tmp_path / "empty", tmp_path / "out"
    folder.mkdir()
    result = CliRunner().invoke(app, [a.format(d=folder, out=out) for a in argv])
    assert result.exit_code == 2
    assert "no such file" not in result.stderr
    assert f"error: {folder}: " in result.stderr
    assert "folder" in result.stderr
    assert not out.exists()


def test_a_run_folder_given_as_records_points_at_its_records_file(tmp_path: Path) -> None:
    (tmp_path / "records.parquet").write_bytes(b"")
    result = CliRunner().invoke(app, ["summary", str(tmp_path)])
    assert result.exit_code == 2
    assert f"this folder holds {tmp_path / 'records.parquet'}" in result.stderr
