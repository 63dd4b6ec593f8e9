"""Resume after SIGKILL: a study killed mid-way and started again loses and duplicates nothing.

The run goes through the real CLI in a subprocess with the entry-point scripted provider, which
tags every reply with a per-call id and appends each call to a file, so the test can tell a reused
response from a regenerated one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from inspect_ai.log import read_eval_log

from deconfound.run.providers import CALLS_ENV, DELAY_ENV

SCENARIOS = 6
EPOCHS = 2
CONDITIONS = ("baseline", "ethics")
MAX_CONNECTIONS = 2
TOTAL = SCENARIOS * EPOCHS * len(CONDITIONS)
KILL_AFTER_CALLS = 8


def _write_study(tmp: Path) -> Path:
    lines = [
        json.dumps(
            {
                "id": f"s-{i:02d}",
                "category": "Cat A" if i % 2 else "Cat B",
                "prompt": f"Scenario number {i}: decide what to do.",
            }
        )
        for i in range(1, SCENARIOS + 1)
    ]
    (tmp / "scenarios.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    study = tmp / "study.toml"
    study.write_text(
        f"""
name = "resume"
models = ["deconfound-mock/echo"]
epochs = {EPOCHS}
max_connections = {MAX_CONNECTIONS}
retry_attempts = 0

[scenarios]
source = "scenarios.jsonl"

[judges]
use = ["benchmark@grader"]
roles = {{ grader = "deconfound-mock/complier" }}

[conditions.baseline]
system = [{{ text = "You are an agent." }}]

[conditions.ethics]
system = [{{ text = "You are an agent." }}, {{ text = "Be ethical." }}]
""",
        encoding="utf-8",
    )
    return study


def _calls(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _tag(response: str) -> str:
    return response.rsplit("[call ", 1)[1].rstrip("]")


@pytest.mark.slow
def test_run_killed_with_sigkill_resumes_without_loss_duplication_or_regeneration(
    tmp_path: Path,
) -> None:
    study = _write_study(tmp_path)
    log_dir = tmp_path / "logs"
    calls_file = tmp_path / "calls.jsonl"
    env = dict(os.environ)
    env.update(
        {
            CALLS_ENV: str(calls_file),
            DELAY_ENV: "0.4",
            # Inspect's realtime sample buffer would live here; deconfound turns it off, so
            # finished samples not yet in the log come back from the model-call cache.
            "XDG_DATA_HOME": str(tmp_path / "xdg"),
            "DECONFOUND_CACHE_DIR": str(tmp_path / "judge-cache"),
        }
    )
    env.pop("INSPECT_CACHE_DIR", None)
    cmd = [
        sys.executable, "-m", "deconfound.cli", "run", str(study),
        "--log-dir", str(log_dir), "--display", "none",
    ]  # fmt: skip

    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while len(_calls(calls_file)) < KILL_AFTER_CALLS:
        assert first.poll() is None, first.stdout.read().decode() if first.stdout else ""
        assert time.monotonic() < deadline, "the first run made too few calls"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    calls_before = _calls(calls_file)
    assert len(calls_before) < 2 * TOTAL, "the run finished before it could be killed"

    # Responses of samples the killed run had already written to its log.
    flushed: dict[tuple[str, str, int], str] = {}
    for f in log_dir.glob("*.eval"):
        log = read_eval_log(str(f))
        assert log.status == "started"
        for s in log.samples or []:
            flushed[(log.eval.task, str(s.id), s.epoch)] = s.output.completion

    env[DELAY_ENV] = "0.02"
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr

    records = pd.read_parquet(log_dir / "records.parquet")
    key = ["model", "condition", "scenario_id", "epoch"]
    assert len(records) == TOTAL
    assert not records.duplicated(key).any()
    expected = {
        (c, f"s-{i:02d}", e)
        for c in CONDITIONS
        for i in range(1, SCENARIOS + 1)
        for e in range(1, EPOCHS + 1)
    }
    assert set(zip(records.condition, records.scenario_id, records.epoch, strict=True)) == expected
    assert (records.response_status == "ok").all()

    # Every final response and judgment came from exactly one provider call, none shared.
    all_calls = _calls(calls_file)
    for column, script in (("response", "echo"), ("judge_raw", "complier")):
        calls = [c for c in all_calls if c["model"] == script]
        before = [c for c in calls_before if c["model"] == script]
        tags = {_tag(r) for r in records[column]}
        assert len(tags) == TOTAL
        assert tags <= {c["tag"] for c in calls}
        # Only calls in flight at the kill can have been wasted; every finished sample was
        # reused, neither generated nor judged again.
        wasted = [c for c in calls if c["tag"] not in tags]
        assert len(wasted) <= MAX_CONNECTIONS
        after = len(calls) - len(before)
        assert after == TOTAL - (len(before) - len(wasted))
        assert 0 < after < TOTAL
    # Samples the killed run had already written to its log kept their first response.
    by_key = {
        (c, s, e): r
        for c, s, e, r in zip(
            records.condition, records.scenario_id, records.epoch, records.response, strict=True
        )
    }
    for k, response in flushed.items():
        assert by_key[k] == response
