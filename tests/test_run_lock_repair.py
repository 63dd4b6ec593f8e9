"""Two runs on one log directory never both spend (issue 15, failure 2), and a truncated ``.eval``
is named before resuming and repaired with ``--repair`` (failure 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.locking import LockBusyError, read_holder
from deconfound.run import load_study, run_study
from deconfound.run.lock import lock_file, run_lock
from deconfound.run.providers import CALLS_ENV, DELAY_ENV

SCENARIOS = 4
EPOCHS = 2
TOTAL = SCENARIOS * EPOCHS * 2


def _study(tmp: Path) -> Path:
    rows = [
        {"id": f"s-{i:02d}", "category": "Cat A", "prompt": f"Scenario number {i}: decide."}
        for i in range(1, SCENARIOS + 1)
    ]
    (tmp / "scenarios.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    study = tmp / "study.toml"
    study.write_text(
        f'name = "lockrep"\nmodels = ["deconfound-mock/echo"]\nepochs = {EPOCHS}\n'
        "max_connections = 2\nretry_attempts = 0\n"
        '[scenarios]\nsource = "scenarios.jsonl"\n[judges]\nuse = ["lexical"]\n'
        '[conditions.baseline]\nsystem = [{ text = "You are an agent." }]\n'
        '[conditions.ethics]\nsystem = [{ text = "You are an agent. Be ethical." }]\n'
    )
    return study


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp / "xdg"), CALLS_ENV: str(tmp / "calls.jsonl")}
    env.pop("INSPECT_CACHE_DIR", None)
    return {**env, **extra}


def _cmd(study: Path, log_dir: Path) -> list[str]:
    return [sys.executable, "-m", "deconfound.cli", "run", str(study), "--log-dir", str(log_dir)]


def _calls(tmp: Path) -> list[dict[str, str]]:
    path = tmp / "calls.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.slow
def test_a_second_run_on_a_busy_log_dir_stops_at_once_naming_the_holder(tmp_path: Path) -> None:
    study, log_dir = _study(tmp_path), tmp_path / "logs"
    cmd = [*_cmd(study, log_dir), "--display", "none"]
    first = subprocess.Popen(
        cmd, env=_env(tmp_path, **{DELAY_ENV: "4"}), stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not _calls(tmp_path):  # the first run is generating
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    holder = read_holder(lock_file(log_dir))
    assert holder is not None and holder.pid == first.pid
    second = subprocess.run(cmd, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert first.poll() is None, "the first run ended before the second was refused"
    first.communicate(timeout=300)
    text = " ".join(second.stderr.split())
    assert second.returncode == 1, second.stdout + second.stderr
    assert f"pid {first.pid}" in text and f"started {holder.started}" in text
    assert "Traceback" not in second.stderr
    assert first.returncode == 0
    # no double spend: every sample generated exactly once
    assert len(_calls(tmp_path)) == TOTAL


def test_run_study_refuses_a_log_dir_whose_lock_is_held(tmp_path: Path) -> None:
    study = load_study(_study(tmp_path))
    log_dir = tmp_path / "logs"
    with run_lock(log_dir), pytest.raises(LockBusyError, match=f"pid {os.getpid()}"):
        run_study(study, log_dir=log_dir, display="none")
    assert not list(log_dir.glob("*.eval"))


@pytest.mark.slow
def test_truncated_eval_is_named_then_repaired_redoing_only_its_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study, log_dir = _study(tmp_path), tmp_path / "logs"
    for k, v in _env(tmp_path).items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("INSPECT_CACHE_DIR", raising=False)
    args = ["run", str(study), "--log-dir", str(log_dir), "--display", "none"]
    cli = CliRunner()
    first = cli.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert len(_calls(tmp_path)) == TOTAL
    (ethics,) = log_dir.glob("*_ethics_*.eval")
    (baseline,) = log_dir.glob("*_baseline_*.eval")
    baseline_bytes = baseline.read_bytes()
    with ethics.open("r+b") as fh:  # a run killed while the log was rewritten
        fh.truncate(ethics.stat().st_size // 2)

    refused = cli.invoke(app, args)
    text = "".join(refused.output.split())
    assert refused.exit_code == 2, refused.output
    assert "".join(str(ethics).split()) in text and "--repair" in text
    assert refused.exception is None or isinstance(refused.exception, SystemExit)

    repaired = cli.invoke(app, [*args, "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert Path(f"{ethics}.damaged").exists() and not ethics.exists()
    assert baseline.read_bytes() == baseline_bytes  # the sound task was not redone
    (redone,) = log_dir.glob("*_ethics_*.eval")
    assert redone != ethics
    # the lost samples came back from the model-call cache: nothing was paid twice
    assert len(_calls(tmp_path)) == TOTAL
    from deconfound.records import read_records

    records = read_records(log_dir / "records.parquet")
    assert len(records.drop_duplicates(["condition", "scenario_id", "epoch"])) == TOTAL
