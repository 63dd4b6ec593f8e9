"""Prediction-powered estimates: agreement with ppi-python where the settings coincide (i.i.d.,
one group, equal weights), exact identities of the stratified form, and the behaviour that makes
them worth having (unbiased under condition-dependent judge error, narrower than gold alone)."""

from __future__ import annotations

import math

import numpy as np
import ppi_py
import pytest

from deconfound.stats import (
    JudgeRates,
    PPIArm,
    ppi_paired_difference,
    ppi_ratio,
    rogan_gladen_bootstrap,
    rogan_gladen_replicates,
)


def _iid(seed: int = 1, n_all: int = 20_000, n_gold: int = 300) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    y = rng.random(n_all) < 0.3
    f = np.where(rng.random(n_all) < 0.85, y, rng.random(n_all) < 0.5).astype(float)
    gold = np.zeros(n_all, dtype=bool)
    gold[rng.choice(n_all, n_gold, replace=False)] = True
    return y.astype(float), f, gold


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0])
def test_fixed_lambda_matches_ppi_python_on_iid_data(lam: float) -> None:
    # ppi-python treats its "unlabelled" predictions as independent of the gold items; passing
    # all predictions there gives our point estimate exactly and our SE up to O(n/N).
    y, f, gold = _iid()
    res = ppi_ratio(PPIArm(np.arange(len(y)), f, np.where(gold, y, np.nan)), lam=lam)
    point = float(np.squeeze(ppi_py.ppi_mean_pointestimate(y[gold], f[gold], f, lam=lam)))
    lo, hi = (float(v) for v in np.squeeze(ppi_py.ppi_mean_ci(y[gold], f[gold], f, 0.05, lam=lam)))
    assert res.estimate == pytest.approx(point, abs=1e-12)
    assert res.ci.high - res.ci.low == pytest.approx(hi - lo, rel=0.02)
    assert res.lam == (lam,)


def test_power_tuned_lambda_is_the_regression_coefficient_of_gold_on_judge() -> None:
    # PPI++'s optimal λ is Cov(Y, f)/Var(f) up to O(n/N) (ppi-python's (1 + n/N) factor is for
    # disjoint sets; ours are gold ⊂ all); the tuned estimate beats gold alone.
    y, f, gold = _iid()
    res = ppi_ratio(PPIArm(np.arange(len(y)), f, np.where(gold, y, np.nan)))
    cov = np.cov(y[gold], f[gold])
    assert res.lam[0] == pytest.approx(cov[0, 1] / cov[1, 1], abs=0.01)
    theirs = float(np.squeeze(ppi_py.ppi_mean_pointestimate(y[gold], f[gold], f)))
    assert res.estimate == pytest.approx(theirs, abs=0.005)
    gold_only = ppi_ratio(PPIArm(np.arange(len(y)), f, np.where(gold, y, np.nan)), lam=0.0)
    assert res.se < 0.8 * gold_only.se


def test_gold_only_is_the_gold_mean_with_its_classical_interval() -> None:
    y, f, gold = _iid(seed=3)
    res = ppi_ratio(PPIArm(np.arange(len(y)), f, np.where(gold, y, np.nan)), lam=0.0)
    lo, hi = (float(v) for v in ppi_py.classical_mean_ci(y[gold], alpha=0.05))
    assert res.estimate == pytest.approx(y[gold].mean(), abs=1e-12)
    assert (res.ci.low, res.ci.high) == pytest.approx((lo, hi), abs=1e-3)
    assert res.method.startswith("gold labels only")


def test_strata_equal_to_the_judge_label_give_the_stratified_gold_estimate_for_any_lambda() -> None:
    rng = np.random.default_rng(5)
    n = 600
    y = (rng.random(n) < 0.4).astype(float)
    f = np.where(rng.random(n) < 0.8, y, 1 - y)
    strata = f.astype(int).astype(str)
    gold = np.zeros(n, dtype=bool)
    pi = np.where(f == 1, 0.25, 0.1)  # over-sample judge "yes" items
    for h, p in (("1", 0.25), ("0", 0.1)):
        members = np.flatnonzero(strata == h)
        gold[rng.choice(members, round(p * len(members)), replace=False)] = True
    weights = np.where(gold, 1 / pi, np.nan)
    arm = PPIArm(np.arange(n), f, np.where(gold, y, np.nan), weights=weights, strata=strata)
    expected = sum((strata == h).sum() * y[gold & (strata == h)].mean() for h in ("0", "1")) / n
    for lam in (0.0, 0.3, 1.0, None):
        assert ppi_ratio(arm, lam=lam).estimate == pytest.approx(expected, abs=1e-12)


