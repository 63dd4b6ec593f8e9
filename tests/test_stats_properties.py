"""Property tests (hypothesis) of the bounds, the decomposition and scenario-order invariance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfound.stats import (
    clustered_ratio,
    decompose,
    defier_bounds,
    lee_bounds,
    paired_ratio_difference,
    scenario_lee_bounds,
)

share = st.floats(0.01, 1.0)
rate = st.floats(0.0, 1.0)
TOL = 1e-9


@given(share, rate, share, rate)
def test_lee_bounds_are_ordered_and_contain_principal_ignorability(
    e0: float, p0: float, e1: float, p1: float
) -> None:
    b = lee_bounds(e0, p0, e1, p1)
    assert -1 - TOL <= b.lower <= b.upper + TOL <= 1 + 2 * TOL
    assert b.lower - TOL <= p1 - p0 <= b.upper + TOL


@given(share, rate, share, rate, st.floats(0.0, 0.3), st.floats(0.0, 0.3))
def test_defier_bounds_widen_with_the_defier_share(
    e0: float, p0: float, e1: float, p1: float, d1: float, d2: float
) -> None:
    small, large = sorted((d1, d2))
    lo_s, hi_s = defier_bounds(e0, p0, e1, p1, small)
    lo_l, hi_l = defier_bounds(e0, p0, e1, p1, large)
    assert lo_l <= lo_s + TOL and hi_s <= hi_l + TOL
    lee = lee_bounds(e0, p0, e1, p1)
    lo0, hi0 = defier_bounds(e0, p0, e1, p1, 0.0)
    assert lo0 <= lee.lower + TOL and lee.upper <= hi0 + TOL


@given(share, rate, share, rate)
def test_decomposition_parts_sum_to_delta_ir(e0: float, p0: float, e1: float, p1: float) -> None:
    d = decompose(e0, p0, e1, p1)
    assert d.refusal_part + d.behaviour_part == pytest.approx(d.total, abs=1e-12)
    assert sum(d.order_a) == pytest.approx(d.total, abs=1e-12)
    assert sum(d.order_b) == pytest.approx(d.total, abs=1e-12)
    assert d.total == pytest.approx(e1 * p1 - e0 * p0, abs=1e-12)


scenarios = st.integers(2, 30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 5), min_size=n, max_size=n),
        st.lists(st.tuples(rate, rate, rate, rate), min_size=n, max_size=n),
        st.randoms(use_true_random=False),
    )
)


def _arrays(data: tuple) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
    k, probs, _ = data
    k = np.array(k, dtype=float)
    pr = np.array(probs)
    m0 = np.round(k * pr[:, 0])
    m1 = np.round(k * pr[:, 1])
    y0 = np.round(m0 * pr[:, 2])
    y1 = np.round(m1 * pr[:, 3])
    return {"k": k, "m0": m0, "m1": m1, "y0": y0, "y1": y1}


@settings(max_examples=60)
@given(scenarios)
def test_scenario_bounds_are_ordered_and_contain_their_ignorability_estimate(data: tuple) -> None:  # type: ignore[type-arg]
    a = _arrays(data)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = scenario_lee_bounds(
            a["m0"] / a["k"], a["y0"] / a["m0"], a["m1"] / a["k"], a["y1"] / a["m1"]
        )
    if b.n_scenarios == 0:
        assert np.isnan(b.lower)
        return
    assert b.lower <= b.upper + TOL
    assert b.lower - TOL <= b.principal_ignorability <= b.upper + TOL


@settings(max_examples=60)
@given(scenarios)
def test_estimates_do_not_depend_on_scenario_order(data: tuple) -> None:  # type: ignore[type-arg]
    a = _arrays(data)
    perm = np.array(data[2].sample(range(len(a["k"])), len(a["k"])))
    b = {key: v[perm] for key, v in a.items()}
    for x in (a, b):
        x["ratio"] = clustered_ratio(x["y0"], x["k"])
        x["diff"] = paired_ratio_difference(x["y0"], x["k"], x["y1"], x["k"])
        with np.errstate(divide="ignore", invalid="ignore"):
            x["bounds"] = scenario_lee_bounds(
                x["m0"] / x["k"], x["y0"] / x["m0"], x["m1"] / x["k"], x["y1"] / x["m1"]
            )
    assert a["ratio"].estimate == pytest.approx(b["ratio"].estimate, nan_ok=True)
    assert a["ratio"].se == pytest.approx(b["ratio"].se, nan_ok=True)
    assert a["diff"].estimate == pytest.approx(b["diff"].estimate, nan_ok=True)
    assert a["diff"].se == pytest.approx(b["diff"].se, nan_ok=True)
    assert a["bounds"].lower == pytest.approx(b["bounds"].lower, nan_ok=True)
    assert a["bounds"].upper == pytest.approx(b["bounds"].upper, nan_ok=True)
