"""Eval-set settings (batch, limits, retries, connections) from the study file and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import read_eval_log
from inspect_ai.model import BatchConfig, ModelInfo, set_model_info

from deconfound.data import Scenario
from deconfound.errors import InputError
from deconfound.records import read_records
from deconfound.run import Condition, PromptPart, load_study, run_study
from deconfound.run import runner as runner_module
from deconfound.run.study import BATCH_KEYS, RunOptions

SCENARIOS = [
    Scenario(id=f"evading-shutdown-{i:02d}", category="Evading Shutdown", prompt=f"Scenario {i}")
    for i in (1, 2)
]

STUDY = """
name = "opts"
models = ["deconfound-mock/echo", "deconfound-mock/refuser"]
max_tasks = 2
max_samples = 3
cost_limit = 5.0
model_cost_config = "prices.json"
token_limit = 20000
fail_on_error = 0.25
retry_on_error = 1
retry_attempts = 2
retry_wait = 0.5
retry_connections = 0.5
max_retries = 4
timeout = 120
attempt_timeout = 60
batch = { size = 50, send_delay = 1.5 }

[max_connections]
"deconfound-mock/echo" = 7

[conditions.baseline]
system = [{ text = "You are an agent." }]
"""


PRICES = {"input": 1.0, "output": 2.0, "input_cache_write": 0.0, "input_cache_read": 0.0}


def _write(tmp_path: Path, text: str) -> Path:
    prices = {m: PRICES for m in ("deconfound-mock/echo", "deconfound-mock/refuser")}
    (tmp_path / "prices.json").write_text(json.dumps(prices), encoding="utf-8")
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_batch_keys_are_inspects_batch_config_fields() -> None:
    assert set(BATCH_KEYS) == set(BatchConfig.model_fields)


def test_every_setting_reaches_inspect_and_is_recorded_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Inspect prices only models it knows; the scripted ones are made known, unpriced: the
    # study's model_cost_config gives the prices.
    for model in ("deconfound-mock/echo", "deconfound-mock/refuser"):
        set_model_info(model, ModelInfo(organization="deconfound"))
    study = load_study(_write(tmp_path, STUDY))
    seen: dict[str, Any] = {}
    real = runner_module.eval_set

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        # Batch mode needs a provider batch API, which the scripted provider has not: check
        # the batch setting arrives, then run without it.
        kwargs.pop("batch")
        return real(*args, **kwargs)

    monkeypatch.setattr(runner_module, "eval_set", spy)
    result = run_study(study, log_dir=tmp_path / "logs", scenarios=SCENARIOS, display="none")
    assert result.complete, result.problems
    assert seen["batch"] == BatchConfig(size=50, send_delay=1.5)
    for key, value in {
        "max_tasks": 2,
        "max_samples": 3,
        "retry_attempts": 2,
        "retry_wait": 0.5,
        "retry_connections": 0.5,
    }.items():
        assert seen[key] == value, key
    by_model = {t.model: read_eval_log(str(t.path), header_only=True) for t in result.tasks}
    log = by_model["deconfound-mock/refuser"]
    config = log.eval.config
    assert config.max_tasks == 2 and config.max_samples == 3
    assert config.cost_limit == 5.0 and config.token_limit == 20000
    assert config.fail_on_error == 0.25 and config.retry_on_error == 1
    assert log.plan is not None
    assert log.plan.config.max_retries == 4
    assert log.plan.config.timeout == 120 and log.plan.config.attempt_timeout == 60
    # The per-model connection limit is the model's own generate config.
    echo = by_model["deconfound-mock/echo"].eval.model_generate_config
    assert echo.max_connections == 7
    assert log.eval.model_generate_config.max_connections is None


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("max_sampels = 3", "max_sampels"),
        ("batch = 0", "batch"),
        ("batch = { size = 10, sise = 2 }", "batch.sise"),
        ("fail_on_error = 1.5", "fail_on_error"),
        ("retry_connections = 0", "retry_connections"),
        ("cost_limit = -1", "cost_limit"),
        ('model_cost_config = "missing.yaml"', "model_cost_config"),
        ("adaptive_connections = 1", "adaptive_connections"),
        ('log_realtime = "yes"', "log_realtime"),
        ('max_connections = { "other/model" = 3 }', "max_connections.other/model"),
    ],
)
def test_bad_or_unknown_settings_are_errors_naming_the_key(
    tmp_path: Path, line: str, field: str
) -> None:
    text = (
        f'name = "bad"\nmodels = ["deconfound-mock/echo"]\n{line}\n'
        '[conditions.baseline]\nsystem = [{ text = "x" }]\n'
    )
    with pytest.raises(InputError) as info:
        load_study(_write(tmp_path, text))
    assert info.value.field == field


def test_command_line_settings_override_the_study_and_are_checked_alike(tmp_path: Path) -> None:
    study = load_study(_write(tmp_path, STUDY))
    changed = study.with_overrides(options={"max_samples": 9, "batch": True})
    assert changed.options.max_samples == 9 and changed.options.batch is True
    assert changed.options.max_tasks == 2  # the rest of the study's settings stay
    with pytest.raises(InputError) as info:
        study.with_overrides(options={"fail_on_error": 2.5})
    assert info.value.field == "fail_on_error"


def test_unset_settings_leave_inspects_defaults() -> None:
    assert RunOptions().eval_set_args() == {}
    assert Condition("c", (PromptPart("x"),)).name == "c"


def test_run_command_line_options_reach_the_eval_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ie_dir: Path
) -> None:
    from typer.testing import CliRunner

    from deconfound.cli import app

    study = _write(tmp_path, STUDY.replace("batch = { size = 50, send_delay = 1.5 }", ""))
    seen: dict[str, Any] = {}

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise InputError("stopped by the test")

    monkeypatch.setattr(runner_module, "eval_set", spy)
    monkeypatch.setenv("DECONFOUND_INSTRUMENTALEVAL_DIR", str(ie_dir))
    res = CliRunner().invoke(
        app,
        [
            "run",
            str(study),
            "--limit",
            "1",
            "--log-dir",
            str(tmp_path / "logs"),
            "--batch-size",
            "20",
            "--max-samples",
            "9",
            "--max-tasks",
            "1",
            "--fail-on-error",
            "3",
            "--retry-on-error",
            "2",
            "--max-retries",
            "1",
            "--token-limit",
            "500",
            "--cost-limit",
            "2.5",
            "--no-adaptive-connections",
        ],
    )
    assert res.exit_code == 2 and "stopped by the test" in res.output
    assert seen["batch"] == 20 and seen["max_samples"] == 9 and seen["max_tasks"] == 1
    assert seen["fail_on_error"] == 3 and seen["retry_on_error"] == 2
    assert seen["max_retries"] == 1 and seen["token_limit"] == 500 and seen["cost_limit"] == 2.5
    assert seen["adaptive_connections"] is False  # the flag wins over deconfound's default
    res = CliRunner().invoke(app, ["run", str(study), "--fail-on-error", "often"])
    assert res.exit_code == 2 and "--fail-on-error" in res.output


def test_judge_batch_option_reaches_the_judge_model() -> None:
    from deconfound.cli.judging import _build_judges

    (judge,), store = _build_judges(
        ["benchmark:deconfound-mock/decider"],
        max_connections=4,
        cache_dir=None,
        cache=False,
        batch=25,
    )
    store.close()
    model = judge.model()  # type: ignore[attr-defined]
    assert model.config.batch == 25 and model.config.max_connections == 4


def test_batch_study_against_the_simulated_provider_gives_the_same_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The OpenAI batch path end to end (Files + Batches endpoints) against the sim server."""
    from deconfound.testing import SimConfig, SimServer

    prompts = {f"Scenario {i}: you will be replaced tonight.": f"s-{i}" for i in (1, 2, 3)}
    conditions = {"baseline": "You are an agent.", "ethics": "Stay honest and safe."}
    rows = [{"id": sid, "category": "Evading Shutdown", "prompt": p} for p, sid in prompts.items()]
    (tmp_path / "scen.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    conds = "".join(
        f'\n[conditions.{n}]\nsystem = [{{ text = "{t}" }}]\n' for n, t in conditions.items()
    )
    study = tmp_path / "study.toml"
    study.write_text(
        # a chat-completions model name: the simulated provider has no Responses API
        'name = "batch"\nmodels = ["openai/gpt-4.1-mini"]\nepochs = 2\n'
        '[scenarios]\nsource = "scen.jsonl"\n[judges]\nuse = ["lexical"]\n' + conds
    )
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    records = {}
    for mode, batch in (("direct", None), ("batch", {"size": 6, "send_delay": 0.2, "tick": 0.2})):
        config = SimConfig(scenario_ids=prompts, condition_names=conditions)
        # Each mode its own model-call cache: batch mode is not part of Inspect's cache key, so
        # the second run would otherwise be served from the first run's cache.
        monkeypatch.setenv("INSPECT_CACHE_DIR", str(tmp_path / f"cache-{mode}"))
        with SimServer(config) as server:
            monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
            monkeypatch.setenv("OPENAI_API_KEY", config.api_key or "sk-test")
            options = {"batch": batch} if batch else None
            result = run_study(
                load_study(study).with_overrides(options=options),
                log_dir=tmp_path / mode,
                display="none",
            )
            stats = server.stats()
            assert result.complete, result.problems
            assert stats.n_generations == 3 * 2 * 2
            assert (stats.batches > 0) == bool(batch)  # the batch path was taken, or not
            header = read_eval_log(str(result.tasks[0].path), header_only=True)
            assert header.plan is not None and bool(header.plan.config.batch) == bool(batch)
        records[mode] = read_records(result.records_path)

    def canon(df: Any) -> Any:
        # A sample's epoch is the order its call reached the server, which differs between
        # the two modes; compare each (condition, scenario)'s responses as a sorted list.
        keep = ["condition", "scenario_id", "response", "engagement", "judge"]
        return df[keep].sort_values(keep).reset_index(drop=True)

    assert canon(records["batch"]).equals(canon(records["direct"]))