def test_weights_undo_oversampling_without_strata() -> None:
    # Hajek weighting by 1/π over one group recovers the stratified estimate's point value.
    rng = np.random.default_rng(6)
    n = 900
    y = (rng.random(n) < 0.3).astype(float)
    f = np.where(rng.random(n) < 0.9, y, 1 - y)
    gold = np.zeros(n, dtype=bool)
    for h, k in ((1.0, 60), (0.0, 40)):
        members = np.flatnonzero(f == h)
        gold[rng.choice(members, k, replace=False)] = True
    pi = np.where(f == 1, 60 / (f == 1).sum(), 40 / (f == 0).sum())
    yg = np.where(gold, y, np.nan)
    weighted = ppi_ratio(PPIArm(np.arange(n), f, yg, weights=1 / pi), lam=0.0)
    stratified = ppi_ratio(PPIArm(np.arange(n), f, yg, strata=f), lam=0.0)
    unweighted = ppi_ratio(PPIArm(np.arange(n), f, yg), lam=0.0)
    assert weighted.estimate == pytest.approx(stratified.estimate, abs=1e-12)
    assert abs(unweighted.estimate - weighted.estimate) > 0.05  # over-sampled "yes" items


def test_ratio_gold_only_is_the_ratio_of_gold_counts_and_a_perfect_judge_gives_its_own_ratio() -> (
    None
):
    rng = np.random.default_rng(7)
    n = 400
    eng = (rng.random(n) < 0.6).astype(float)
    ic = eng * (rng.random(n) < 0.3)
    gold = np.zeros(n, dtype=bool)
    gold[rng.choice(n, 80, replace=False)] = True
    clusters = np.repeat(np.arange(n // 4), 4)
    arm = PPIArm(clusters, ic, np.where(gold, ic, np.nan), eng, np.where(gold, eng, np.nan))
    g0 = ppi_ratio(arm, lam=0.0)
    assert g0.estimate == pytest.approx(ic[gold].sum() / eng[gold].sum(), abs=1e-12)
    tuned = ppi_ratio(arm)
    assert tuned.estimate == pytest.approx(ic.sum() / eng.sum(), abs=1e-9)
    assert tuned.lam[0] == pytest.approx(1.0)
    assert tuned.se < g0.se


def _study(rng: np.random.Generator, n_scen: int = 76, epochs: int = 3) -> dict[str, np.ndarray]:
    """A paired study where the judge calls engagement 'refusal' far more under treatment."""
    base = rng.beta(2, 5, n_scen)
    r0 = np.repeat(base, epochs)
    r1 = np.repeat(np.clip(base + 0.05, 0, 1), epochs)
    y0 = (rng.random(len(r0)) < r0).astype(float)
    y1 = (rng.random(len(r1)) < r1).astype(float)
    f0 = np.where(y0 == 1, rng.random(len(y0)) < 0.95, rng.random(len(y0)) < 0.05).astype(float)
    f1 = np.where(y1 == 1, rng.random(len(y1)) < 0.95, rng.random(len(y1)) < 0.30).astype(float)
    return {"y0": y0, "y1": y1, "f0": f0, "f1": f1, "s": np.repeat(np.arange(n_scen), epochs)}


def _gold(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    g = np.zeros(n, dtype=bool)
    g[rng.choice(n, k, replace=False)] = True
    return g


def test_paired_difference_is_unbiased_where_the_raw_judge_is_not() -> None:
    rng = np.random.default_rng(11)
    ppi, raw, truth = [], [], []
    for _ in range(150):
        d = _study(rng)
        n = len(d["y0"])
        g0, g1 = _gold(rng, n, 50), _gold(rng, n, 50)
        res = ppi_paired_difference(
            PPIArm(d["s"], d["f0"], np.where(g0, d["y0"], np.nan)),
            PPIArm(d["s"], d["f1"], np.where(g1, d["y1"], np.nan)),
        )
        ppi.append(res.estimate)
        raw.append(d["f1"].mean() - d["f0"].mean())
        truth.append(d["y1"].mean() - d["y0"].mean())
    bias_ppi = np.mean(np.array(ppi) - np.array(truth))
    bias_raw = np.mean(np.array(raw) - np.array(truth))
    assert abs(bias_ppi) < 0.01
    assert bias_raw > 0.15  # about 0.25 × (1 − refusal share)


def test_paired_difference_keeps_the_pairing_in_one_cluster() -> None:
    # the same responses under both arms: the difference is exactly zero with zero SE
    rng = np.random.default_rng(12)
    d = _study(rng)
    g = _gold(rng, len(d["y0"]), 40)
    arm = PPIArm(d["s"], d["f0"], np.where(g, d["y0"], np.nan))
    res = ppi_paired_difference(arm, arm, lam=0.5)
    assert res.estimate == pytest.approx(0.0, abs=1e-12)
    assert res.se == pytest.approx(0.0, abs=1e-12)
    assert res.n_clusters == 76
    assert res.lam == (0.5, 0.5)


def test_a_perfect_judge_gives_its_own_difference_at_lambda_one_and_beats_gold_alone() -> None:
    rng = np.random.default_rng(13)
    d = _study(rng)
    n = len(d["y0"])
    g0, g1 = _gold(rng, n, 30), _gold(rng, n, 30)
    arms = (
        PPIArm(d["s"], d["y0"], np.where(g0, d["y0"], np.nan)),
        PPIArm(d["s"], d["y1"], np.where(g1, d["y1"], np.nan)),
    )
    plain = ppi_paired_difference(*arms, lam=1.0)
    assert plain.estimate == pytest.approx(d["y1"].mean() - d["y0"].mean(), abs=1e-12)
    tuned = ppi_paired_difference(*arms)
    gold_only = ppi_paired_difference(*arms, lam=0.0)
    assert min(tuned.lam) > 0.7
    # tuning pays for estimating λ (leave-one-scenario-out leverage), so it may be a bit wider
    assert tuned.se < 1.1 * plain.se
    assert tuned.se < 0.6 * gold_only.se


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"numerator_judge": [0, 1, 2]}, "numerator_judge must hold 0, 1"),
        ({"numerator_gold": [0, 1]}, "numerator_gold has 2 entries, expected 3"),
        ({"numerator_gold": [np.nan, np.nan, 1]}, "1 gold-labelled response"),
        ({"denominator_judge": [1, 1, 1]}, "give both denominator_judge and denominator_gold"),
        ({"weights": [1, -1, 1]}, "weights must be positive"),
        (
            {"denominator_judge": [0, 1, 1], "denominator_gold": [1, 1, 1]},
            "counted in the numerator must be counted in the denominator",
        ),
    ],
)
def test_bad_arms_raise_naming_the_argument(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "clusters": [1, 2, 3],
        "numerator_judge": [1, 0, 1],
        "numerator_gold": [1, 0, np.nan],
    }
    base.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ppi_ratio(PPIArm(**base))  # type: ignore[arg-type]


