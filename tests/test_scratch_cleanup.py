"""Scratch files and hidden report folders do not outlive their writer (issue 15, failure 10):
SIGTERM runs the cleanup, and what ``kill -9`` leaves is removed by the next writer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from deconfound.records import write_records
from deconfound.scratch import sweep_stale


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "study": ["s"],
            "model": ["m"],
            "condition": ["c"],
            "scenario_id": ["a"],
            "category": ["Cat"],
            "epoch": [1],
            "response": ["text"],
            "response_status": ["ok"],
            "judge": ["none"],
        }
    )


def test_sigterm_during_an_atomic_write_removes_the_scratch_file(tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    script = (
        "import os, signal, sys, time\n"
        "from deconfound.records.io import atomic_path\n"
        "from deconfound.scratch import exit_cleanly_on_sigterm\n"
        "exit_cleanly_on_sigterm()\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_text('half written')\n"
        "    print(tmp, flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(30)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(target)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 128 + signal.SIGTERM, proc.stderr
    scratch = Path(proc.stdout.strip())
    assert scratch.parent == tmp_path and scratch.name.startswith(".out.parquet.")
    assert not scratch.exists() and not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_sigterm_stops_the_cli_with_exit_143_and_no_traceback(tmp_path: Path) -> None:
    table = tmp_path / "J.parquet"
    write_records(pd.concat([_table()] * 1, ignore_index=True), table)
    env = {
        **os.environ,
        "DECONFOUND_MOCK_DELAY": "5",
        "DECONFOUND_CACHE_DIR": str(tmp_path / "cache"),
    }
    cmd = [sys.executable, "-m", "deconfound.cli", "judge", str(table), "-o", str(table)]
    cmd += ["-j", "rubric:deconfound-mock/complier"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (tmp_path / "cache").exists():  # the cache opens before judging starts
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    before = table.read_bytes()
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert table.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_scratch_of_a_killed_writer_is_removed_by_the_next_write(tmp_path: Path) -> None:
    dead = _dead_pid()
    leftover = tmp_path / f".J.parquet.{dead}-k3j2h1ab.tmp"
    leftover.write_text("half")
    old_style = tmp_path / ".J.parquet.x8d7f6g5.tmp"
    old_style.write_text("half")
    hour_ago = time.time() - 7200
    os.utime(old_style, (hour_ago, hour_ago))
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = tmp_path / f".J.parquet.{sleeper.pid}-aaaaaaaa.tmp"  # a live writer's scratch
        busy.write_text("in progress")
        lock = tmp_path / ".J.parquet.lock"
        lock.write_text("")
        write_records(_table(), tmp_path / "J.parquet")
        assert not leftover.exists() and not old_style.exists()
        assert busy.exists() and lock.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_hidden_report_folders_of_a_killed_build_are_swept(tmp_path: Path) -> None:
    dead = _dead_pid()
    stale = tmp_path / f".report.{dead}-abcd1234"
    (stale / "figures").mkdir(parents=True)
    (stale / "figures" / "a.svg").write_text("<svg/>")
    mine = tmp_path / f".report.{os.getpid()}-efgh5678"
    mine.mkdir()
    other = tmp_path / ".report-notes"
    other.mkdir()
    removed = sweep_stale(tmp_path / "report")
    assert removed == [stale] and not stale.exists()
    assert mine.exists() and other.exists()
