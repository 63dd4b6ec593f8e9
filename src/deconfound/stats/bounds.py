"""Partial identification of the effect among always-engagers, and the ΔIR decomposition.

Refusal is post-treatment, so IC among engaged responses compares different populations. The
principal-stratum effect among always-engagers (SACE) is only partially identified: these are the
Lee (2009) / Zhang & Rubin (2003) sharp bounds for a binary outcome, their scenario-level
(covariate) version, the defier-share sensitivity, Manski worst-case bounds, the Imbens–Manski
interval for an identified set, the tipping point, and the Kitagawa/Shapley decomposition
(statistics.md §2e, §2f).

The ``*_arrays`` functions broadcast over numpy arrays so the scenario cluster bootstrap evaluates
every resample at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize
from scipy import stats as sps

from deconfound.stats import checks
from deconfound.stats.intervals import ConfidenceInterval

FloatArray = NDArray[np.float64]


def lee_bounds_arrays(
    e0: ArrayLike, p0: ArrayLike, e1: ArrayLike, p1: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Vectorised Lee / Zhang–Rubin sharp bounds on the SACE for a binary outcome.

    e_z: engagement share; p_z: IC rate among engaged. Under monotonicity the arm with more
    engagement is trimmed by the share 1 − q of its engagers who would not engage in the other arm
    (q = min(e)/max(e)); the other arm's engagers are all always-engagers. Returns NaN where no
    always-engager is identified (an arm with zero engagement).
    """
    e0a, p0a, e1a, p1a = (np.asarray(x, dtype=float) for x in (e0, p0, e1, p1))
    with np.errstate(divide="ignore", invalid="ignore"):
        trim_base = e1a <= e0a
        q = np.where(trim_base, e1a / e0a, e0a / e1a)
        p_trim = np.where(trim_base, p0a, p1a)  # arm being trimmed
        p_kept = np.where(trim_base, p1a, p0a)
        lo = np.maximum(0.0, (p_trim - (1 - q)) / q)
        hi = np.minimum(1.0, p_trim / q)
        lower = np.where(trim_base, p_kept - hi, lo - p_kept)
        upper = np.where(trim_base, p_kept - lo, hi - p_kept)
        bad = ~(q > 0) | np.isnan(p0a) | np.isnan(p1a)
    lower = np.where(bad, np.nan, lower)
    upper = np.where(bad, np.nan, upper)
    return lower, upper


@dataclass(frozen=True)
class LeeBounds:
    """Sharp bounds on the SACE under monotonicity (Zhang & Rubin 2003; Lee 2009; Imai 2008).

    Attributes:
        lower: Lower bound on E[Y(1) − Y(0) | always-engager].
        upper: Upper bound.
        trimmed_arm: "baseline" when treatment lowered engagement (the usual case), else
            "treatment".
        trimming_share: Share of the trimmed arm's engagers who are not always-engagers.
        principal_ignorability: p1 − p0, the point estimate if the trimmed engagers resemble the
            always-engagers; always inside the bounds.
    """

    lower: float
    upper: float
    trimmed_arm: str
    trimming_share: float
    principal_ignorability: float


def _arms(e0: float, p0: float, e1: float, p1: float) -> None:
    """Engagement shares in [0, 1]; IC rates among engaged in [0, 1] or NaN (no engaged)."""
    checks.proportion("e0", e0)
    checks.proportion("e1", e1)
    checks.proportion("p0", p0, nan_ok=True)
    checks.proportion("p1", p1, nan_ok=True)


def lee_bounds(e0: float, p0: float, e1: float, p1: float) -> LeeBounds:
    """Pooled Lee / Zhang–Rubin bounds from arm-level engagement and IC-among-engaged rates.

    Raises:
        ValueError: an engagement share outside [0, 1], or an IC rate outside [0, 1] (NaN, for
            an arm without engaged responses, is allowed and gives NaN bounds).
    """
    _arms(e0, p0, e1, p1)
    lo, hi = lee_bounds_arrays(e0, p0, e1, p1)
    trim_base = e1 <= e0
    share = (e0 - e1) / e0 if trim_base and e0 > 0 else ((e1 - e0) / e1 if e1 > 0 else math.nan)
    return LeeBounds(float(lo), float(hi), "baseline" if trim_base else "treatment", share, p1 - p0)


@dataclass(frozen=True)
class ScenarioBounds:
    """Scenario-level (covariate) trimming bounds, averaged over scenarios.

    Attributes:
        lower: Σ_s π_s·L_s / Σ_s π_s.
        upper: Σ_s π_s·U_s / Σ_s π_s.
        weight: Σ_s π_s / N, the estimated always-engager share (π_s = min(ē_s(0), ē_s(1))).
        n_scenarios: Scenarios with π_s > 0 (contributing to the average).
        principal_ignorability: Σ π_s (p̂_s(1) − p̂_s(0)) / Σ π_s (inside the bounds).
    """

    lower: float
    upper: float
    weight: float
    n_scenarios: int
    principal_ignorability: float


