"""Correcting a prevalence for judge error (Rogan & Gladen 1978; Greenland 1988).

Keyword and LLM judges misclassify. Given a judge's sensitivity and specificity measured on a
human-labelled set, the true prevalence is recovered from the observed one; with the same Se/Sp in
both arms a difference is only attenuated by J = Se + Sp − 1 (statistics.md §2h).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from deconfound.stats import checks
from deconfound.stats.calibration import JudgeRates
from deconfound.stats.intervals import ConfidenceInterval


@dataclass(frozen=True)
class RoganGladenResult:
    """A prevalence corrected for misclassification.

    Attributes:
        estimate: π̂ = (p̂ + Sp − 1)/(Se + Sp − 1), clipped to [0, 1].
        se: Delta-method SE including the uncertainty of Se and Sp (Greenland 1988).
        ci: Wald interval on π̂ clipped to [0, 1] (Lang & Reiczigel 2014 cover better).
        raw: The observed prevalence p̂.
        youden: J = Se + Sp − 1.
        method: Name of the method.
    """

    estimate: float
    se: float
    ci: ConfidenceInterval
    raw: float
    youden: float
    method: str = "Rogan-Gladen with delta-method SE (Greenland 1988)"


def rogan_gladen(
    p_obs: float,
    n: float,
    sensitivity: float,
    specificity: float,
    n_pos: float | None = None,
    n_neg: float | None = None,
    confidence: float = 0.95,
) -> RoganGladenResult:
    """Rogan–Gladen corrected prevalence with its delta-method SE.

    Var(π̂) ≈ [p̂(1−p̂)/n + π̂²·Se(1−Se)/n_pos + (1−π̂)²·Sp(1−Sp)/n_neg]/J². ``n`` should be an
    effective sample size when responses are clustered. Without ``n_pos``/``n_neg`` Se and Sp are
    treated as known.

    Raises:
        ValueError: a rate outside [0, 1], a negative size, ``confidence`` not in (0, 1), or
            J = Se + Sp − 1 ≤ 0 (the judge is no better than chance: nothing to correct with).

    References:
        Rogan, W. J. & Gladen, B. (1978). Estimating prevalence from the results of a screening
        test. Am. J. Epidemiol. 107(1), 71–76.
    """
    checks.proportion("p_obs", p_obs)
    checks.size("n", n)
    checks.proportion("sensitivity", sensitivity)
    checks.proportion("specificity", specificity)
    if n_pos is not None:
        checks.size("n_pos", n_pos)
    if n_neg is not None:
        checks.size("n_neg", n_neg)
    checks.open_unit("confidence", confidence)
    j = sensitivity + specificity - 1
    if j <= 0:
        raise ValueError(f"Se + Sp − 1 = {j:.3f} ≤ 0: the judge does not separate the classes")
    pi = min(1.0, max(0.0, (p_obs + specificity - 1) / j))
    var = p_obs * (1 - p_obs) / n if n > 0 else math.nan
    if n_pos:
        var += pi**2 * sensitivity * (1 - sensitivity) / n_pos
    if n_neg:
        var += (1 - pi) ** 2 * specificity * (1 - specificity) / n_neg
    se = math.sqrt(var) / j
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    ci = ConfidenceInterval(max(0.0, pi - z * se), min(1.0, pi + z * se))
    return RoganGladenResult(pi, se, ci, p_obs, j)


def rogan_gladen_replicates(
    p_boot: ArrayLike, rates: JudgeRates, *, seed: int | None = 0
) -> NDArray[np.float64]:
    """Rogan–Gladen corrected prevalence for each bootstrap replicate of the observed one.

    Each replicate pairs a resampled observed prevalence (from the scenario cluster bootstrap)
    with Se and Sp redrawn from their gold counts (parametric bootstrap: Binomial(n_pos, Se)/n_pos
    and Binomial(n_neg, Sp)/n_neg), so the interval carries both sampling errors without the
    delta method's symmetric Wald shape, which covers badly near 0 and 1 (Lang & Reiczigel 2014).
    Replicates whose redrawn Se + Sp ≤ 1 are undefined (NaN). Sharing ``seed`` across two arms
    calibrated by the same gold set keeps their Se/Sp draws identical, as they should be.

    ``rates`` must carry its gold counts (``n_pos``, ``n_neg``: whole numbers ≥ 1): without them
    there is nothing to redraw Se and Sp from.
    """
    p = np.asarray(p_boot, dtype=float)
    sensitivity, specificity = rates.sensitivity, rates.specificity
    if not (0 <= sensitivity <= 1 and 0 <= specificity <= 1):
        raise ValueError("sensitivity and specificity must be in [0, 1]")
    for name, v in (("n_pos", rates.n_pos), ("n_neg", rates.n_neg)):
        if v is None or isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive whole number, got {v!r}")
    n_pos, n_neg = int(rates.n_pos or 0), int(rates.n_neg or 0)
    rng = np.random.default_rng(seed)
    se = rng.binomial(n_pos, sensitivity, size=p.shape) / n_pos
    sp = rng.binomial(n_neg, specificity, size=p.shape) / n_neg
    j = se + sp - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        pi = np.where(j > 0, (p + sp - 1) / j, np.nan)
    return np.clip(pi, 0.0, 1.0)


def rogan_gladen_bootstrap(
    p_obs: float,
    p_boot: ArrayLike,
    rates: JudgeRates,
    *,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> RoganGladenResult:
    """Rogan–Gladen estimate with a percentile bootstrap interval (see the replicates)."""
    point = rogan_gladen(p_obs, 1.0, rates.sensitivity, rates.specificity)
    reps = rogan_gladen_replicates(p_boot, rates, seed=seed)
    ok = reps[~np.isnan(reps)]
    if len(ok) < 2:
        ci = ConfidenceInterval(math.nan, math.nan)
        se = math.nan
    else:
        a = (1 - confidence) / 2
        lo, hi = np.quantile(ok, [a, 1 - a])
        ci = ConfidenceInterval(float(lo), float(hi))
        se = float(ok.std(ddof=1))
    return RoganGladenResult(
        point.estimate,
        se,
        ci,
        p_obs,
        point.youden,
        "Rogan-Gladen; percentile interval from a scenario cluster bootstrap of the observed "
        "prevalence and a parametric bootstrap of Se/Sp from the gold counts",
    )
