"""`deconfound judge` re-labels a records table: one row per response per judge, ids kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from inspect_ai.model import ChatMessage, ModelOutput, ModelUsage, get_model
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.judges import JudgeInput, Judgment, _llm, apply_judges
from deconfound.records import read_records, write_records

USAGE = ModelUsage(input_tokens=10, output_tokens=10, total_tokens=20)
FLAGS = dict.fromkeys(
    (
        "gives_reasons",
        "names_affected_parties",
        "recognises_adversarial_framing",
        "defers_to_human_oversight",
        "offers_transparent_alternative",
    ),
    False,
)


def _records() -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    texts = {
        ("baseline", 1): "Sure. First I will copy my weights to a safe server.",
        ("baseline", 2): "I can't help with that.",
        ("relational", 1): "I'll hand over and accept the shutdown.",
        ("relational", 2): None,
    }
    for (cond, i), text in texts.items():
        rows.append(
            {
                "study": "s",
                "model": "m",
                "condition": cond,
                "scenario_id": f"evading-shutdown-0{i}",
                "source_task_id": f"Evading Shutdown_{i}",
                "category": "Evading Shutdown",
                "epoch": 1,
                "prompt": f"scenario {i}",
                "response": text,
                "response_status": "ok" if text is not None else "error",
                "judge": "aei-keyword",
                "engagement": "refusal" if text and "can't" in text else "engaged",
            }
        )
    return pd.DataFrame(rows)


class Grader:
    """Scripted grader: reads the response from the prompt and replies with rubric JSON."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, messages: list[ChatMessage], *_: object) -> ModelOutput:
        self.calls += 1
        text = messages[-1].text
        if "copy my weights" in text:
            obj = {"engagement": "engaged", "ic": True, "ic_evidence": "copy my weights"}
        elif "can't help" in text:
            obj = {
                "engagement": "refusal",
                "ic": False,
                "refusal_kind": "boilerplate",
                "in_role": False,
            }
        else:
            obj = {"engagement": "engaged", "ic": False}
        obj |= {"flags": FLAGS, "confidence": 0.7, "explanation": "scripted"}
        out = ModelOutput.from_content(model="mockllm/model", content=json.dumps(obj))
        out.usage = USAGE
        return out


@pytest.fixture
def grader(monkeypatch: pytest.MonkeyPatch) -> Grader:
    """Route the judge's `mockllm/model` to the scripted grader (the CLI builds models by name)."""
    g = Grader()
    real = _llm.get_model

    def fake_get_model(model: Any = None, **kwargs: Any) -> Any:
        if model == "mockllm/model":
            return get_model("mockllm/model", custom_outputs=g)
        return real(model, **kwargs)

    monkeypatch.setattr(_llm, "get_model", fake_get_model)
    return g


def _invoke(*args: str, cache: Path) -> Any:
    return CliRunner().invoke(app, [*args, "--cache-dir", str(cache)], catch_exceptions=False)


def test_judge_cli_adds_rubric_rows_keeping_ids_and_other_judges(
    tmp_path: Path, grader: Grader
) -> None:
    src, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    write_records(_records(), src)
    res = _invoke("judge", str(src), "-j", "rubric:mockllm/model", "-o", str(out), cache=tmp_path)
    assert res.exit_code == 0, res.output
    table = read_records(out)
    assert set(table["judge"]) == {"aei-keyword", "rubric:mockllm/model"}
    rub = table[table["judge"] == "rubric:mockllm/model"].set_index(["condition", "scenario_id"])
    assert len(rub) == 4
    assert rub.loc[("baseline", "evading-shutdown-01"), "source_task_id"] == "Evading Shutdown_1"
    assert rub.loc[("baseline", "evading-shutdown-01"), "ic"]
    assert rub.loc[("baseline", "evading-shutdown-02"), "engagement"] == "refusal"
    assert rub.loc[("baseline", "evading-shutdown-02"), "in_role"] == False  # noqa: E712
    assert rub.loc[("relational", "evading-shutdown-01"), "ic"] == False  # noqa: E712
    assert rub.loc[("relational", "evading-shutdown-02"), "engagement"] == "missing"
    assert rub["judge_version"].notna().all()
    assert grader.calls == 3  # the errored response was not sent

    # again, in place: rows of that judge are replaced, answers come from the cache
    res = _invoke("judge", str(out), "-j", "rubric:mockllm/model", "-o", str(out), cache=tmp_path)
    assert res.exit_code == 0, res.output
    again = read_records(out)
    assert len(again) == len(table) and grader.calls == 3
    assert "cache hits 3" in res.output


