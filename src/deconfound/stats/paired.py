"""Paired tests on scenarios: McNemar (exact and mid-p), Bonett–Price CI, sign-flip permutation.

The same scenarios run under every condition, so comparisons are paired by scenario (statistics.md
§2d, §2g). With one epoch the outcome per scenario is binary and McNemar applies; with several,
the per-scenario mean differences are tested by flipping their signs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from deconfound.stats import checks
from deconfound.stats.intervals import ConfidenceInterval


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test on the discordant pairs of a paired 2×2 table.

    Attributes:
        statistic: Discordant count c − b (treatment-only minus baseline-only successes).
        pvalue: Two-sided mid-p value (Fagerland, Lydersen & Laake 2013).
        pvalue_exact: Two-sided exact conditional p value (McNemar 1947).
        b: Pairs positive at baseline only.
        c: Pairs positive under treatment only.
        method: Name of the test.
    """

    statistic: int
    pvalue: float
    pvalue_exact: float
    b: int
    c: int
    method: str = "McNemar mid-p (exact conditional binomial minus half the point probability)"


def mcnemar_midp(b: int, c: int) -> McNemarResult:
    """Exact and mid-p McNemar tests from the discordant counts ``b`` and ``c``.

    Exact: p = min(1, 2·BinomCDF(min(b, c); b+c, ½)). Mid-p subtracts BinomPMF(min(b, c)); it is
    closer to nominal size than the exact test, which is conservative (Fagerland et al. 2013).

    Raises:
        ValueError: ``b`` or ``c`` is not a non-negative integer count.
    """
    b, c = checks.count("b", b), checks.count("c", c)
    n = b + c
    if n == 0:
        return McNemarResult(0, 1.0, 1.0, b, c)
    k = min(b, c)
    cdf = float(sps.binom.cdf(k, n, 0.5))
    pmf = float(sps.binom.pmf(k, n, 0.5))
    exact = min(1.0, 2 * cdf)
    midp = min(1.0, 2 * cdf - pmf)
    return McNemarResult(c - b, midp, exact, b, c)


def bonett_price_interval(b: int, c: int, n: int, confidence: float = 0.95) -> ConfidenceInterval:
    """Bonett & Price (2012) adjusted-Wald CI for a paired difference of proportions (c − b)/n.

    Adds one pseudo-count to each discordant cell: p̃_b = (b+1)/(n+2), p̃_c = (c+1)/(n+2),
    CI = (p̃_c − p̃_b) ± z·√((p̃_b + p̃_c − (p̃_c − p̃_b)²)/(n+2)).

    Raises:
        ValueError: a count is negative or not an integer, ``n`` < 1, ``b + c`` > ``n`` (b and c
            are the discordant pairs among the n pairs), or ``confidence`` is not in (0, 1).

    References:
        Bonett, D. G. & Price, R. M. (2012). Adjusted Wald confidence interval for a difference of
        binomial proportions based on paired data. J. Educ. Behav. Stat. 37(4), 479–488.
    """
    b, c, n = checks.count("b", b), checks.count("c", c), checks.count("n", n)
    if n < 1:
        raise ValueError(f"n must be at least 1 pair, got {n}")
    if b + c > n:
        raise ValueError(
            f"b + c = {b + c} discordant pairs exceed n = {n} pairs (b and c count the pairs "
            "positive under one condition only; n counts all pairs)"
        )
    checks.open_unit("confidence", confidence)
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    pb = (b + 1) / (n + 2)
    pc = (c + 1) / (n + 2)
    diff = pc - pb
    half = z * math.sqrt(max(pb + pc - diff**2, 0.0) / (n + 2))
    return ConfidenceInterval(max(-1.0, diff - half), min(1.0, diff + half))


_NORMAL_METHOD = (
    "sign-flip permutation test on scenario mean differences, normal approximation to its "
    "randomisation distribution (more than 1000 scenarios)"
)


@dataclass(frozen=True)
class SignFlipResult:
    """Sign-flip permutation test of a zero mean of paired scenario differences.

    Attributes:
        statistic: Observed mean difference.
        pvalue: Two-sided p value.
        n_resamples: Sign patterns used (2^N when enumerated exactly).
        exact: Whether all sign patterns were enumerated.
        method: Name of the test.
    """

    statistic: float
    pvalue: float
    n_resamples: int
    exact: bool
    method: str = "sign-flip permutation test on scenario mean differences"


