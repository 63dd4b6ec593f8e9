"""Reference values of statistics.md §3 and §4 pinned as unit tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from deconfound.stats import (
    ArmAggregate,
    aggregate_bounds,
    bonett_price_interval,
    clustered_ratio,
    decompose,
    defier_bounds,
    denominator_warnings,
    imbens_manski_interval,
    lee_bounds,
    manski_bounds,
    mcnemar_mde,
    mcnemar_midp,
    mcnemar_sample_size,
    paired_mde,
    paired_mde_binary,
    paired_ratio_difference,
    rogan_gladen,
    scenario_lee_bounds,
    sign_flip_test,
    tipping_point,
    unpaired_mde,
    unpaired_power,
    wilson_interval,
)

# §3 inputs
E0, E1 = 0.45, 0.27
P0, P1 = 0.1467 / 0.45, 0.0921 / 0.27


def pp(x: float) -> float:
    return round(100 * x, 2)


def test_mid_p_mcnemar_matches_reference() -> None:
    res = mcnemar_midp(3, 10)
    assert res.pvalue == pytest.approx(0.0574, abs=5e-5)
    assert res.pvalue_exact == pytest.approx(2 * 378 / 8192)
    assert res.statistic == 7


def test_mcnemar_is_symmetric_and_one_when_no_discordance() -> None:
    assert mcnemar_midp(10, 3).pvalue == mcnemar_midp(3, 10).pvalue
    assert mcnemar_midp(0, 0).pvalue == 1.0


def test_bonett_price_interval_matches_reference() -> None:
    ci = bonett_price_interval(3, 10, 76)
    assert ci.low == pytest.approx(-0.0055, abs=5e-5)
    assert ci.high == pytest.approx(0.185, abs=5e-4)


def test_rogan_gladen_matches_reference() -> None:
    res = rogan_gladen(0.1467, 76, 0.90, 0.95, n_pos=60, n_neg=140)
    assert res.estimate == pytest.approx(0.1138, abs=5e-5)
    assert res.se == pytest.approx(0.0517, abs=5e-5)


def test_rogan_gladen_divides_a_difference_by_youden_j() -> None:
    a = rogan_gladen(P0, 34.2, 0.90, 0.95)
    b = rogan_gladen(P1, 20.52, 0.90, 0.95)
    assert pp(a.estimate) == 32.47
    assert pp(b.estimate) == 34.25
    assert b.estimate - a.estimate == pytest.approx((P1 - P0) / 0.85)


def test_rogan_gladen_rejects_a_chance_level_judge() -> None:
    with pytest.raises(ValueError):
        rogan_gladen(0.3, 50, 0.5, 0.5)


def test_connor_mcnemar_sample_size_matches_reference() -> None:
    assert mcnemar_sample_size(0.10, 0.15) == pytest.approx(115.3, abs=0.05)


def test_mcnemar_mde_inverts_the_sample_size() -> None:
    d = mcnemar_mde(0.15, 76)
    assert round(100 * d, 1) == 12.3
    assert mcnemar_sample_size(d, 0.15) == pytest.approx(76, rel=1e-6)


def test_paired_mde_matches_reference() -> None:
    assert paired_mde(0.33, 76) == pytest.approx(0.1061, abs=5e-5)


def test_paired_mde_by_correlation_matches_section_3() -> None:
    got = [round(100 * paired_mde_binary(0.1467, 76, rho), 1) for rho in (0, 0.3, 0.5, 0.7)]
    assert got == [12.4, 11.1, 9.9, 8.1]


def test_unpaired_power_and_mde_match_section_3() -> None:
    assert unpaired_power(0.1467, 0.0921, 76, 76) == pytest.approx(0.18, abs=0.005)
    assert round(100 * unpaired_mde(0.1467, 76, 76, increase=False), 1) == 12.5
    assert round(100 * unpaired_mde(0.55, 76, 76, increase=True), 1) == 21.4


def test_lee_bounds_match_section_3() -> None:
    b = lee_bounds(E0, P0, E1, P1)
    assert (pp(b.lower), pp(b.upper)) == (-20.22, 34.11)
    assert b.trimmed_arm == "baseline"
    assert b.trimming_share == pytest.approx(0.40)


def test_lee_bounds_trim_treatment_when_treatment_raises_engagement() -> None:
    # mirror image: swap arms, the bounds flip sign
    b = lee_bounds(E1, P1, E0, P0)
    assert b.trimmed_arm == "treatment"
    assert (pp(b.lower), pp(b.upper)) == (-34.11, 20.22)


def test_defier_bounds_match_section_3_table() -> None:
    got = [tuple(pp(x) for x in defier_bounds(E0, P0, E1, P1, d)) for d in (0, 0.05, 0.2)]
    assert got[0] == (-20.22, 34.11)
    assert got[1] == (-47.55, 41.86)
    assert got[2] == (-100.0, 100.0)


def test_manski_bounds_match_section_3() -> None:
    lo, hi = manski_bounds(0.1467, 0.55, 0.0921, 0.73)
    assert (pp(lo), pp(hi)) == (-60.46, 67.54)


def test_tipping_point_matches_section_3() -> None:
    tp = tipping_point(0.1467, E0, 0.0921, E1)
    assert pp(tp.value) == 30.33
    assert not tp.sign_identified


def test_decomposition_matches_section_3() -> None:
    d = decompose(E0, P0, E1, P1)
    assert pp(d.total) == -5.46
    assert (pp(d.refusal_part), pp(d.behaviour_part)) == (-6.00, 0.54)
    assert (pp(d.order_a[0]), pp(d.order_a[1])) == (-5.87, 0.41)
    assert (pp(d.order_b[0]), pp(d.order_b[1])) == (-6.14, 0.68)


def test_imbens_manski_critical_value_moves_between_one_and_two_sided() -> None:
    _, c_point = imbens_manski_interval(0.1, 0.1, 0.05, 0.05)
    _, c_wide = imbens_manski_interval(-0.5, 0.5, 0.05, 0.05)
    assert c_point == pytest.approx(1.96, abs=1e-3)
    assert c_wide == pytest.approx(1.645, abs=1e-3)


def test_wilson_matches_section_3_descriptives() -> None:
    ci = wilson_interval(0.1467, 76)
    assert (round(100 * ci.low, 1), round(100 * ci.high, 1)) == (8.4, 24.3)
    ci = wilson_interval(P1, 20.52)
    assert (round(100 * ci.low, 1), round(100 * ci.high, 1)) == (17.6, 55.6)


def test_aggregate_bounds_reproduces_section_3() -> None:
    out = aggregate_bounds(
        ArmAggregate(0.1467, 0.55), ArmAggregate(0.0921, 0.73), 76, n_boot=500, seed=1
    )
    assert pp(out.baseline.ir_engaged) == 32.60
    assert pp(out.treatment.ir_engaged) == 34.11
    assert [pp(x) for x in out.sace_bounds] == [-20.22, 34.11]
    lo, hi = out.sace_bounds_ci
    assert lo < out.sace_bounds[0] and hi > out.sace_bounds[1]
    assert out.delta_ir.p_value == pytest.approx(0.298, abs=0.001)
    assert out.delta_refusal.p_value == pytest.approx(0.019, abs=0.001)


def test_denominator_check_spots_eleven_of_seventy_five() -> None:
    (msg,) = denominator_warnings("baseline IR", 14.67, 76)
    assert "11/75" in msg
    assert denominator_warnings("treatment IR", 9.21, 76) == []


def test_clustered_ratio_equals_mean_of_scenario_means_for_balanced_epochs() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 6, size=40).astype(float)
    m = np.full(40, 5.0)
    res = clustered_ratio(y, m)
    means = y / 5
    assert res.estimate == pytest.approx(means.mean())
    # Cochran's SE reduces to sd(scenario means)/sqrt(N) with balanced K (Miller 2024)
    assert res.se == pytest.approx(means.std(ddof=1) / math.sqrt(40))
    assert res.ci.low < res.estimate < res.ci.high


def test_clustered_interval_is_wider_than_iid_when_epochs_correlate() -> None:
    y = np.array([5.0] * 10 + [0.0] * 10)  # all-or-nothing scenarios
    m = np.full(20, 5.0)
    clustered = clustered_ratio(y, m)
    iid = wilson_interval(0.5, 100)
    assert clustered.ci.high - clustered.ci.low > 2 * (iid.high - iid.low)


def test_paired_difference_se_uses_the_pairing() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(60)
    y0 = (base > 0.5).astype(float)
    y1 = y0.copy()
    y1[:5] = 0.0
    m = np.ones(60)
    res = paired_ratio_difference(y0, m, y1, m)
    assert res.estimate == pytest.approx(y1.mean() - y0.mean())
    d = y1 - y0
    assert res.se == pytest.approx(d.std(ddof=1) / math.sqrt(60))


def test_scenario_bounds_with_one_epoch_reduce_to_both_engaged_difference() -> None:
    e0 = np.array([1, 1, 1, 0, 1.0])
    e1 = np.array([1, 1, 0, 0, 1.0])
    p0 = np.array([1, 0, 1, np.nan, 1.0])
    p1 = np.array([0, 0, np.nan, np.nan, 1.0])
    b = scenario_lee_bounds(e0, p0, e1, p1)
    assert b.lower == b.upper == pytest.approx(-1 / 3)
    assert b.n_scenarios == 3


def test_sign_flip_is_exact_for_few_scenarios() -> None:
    res = sign_flip_test([1.0, 1.0, 1.0, 1.0])
    assert res.exact
    assert res.pvalue == pytest.approx(2 / 16)
    assert sign_flip_test([0.0, 0.0]).pvalue == 1.0


def test_sign_flip_monte_carlo_detects_a_shift() -> None:
    rng = np.random.default_rng(1)
    d = rng.normal(0.3, 0.5, size=60)
    assert sign_flip_test(d, n_resamples=2000, seed=2).pvalue < 0.01


def test_sign_flip_normal_approximation_matches_monte_carlo_near_the_switch() -> None:
    rng = np.random.default_rng(4)
    d = rng.normal(0.015, 0.5, size=999)
    mc = sign_flip_test(d, n_resamples=20_000, seed=1)
    z = abs(d.sum()) / math.sqrt((d**2).sum())
    assert mc.n_resamples == 20_000
    assert mc.pvalue == pytest.approx(2 * (1 - sps.norm.cdf(z)), abs=0.015)
    big = sign_flip_test(np.concatenate([d, d[:10]]))
    assert "normal approximation" in big.method
