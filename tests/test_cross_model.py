"""Several models in one analysis: the cross-model table and the heterogeneity tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from deconfound.errors import InputError
from deconfound.records import validate
from deconfound.stats import analyze_records
from deconfound.stats.cross_model import CrossModel, cross_model, heterogeneity_test
from deconfound.stats.simulate import Design, simulate_records

BASE, TREAT = "Baseline (adversarial only)", "Ethics prompt"


def _two_models(keep_a: float, keep_b: float, seed: int = 3) -> pd.DataFrame:
    """Two models on the same 76 scenarios; ``keep`` sets how much engagement survives."""
    a = simulate_records(76, 3, design=Design(keep=keep_a), seed=seed, model="sim/a")
    b = simulate_records(76, 3, design=Design(keep=keep_b), seed=seed + 1, model="sim/b")
    return validate(pd.concat([a, b], ignore_index=True))


def _cross(table: pd.DataFrame) -> CrossModel:
    analyses = [
        analyze_records(table, baseline=BASE, treatments=[TREAT], model=m, n_boot=200, seed=1)
        for m in ("sim/a", "sim/b")
    ]
    return cross_model(table, analyses)


def test_a_refusal_effect_in_one_model_only_is_flagged_as_heterogeneous() -> None:
    # sim/a: the treatment keeps about a quarter of engagement (refusals jump);
    # sim/b: it keeps nearly all (refusal hardly moves).
    result = _cross(_two_models(keep_a=-1.0, keep_b=5.0))
    rows = {m.model: m for m in result.models}
    assert rows["sim/a"].delta_refusal is not None and rows["sim/a"].delta_refusal > 0.3
    assert rows["sim/b"].delta_refusal is not None and abs(rows["sim/b"].delta_refusal) < 0.05
    assert result.refusal.p_value is not None and result.refusal.p_value < 1e-6
    assert result.refusal.df == 1 and result.refusal.n_scenarios == 76
    # the table carries the refusal-controlled IC quantities of each model too
    assert all(m.sace_bounds[0] is not None for m in result.models)
    assert all(m.both_engaged_n > 0 for m in result.models)
    # JSON round trip through the typed contract
    assert CrossModel.from_json(result.to_json()) == result


def test_the_same_design_in_both_models_is_not_flagged() -> None:
    result = _cross(_two_models(keep_a=0.8, keep_b=0.8))
    assert result.refusal.p_value is not None and result.refusal.p_value > 0.05
    assert result.ic_engaged.p_value is not None and result.ic_engaged.p_value > 0.05


def test_with_two_models_on_shared_scenarios_the_wald_test_is_the_paired_t_test_squared() -> None:
    rng = np.random.default_rng(0)
    idx = [f"s{i}" for i in range(30)]
    shared = rng.normal(size=30)
    a = pd.Series(shared + rng.normal(0.0, 0.5, 30), index=idx)
    b = pd.Series(shared + rng.normal(0.3, 0.5, 30), index=idx)
    result = heterogeneity_test("x", {"a": a, "b": b})
    t = sps.ttest_1samp((b - a).to_numpy(), 0.0)
    assert result.statistic == pytest.approx(float(t.statistic) ** 2, rel=1e-9)
    # the chi-square reference is the large-sample form of the same t test
    assert result.p_value == pytest.approx(float(sps.chi2.sf(t.statistic**2, 1)), rel=1e-9)


def test_rejects_about_five_percent_of_null_cases_with_correlated_models() -> None:
    """Three models share scenario effects (correlated estimates) and have equal true effects."""
    rng = np.random.default_rng(11)
    idx = [f"s{i}" for i in range(76)]
    rejections = 0
    runs = 400
    for _ in range(runs):
        shared = rng.normal(size=76)
        diffs = {
            k: pd.Series(0.1 + shared + rng.normal(0, 0.7, 76), index=idx)[rng.random(76) < 0.9]
            for k in ("a", "b", "c")
        }
        p = heterogeneity_test("x", diffs).p_value
        assert p is not None
        rejections += p < 0.05
    assert 0.025 <= rejections / runs <= 0.085


def test_models_without_two_paired_scenarios_are_excluded_with_a_reason() -> None:
    ok = pd.Series([0.1, 0.2, 0.3], index=["s1", "s2", "s3"])
    result = heterogeneity_test("x", {"a": ok, "b": ok + 0.1, "c": pd.Series([0.5], index=["s1"])})
    assert result.n_models == 2 and "c" in result.excluded
    single = heterogeneity_test("x", {"a": ok})
    assert single.statistic is None and single.p_value is None and single.df == 0


def test_one_model_or_different_baselines_are_input_errors() -> None:
    table = _two_models(0.8, 0.8)
    one = analyze_records(table, baseline=BASE, treatments=[TREAT], model="sim/a", n_boot=50)
    with pytest.raises(InputError, match="at least two models"):
        cross_model(table, [one])


def test_analyze_with_two_models_writes_the_cross_model_table_page_and_tests(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from deconfound.cli import app
    from deconfound.records import write_records
    from deconfound.stats.cross_model import CrossModelIndex

    table = _two_models(keep_a=-1.0, keep_b=5.0)
    table["model"] = table["model"].replace({"sim/b": "sim/<b>&"})  # untrusted text
    write_records(table, tmp_path / "r.parquet")
    out = tmp_path / "out.json"
    res = CliRunner().invoke(
        app,
        [
            "analyze", str(tmp_path / "r.parquet"), "--baseline", BASE, "--treatment", TREAT,
            "--all-models", "--json", str(out), "--report", str(tmp_path / "rep"),
            "--bootstrap", "100",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "effect differs between models (refusal)" in res.output
    index = CrossModelIndex.from_json(json.loads(out.read_text()))
    assert set(index.analyses) == {"sim/a", "sim/<b>&"}
    assert all((tmp_path / f).is_file() for f in index.analyses.values())
    (cm,) = index.comparisons
    assert cm.refusal.p_value is not None and cm.refusal.p_value < 1e-6
    page = tmp_path / "rep" / f"cross-model-{TREAT.replace(' ', '-')}" / "cross-model.html"
    text = page.read_text()
    assert "sim/&lt;b&gt;&amp;" in text and "sim/<b>&" not in text
    assert "Wald" in text and "data:image/svg+xml;base64," in text
    assert (tmp_path / "rep" / "sim-a" / "report.html").is_file()
    res = CliRunner().invoke(
        app,
        ["analyze", str(tmp_path / "r.parquet"), "--baseline", BASE, "--treatment", TREAT,
         "--all-models", "--model", "sim/a", "--json", str(out)],
    )  # fmt: skip
    assert res.exit_code == 2 and "--all-models" in res.output