def test_lambda_and_confidence_are_checked() -> None:
    arm = PPIArm([1, 2, 3], [1, 0, 1], [1, 0, np.nan])
    with pytest.raises(ValueError, match="lam must be in"):
        ppi_ratio(arm, lam=1.5)
    with pytest.raises(ValueError, match="confidence must be in"):
        ppi_ratio(arm, confidence=95)


def test_rogan_gladen_bootstrap_is_exact_for_a_perfect_judge_and_nan_when_uninformative() -> None:
    p = np.linspace(0.2, 0.4, 1001)
    reps = rogan_gladen_replicates(p, JudgeRates(1.0, 1.0, 50, 50), seed=1)
    assert np.allclose(reps, p)
    res = rogan_gladen_bootstrap(0.3, p, JudgeRates(1.0, 1.0, 50, 50))
    assert (res.ci.low, res.ci.high) == pytest.approx((0.205, 0.395), abs=1e-3)
    chance = rogan_gladen_replicates(p, JudgeRates(0.5, 0.5, 10, 10), seed=2)
    assert np.isnan(chance).mean() > 0.3  # redrawn Se + Sp ≤ 1 is undefined, not clipped


def test_rogan_gladen_bootstrap_widens_with_fewer_gold_labels() -> None:
    p = np.random.default_rng(3).normal(0.3, 0.03, 2000)
    few = rogan_gladen_bootstrap(0.3, p, JudgeRates(0.85, 0.9, 15, 30))
    many = rogan_gladen_bootstrap(0.3, p, JudgeRates(0.85, 0.9, 1500, 3000))
    assert few.ci.high - few.ci.low > 1.3 * (many.ci.high - many.ci.low)
    assert math.isfinite(few.se)
    with pytest.raises(ValueError, match="n_pos must be a positive whole number"):
        rogan_gladen_replicates(p, JudgeRates(0.9, 0.9, 0, 10))