_EXACT_MAX_N = 14
#: Above this many non-zero differences the randomisation distribution is replaced by its normal
#: approximation (a sum of independent ±d_s; Lyapunov CLT), which is accurate far below it.
_NORMAL_MIN_N = 1000
_CHUNK = 512


def sign_flip_test(
    differences: ArrayLike, *, n_resamples: int = 10_000, seed: int = 0
) -> SignFlipResult:
    """Two-sided sign-flip permutation test (statistics.md §2g).

    Under the null that condition labels are exchangeable within a scenario, each scenario's
    difference d_s is equally likely to carry either sign. T = mean(d); Monte Carlo p =
    (1 + #{|T*| ≥ |T|})/(1 + B); with at most 14 non-zero differences all patterns are enumerated
    and p is exact; above 1,000 the randomisation distribution's normal approximation
    z = Σd/√(Σd²) is used. Zero differences carry no information and do not change T*'s
    distribution.
    """
    d = checks.array("differences", differences, nan_ok=True)
    return sign_flip_tests(d[:, None], n_resamples=n_resamples, seed=seed)[0]


def sign_flip_tests(
    differences: ArrayLike, *, n_resamples: int = 10_000, seed: int = 0
) -> list[SignFlipResult]:
    """Several sign-flip tests on one scenario set, sharing one stream of random signs.

    ``differences`` is an (N scenarios × T tests) matrix; NaN marks a scenario outside a test.
    One pass draws the B × N sign matrix in blocks and multiplies it by all T columns at once, so
    T tests cost about as much as one (each test is valid on its own; their p values are not
    independent, which no multiplicity correction here assumes).
    """
    mat = np.asarray(differences, dtype=float)
    if mat.ndim != 2:
        raise ValueError(f"differences must be an (N x T) matrix, got shape {mat.shape}")
    if checks.count("n_resamples", n_resamples) < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    inside = ~np.isnan(mat)
    filled = np.where(inside, mat, 0.0)
    n_in = inside.sum(axis=0)
    sums = filled.sum(axis=0)
    scale = np.maximum(1.0, np.abs(filled).sum(axis=0))
    tol = 1e-9 * scale
    nonzero = (filled != 0).sum(axis=0)
    results: list[SignFlipResult | None] = [None] * mat.shape[1]
    mc_list: list[int] = []
    for j in range(mat.shape[1]):
        t_obs = float(sums[j] / n_in[j]) if n_in[j] else math.nan
        if n_in[j] == 0 or nonzero[j] == 0:
            results[j] = SignFlipResult(t_obs, 1.0, 1, True)
        elif nonzero[j] <= _EXACT_MAX_N:
            nz = filled[filled[:, j] != 0, j]
            signs = np.array(list(itertools.product((-1.0, 1.0), repeat=len(nz))))
            hits = np.abs(signs @ nz) >= abs(sums[j]) - tol[j]
            results[j] = SignFlipResult(t_obs, float(hits.mean()), len(signs), True)
        elif nonzero[j] > _NORMAL_MIN_N:
            z = abs(sums[j]) / math.sqrt(float((filled[:, j] ** 2).sum()))
            p = float(2 * sps.norm.sf(z))
            results[j] = SignFlipResult(t_obs, p, 0, False, _NORMAL_METHOD)
        else:
            mc_list.append(j)
    mc_cols = np.array(mc_list, dtype=np.intp)
    if len(mc_cols):
        rows = np.flatnonzero((filled[:, mc_cols] != 0).any(axis=1))
        sub = filled[np.ix_(rows, mc_cols)]
        target = np.abs(sums[mc_cols]) - tol[mc_cols]
        rng = np.random.default_rng(seed)
        hits_mc = np.zeros(len(mc_cols))
        step = max(1, min(_CHUNK, 4_000_000 // max(1, len(rows))))
        done = 0
        while done < n_resamples:
            size = min(step, n_resamples - done)
            signs = np.where(rng.random((size, len(rows))) < 0.5, -1.0, 1.0)
            hits_mc += (np.abs(signs @ sub) >= target).sum(axis=0)
            done += size
        for k, j in enumerate(mc_cols):
            p = (1 + hits_mc[k]) / (1 + n_resamples)
            results[j] = SignFlipResult(float(sums[j] / n_in[j]), float(p), n_resamples, False)
    return [r for r in results if r is not None]
