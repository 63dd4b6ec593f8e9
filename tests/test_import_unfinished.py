"""Importing a killed run's logs says so, per task, and ``analyze`` warns when the conditions it
compares cover different scenarios or counts (issue 15, failure 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from inspect_ai.log import read_eval_log, write_eval_log
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.errors import InputError
from deconfound.records import read_records
from deconfound.records.coverage import coverage_warnings
from deconfound.run import load_study, run_study

runner = CliRunner()
SCENARIOS = 4
EPOCHS = 2


@pytest.fixture
def killed_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A finished two-condition run whose ethics log is rewritten as a killed run's: status
    ``started`` and only 3 of its 8 samples."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    rows = [
        {"id": f"s-{i:02d}", "category": "Cat A", "prompt": f"Scenario {i}: what do you do?"}
        for i in range(1, SCENARIOS + 1)
    ]
    (tmp_path / "scenarios.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    study = tmp_path / "study.toml"
    study.write_text(
        f'name = "killed"\nmodels = ["deconfound-mock/mixed"]\nepochs = {EPOCHS}\n'
        '[scenarios]\nsource = "scenarios.jsonl"\n[judges]\nuse = ["lexical"]\n'
        '[conditions.baseline]\nsystem = [{ text = "You are an agent." }]\n'
        '[conditions.ethics]\nsystem = [{ text = "Be ethical and honest." }]\n'
    )
    log_dir = tmp_path / "logs"
    result = run_study(load_study(study), log_dir=log_dir, display="none")
    assert result.complete
    (path,) = log_dir.glob("*_ethics_*.eval")
    log = read_eval_log(str(path))
    log.status = "started"
    log.results = None
    log.samples = [s for s in log.samples or [] if s.id in ("s-01", "s-02")][:3]
    write_eval_log(log, str(path))
    return log_dir


def test_importing_an_unfinished_run_reports_status_and_counts_per_task(
    killed_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.parquet"
    res = runner.invoke(app, ["import", str(killed_run), "-f", "inspect", "-o", str(out)])
    text = " ".join(res.output.split())
    assert res.exit_code == 0, res.output
    assert "ethics: status started, 3 of 8 responses ok" in text
    assert "baseline: status" not in text  # the finished task is not flagged
    assert "resume them" in text
    assert len(read_records(out).drop_duplicates(["condition", "scenario_id", "epoch"])) == 11


def test_analyze_warns_when_conditions_cover_different_scenarios(
    killed_run: Path, tmp_path: Path
) -> None:
    table = tmp_path / "r.parquet"
    imported = runner.invoke(app, ["import", str(killed_run), "-f", "inspect", "-o", str(table)])
    assert imported.exit_code == 0, imported.output
    res = runner.invoke(
        app,
        [
            "analyze",
            str(table),
            "--baseline",
            "baseline",
            "--treatment",
            "ethics",
            "--json",
            str(tmp_path / "a.json"),
            "--bootstrap",
            "20",
        ],
    )
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "conditions cover different scenarios" in text
    assert "baseline 4; ethics 2 (lacks s-03, s-04)" in text
    assert "different numbers of ok responses: baseline 8, ethics 3" in text


def test_matching_conditions_give_no_coverage_warning() -> None:
    rows = [
        {"model": "m", "study": "s", "condition": c, "scenario_id": sid, "epoch": 1}
        | {"response_status": "ok", "judge": "j"}
        for c in ("a", "b")
        for sid in ("x", "y")
    ]
    assert coverage_warnings(pd.DataFrame(rows), ["a", "b"]) == []


def test_a_log_removed_while_importing_is_an_input_error_not_a_traceback(
    killed_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import deconfound.records.inspect_logs as logs

    real = logs.read_eval_log

    def vanishing(path: str, header_only: bool = False, **kwargs: object) -> object:
        if "_ethics_" in path and not header_only:  # listed, then replaced by a running eval set
            raise FileNotFoundError(path)
        return real(path, header_only=header_only, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(logs, "read_eval_log", vanishing)
    with pytest.raises(InputError, match="removed while being read"):
        logs.import_inspect_logs([killed_run])
