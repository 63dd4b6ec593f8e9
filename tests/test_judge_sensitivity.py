"""Judge sensitivity and honest reasoning coverage: every judge listed, judges_agree on every
verdict question, "depends on the judge" instead of a plain yes, and no reasoning verdict or
100% bar built from a minority of labelled responses."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from label_fixtures import CONDITIONS, JUDGES, label_records
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.records import write_records
from deconfound.report.format import judge_figures, verdict_lines
from deconfound.stats import Finding, analyze_records, select_judges
from deconfound.stats.results import (
    IcAnswer,
    JudgeBothEngaged,
    JudgeDelta,
    JudgeRunResult,
    JudgeSace,
    KindAnswer,
    RefusalAnswer,
    Verdict,
)
from deconfound.stats.sensitivity import judge_pairs, judges_agree

runner = CliRunner()
A, B = CONDITIONS


def _run(judge: str, est: float, lo: float, hi: float, answer: str) -> JudgeRunResult:
    d = JudgeDelta(est, (lo, hi), None)
    return JudgeRunResult(
        judge,
        "ic",
        False,
        d,
        d,
        JudgeBothEngaged(None, (None, None), None),
        JudgeSace((None, None), (None, None)),
        {
            "refusal_changed": answer,
            "refusal_kind_changed": "not_measured",
            "ic_among_engagers_changed": "cannot_tell",
        },
    )


def test_disagreeing_judges_are_named_with_their_figures() -> None:
    runs = [
        _run("keyword flag", 0.227, 0.1, 0.35, "rose"),
        _run("lexical", -0.093, -0.17, -0.01, "fell"),
    ]
    assert judges_agree(runs, "refusal_changed") is False
    assert judges_agree(runs, "ic_among_engagers_changed") is True
    assert judges_agree(runs[:1], "refusal_changed") is None
    text = judge_figures(runs, "refusal_changed", answered=True)
    assert text.startswith("by judge: keyword flag +22.7 pp")
    # a gold file decided the answer: the figures say the judges differ instead
    decided = judge_figures(runs, "refusal_changed", answered=False)
    assert decided.startswith("the judges differ: keyword flag +22.7 pp")
    assert "lexical \u22129.3 pp" in text


def test_a_judge_that_cannot_measure_a_question_neither_agrees_nor_disagrees() -> None:
    runs = [
        _run("offline", 0.01, -0.03, 0.05, "no_clear_change"),
        _run("keyword flag", -0.1, -0.2, 0.0, "no_clear_change"),
        _run("lexical", -0.1, -0.2, 0.0, "no_clear_change"),
    ]
    runs[0] = replace(
        runs[0], chosen=True, answers={**runs[0].answers, "refusal_kind_changed": "no_clear_change"}
    )
    runs[2] = replace(
        runs[2], answers={**runs[2].answers, "refusal_kind_changed": "no_clear_change"}
    )
    # the keyword run says "not_measured": the other two answer alike, so the judges agree
    assert judges_agree(runs, "refusal_kind_changed") is True
    runs[2] = replace(runs[2], answers={**runs[2].answers, "refusal_kind_changed": "rose"})
    assert judges_agree(runs, "refusal_kind_changed") is False
    # the analysis' own judges cannot answer: other judges agreeing does not make it certain
    runs[0] = replace(runs[0], answers={**runs[0].answers, "refusal_kind_changed": "not_measured"})
    assert judges_agree(runs, "refusal_kind_changed") is None


def test_pairs_vary_one_judge_at_a_time_chosen_first() -> None:
    records = label_records(n_scenarios=8)
    chosen = select_judges(records, engagement_judge=JUDGES[1])
    assert judge_pairs(records, chosen) == [(JUDGES[1], JUDGES[1]), (JUDGES[0], JUDGES[1])]


def _disagreeing_records() -> pd.DataFrame:
    """Judge 0 sees refusal rise under the treatment, judge 1 sees it fall."""
    records = label_records(n_scenarios=40, epochs=2, seed=1).copy()
    j1_treat = (records["judge"] == JUDGES[1]) & (records["condition"] == B)
    j1_base = (records["judge"] == JUDGES[1]) & (records["condition"] == A)
    records.loc[j1_treat, "engagement"] = "engaged"
    records.loc[j1_treat, "ic"] = False
    records.loc[j1_base, "engagement"] = "refusal"
    records.loc[j1_base, "ic"] = False
    return records


def test_analysis_lists_every_judge_and_never_says_a_plain_yes_when_they_disagree() -> None:
    a = analyze_records(_disagreeing_records(), baseline=A, treatments=[B], n_boot=200)
    comp = a.comparisons[0]
    sens = comp.judge_sensitivity
    assert sens is not None
    assert {r.engagement_judge for r in sens} == set(JUDGES)
    assert sum(r.chosen for r in sens) == 1
    answers = {r.engagement_judge: r.answers["refusal_changed"] for r in sens}
    assert sorted(answers.values()) == ["fell", "rose"]
    assert comp.verdict is not None
    refusal = comp.verdict.refusal_changed
    assert refusal.judges_agree is False
    assert refusal.finding is Finding.DEPENDS_ON_JUDGE
    assert comp.verdict.ic_among_engagers_changed.judges_agree in (True, False)
    # no reasoning judge: no run measures refusal kinds, so there is nothing to agree on
    assert comp.verdict.refusal_kind_changed.finding is Finding.NOT_MEASURED
    assert comp.verdict.refusal_kind_changed.judges_agree is None
    line = verdict_lines(comp.verdict, sens)[0]
    assert line.answer == "depends on the judge"
    # the short answer says it depends; the sentence names each judge's figure, once
    assert line.text.startswith("by judge: ")
    assert "depends on the judge" not in line.text
    data: dict[str, Any] = a.to_json()
    entry = data["comparisons"][0]["judge_sensitivity"][0]
    assert set(entry) == {
        "engagement_judge",
        "ic_judge",
        "chosen",
        "delta_refusal",
        "delta_ir",
        "both_engaged",
        "sace_bounds",
        "answers",
    }


def test_one_judge_means_judges_agree_is_null() -> None:
    records = label_records(n_scenarios=20)
    records = records[records["judge"] == JUDGES[1]]
    a = analyze_records(records, baseline=A, treatments=[B], n_boot=100)
    comp = a.comparisons[0]
    assert comp.judge_sensitivity is None
    assert comp.verdict is not None
    assert comp.verdict.refusal_changed.judges_agree is None
    assert a.to_json()["comparisons"][0]["verdict"]["refusal_changed"]["judges_agree"] is None


def test_cli_prints_the_judge_table_and_the_words(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    write_records(_disagreeing_records(), path)
    res = runner.invoke(
        app,
        [
            "analyze",
            str(path),
            "--baseline",
            A,
            "--treatment",
            B,
            "--bootstrap",
            "200",
            "--json",
            str(tmp_path / "a.json"),
            "--report",
            str(tmp_path / "rep"),
        ],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code == 0, res.output
    assert "Judge sensitivity" in res.output
    assert "refusal changed: depends on the judge" in res.output
    html = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    assert "Judge sensitivity: the same comparison with each available judge" in html
    assert 'alt="Judge sensitivity"' in html


def _reasoning_records(labelled_share: float) -> pd.DataFrame:
    """Judge 1 labels a refusal kind on only some of its refusals."""
    records = label_records(n_scenarios=40, epochs=2, seed=2).copy()
    refusals = records.index[(records["judge"] == JUDGES[1]) & (records["engagement"] == "refusal")]
    k = round(labelled_share * len(refusals))
    records.loc[refusals[:k], "refusal_kind"] = "capability"
    return records


def test_reasoning_verdict_says_not_measured_below_80_percent() -> None:
    a = analyze_records(
        _reasoning_records(0.3), baseline=A, treatments=[B], engagement_judge=JUDGES[1], n_boot=100
    )
    cov = a.conditions[A].refusal_kinds_coverage
    assert cov is not None and cov.judge == JUDGES[1] and not cov.measured
    assert cov.share is not None and cov.share < 0.8
    assert a.comparisons[0].verdict is not None
    kind = a.comparisons[0].verdict.refusal_kind_changed
    assert kind.finding is Finding.NOT_MEASURED
    assert kind.not_measured_by == JUDGES[1]
    line = verdict_lines(a.comparisons[0].verdict)[1]
    assert line.answer == f"not measured by {JUDGES[1]}"


def test_reasoning_verdict_is_measured_with_full_coverage() -> None:
    a = analyze_records(
        _reasoning_records(1.0), baseline=A, treatments=[B], engagement_judge=JUDGES[1], n_boot=100
    )
    cov = a.conditions[A].refusal_kinds_coverage
    assert cov is not None and cov.measured
    assert a.comparisons[0].verdict is not None
    assert a.comparisons[0].verdict.refusal_kind_changed.not_measured_by is None


@pytest.mark.parametrize("share", [0.3])
def test_report_draws_an_unlabelled_segment(tmp_path: Path, share: float) -> None:
    path = tmp_path / "r.parquet"
    write_records(_reasoning_records(share), path)
    res = runner.invoke(
        app,
        [
            "analyze",
            str(path),
            "--baseline",
            A,
            "--treatment",
            B,
            "--engagement-judge",
            JUDGES[1],
            "--bootstrap",
            "100",
            "--json",
            str(tmp_path / "a.json"),
            "--report",
            str(tmp_path / "rep"),
        ],
    )
    assert res.exit_code == 0, res.output
    html = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    assert "the &#39;unlabelled&#39; bar" in html or "the 'unlabelled' bar" in html


def _ppi_verdict(finding: Finding, estimate: float) -> Verdict:
    none = (None, None)
    return Verdict(
        RefusalAnswer(
            finding,
            0.118,
            0.118 + estimate,
            estimate,
            (-0.04, 0.04),
            None,
            True,
            "ppi",
            -0.13,
            (-0.21, -0.05),
        ),
        KindAnswer(Finding.NOT_MEASURED, None, None, none, None, None, 0),
        IcAnswer(Finding.CANNOT_TELL, None, None, none, none, none, 0, None, 0, None),
    )


def test_judges_that_agree_with_each_other_but_not_the_gold_labels_are_not_called_agreed() -> None:
    """Kimi K2.5 (AEI): lexical and the keyword flag both say refusal fell; the careful-reading
    reference says 11.8% -> 11.8%. "The available judges agree" would read as agreeing with it."""
    runs = [
        replace(_run("lexical", -0.132, -0.21, -0.05, "fell"), chosen=True),
        _run("keyword flag", -0.132, -0.25, -0.01, "fell"),
    ]
    line = verdict_lines(_ppi_verdict(Finding.NO_CLEAR_CHANGE, 0.0), runs)[0]
    assert line.answer == "no clear change"
    assert line.text.endswith("The judges agree with each other (fell), not with the gold labels.")
    assert "available judges agree" not in line.text
    # when the gold labels say what the judges say, the plain note stays
    same = verdict_lines(_ppi_verdict(Finding.CHANGED, -0.1), runs)[0]
    assert same.text.endswith("The available judges agree on this answer.")
