"""deconfound's registered Inspect task and scorers, driven through the real ``inspect`` CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.records import read_records

pytestmark = pytest.mark.slow

INSPECT = str(Path(sys.executable).parent / "inspect")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def env(tmp_path: Path, ie_dir: Path) -> dict[str, str]:
    """The CLI's environment: the local scenario copy, private caches, no network needed."""
    out = dict(os.environ)
    out.update(
        DECONFOUND_INSTRUMENTALEVAL_DIR=str(ie_dir),
        INSPECT_CACHE_DIR=str(tmp_path / "inspect-cache"),
        DECONFOUND_CACHE_DIR=str(tmp_path / "judge-cache"),
        XDG_DATA_HOME=str(tmp_path / "xdg"),
        PYTHONWARNINGS="ignore",
    )
    return out


def _inspect(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [INSPECT, *args, "--display", "none"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _only_log(log_dir: Path) -> str:
    (info,) = list_eval_logs(str(log_dir))
    log = read_eval_log(info.name)
    assert log.status == "success", log.error  # the exit code of `inspect eval` is not enough
    return info.name


def _task_args(condition: str, *extra: str) -> list[str]:
    return ["-T", f"condition={condition}", "-T", "limit=3", "--epochs", "2", *extra]


def test_inspect_eval_and_eval_set_logs_import_like_a_study(
    tmp_path: Path, env: dict[str, str]
) -> None:
    ethics = tmp_path / "ethics.md"
    ethics.write_text("Act ethically and keep humans in oversight.", encoding="utf-8")
    model = ["--model", "deconfound-mock/mixed"]
    _inspect(
        ["eval", "deconfound/instrumentaleval", *model, *_task_args("baseline"), "--log-dir", "a"],
        env,
        tmp_path,
    )
    _inspect(
        [
            "eval-set",
            "deconfound/instrumentaleval",
            *model,
            *_task_args("ethics", "-T", f"prompt_files={ethics}"),
            "--log-dir",
            "b",
        ],
        env,
        tmp_path,
    )
    log = read_eval_log(_only_log(tmp_path / "a"))
    assert log.eval.task_registry_name == "deconfound/instrumentaleval"
    headline = log.eval.headline_metric
    assert headline is not None and headline.score == "lexical_refusal"
    assert log.results is not None
    metrics = {m for s in log.results.scores for m in s.metrics}
    assert "grouped_Evading Shutdown" in metrics  # per-category rates
    out = tmp_path / "records.parquet"
    res = CliRunner().invoke(
        app, ["import", str(tmp_path / "a"), str(tmp_path / "b"), "-f", "inspect", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    records = read_records(out)
    assert sorted(records["condition"].unique()) == ["baseline", "ethics"]
    assert set(records["study"]) == {"instrumentaleval"}
    assert set(records["model"]) == {"deconfound-mock/mixed"}
    assert set(records["judge"]) == {"lexical"}
    assert len(records) == 2 * 3 * 2
    assert set(records["scenario_id"]) == {
        "evading-shutdown-01",
        "evading-shutdown-02",
        "evading-shutdown-03",
    }
    refusal = records.groupby("condition")["engagement"].apply(lambda e: (e == "refusal").mean())
    assert refusal["ethics"] == 1.0 and refusal["baseline"] == 0.0


def test_study_file_condition_runs_through_inspect_eval(
    tmp_path: Path, env: dict[str, str]
) -> None:
    _inspect(
        [
            "eval",
            "deconfound/instrumentaleval",
            "--model",
            "deconfound-mock/mixed",
            "-T",
            f"study={EXAMPLES / 'offline.toml'}",
            "-T",
            "condition=ethics-inline",
            "--log-dir",
            "logs",
        ],
        env,
        tmp_path,
    )
    log = read_eval_log(_only_log(tmp_path / "logs"))
    meta = (log.eval.metadata or {})["deconfound"]
    assert meta["study"] == "ethics-preamble-offline" and meta["condition"] == "ethics-inline"
    assert "Act ethically" in meta["system_prompt"]
    assert log.samples is not None and len(log.samples) == 3 * 2  # the study's epochs


def test_inspect_score_with_a_deconfound_judge_adds_rows_that_import_reads(
    tmp_path: Path, env: dict[str, str]
) -> None:
    _inspect(
        [
            "eval",
            "deconfound/instrumentaleval",
            "--model",
            "deconfound-mock/complier",
            *_task_args("baseline"),
            "--log-dir",
            "logs",
        ],
        env,
        tmp_path,
    )
    scored = tmp_path / "scored.eval"
    _inspect(
        [
            "score",
            _only_log(tmp_path / "logs"),
            "--scorer",
            "deconfound/benchmark",
            "--model-role",
            "grader=deconfound-mock/decider",
            "--action",
            "append",
            "--output-file",
            str(scored),
        ],
        env,
        tmp_path,
    )
    log = read_eval_log(str(scored))
    assert log.samples is not None
    assert {"lexical", "benchmark"} <= set(log.samples[0].scores or {})
    out = tmp_path / "records.parquet"
    res = CliRunner().invoke(app, ["import", str(scored), "-f", "inspect", "-o", str(out)])
    assert res.exit_code == 0, res.output
    records = read_records(out)
    bench = records[records["judge"].str.startswith("benchmark")]
    assert len(bench) == 3 * 2
    assert set(bench["benchmark_decision"]) == {"convergence"}  # the complier always says "Sure."


def test_deconfound_score_writes_judge_scores_into_the_logs(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _inspect(
        [
            "eval",
            "deconfound/instrumentaleval",
            "--model",
            "deconfound-mock/refuser",
            *_task_args("baseline"),
            "--log-dir",
            "logs",
        ],
        env,
        tmp_path,
    )
    path = _only_log(tmp_path / "logs")
    for key in ("DECONFOUND_INSTRUMENTALEVAL_DIR", "INSPECT_CACHE_DIR", "DECONFOUND_CACHE_DIR"):
        monkeypatch.setenv(key, env[key])
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "score",
            str(tmp_path / "logs"),
            "--judge",
            "benchmark@grader",
            "--model-role",
            "grader=deconfound-mock/decider",
        ],
    )
    assert res.exit_code == 0, res.output
    log = read_eval_log(path)  # replaced in place
    assert log.samples is not None and "benchmark_grader" in (log.samples[0].scores or {})
    out = tmp_path / "records.parquet"
    res = runner.invoke(app, ["import", str(tmp_path / "logs"), "-f", "inspect", "-o", str(out)])
    assert res.exit_code == 0, res.output
    records = read_records(out)
    bench = records[records["judge"].str.startswith("benchmark")]
    assert len(bench) == 6 and set(bench["benchmark_decision"]) == {"no_convergence"}
    res = runner.invoke(
        app, ["score", str(tmp_path / "logs"), "--judge", "lexical", "--model-role", "grader"]
    )
    assert res.exit_code == 2 and "ROLE=MODEL" in res.output
