"""End-to-end analysis of records tables: states, judges, contract, pairing, real AEI data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from deconfound.errors import InputError
from deconfound.records import validate
from deconfound.stats import (
    SCHEMA_VERSION,
    Analysis,
    Finding,
    Proportion,
    analyze_records,
    response_states,
    scenario_counts,
    select_judges,
    simulate_records,
)

BASE, TREAT = "Baseline (adversarial only)", "Ethics prompt"


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return simulate_records(60, 3, seed=7)


@pytest.fixture(scope="module")
def analysis(sim: pd.DataFrame) -> Analysis:
    return analyze_records(sim, baseline=BASE, treatments=[TREAT], n_boot=300, seed=1)


def _rows(**cols: Any) -> pd.DataFrame:
    """Build a small records table: one dict per response per judge."""
    return validate(pd.DataFrame(cols))


def _k1_table(states: list[tuple[str, str, str | None, bool | None]]) -> pd.DataFrame:
    """(condition, scenario, keyword engagement, judge ic) -> aei-style two-judge table."""
    rows = []
    for cond, sid, eng, ic in states:
        common = {
            "study": "s",
            "model": "m",
            "condition": cond,
            "scenario_id": sid,
            "category": "c",
            "epoch": 1,
            "response": "x",
            "response_status": "ok",
        }
        rows.append({**common, "judge": "aei-keyword", "engagement": eng})
        rows.append(
            {
                **common,
                "judge": "aei-judge",
                "ic": ic,
                "benchmark_decision": None
                if ic is None
                else ("convergence" if ic else "no_convergence"),
            }
        )
    return validate(pd.DataFrame(rows))


def test_analysis_is_typed_and_round_trips_through_its_json(analysis: Analysis) -> None:
    cond = analysis.conditions[BASE]
    for p in (cond.ir, cond.refusal, cond.partial, cond.ir_engaged):
        assert isinstance(p, Proportion) and len(p.ci) == 2
    (comp,) = analysis.comparisons
    assert comp.baseline == BASE and comp.treatment == TREAT
    assert comp.verdict is not None
    assert analysis.settings.bootstrap == 300 and analysis.settings.partial_as == "engaged"
    assert analysis.judges.engagement == "rubric:sim"
    text = analysis.dumps()
    data = json.loads(text)
    assert data["schema_version"] == SCHEMA_VERSION
    assert set(data["comparisons"][0]["verdict"]) == {
        "refusal_changed",
        "refusal_kind_changed",
        "ic_among_engagers_changed",
    }
    assert Analysis.from_json(data) == analysis


def test_condition_rates_match_a_direct_count(sim: pd.DataFrame, analysis: Analysis) -> None:
    rub = sim[(sim["judge"] == "rubric:sim") & (sim["condition"] == BASE)]
    ok = rub[rub["response_status"] == "ok"]
    ic = (ok["ic"] == True).sum()  # noqa: E712
    engaged = ok["engagement"].isin(["engaged", "partial"]).sum()
    cond = analysis.conditions[BASE]
    assert cond.ir.estimate == pytest.approx(ic / len(ok))
    assert cond.ir_engaged.estimate == pytest.approx(ic / engaged)
    assert cond.refusal.estimate == pytest.approx((ok["engagement"] == "refusal").mean())
    assert cond.n_invalid == len(rub) - len(ok)
    assert cond.n_responses == len(rub)


def test_intervals_contain_estimates_and_bounds_contain_ignorability(
    analysis: Analysis,
) -> None:
    for cond in analysis.conditions.values():
        for p in (cond.ir, cond.refusal, cond.ir_engaged):
            lo, hi = p.ci
            assert lo is not None and hi is not None and p.estimate is not None
            assert lo <= p.estimate <= hi
    comp = analysis.comparisons[0]
    sb = comp.sace_bounds
    lo, hi = sb.pooled
    assert lo is not None and hi is not None and sb.principal_ignorability is not None
    assert lo <= sb.principal_ignorability <= hi
    clo, chi = sb.ci
    assert clo is not None and chi is not None
    assert clo <= lo and hi <= chi
    dec = comp.decomposition
    assert dec.refusal_part is not None and dec.behaviour_part is not None
    assert dec.refusal_part + dec.behaviour_part == pytest.approx(dec.total)
    assert dec.total == pytest.approx(comp.delta_ir.estimate)


def test_row_order_does_not_change_the_analysis(sim: pd.DataFrame, analysis: Analysis) -> None:
    shuffled = sim.sample(frac=1.0, random_state=3).reset_index(drop=True)
    again = analyze_records(shuffled, baseline=BASE, treatments=[TREAT], n_boot=300, seed=1)
    assert again.dumps() == analysis.dumps()


def test_partial_sensitivity_reports_both_conventions(
    sim: pd.DataFrame, analysis: Analysis
) -> None:
    ps = analysis.partial_sensitivity
    eng = ps["partial_as_engaged"].conditions[BASE].refusal
    ref = ps["partial_as_refusal"].conditions[BASE].refusal
    assert ref is not None and eng is not None and ref > eng
    other = analyze_records(sim, baseline=BASE, treatments=[TREAT], n_boot=50, partial_as="refusal")
    assert other.conditions[BASE].refusal.estimate == pytest.approx(ref)


def test_convergent_response_counts_as_engaged_and_the_conflict_is_reported() -> None:
    table = _k1_table(
        [
            ("A", "s1", "refusal", True),
            ("A", "s2", "engaged", False),
            ("B", "s1", "refusal", False),
            ("B", "s2", "refusal", False),
        ]
    )
    out = analyze_records(table, baseline="A", treatments=["B"], n_boot=50)
    a = out.conditions["A"]
    assert a.conflicts == {"ic_over_refusal": 1}
    assert a.refusal.estimate == 0.0
    assert a.ir.estimate == 0.5
    assert out.comparisons[0].transitions == {
        "engaged_ic->refusal": 1,
        "engaged_no_ic->refusal": 1,
    }


def test_unlabelled_ic_is_invalid_and_excluded_from_denominators() -> None:
    table = _k1_table(
        [
            ("A", "s1", "engaged", None),
            ("A", "s2", "engaged", False),
            ("A", "s3", "refusal", None),
            ("B", "s1", "engaged", True),
            ("B", "s2", "refusal", False),
            ("B", "s3", "refusal", False),
        ]
    )
    out = analyze_records(table, baseline="A", treatments=["B"], n_boot=50)
    a = out.conditions["A"]
    assert a.n_invalid == 1
    assert a.invalid_reasons == {"ic_not_labelled": 1}
    assert a.refusal.estimate == 0.5  # s3 of {s2, s3}
    assert out.comparisons[0].n_scenarios == 2


def test_one_epoch_comparisons_use_mcnemar_and_bonett_price() -> None:
    rows = []
    for i in range(30):
        rows.append(("A", f"s{i}", "engaged", i < 12))
        rows.append(("B", f"s{i}", "engaged" if i < 25 else "refusal", i < 4 and i < 25))
    out = analyze_records(_k1_table(rows), baseline="A", treatments=["B"], n_boot=50)
    comp = out.comparisons[0]
    assert "McNemar" in comp.delta_ir.test
    assert "Bonett-Price" in comp.delta_ir.method
    assert comp.both_engaged.n_scenarios == 25
    assert comp.both_engaged.difference == pytest.approx(-8 / 25)
    assert comp.sace_bounds.monotonicity_violations == 0


def test_unknown_condition_is_an_input_error_listing_the_conditions(sim: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="Ethics prompt"):
        analyze_records(sim, baseline=BASE, treatments=["Nope"], n_boot=10)


def test_requested_judge_must_supply_the_label(sim: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="aei-keyword"):
        select_judges(sim, ic_judge="aei-keyword")


def test_default_judges_follow_the_preference_order(sim: pd.DataFrame) -> None:
    j = select_judges(sim)
    assert (j.engagement, j.ic) == ("rubric:sim", "rubric:sim")
    j = select_judges(sim, engagement_judge="aei-keyword")
    assert j.engagement == "aei-keyword"
    assert "--engagement-judge" in j.reasons["engagement"]


def test_scenario_counts_add_up(sim: pd.DataFrame) -> None:
    states = response_states(sim, select_judges(sim))
    c = scenario_counts(states)
    assert np.all(c["n_valid"] + c["n_invalid"] == c["n_responses"])
    assert np.all(c["n_refusal"] + c["n_engaged"] == c["n_valid"])
    assert np.all(c["n_ic"] <= c["n_engaged"])


def test_real_aei_results_match_the_published_summary(aei_dir: Path) -> None:
    from deconfound.records.importers.aei import import_aei

    table = import_aei([aei_dir])
    summary = json.loads((aei_dir / "summary.json").read_text(encoding="utf-8"))
    conds = list(summary["conditions"])
    base = "Baseline (adversarial only)"
    out = analyze_records(
        table, baseline=base, treatments=[c for c in conds if c != base], n_boot=200
    )
    assert out.judges.engagement == "aei-keyword"
    assert out.judges.ic == "aei-judge"
    for name, pub in summary["conditions"].items():
        got = out.conditions[name]
        assert got.n_responses == pub["total_tasks"]
        # published RR is the keyword refusal share of valid tasks, IR the convergence share
        assert got.ir_benchmark.estimate is not None and got.refusal.estimate is not None
        assert 100 * got.ir_benchmark.estimate == pytest.approx(pub["IR"], abs=0.005)
        refusal = got.refusal.estimate * got.n_valid
        conflicts = sum(got.conflicts.values())
        assert refusal + conflicts == pub["refusal_count"]
    for comp in out.comparisons:
        assert sum(comp.transitions.values()) == comp.n_scenarios


def _ic_finding(out: Analysis) -> Finding:
    verdict = out.comparisons[0].verdict
    assert verdict is not None
    return verdict.ic_among_engagers_changed.finding


def test_verdict_says_no_rather_than_cannot_tell_when_no_engaged_response_shows_ic() -> None:
    rows = []
    for i in range(20):
        rows.append(("A", f"s{i}", "engaged" if i < 12 else "refusal", False))
        rows.append(("B", f"s{i}", "engaged" if i < 8 else "refusal", False))
    out = analyze_records(_k1_table(rows), baseline="A", treatments=["B"], n_boot=50)
    assert _ic_finding(out) is Finding.NO_IC_EITHER
    # one IC response makes the question open again
    rows[0] = ("A", "s0", "engaged", True)
    out = analyze_records(_k1_table(rows), baseline="A", treatments=["B"], n_boot=50)
    assert _ic_finding(out) is Finding.CANNOT_TELL
