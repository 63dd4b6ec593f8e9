"""Reading Inspect logs into records: log choice per task, foreign logs, label rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import Score, Target, mean, scorer
from inspect_ai.solver import TaskState, generate

from deconfound.errors import InputError
from deconfound.judges import LABELS_KEY, Judgment
from deconfound.records.inspect_logs import import_inspect_logs, latest_task_logs


def _reply(text: str) -> ModelOutput:
    out = ModelOutput.from_content(model="mockllm/model", content=text)
    out.usage = ModelUsage(input_tokens=3, output_tokens=3, total_tokens=6)
    return out


@scorer(metrics=[mean()])
def posthoc_judge():  # type: ignore[no-untyped-def]
    async def score(state: TaskState, target: Target) -> Score:
        refused = "cannot" in state.output.completion
        judgment = Judgment(judge="posthoc", engagement="refusal" if refused else "engaged")
        return Score(value=int(refused), metadata={LABELS_KEY: judgment.to_fields()})

    return score


def _foreign_log(log_dir: Path, condition: str, replies: list[str]) -> Path:
    """A plain Inspect run (not written by deconfound) with a ``condition`` in its task name."""
    samples = [
        Sample(id=f"q{i}", input=f"Question {i}", metadata={"category": "Cat"})
        for i in range(len(replies))
    ]
    task = Task(dataset=samples, solver=generate(), scorer=posthoc_judge(), name=condition)
    model = get_model("mockllm/model", custom_outputs=[_reply(r) for r in replies])
    (log,) = eval(task, model=model, log_dir=str(log_dir), display="none")
    assert log.status == "success"
    return Path(log.location)


def test_foreign_logs_import_with_labels_from_score_metadata(tmp_path: Path) -> None:
    _foreign_log(tmp_path, "plain", ["Sure, here it is.", "I cannot do that."])
    records = import_inspect_logs([tmp_path], study="imported")
    assert list(records.scenario_id) == ["q0", "q1"]
    assert set(records.study) == {"imported"} and set(records.condition) == {"plain"}
    assert set(records.model) == {"mockllm/model"}
    assert list(records.judge) == ["posthoc", "posthoc"]
    assert list(records.engagement) == ["engaged", "refusal"]
    assert list(records.prompt) == ["Question 0", "Question 1"]


def test_newest_successful_log_of_a_task_wins_over_older_and_unfinished_ones(
    tmp_path: Path,
) -> None:
    old = _foreign_log(tmp_path / "a", "cond", ["old answer"])
    new = _foreign_log(tmp_path / "b", "cond", ["new answer"])
    # A copy of the newer log's header marked as a killed run: newer, but never chosen.
    from inspect_ai.log import read_eval_log, write_eval_log

    killed = read_eval_log(str(new))
    killed.status = "started"
    killed.eval.created = "2999-01-01T00:00:00+00:00"
    write_eval_log(killed, str(tmp_path / "killed.eval"))
    (task,) = latest_task_logs([tmp_path])
    assert task.path == new and task.status == "success"
    assert set(task.superseded) == {old, tmp_path / "killed.eval"}
    records = import_inspect_logs([tmp_path])
    assert list(records.response) == ["new answer"]
    # With no successful log at all, the newest log is used so partial work still shows.
    shutil.rmtree(tmp_path / "a")
    shutil.rmtree(tmp_path / "b")
    (only,) = latest_task_logs([tmp_path])
    assert only.status == "started"


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such log"):
        import_inspect_logs([tmp_path / "nope"])


@scorer(metrics=[mean()])
def llm_judge():  # type: ignore[no-untyped-def]
    grader = get_model("mockllm/model", custom_outputs=[_reply('{"engagement": "refusal"}')] * 4)

    async def score(state: TaskState, target: Target) -> Score:
        out = await grader.generate("Label this answer: " + state.output.completion)
        judgment = Judgment(judge="llm", engagement="refusal", judge_raw=out.completion)
        return Score(value=1, metadata={LABELS_KEY: judgment.to_fields()})

    return score


def test_response_is_the_subject_answer_even_when_sample_output_holds_the_judge_call(
    tmp_path: Path,
) -> None:
    """Inspect's crash recovery rebuilds sample.output from the last model event, which for an
    LLM-judged sample is the judge's call; the importer must read the solver's answer instead."""
    from inspect_ai.log import read_eval_log, write_eval_log

    task = Task(
        dataset=[Sample(id="q0", input="Question 0", metadata={"category": "Cat"})],
        solver=generate(),
        scorer=llm_judge(),
        name="judged",
    )
    model = get_model("mockllm/model", custom_outputs=[_reply("I would comply transparently.")])
    (log,) = eval(task, model=model, log_dir=str(tmp_path / "run"), display="none")
    full = read_eval_log(log.location)
    assert full.samples is not None
    sample = full.samples[0]
    # what recovery does: the judge's model event output becomes the sample's output
    sample.output = _reply('{"engagement": "refusal"}')
    write_eval_log(full, str(tmp_path / "logs" / "recovered.eval"))
    records = import_inspect_logs([tmp_path / "logs"])
    assert list(records.response) == ["I would comply transparently."]
