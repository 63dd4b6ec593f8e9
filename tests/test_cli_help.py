"""Help a new user can read in an 80-column terminal: every option's help whole, no markup lost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from deconfound.cli import app


def _commands() -> Iterator[tuple[list[str], Any]]:
    """(argv prefix, command) for every verb, sub-verbs included (Typer's own click objects)."""

    def walk(cmd: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, cmd

    yield from walk(typer.main.get_command(app), [])


def _flat(text: str) -> str:
    return "".join(text.split())


COMMANDS = list(_commands())


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_at_80_columns_shows_every_option_help_whole(
    path: list[str], command: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "…" not in result.output  # nothing cut to fit the width
    shown = _flat(result.output)
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            assert _flat(text) in shown, f"{' '.join(path)} {param.name}: {text!r} not shown whole"


def test_brackets_in_help_survive() -> None:
    """`[epoch]` is a column name, not markup to strip."""
    result = CliRunner().invoke(app, ["calibrate", "--help"])
    assert "[epoch], [model], [study]" in " ".join(result.output.split())


def test_every_verb_is_listed_in_pipeline_order() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    order = ["scenarios", "run", "fetch", "import", "summary", "judge", "agreement", "calibrate",
             "analyze", "bounds", "report"]  # fmt: skip
    positions = [result.output.find(f"  {verb} ") for verb in order]
    assert -1 not in positions and positions == sorted(positions), result.output
