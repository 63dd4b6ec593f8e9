"""Judge spec strings resolve to the right judge, and bad specs say what is valid."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from inspect_ai.model import get_model

from deconfound.errors import InputError
from deconfound.judges import Judge, JudgeInput, Judgment, registry, resolve_judge


@pytest.mark.parametrize(
    ("spec", "expected_id"),
    [
        ("rubric:anthropic/claude-sonnet-4-5", "rubric:anthropic/claude-sonnet-4-5"),
        ("benchmark:openai/gpt-4o", "benchmark:openai/gpt-4o"),
        ("rubric", "rubric@grader"),
        ("benchmark", "benchmark@grader"),
        ("rubric@grader2", "rubric@grader2"),
        ("  rubric:mockllm/model ", "rubric:mockllm/model"),
    ],
)
def test_llm_specs_resolve_without_touching_the_model(spec: str, expected_id: str) -> None:
    judge = resolve_judge(spec)
    assert isinstance(judge, Judge)
    assert judge.id == expected_id
    # the prompt hash; a rubric judge's is tagged with the codebook its labels follow
    form = r"[0-9a-f]{12}\+codebook-1" if expected_id.startswith("rubric") else r"[0-9a-f]{12}"
    assert re.fullmatch(form, judge.version)


def test_rubric_and_benchmark_have_different_versions() -> None:
    assert resolve_judge("rubric").version != resolve_judge("benchmark").version


def test_model_object_is_used_as_given() -> None:
    model = get_model("mockllm/model")
    judge = resolve_judge("rubric", model=model)
    assert judge.id == "rubric:mockllm/model"


@pytest.mark.parametrize(
    "spec",
    ["rubrik:openai/gpt-4o", "rubric:gpt-4o", "rubric@", "rubric@bad role", "benchmark-x", ""],
)
def test_unknown_spec_lists_valid_forms(spec: str) -> None:
    with pytest.raises(InputError) as err:
        resolve_judge(spec)
    msg = str(err.value)
    assert "rubric:<provider/model>" in msg
    assert "lexical" in msg and "offline" in msg


def test_model_object_with_non_llm_spec_is_refused() -> None:
    with pytest.raises(InputError, match="only applies"):
        resolve_judge("lexical", model=get_model("mockllm/model"))


@dataclass
class _FixedJudge:
    arg: str | None
    id: str = "fixed"
    version: str = "1"

    async def judge(self, item: JudgeInput) -> Judgment:
        return Judgment(judge=self.id, judge_version=self.version, engagement=self.arg)


def _fake_entry_points(factory: Any) -> Any:
    ep = SimpleNamespace(name="fixed", value="pkg.mod:factory", load=lambda: factory)

    def eps(group: str) -> list[Any]:
        return [ep] if group == registry.ENTRY_POINT_GROUP else []

    return eps


def test_entry_point_judge_gets_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "entry_points", _fake_entry_points(_FixedJudge))
    judge = resolve_judge("fixed:engaged")
    assert isinstance(judge, _FixedJudge) and judge.arg == "engaged"
    assert resolve_judge("fixed").arg is None  # type: ignore[attr-defined]


def test_entry_point_returning_a_non_judge_is_an_input_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "entry_points", _fake_entry_points(lambda arg: object()))
    with pytest.raises(InputError, match="did not return a Judge"):
        resolve_judge("fixed")


def test_missing_optional_module_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    real = importlib.import_module

    def fake(name: str, *a: Any) -> Any:
        if name == "deconfound.judges.offline":
            err = ImportError("No module named 'sentence_transformers'")
            err.name = "sentence_transformers"
            raise err
        return real(name, *a)

    monkeypatch.setattr(registry.importlib, "import_module", fake)
    with pytest.raises(InputError, match=r"deconfound\[offline\]"):
        resolve_judge("offline")


def test_a_missing_extra_is_an_input_error_but_a_missing_own_module_is_not_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    def fail(missing: str) -> Any:
        def import_module(name: str) -> Any:
            raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)

        return import_module

    monkeypatch.setattr(importlib, "import_module", fail("onnxruntime"))
    with pytest.raises(InputError, match="needs the package onnxruntime"):
        registry.resolve_judge("offline")
    monkeypatch.setattr(importlib, "import_module", fail("deconfound.judges.offline"))
    with pytest.raises(ModuleNotFoundError):
        registry.resolve_judge("offline")