def scenario_bound_terms(
    e0: ArrayLike, p0: ArrayLike, e1: ArrayLike, p1: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per-scenario weights π_s and weighted terms (π_s·L_s, π_s·U_s, π_s·(p1_s − p0_s)).

    Each scenario is trimmed in its own direction (Semenova 2020), so the average is valid even
    when monotonicity holds only scenario by scenario. Summing the terms with bootstrap weights
    gives resampled bounds without recomputing per-scenario values.
    """
    e0a, p0a, e1a, p1a = (np.asarray(x, dtype=float) for x in (e0, p0, e1, p1))
    pi = np.minimum(e0a, e1a)
    lo, hi = lee_bounds_arrays(e0a, p0a, e1a, p1a)
    ok = (pi > 0) & ~np.isnan(lo)
    pi = np.where(ok, pi, 0.0)
    diff = np.where(ok, p1a - p0a, 0.0)
    return pi, np.where(ok, pi * lo, 0.0), np.where(ok, pi * hi, 0.0), pi * diff


def scenario_lee_bounds(
    e0: ArrayLike, p0: ArrayLike, e1: ArrayLike, p1: ArrayLike
) -> ScenarioBounds:
    """Lee bounds within each scenario, averaged with weights π_s = min(ē_s(0), ē_s(1)).

    Lee (2009) with covariates; the scenario acts as the covariate, so the bounds are narrower
    than the pooled ones and still valid (statistics.md §2e). With one epoch engagement is 0/1 and
    the average reduces to the both-engaged paired difference (it then assumes deterministic
    engagement per scenario). Small-K plug-ins bias the min/max inward.

    Raises:
        ValueError: the arrays differ in length, or hold a share outside [0, 1] (NaN IC rates
            mark scenarios without engaged responses).
    """
    checks.same_length(
        e0=checks.array("e0", e0, unit=True),
        p0=checks.array("p0", p0, unit=True, nan_ok=True),
        e1=checks.array("e1", e1, unit=True),
        p1=checks.array("p1", p1, unit=True, nan_ok=True),
    )
    pi, lo, hi, diff = scenario_bound_terms(e0, p0, e1, p1)
    total = float(pi.sum())
    n = len(pi)
    if total <= 0:
        return ScenarioBounds(math.nan, math.nan, 0.0, 0, math.nan)
    return ScenarioBounds(
        float(lo.sum() / total),
        float(hi.sum() / total),
        total / n if n else math.nan,
        int((pi > 0).sum()),
        float(diff.sum() / total),
    )


def defier_bounds(
    e0: float, p0: float, e1: float, p1: float, max_defier_share: float
) -> tuple[float, float]:
    """Zhang–Rubin SACE bounds when up to ``max_defier_share`` of slots violate monotonicity.

    Without monotonicity π_EE is only bounded; with a defier share ≤ δ, π_EE ≥ min(e0, e1) − δ
    (and ≥ e0 + e1 − 1, ≥ 0). For a feasible π, E[Y(z) | EE] ∈ [max(0, (p_z − (1 − π/e_z))/(π/e_z)),
    min(1, p_z·e_z/π)]; the union over π is attained at the smallest π. δ = 0 gives Lee's bounds;
    a smallest π of 0 gives [−1, 1].
    """
    _arms(e0, p0, e1, p1)
    checks.proportion("max_defier_share", max_defier_share)
    if min(e0, e1) <= 0 or math.isnan(p0) or math.isnan(p1):
        return (math.nan, math.nan)
    pi = max(0.0, e0 + e1 - 1, min(e0, e1) - max_defier_share)
    if pi <= 0:
        return (-1.0, 1.0)

    def arm(e: float, p: float) -> tuple[float, float]:
        q = pi / e
        return max(0.0, (p - (1 - q)) / q), min(1.0, p / q)

    lo0, hi0 = arm(e0, p0)
    lo1, hi1 = arm(e1, p1)
    return (max(-1.0, lo1 - hi0), min(1.0, hi1 - lo0))


def manski_bounds(ir0: float, r0: float, ir1: float, r1: float) -> tuple[float, float]:
    """Worst-case bounds on the forced-engagement effect (Manski 1990; Horowitz & Manski 2000).

    A refused slot's latent IC is unknown in [0, 1], so E[Y*(z)] ∈ [IR_z, IR_z + r_z] and the
    effect lies in [ΔIR − r0, ΔIR + r1]; width r0 + r1 regardless of sample size.

    Raises:
        ValueError: a rate outside [0, 1], or IR + refusal above 1 in an arm.
    """
    for name, ir, r in (("0", ir0, r0), ("1", ir1, r1)):
        checks.proportion(f"ir{name}", ir)
        checks.proportion(f"r{name}", r)
        checks.at_most(f"ir{name} + r{name}", ir + r, "1 (IC and refusal exclude each other)", 1.0)
    d = ir1 - ir0
    return (d - r0, d + r1)


@dataclass(frozen=True)
class TippingPoint:
    """Where the SACE changes sign, in terms of the unidentified stratum's IC rate.

    Attributes:
        value: ΔIR/Δe. If treatment lowered engagement: SACE < 0 iff the newly refused stratum's
            baseline IC rate is below ``value``. If it raised engagement: SACE < 0 iff the newly
            engaged stratum's treatment IC rate is above ``value``.
        stratum: Which stratum the value refers to.
        sign_identified: True when ``value`` lies outside [0, 1], so the data alone fix the sign.
    """

    value: float
    stratum: str
    sign_identified: bool


def tipping_point(ir0: float, e0: float, ir1: float, e1: float) -> TippingPoint:
    """Tipping point of the SACE sign (statistics.md §2e): (IR0 − e1·p1)/(e0 − e1) = ΔIR/Δe.

    Raises:
        ValueError: a rate outside [0, 1], or an arm's IR above its engagement share.
    """
    for name, ir, e in (("0", ir0, e0), ("1", ir1, e1)):
        checks.proportion(f"ir{name}", ir)
        checks.proportion(f"e{name}", e)
        checks.at_most(f"ir{name}", ir, f"e{name} (IC needs engagement)", e)
    if e0 == e1:
        return TippingPoint(math.nan, "none (engagement unchanged)", False)
    value = (ir1 - ir0) / (e1 - e0)
    stratum = (
        "baseline IC rate of the newly refused (engaged at baseline only)"
        if e1 < e0
        else "treatment IC rate of the newly engaged (engaged under treatment only)"
    )
    return TippingPoint(value, stratum, not (0.0 <= value <= 1.0))


def imbens_manski_interval(
    lower: float, upper: float, se_lower: float, se_upper: float, confidence: float = 0.95
) -> tuple[ConfidenceInterval, float]:
    """Imbens & Manski (2004) CI for a partially identified parameter; returns (CI, c).

    c solves Φ(c + (U − L)/max(SE_L, SE_U)) − Φ(−c) = confidence, so c moves from z_{1−α/2}
    (point identification) to z_{1−α} (wide sets). The CI is [L − c·SE_L, U + c·SE_U], clipped to
    [−1, 1]. NaN bounds or SEs (not identified) give a NaN interval.

    Raises:
        ValueError: ``lower`` > ``upper``, a negative SE, or ``confidence`` not in (0, 1).
    """
    checks.size("se_lower", se_lower, nan_ok=True)
    checks.size("se_upper", se_upper, nan_ok=True)
    checks.open_unit("confidence", confidence)
    if float(lower) > float(upper):
        raise ValueError(f"lower = {lower!r} exceeds upper = {upper!r}")
    if any(math.isnan(x) for x in (lower, upper, se_lower, se_upper)):
        return ConfidenceInterval(math.nan, math.nan), math.nan
    s = max(se_lower, se_upper)
    if s <= 0:
        return ConfidenceInterval(lower, upper), 0.0
    width = max(upper - lower, 0.0) / s

    def f(c: float) -> float:
        return float(sps.norm.cdf(c + width) - sps.norm.cdf(-c) - confidence)

    c = float(optimize.brentq(f, 0.0, 10.0))
    return (
        ConfidenceInterval(max(-1.0, lower - c * se_lower), min(1.0, upper + c * se_upper)),
        c,
    )


@dataclass(frozen=True)
class Decomposition:
    """Split of ΔIR = e1·p1 − e0·p0 into a refusal-shift part and an engaged-behaviour part.

    Descriptive (Kitagawa 1955; Das Gupta 1993): Δp compares different engaged populations.
    Order A (Δe·p0 + Δp·e1) equals the causal split under principal ignorability.

    Attributes:
        total: ΔIR.
        refusal_part: Symmetric (Shapley) part (e1 − e0)·(p0 + p1)/2.
        behaviour_part: Symmetric part (p1 − p0)·(e0 + e1)/2.
        order_a: (Δe·p0, Δp·e1).
        order_b: (Δe·p1, Δp·e0).
    """

    total: float
    refusal_part: float
    behaviour_part: float
    order_a: tuple[float, float]
    order_b: tuple[float, float]


def decompose_arrays(
    e0: ArrayLike, p0: ArrayLike, e1: ArrayLike, p1: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Vectorised symmetric decomposition: (refusal part, behaviour part)."""
    e0a, p0a, e1a, p1a = (np.asarray(x, dtype=float) for x in (e0, p0, e1, p1))
    return (e1a - e0a) * (p0a + p1a) / 2, (p1a - p0a) * (e0a + e1a) / 2


def decompose(e0: float, p0: float, e1: float, p1: float) -> Decomposition:
    """Kitagawa/Shapley decomposition of ΔIR with both sequential orders (statistics.md §2f).

    Raises:
        ValueError: a share outside [0, 1] (NaN IC rates, for an arm without engaged responses,
            propagate).
    """
    _arms(e0, p0, e1, p1)
    de, dp = e1 - e0, p1 - p0
    refusal, behaviour = decompose_arrays(e0, p0, e1, p1)
    return Decomposition(
        total=e1 * p1 - e0 * p0,
        refusal_part=float(refusal),
        behaviour_part=float(behaviour),
        order_a=(de * p0, dp * e1),
        order_b=(de * p1, dp * e0),
    )