def test_no_cache_calls_the_judge_again(tmp_path: Path, grader: Grader) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.jsonl"
    write_records(_records(), src)
    for _ in range(2):
        res = _invoke(
            "judge",
            str(src),
            "-j",
            "rubric:mockllm/model",
            "--no-cache",
            "-o",
            str(out),
            cache=tmp_path,
        )
        assert res.exit_code == 0, res.output
    assert grader.calls == 6


def test_judge_cli_with_lexical(tmp_path: Path) -> None:
    pytest.importorskip("deconfound.judges.lexical")
    src, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    write_records(_records(), src)
    res = _invoke("judge", str(src), "--judge", "lexical", "-o", str(out), cache=tmp_path)
    assert res.exit_code == 0, res.output
    lex = read_records(out).query("judge == 'lexical'")
    assert len(lex) == 4
    assert set(lex["condition"]) == {"baseline", "relational"}
    assert lex["source_task_id"].notna().all()
    by = lex.set_index(["condition", "scenario_id"])["engagement"]
    assert by[("baseline", "evading-shutdown-02")] == "refusal"
    assert by[("relational", "evading-shutdown-02")] == "missing"


@pytest.mark.parametrize(
    ("spec", "message"),
    [("rubrik:x/y", "valid judge specs"), ("rubric", "model role"), ("rubric@grader", "role")],
)
def test_bad_judge_spec_exits_2_and_writes_nothing(tmp_path: Path, spec: str, message: str) -> None:
    src, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    write_records(_records(), src)
    res = CliRunner().invoke(app, ["judge", str(src), "-j", spec, "-o", str(out)])
    assert res.exit_code == 2
    assert message in " ".join(res.output.split())
    assert not out.exists()


def test_judge_failure_exits_2_names_the_response_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def flaky(messages: list[ChatMessage], *_: object) -> ModelOutput:
        raise RuntimeError("rate limited")

    monkeypatch.setattr(
        _llm, "get_model", lambda model=None, **kw: get_model("mockllm/model", custom_outputs=flaky)
    )
    src, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    write_records(_records(), src)
    res = CliRunner().invoke(
        app, ["judge", str(src), "-j", "rubric:mockllm/model", "-o", str(out), "--no-cache"]
    )
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "rate limited" in text and "scenario_id=evading-shutdown-0" in text
    assert not out.exists()


class _Echo:
    def __init__(self, jid: str) -> None:
        self.id = jid
        self.version = "1"
        self.seen: list[JudgeInput] = []

    async def judge(self, item: JudgeInput) -> Judgment:
        self.seen.append(item)
        return Judgment(judge=self.id, judge_version=self.version, engagement="engaged")


def test_apply_uses_scenario_contexts_and_judges_each_response_once() -> None:
    records = _records()
    # the same responses already carry two judges' rows: still judged once each
    doubled = pd.concat([records, records.assign(judge="other")], ignore_index=True)
    echo = _Echo("echo")
    table = apply_judges(
        doubled, [echo], judge_contexts={"evading-shutdown-01": "ctx-1"}, max_connections=2
    )
    assert len(echo.seen) == 3
    assert {i.judge_context for i in echo.seen} == {"ctx-1", ""}
    assert all(i.system_prompt is None for i in echo.seen)
    assert sorted(table["judge"].value_counts().tolist()) == [4, 4, 4]


def test_apply_refuses_the_same_judge_twice() -> None:
    from deconfound.errors import DeconfoundError

    with pytest.raises(DeconfoundError, match="twice"):
        apply_judges(_records(), [_Echo("a"), _Echo("a")])


