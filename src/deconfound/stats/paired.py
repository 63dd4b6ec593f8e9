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
    """
    b, c = int(b), int(c)
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
    """
    if n <= 0:
        return ConfidenceInterval(math.nan, math.nan)
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    pb = (b + 1) / (n + 2)
    pc = (c + 1) / (n + 2)
    diff = pc - pb
    half = z * math.sqrt(max(pb + pc - diff**2, 0.0) / (n + 2))
    return ConfidenceInterval(max(-1.0, diff - half), min(1.0, diff + half))


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
_CHUNK = 512


def sign_flip_test(
    differences: ArrayLike, *, n_resamples: int = 10_000, seed: int = 0
) -> SignFlipResult:
    """Two-sided sign-flip permutation test (statistics.md §2g).

    Under the null that condition labels are exchangeable within a scenario, each scenario's
    difference d_s is equally likely to carry either sign. T = mean(d); Monte Carlo p =
    (1 + #{|T*| ≥ |T|})/(1 + B); with at most 14 non-zero differences all patterns are enumerated
    and p is exact. Zero differences carry no information and do not change T*'s distribution.
    """
    d = np.asarray(differences, dtype=float)
    n = len(d)
    if n == 0:
        return SignFlipResult(math.nan, 1.0, 0, True)
    t_obs = float(d.mean())
    nz = d[d != 0]
    tol = 1e-12 * max(1.0, float(np.abs(d).max()))
    if len(nz) == 0:
        return SignFlipResult(t_obs, 1.0, 1, True)
    if len(nz) <= _EXACT_MAX_N:
        signs = np.array(list(itertools.product((-1.0, 1.0), repeat=len(nz))))
        t_star = np.abs(signs @ nz) / n
        p = float((t_star >= abs(t_obs) - tol).mean())
        return SignFlipResult(t_obs, p, len(signs), True)
    rng = np.random.default_rng(seed)
    hits = 0
    done = 0
    while done < n_resamples:
        size = min(_CHUNK, n_resamples - done)
        signs = rng.integers(0, 2, size=(size, len(nz)), dtype=np.int8) * 2 - 1
        t_star = np.abs(signs @ nz) / n
        hits += int((t_star >= abs(t_obs) - tol).sum())
        done += size
    return SignFlipResult(t_obs, (1 + hits) / (1 + n_resamples), n_resamples, False)
