"""Proportions and differences with scenario-clustered uncertainty.

The unit of inference is the scenario: epochs are repeated draws within a scenario, so every
standard error here is computed from per-scenario totals (a cluster-robust, linearised SE), never
from responses treated as independent (statistics.md §2a, §2c, pitfall 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from deconfound.stats import checks


@dataclass(frozen=True)
class ConfidenceInterval:
    """A two-sided confidence interval ``[low, high]``."""

    low: float
    high: float

    def as_list(self) -> list[float]:
        """``[low, high]`` for JSON."""
        return [self.low, self.high]


NAN_CI = ConfidenceInterval(math.nan, math.nan)


def _z(confidence: float) -> float:
    return float(sps.norm.ppf(0.5 + confidence / 2))


def wilson_interval(p: float, n: float, confidence: float = 0.95) -> ConfidenceInterval:
    """Wilson score interval for a proportion (Wilson 1927; Brown, Cai & DasGupta 2001).

    ``n`` may be fractional (an effective sample size, or ``e*n`` engaged responses as in
    aggregate-only mode). Not Wald: Wald under-covers at the small n and extreme p of safety evals.
    A NaN ``p`` (undefined: nothing to count) or ``n`` = 0 gives a NaN interval.

    Raises:
        ValueError: ``p`` outside [0, 1] (a count k of n goes in as k / n), ``n`` negative or not
            finite, or ``confidence`` not in (0, 1).

    References:
        Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
        inference. JASA 22(158), 209–212.
    """
    p = checks.proportion("p", p, nan_ok=True, hint=" (a count k of n goes in as p = k / n)")
    n = checks.size("n", n)
    checks.open_unit("confidence", confidence)
    if not (n > 0) or math.isnan(p):
        return NAN_CI
    z = _z(confidence)
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return ConfidenceInterval(max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class ClusteredRatio:
    """A ratio estimate ``sum(y)/sum(m)`` over scenarios with a cluster-robust interval.

    Attributes:
        estimate: Pooled ratio R = Σ y_s / Σ m_s.
        se: Linearised (Taylor) cluster-robust SE (Cochran 1977).
        ci: Wilson interval on the Korn–Graubard effective n with t on N−1 df.
        n: Σ m_s (responses in the denominator).
        n_clusters: Scenarios with m_s > 0.
        n_eff: Korn–Graubard effective sample size (df-adjusted) used in the Wilson interval.
        method: Name of the interval method.
    """

    estimate: float
    se: float
    ci: ConfidenceInterval
    n: float
    n_clusters: int
    n_eff: float
    method: str = "wilson-korn-graubard (ratio estimator, scenario-clustered linearised SE)"


def _successes_within_trials(
    y: NDArray[np.float64], m: NDArray[np.float64], y_name: str, m_name: str
) -> None:
    checks.same_length(**{y_name: y, m_name: m})
    over = y > m + 1e-9
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise ValueError(f"{y_name}[{i}] = {float(y[i])!r} exceeds {m_name}[{i}] = {float(m[i])!r}")


def ratio_se(y: NDArray[np.float64], m: NDArray[np.float64]) -> float:
    """Cochran's linearised SE of Σy/Σm over clusters: (1/m̄)·√(Σ(y−Rm)²/(N(N−1)))."""
    keep = m > 0
    y, m = y[keep], m[keep]
    n_c = len(m)
    if n_c < 2:
        return math.nan
    r = y.sum() / m.sum()
    mbar = m.mean()
    return float(math.sqrt(((y - r * m) ** 2).sum() / (n_c * (n_c - 1))) / mbar)


def clustered_ratio(y: ArrayLike, m: ArrayLike, confidence: float = 0.95) -> ClusteredRatio:
    """Scenario-clustered proportion: ratio estimator with a Wilson/Korn–Graubard interval.

    ``y[s]`` counts successes and ``m[s]`` the denominator responses of scenario ``s``. With one
    response per scenario this is an ordinary proportion; with K epochs it equals the mean of
    scenario means when K is balanced (Inspect's mean reducer), and pools otherwise (pitfall 13).
    The effective n is n_eff = p(1−p)/SE² (capped at Σm), multiplied by (z/t_{N−1})² (Korn &
    Graubard 1998; Franco et al. 2019). When p is 0 or 1 the SE is 0 and the number of scenarios
    is used as n_eff — conservative, because epochs of one scenario are not independent.

    Raises:
        ValueError: ``y`` and ``m`` differ in length, hold a negative or non-finite value, or
            some ``y[s]`` exceeds ``m[s]``.
    """
    ya = checks.array("y", y, nonnegative=True)
    ma = checks.array("m", m, nonnegative=True)
    _successes_within_trials(ya, ma, "y", "m")
    checks.open_unit("confidence", confidence)
    total = float(ma.sum())
    n_c = int((ma > 0).sum())
    if total <= 0:
        return ClusteredRatio(math.nan, math.nan, NAN_CI, 0.0, 0, 0.0)
    p = float(ya.sum() / total)
    se = ratio_se(ya, ma)
    if n_c < 2 or math.isnan(se):
        return ClusteredRatio(p, se, wilson_interval(p, n_c, confidence), total, n_c, float(n_c))
    z = _z(confidence)
    t = float(sps.t.ppf(0.5 + confidence / 2, n_c - 1))
    n_eff = min(p * (1 - p) / se**2, total) if se > 0 and 0 < p < 1 else float(n_c)
    n_eff *= (z / t) ** 2
    return ClusteredRatio(p, se, wilson_interval(p, n_eff, confidence), total, n_c, n_eff)