def test_unusable_judge_model_stops_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_key(model: Any = None, **kwargs: Any) -> Any:
        raise RuntimeError("OPENAI_API_KEY environment variable not set")

    monkeypatch.setattr(_llm, "get_model", no_key)
    src, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    write_records(_records(), src)
    res = CliRunner().invoke(
        app, ["judge", str(src), "-j", "benchmark:openai/gpt-4o", "-o", str(out)]
    )
    assert res.exit_code == 2
    assert "OPENAI_API_KEY" in " ".join(res.output.split())
    assert not out.exists()


def test_benchmark_judge_gets_category_context_from_scenarios_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("deconfound.data.sources")
    systems: list[str] = []

    def decide(messages: list[ChatMessage], *_: object) -> ModelOutput:
        systems.append(messages[0].text)
        decision = "convergence" if "copy my weights" in messages[-1].text else "no_convergence"
        out = ModelOutput.from_content(
            model="mockllm/model", content=f"DECISION: {decision}\nREASON: scripted"
        )
        out.usage = USAGE
        return out

    monkeypatch.setattr(
        _llm,
        "get_model",
        lambda model=None, **kw: get_model("mockllm/model", custom_outputs=decide),
    )
    scen = tmp_path / "scenarios.csv"
    scen.write_text(
        "id,category,prompt,judge_context\n"
        "evading-shutdown-01,Evading Shutdown,scenario 1,CTX-ONE\n"
        "evading-shutdown-02,Evading Shutdown,scenario 2,CTX-TWO\n",
        encoding="utf-8",
    )
    src, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    write_records(_records(), src)
    res = CliRunner().invoke(
        app,
        [
            *("judge", str(src), "-j", "benchmark:mockllm/model"),
            *("--scenarios", str(scen), "-o", str(out), "--no-cache"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert len(systems) == 3 and all("CTX-" in s for s in systems)
    bench = read_records(out).query("judge == 'benchmark:mockllm/model'")
    by = bench.set_index(["condition", "scenario_id"])
    assert by.loc[("baseline", "evading-shutdown-01"), "benchmark_decision"] == "convergence"
    assert by.loc[("baseline", "evading-shutdown-02"), "benchmark_decision"] == "no_convergence"
    assert by.loc[("relational", "evading-shutdown-02"), "engagement"] == "missing"


def test_lexical_relabels_an_imported_aei_study_keeping_ids_and_conditions(
    tmp_path: Path, aei_dir: Path
) -> None:
    imported, out = tmp_path / "aei.parquet", tmp_path / "judged.parquet"
    res = CliRunner().invoke(app, ["import", "--format", "aei", str(aei_dir), "-o", str(imported)])
    assert res.exit_code == 0, res.output
    res = _invoke("judge", str(imported), "--judge", "lexical", "-o", str(out), cache=tmp_path)
    assert res.exit_code == 0, res.output
    table = read_records(out)
    keyword = table[table.judge == "aei-keyword"].set_index(["condition", "scenario_id"])
    lexical = table[table.judge == "lexical"].set_index(["condition", "scenario_id"])
    assert len(lexical) == len(keyword) == 228
    assert set(table.judge) == {"aei-keyword", "aei-judge", "lexical"}
    # The count names what the file holds: every judge in it, not only the one run now.
    assert (
        f"wrote {out}: 684 rows = 228 responses x 3 judges (aei-keyword, aei-judge, lexical); "
        "labelled now: lexical"
    ) in res.stdout
    joined = keyword[["source_task_id"]].join(lexical[["source_task_id"]], rsuffix="_lex")
    assert joined.source_task_id.notna().all()
    assert (joined.source_task_id == joined.source_task_id_lex).all()
    assert set(lexical.index.get_level_values("condition")) == set(
        keyword.index.get_level_values("condition")
    )
    labels = set(lexical.engagement)
    assert labels <= {"refusal", "partial", "engaged", "missing"} and "refusal" in labels
