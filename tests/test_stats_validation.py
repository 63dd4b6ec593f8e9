"""Statistics primitives refuse bad arguments with a ValueError naming the argument and value."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfound.stats import (
    bonett_price_interval,
    cluster_weights,
    clustered_ratio,
    decompose,
    defier_bounds,
    imbens_manski_interval,
    lee_bounds,
    manski_bounds,
    mcnemar_mde,
    mcnemar_midp,
    paired_mde,
    paired_mde_binary,
    paired_ratio_difference,
    percentile_interval,
    rogan_gladen,
    scenario_lee_bounds,
    sign_flip_test,
    tipping_point,
    unpaired_mde,
    unpaired_power,
    wilson_interval,
)

negative_int = st.integers(max_value=-1)
not_a_count = st.one_of(negative_int, st.floats(0.1, 100).filter(lambda x: not x.is_integer()))
outside_unit = st.one_of(
    st.floats(max_value=-1e-6, allow_nan=False, allow_infinity=False),
    st.floats(min_value=1 + 1e-6, allow_nan=False, allow_infinity=False),
)
bad_level = st.one_of(st.floats(max_value=0.0, allow_nan=False), st.floats(min_value=1.0))


def _refuses(call: Callable[[], Any], name: str, value: Any) -> None:
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert name in message, message
    assert repr(value) in message or str(value) in message, message


@pytest.mark.parametrize(
    ("call", "name", "value"),
    [
        (lambda: mcnemar_midp(-1, 3), "b", -1),
        (lambda: wilson_interval(1.7, 10), "p", 1.7),
        (lambda: bonett_price_interval(5, 5, 3), "n", 3),
    ],
    ids=["mcnemar_midp(-1, 3)", "wilson_interval(1.7, 10)", "bonett_price_interval(5, 5, 3)"],
)
def test_the_three_calls_of_the_issue_raise(call: Callable[[], Any], name: str, value: Any) -> None:
    _refuses(call, name, value)


def test_bonett_price_says_what_b_c_and_n_count() -> None:
    with pytest.raises(ValueError, match=re.escape("b + c = 10 discordant pairs exceed n = 3")):
        bonett_price_interval(5, 5, 3)


@given(not_a_count, st.integers(0, 50))
def test_mcnemar_refuses_a_count_that_is_negative_or_fractional(bad: Any, good: int) -> None:
    _refuses(lambda: mcnemar_midp(bad, good), "b", bad)
    _refuses(lambda: mcnemar_midp(good, bad), "c", bad)


@given(st.integers(0, 20), st.integers(0, 20), st.integers(1, 60))
def test_bonett_price_refuses_more_discordant_pairs_than_pairs(b: int, c: int, n: int) -> None:
    if b + c > n:
        _refuses(lambda: bonett_price_interval(b, c, n), "n", n)
    else:
        ci = bonett_price_interval(b, c, n)
        assert -1 <= ci.low <= ci.high <= 1


@given(outside_unit, st.floats(0.5, 1000))
def test_wilson_refuses_a_proportion_outside_the_unit_interval(p: float, n: float) -> None:
    _refuses(lambda: wilson_interval(p, n), "p", p)


@given(st.floats(0, 1), st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False))
def test_wilson_refuses_a_negative_n(p: float, n: float) -> None:
    _refuses(lambda: wilson_interval(p, n), "n", n)


@given(bad_level)
def test_levels_must_lie_strictly_inside_the_unit_interval(level: float) -> None:
    _refuses(lambda: wilson_interval(0.5, 10, confidence=level), "confidence", level)
    _refuses(lambda: percentile_interval([0.1, 0.2], confidence=level), "confidence", level)
    _refuses(lambda: paired_mde(0.3, 50, alpha=level), "alpha", level)


@given(st.sampled_from(["e0", "p0", "e1", "p1"]), outside_unit)
def test_bound_functions_refuse_shares_outside_the_unit_interval(arg: str, bad: float) -> None:
    args = {"e0": 0.8, "p0": 0.3, "e1": 0.6, "p1": 0.2, arg: bad}
    for fn in (lee_bounds, decompose):
        _refuses(lambda fn=fn: fn(**args), arg, bad)
    _refuses(lambda: defier_bounds(**args, max_defier_share=0.1), arg, bad)


def test_nan_ic_rate_still_means_undefined_not_an_error() -> None:
    assert math.isnan(lee_bounds(0.0, math.nan, 0.5, 0.2).lower)
    assert math.isnan(wilson_interval(math.nan, 10).low)


@given(outside_unit)
def test_manski_tipping_and_power_refuse_rates_outside_the_unit_interval(bad: float) -> None:
    _refuses(lambda: manski_bounds(bad, 0.1, 0.1, 0.1), "ir0", bad)
    _refuses(lambda: tipping_point(0.1, 0.5, 0.1, bad), "e1", bad)
    _refuses(lambda: unpaired_power(0.1, bad, 50, 50), "p1", bad)
    _refuses(lambda: unpaired_mde(bad, 50, 50, increase=True), "p0", bad)
    _refuses(lambda: paired_mde_binary(bad, 50, 0.3), "p0", bad)
    _refuses(lambda: mcnemar_mde(bad, 50), "psi", bad)
    _refuses(lambda: rogan_gladen(bad, 50, 0.9, 0.9), "p_obs", bad)
    _refuses(lambda: rogan_gladen(0.2, 50, bad, 0.9), "sensitivity", bad)


def test_ir_cannot_exceed_engagement_or_one_minus_refusal() -> None:
    with pytest.raises(ValueError, match=re.escape("ir0 = 0.6 exceeds e0")):
        tipping_point(0.6, 0.5, 0.1, 0.4)
    with pytest.raises(ValueError, match=re.escape("ir1 + r1")):
        manski_bounds(0.1, 0.2, 0.7, 0.5)


@given(st.integers(1, 8), st.integers(0, 7), st.floats(0.01, 5))
def test_arrays_must_be_aligned_non_negative_and_successes_within_trials(
    n: int, i: int, excess: float
) -> None:
    y, m = np.ones(n), np.full(n, 2.0)
    _refuses(lambda: clustered_ratio(y, m[:-1] if n > 1 else np.ones(2)), "len(y)", "len(m)")
    j = i % n
    high = y.copy()
    high[j] = m[j] + excess
    _refuses(lambda: clustered_ratio(high, m), f"y[{j}]", f"m[{j}]")
    neg = m.copy()
    neg[j] = -excess
    _refuses(lambda: paired_ratio_difference(y, m, y, neg), f"m1[{j}]", -excess)
    share = y / 2
    over = share.copy()
    over[j] = 1 + excess
    _refuses(lambda: scenario_lee_bounds(over, share, share, share), f"e0[{j}]", 1 + excess)


def test_bootstrap_and_permutation_sizes_must_be_counts() -> None:
    _refuses(lambda: cluster_weights(-3, 10), "n_clusters", -3)
    _refuses(lambda: cluster_weights(5, 2.5), "n_boot", 2.5)
    _refuses(lambda: sign_flip_test([0.1, -0.2, 0.3], n_resamples=0), "n_resamples", 0)


def test_imbens_manski_refuses_crossed_bounds_and_negative_errors() -> None:
    _refuses(lambda: imbens_manski_interval(0.3, 0.1, 0.05, 0.05), "lower", 0.3)
    _refuses(lambda: imbens_manski_interval(0.1, 0.3, -0.05, 0.05), "se_lower", -0.05)