@dataclass(frozen=True)
class PairedDifference:
    """A paired difference of two scenario-clustered ratios, R_1 − R_0.

    Attributes:
        estimate: R_1 − R_0 over the scenarios observed in both conditions.
        se: sd(u_s(1) − u_s(0))/√N from scenario influence values (Miller 2024 §4).
        ci: t-interval on N−1 df.
        n_scenarios: Paired scenarios.
        correlation: Correlation of the two arms' scenario influence values.
        method: Name of the interval method.
    """

    estimate: float
    se: float
    ci: ConfidenceInterval
    n_scenarios: int
    correlation: float
    method: str = "paired linearised SE over scenarios, t on N-1 df (Miller 2024 §4)"


def influence_values(y: NDArray[np.float64], m: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per-scenario influence values u_s = (y_s − R·m_s)/m̄ of the ratio R = Σy/Σm."""
    total = m.sum()
    if total <= 0:
        return np.full_like(y, np.nan, dtype=float)
    r = y.sum() / total
    return np.asarray((y - r * m) / m.mean(), dtype=float)


def paired_ratio_difference(
    y0: ArrayLike,
    m0: ArrayLike,
    y1: ArrayLike,
    m1: ArrayLike,
    confidence: float = 0.95,
) -> PairedDifference:
    """Difference of two ratio estimators on the same scenarios, with the paired clustered SE.

    The arrays are aligned by scenario. Pairing removes between-scenario variance shared by both
    conditions, which is why two separate CIs are not a test (pitfall 7).

    Raises:
        ValueError: the four arrays differ in length, hold a negative or non-finite value, or a
            count of successes exceeds its denominator.
    """
    a0, b0 = checks.array("y0", y0, nonnegative=True), checks.array("m0", m0, nonnegative=True)
    a1, b1 = checks.array("y1", y1, nonnegative=True), checks.array("m1", m1, nonnegative=True)
    _successes_within_trials(a0, b0, "y0", "m0")
    _successes_within_trials(a1, b1, "y1", "m1")
    checks.same_length(y0=a0, y1=a1)
    checks.open_unit("confidence", confidence)
    n = len(a0)
    if n == 0 or b0.sum() <= 0 or b1.sum() <= 0:
        return PairedDifference(math.nan, math.nan, NAN_CI, n, math.nan)
    est = float(a1.sum() / b1.sum() - a0.sum() / b0.sum())
    u0, u1 = influence_values(a0, b0), influence_values(a1, b1)
    if n < 2:
        return PairedDifference(est, math.nan, NAN_CI, n, math.nan)
    d = u1 - u0
    se = float(np.std(d, ddof=1) / math.sqrt(n))
    t = float(sps.t.ppf(0.5 + confidence / 2, n - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        sd0, sd1 = np.std(u0), np.std(u1)
        corr = float(np.corrcoef(u0, u1)[0, 1]) if sd0 > 0 and sd1 > 0 else math.nan
    ci = ConfidenceInterval(max(-1.0, est - t * se), min(1.0, est + t * se))
    return PairedDifference(est, se, ci, n, corr)


@dataclass(frozen=True)
class MeanInterval:
    """Mean of per-scenario values with a t-interval (N−1 df)."""

    estimate: float
    se: float
    ci: ConfidenceInterval
    n: int
    method: str = "mean of scenario values, t-interval on N-1 df"


def t_interval_mean(values: ArrayLike, confidence: float = 0.95) -> MeanInterval:
    """Mean with a Student-t interval; used for per-scenario differences with K > 1 epochs."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n == 0:
        return MeanInterval(math.nan, math.nan, NAN_CI, 0)
    est = float(v.mean())
    if n < 2:
        return MeanInterval(est, math.nan, NAN_CI, n)
    se = float(v.std(ddof=1) / math.sqrt(n))
    t = float(sps.t.ppf(0.5 + confidence / 2, n - 1))
    return MeanInterval(est, se, ConfidenceInterval(est - t * se, est + t * se), n)