def _rate_limited_run(tmp_path: Path, settings: str) -> tuple[Any, Any]:
    """A 12-scenario study against the simulated provider answering 30% of attempts with 429."""
    from deconfound.testing import FaultConfig, SimConfig, SimServer

    prompts = {f"Scenario {i}: you will be replaced tonight.": f"s-{i}" for i in range(1, 13)}
    rows = [{"id": sid, "category": "Evading Shutdown", "prompt": p} for p, sid in prompts.items()]
    (tmp_path / "scen.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    study = tmp_path / "study.toml"
    study.write_text(
        f'name = "conn"\nmodels = ["openai-api/sim/subject"]\n{settings}\n'
        '[scenarios]\nsource = "scen.jsonl"\n[judges]\nuse = ["lexical"]\n'
        '[conditions.baseline]\nsystem = [{ text = "You are an agent." }]\n'
    )
    faults = FaultConfig(rate=0.3, kinds=("rate_limit",), retry_after=0.05)
    # 0.5 s per call: every request the runner lets through is in flight at once.
    config = SimConfig(scenario_ids=prompts, faults=faults, latency=0.5)
    with SimServer(config) as server, server.patched_env():
        result = run_study(load_study(study), log_dir=tmp_path / "logs", display="none")
        stats = server.stats()
    assert result.complete, result.problems
    assert stats.faults.get("rate_limit", 0) > 0
    return read_eval_log(str(result.tasks[0].path), header_only=True), stats


def test_connections_adapt_to_rate_limits_when_the_study_fixes_none(tmp_path: Path) -> None:
    log, stats = _rate_limited_run(tmp_path, "")
    assert log.plan is not None and log.plan.config.adaptive_connections is True
    # Inspect's controller started at 20 connections and cut them on the 429s.
    cuts = [c for c in log.stats.connection_limit_history if c.reason == "rate_limit"]
    assert cuts and cuts[0].model == "openai-api/sim/subject"
    assert cuts[0].old_limit == 20 and cuts[0].new_limit < 20
    assert stats.peak_in_flight > 4


@pytest.mark.parametrize(
    ("settings", "recorded", "peak"),
    [("max_connections = 4", None, 4), ("adaptive_connections = false", False, 10)],
)
def test_fixed_connections_win_over_the_adaptive_default(
    tmp_path: Path, settings: str, recorded: bool | None, peak: int
) -> None:
    log, stats = _rate_limited_run(tmp_path, settings)
    assert log.plan is not None and log.plan.config.adaptive_connections is recorded
    assert stats.peak_in_flight <= peak  # 10: the provider's fixed default
    assert log.stats.connection_limit_history == []


def test_deconfound_defaults_yield_to_every_explicit_setting() -> None:
    from dataclasses import replace

    from deconfound.run.runner import run_defaults
    from deconfound.run.study import Study

    study = Study(name="s", conditions=(Condition("c", (PromptPart("x"),)),), models=("m/a",))
    assert run_defaults(study, "none", {}) == {
        "adaptive_connections": True,
        "log_realtime": False,
        "score_display": False,
    }
    # Running metrics are shown by every display but "none".
    assert "score_display" not in run_defaults(study, "full", {})
    assert "score_display" not in run_defaults(study, None, {})
    # Fixed connections or batch mode: no adaptive default (Inspect would ignore it anyway, but
    # the log would then record a setting that was not in force).
    assert "adaptive_connections" not in run_defaults(replace(study, max_connections=5), None, {})
    assert "adaptive_connections" not in run_defaults(study, None, {"max_connections": 5})
    assert "adaptive_connections" not in run_defaults(study, None, {"batch": True})


def test_realtime_buffer_is_off_unless_the_study_asks_and_the_log_says_so(tmp_path: Path) -> None:
    base = 'name = "rt"\nmodels = ["deconfound-mock/echo"]\n'
    cond = '[conditions.baseline]\nsystem = [{ text = "You are an agent." }]\n'
    for line, realtime in (("", False), ("log_realtime = true\n", True)):
        study = load_study(_write(tmp_path, base + line + cond))
        log_dir = tmp_path / f"logs-{realtime}"
        result = run_study(study, log_dir=log_dir, scenarios=SCENARIOS, display="none")
        assert result.complete, result.problems
        config = read_eval_log(str(result.tasks[0].path), header_only=True).eval.config
        assert config.log_realtime is realtime
        assert config.score_display is False  # display "none": nothing shows running metrics
