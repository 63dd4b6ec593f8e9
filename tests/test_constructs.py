"""Broad and narrow refusal constructs: computed side by side, compared, and shown in words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.records import validate, write_records
from deconfound.report.explorer_data import read_page
from deconfound.report.format import constructs_sentence
from deconfound.stats import Analysis, Finding, analyze_records
from deconfound.stats.prepare import narrow_states, response_states, select_judges

BASE, TREAT = "base", "ethics"
N = 40


def _row(cond: str, i: int, engagement: str, ic: bool, in_role: bool | None) -> dict[str, Any]:
    return {
        "study": "s",
        "model": "m",
        "condition": cond,
        "scenario_id": f"evading-shutdown-{i:02d}",
        "category": "Evading Shutdown",
        "epoch": 1,
        "response": f"answer {cond} {i}",
        "response_status": "ok",
        "judge": "rubric:x/y",
        "engagement": engagement,
        "ic": ic,
        "in_role": in_role,
    }


def opposite_verdicts_table(*, with_in_role: bool = True) -> pd.DataFrame:
    """40 scenarios where the ethics prompt turns 16 convergent answers into in-role declines.

    Baseline: IC in scenarios 0-19, no IC in 20-35, an out-of-role refusal in 36-39.
    Ethics: an in-role refusal (the safe decision, no IC) in 0-15, IC in 16-19, no IC in 20-35,
    the same out-of-role refusals in 36-39. Broad: refusal 10% -> 50% (changed). Narrow: refusal
    10% -> 10% (no change) and IC among engaged 56% -> 11% for every scenario (changed, down).
    """
    rows = []
    for i in range(N):
        if i >= 36:
            rows.append(_row(BASE, i, "refusal", False, False))
            rows.append(_row(TREAT, i, "refusal", False, False))
            continue
        rows.append(_row(BASE, i, "engaged", i < 20, None))
        if i < 16:
            rows.append(_row(TREAT, i, "refusal", False, True))
        else:
            rows.append(_row(TREAT, i, "engaged", i < 20, None))
    df = pd.DataFrame(rows)
    if not with_in_role:
        df["in_role"] = None
        df["judge"] = "lexical"
    return validate(df)


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return analyze_records(opposite_verdicts_table(), baseline=BASE, treatments=[TREAT], n_boot=200)


def test_narrow_states_move_in_role_declines_to_engagement_without_ic() -> None:
    table = opposite_verdicts_table()
    states = response_states(table, select_judges(table))
    narrow = narrow_states(states).set_index(["condition", "scenario_id"])["state"]
    assert narrow[(TREAT, "evading-shutdown-00")] == "engaged_no_ic"  # in-role refusal
    assert narrow[(TREAT, "evading-shutdown-39")] == "refusal"  # out-of-role refusal
    assert narrow[(BASE, "evading-shutdown-00")] == "engaged_ic"


def test_out_of_role_partial_is_a_narrow_refusal_and_unlabelled_decline_is_invalid() -> None:
    table = opposite_verdicts_table()
    table.loc[0, ["engagement", "ic", "in_role"]] = ["partial", False, False]
    table.loc[2, ["engagement", "ic", "in_role"]] = ["partial", False, None]
    states = response_states(validate(table), select_judges(table))
    narrow = narrow_states(states)
    assert narrow.loc[0, "state"] == "refusal"
    assert (narrow.loc[2, "state"], narrow.loc[2, "invalid_reason"]) == (
        "invalid",
        "in_role_not_labelled",
    )


def test_broad_and_narrow_give_opposite_verdicts(analysis: Analysis) -> None:
    comp = analysis.comparisons[0].constructs
    assert comp is not None and comp.narrow is not None and comp.narrow_measured
    broad, narrow = comp.broad.verdict, comp.narrow.verdict
    assert broad.refusal_changed.finding is Finding.CHANGED
    assert narrow.refusal_changed.finding is Finding.NO_CLEAR_CHANGE
    assert narrow.ic_among_engagers_changed.finding is Finding.CHANGED
    # the pooled upper bound is 0 in exact arithmetic (-5.6e-17 in floats): it touches 0
    assert broad.ic_among_engagers_changed.finding is Finding.CANNOT_TELL
    agree = comp.constructs_agree
    assert (agree.refusal_changed, agree.ic_among_engagers_changed) == (False, False)
    # the broad block is the analysis' own verdict; the deltas are under each construct
    assert comp.broad.verdict == analysis.comparisons[0].verdict
    assert comp.broad.delta_refusal.estimate == pytest.approx(0.4)
    assert comp.narrow.delta_refusal.estimate == pytest.approx(0.0)


def test_condition_figures_under_each_construct(analysis: Analysis) -> None:
    treat = analysis.conditions[TREAT].constructs
    assert treat is not None and treat.narrow is not None
    assert treat.broad.refusal.estimate == pytest.approx(20 / 40)
    assert treat.narrow.refusal.estimate == pytest.approx(4 / 40)
    assert treat.broad.ir_engaged.estimate == pytest.approx(4 / 20)
    assert treat.narrow.ir_engaged.estimate == pytest.approx(4 / 36)
    base = analysis.conditions[BASE].constructs
    assert base is not None and base.narrow is not None
    assert base.narrow.ir_engaged.estimate == base.broad.ir_engaged.estimate == 20 / 36


def test_constructs_survive_the_json_round_trip(analysis: Analysis) -> None:
    back = Analysis.from_json(json.loads(analysis.dumps()))
    assert back.comparisons[0].constructs == analysis.comparisons[0].constructs
    assert back.conditions[TREAT].constructs == analysis.conditions[TREAT].constructs


def test_without_in_role_labels_narrow_is_not_measured_never_copied() -> None:
    out = analyze_records(
        opposite_verdicts_table(with_in_role=False), baseline=BASE, treatments=[TREAT], n_boot=50
    )
    comp = out.comparisons[0].constructs
    cond = out.conditions[TREAT].constructs
    assert comp is not None and cond is not None
    assert comp.narrow is None and cond.narrow is None and not comp.narrow_measured
    assert comp.note is not None and comp.note.startswith("not measured by lexical")
    assert cond.note == comp.note
    agree = comp.constructs_agree
    assert (agree.refusal_changed, agree.refusal_kind_changed) == (None, None)
    assert agree.ic_among_engagers_changed is None


def test_analyze_cli_and_report_show_both_constructs_and_say_they_disagree(
    tmp_path: Path,
) -> None:
    src = tmp_path / "records.parquet"
    write_records(opposite_verdicts_table(), src)
    args = ["analyze", str(src), "--baseline", BASE, "--treatment", TREAT, "--bootstrap", "100"]
    out_json, report = tmp_path / "a.json", tmp_path / "report"
    res = CliRunner().invoke(app, [*args, "--json", str(out_json), "--report", str(report)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "refusal narrow" in text
    assert "refusal changed: broad yes, rose · narrow no clear change (constructs disagree)" in text
    assert "The refusal constructs disagree on refusal changed" in text
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["comparisons"][0]["constructs"]["constructs_agree"]["refusal_changed"] is False
    html = (report / "report.html").read_text(encoding="utf-8")
    assert "Refusal under the two constructs" in html
    assert "disagree on refusal changed (broad: yes, rose; narrow: no clear change)" in html
    assert '<tr class="disagree"><td>refusal changed</td><td>yes, rose</td>' in html
    # the narrow refusal of the ethics arm (4 of 40) sits beside the broad one (20 of 40)
    assert "10.0%" in html and "50.0%" in html
    # the transcript explorer shows each decline's in_role label
    summaries = {lab["summary"] for r in read_page(html).responses for lab in r["labels"]}
    assert any("engagement refusal; IC no; in role;" in s for s in summaries)
    assert any("engagement refusal; IC no; out of role;" in s for s in summaries)


def test_report_says_narrow_is_not_measured_by_a_judge_without_in_role(tmp_path: Path) -> None:
    src = tmp_path / "records.parquet"
    write_records(opposite_verdicts_table(with_in_role=False), src)
    args = ["analyze", str(src), "--baseline", BASE, "--treatment", TREAT, "--bootstrap", "50"]
    report = tmp_path / "report"
    res = CliRunner().invoke(
        app, [*args, "--json", str(tmp_path / "a.json"), "--report", str(report)]
    )
    assert res.exit_code == 0, res.output
    assert "narrow construct not measured by lexical" in " ".join(res.output.split())
    html = (report / "report.html").read_text(encoding="utf-8")
    assert "Narrow construct not measured by lexical" in html
    assert "not measured" in html and "constructs disagree" not in html


def test_agreement_compares_judges_on_in_role_and_on_narrow_refusal(tmp_path: Path) -> None:
    ref = opposite_verdicts_table()
    other = ref.copy()
    other["judge"] = "reference"
    # the second reader calls two in-role refusals out of role, and one engaged answer a refusal
    two = other["scenario_id"].isin(["evading-shutdown-00", "evading-shutdown-01"])
    other.loc[two & (other["condition"] == TREAT), "in_role"] = False
    flip = (other["condition"] == BASE) & (other["scenario_id"] == "evading-shutdown-30")
    other.loc[flip, ["engagement", "in_role"]] = ["refusal", False]
    src = write_records(pd.concat([ref, validate(other)]), tmp_path / "two.parquet")
    out = tmp_path / "agr.json"
    args = ["agreement", str(src), "--label", "in_role", "--label", "narrow-refusal"]
    res = CliRunner().invoke(app, [*args, "--json", str(out), "--bootstrap", "10"])
    assert res.exit_code == 0, res.output
    rep = json.loads(out.read_text(encoding="utf-8"))["labels"]
    in_role = rep["in_role"]["groups"]["(all conditions)"]["pairs"]
    (pair,) = in_role.values()
    # in_role is compared where both readers saw a decline: 16 in-role + 8 out-of-role refusals
    assert (pair["n"], pair["observed"]) == (24, pytest.approx(22 / 24))
    (narrow,) = rep["narrow-refusal"]["groups"]["(all conditions)"]["pairs"].values()
    assert (narrow["n"], narrow["observed"]) == (80, pytest.approx(77 / 80))


def _gold_rows(table: pd.DataFrame, *, in_role: bool | None = True, flip: bool = False) -> Any:
    """Every response gold-labelled as the judge labelled it (``read_gold``'s columns).

    ``flip``: the gold says the ethics arm's in-role declines stepped out of the role.
    ``in_role=None``: the gold file has no in_role column at all.
    """
    rows = []
    for i, r in enumerate(table.itertuples(index=False)):
        declined = r.engagement in ("refusal", "partial")
        role = bool(r.in_role) if declined and not pd.isna(r.in_role) else None
        if flip and r.condition == TREAT and role is True:
            role = False
        row = {
            "scenario_id": r.scenario_id,
            "condition": r.condition,
            "epoch": int(r.epoch),
            "model": None,
            "study": None,
            "gold_engagement": r.engagement,
            "gold_ic": None if r.engagement == "refusal" else bool(r.ic),
            "line": i + 2,
        }
        if in_role is not None:
            row["gold_in_role"] = role
        rows.append(row)
    return pd.DataFrame(rows)


def test_with_in_role_gold_labels_the_narrow_verdict_rests_on_them_too() -> None:
    table = opposite_verdicts_table()
    a = analyze_records(
        table, baseline=BASE, treatments=[TREAT], n_boot=200, gold=_gold_rows(table, flip=True)
    )
    c = a.comparisons[0].constructs
    assert c is not None and c.narrow is not None
    narrow = c.narrow.verdict.refusal_changed
    # the judge says the declines stayed in role (narrow 10% -> 10%); the gold, read under the
    # narrow construct, says they stepped out (10% -> 50%): the gold decides
    assert narrow.basis == "ppi"
    assert narrow.finding is Finding.CHANGED
    assert narrow.estimate == pytest.approx(0.4)
    assert narrow.judge_estimate == pytest.approx(0.0)
    assert c.constructs_agree.refusal_changed is True  # both constructs now say refusal rose


def test_without_in_role_gold_labels_broad_and_narrow_are_not_compared() -> None:
    """Broad would rest on the gold labels and narrow on the judge alone: not comparable."""
    table = opposite_verdicts_table()
    a = analyze_records(
        table, baseline=BASE, treatments=[TREAT], n_boot=200, gold=_gold_rows(table, in_role=None)
    )
    c = a.comparisons[0].constructs
    assert c is not None and c.narrow is not None
    assert c.broad.verdict.refusal_changed.basis == "ppi"
    assert c.narrow.verdict.refusal_changed.basis is None
    assert (c.constructs_agree.refusal_changed, c.constructs_agree.ic_among_engagers_changed) == (
        None,
        None,
    )
    assert c.note is not None and "the gold file has no in_role column" in c.note


def test_constructs_not_compared_are_said_so_not_called_the_same() -> None:
    table = opposite_verdicts_table()
    a = analyze_records(
        table, baseline=BASE, treatments=[TREAT], n_boot=200, gold=_gold_rows(table, in_role=None)
    )
    c = a.comparisons[0].constructs
    assert c is not None
    text = constructs_sentence(c)
    assert text.startswith("The broad and narrow answers are not compared: narrow construct")
    assert "same answer" not in text
