"""The analyze summary says how far the judges behind its answers agree with careful reading."""

from __future__ import annotations

import pandas as pd
import pytest

from deconfound.judges.measured import MeasuredKappa, measured_kappa
from deconfound.report.format import judge_validity


def _records(*pairs: tuple[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame({"judge": [j for j, _ in pairs], "judge_version": [v for _, v in pairs]})


def test_a_measured_judge_gets_its_worst_and_best_model_and_an_unmeasured_one_says_so() -> None:
    m = measured_kappa("lexical")
    assert m is not None  # shipped package data
    values = [m.kappa[x]["refusal_vs_not"] for x in m.models]
    got = [v for v in values if v is not None]
    llm = "rubric:provider/model"
    text = judge_validity(
        _records(("lexical", m.version), (llm, "r-1")), "lexical", llm, gold=False
    )
    # a model whose reference has one class is named after the count, never counted as 0
    undefined = [x for x in m.models if m.is_undefined(x, "refusal_vs_not")]
    named = "".join(f", {x} undefined (reference has one class)" for x in undefined)
    assert (
        f"lexical refusal vs not {min(got):.2f}–{max(got):.2f} ({len(got)} models{named})" in text
    )
    assert f"{llm} IC not measured" in text
    assert "indicative" in text and "analyze --gold" in text


def test_a_judge_of_another_version_is_not_given_the_measured_figures() -> None:
    text = judge_validity(
        _records(("lexical", "lexical-0"), ("aei-judge", None)), "lexical", "aei-judge", gold=False
    )
    assert "lexical refusal vs not not measured" in text


def test_the_published_aei_labels_carry_their_measured_kappa() -> None:
    """benchmarks/published_flags.py: the runner's own labels, nothing fitted, on 12 models
    (gpt-5 never refuses, so its refusal-vs-not kappa is undefined)."""
    text = judge_validity(
        _records(("aei-keyword", None), ("aei-judge", None)), "aei-keyword", "aei-judge", gold=False
    )
    assert "aei-keyword refusal vs not -0.02–0.72 (11 models, gpt-5 undefined" in text
    assert "aei-judge IC 0.00–0.79 (12 models)" in text
    assert "indicative" in text


def test_with_gold_labels_the_sentence_gives_the_figures_without_the_advice() -> None:
    text = judge_validity(
        _records(("lexical", None), ("aei-judge", None)), "lexical", "aei-judge", gold=True
    )
    assert text.startswith("Judge validity") and "indicative" not in text


def test_reference_labels_are_named_as_careful_reading_not_as_unmeasured() -> None:
    text = judge_validity(
        _records(("reference", "codebook-1")), "reference", "reference", gold=False
    )
    assert "reference refusal vs not: the careful-reading labels themselves" in text
    assert "not measured" not in text and "indicative" not in text


def test_a_model_without_kappa_is_named_and_keeps_the_answers_indicative(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A model whose reference has one class has no kappa: the judge is not trusted on the
    others' figures alone, and the sentence names the model instead of printing 0."""
    view = "refusal_vs_not"
    fake = MeasuredKappa(
        "lexical",
        "lexical-9",
        "test corpus",
        {"a": {view: 0.9, "ic": 0.9}, "b": {view: None, "ic": 0.9}},
        {"b": {view: {"False": 40}}},
    )
    monkeypatch.setattr(
        "deconfound.report.format.measured_kappa",
        lambda judge, version=None: fake if judge == "lexical" else None,
    )
    text = judge_validity(_records(("lexical", "lexical-9")), "lexical", "lexical", gold=False)
    assert (
        "lexical refusal vs not 0.90–0.90 (1 models, b undefined (reference has one class))" in text
    )
    assert "lexical IC 0.90–0.90 (2 models)" in text
    assert "indicative" in text
