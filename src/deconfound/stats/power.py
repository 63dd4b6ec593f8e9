"""Power and minimum detectable effects for a scenario-paired design (statistics.md §2i, §3).

With 76 scenarios the detectable change in IR is large (about 8–12 pp paired); a non-significant
result must be reported with its MDE, not read as "no effect" (Card et al. 2020).
"""

from __future__ import annotations

import math

from scipy import optimize
from scipy import stats as sps

from deconfound.stats import checks


def _levels(alpha: float, power: float) -> None:
    checks.open_unit("alpha", alpha)
    checks.open_unit("power", power)


def z_sum(alpha: float = 0.05, power: float = 0.80) -> float:
    """z_{1−α/2} + z_{power} (2.802 for the usual 0.05 / 0.80)."""
    _levels(alpha, power)
    return float(sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power))


def paired_mde(sd_diff: float, n: int, alpha: float = 0.05, power: float = 0.80) -> float:
    """MDE of a mean paired scenario difference: (z_{α/2}+z_β)·SD(d)/√N (Miller 2024 §5).

    A NaN ``sd_diff`` (fewer than two scenarios) gives NaN. Raises ValueError for a negative SD
    or size.
    """
    checks.size("sd_diff", sd_diff, nan_ok=True)
    checks.size("n", n)
    if n <= 0:
        return math.nan
    return z_sum(alpha, power) * sd_diff / math.sqrt(n)


def mcnemar_sample_size(
    delta: float, psi: float, alpha: float = 0.05, power: float = 0.80
) -> float:
    """Pairs needed for McNemar's test (Connor 1987): [z_{α/2}√ψ + z_β√(ψ − δ²)]²/δ², δ ≤ ψ.

    ψ is the discordant share p10 + p01 and δ the difference p01 − p10.
    """
    checks.difference("delta", delta)
    checks.proportion("psi", psi)
    _levels(alpha, power)
    if not 0 < abs(delta) <= psi:
        return math.nan
    za = float(sps.norm.ppf(1 - alpha / 2))
    zb = float(sps.norm.ppf(power))
    return float((za * math.sqrt(psi) + zb * math.sqrt(psi - delta**2)) ** 2 / delta**2)


def mcnemar_mde(psi: float, n: float, alpha: float = 0.05, power: float = 0.80) -> float:
    """Smallest δ ≤ ψ that McNemar detects with ``n`` pairs at discordant share ψ (Connor 1987)."""
    checks.proportion("psi", psi)
    checks.size("n", n)
    _levels(alpha, power)
    if n <= 0 or psi <= 0:
        return math.nan
    if mcnemar_sample_size(psi, psi, alpha, power) > n:
        return math.nan
    return float(
        optimize.brentq(lambda d: mcnemar_sample_size(d, psi, alpha, power) - n, 1e-9, psi)
    )


def unpaired_power(p0: float, p1: float, n0: float, n1: float, alpha: float = 0.05) -> float:
    """Power of the two-sided pooled-variance z-test of two independent proportions (Fleiss)."""
    checks.proportion("p0", p0)
    checks.proportion("p1", p1)
    checks.size("n0", n0)
    checks.size("n1", n1)
    checks.open_unit("alpha", alpha)
    if n0 <= 0 or n1 <= 0:
        return math.nan
    pbar = (n0 * p0 + n1 * p1) / (n0 + n1)
    se0 = math.sqrt(pbar * (1 - pbar) * (1 / n0 + 1 / n1))
    se1 = math.sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1)
    if se1 == 0:
        return 1.0 if p0 != p1 else alpha
    z = float(sps.norm.ppf(1 - alpha / 2))
    d = abs(p1 - p0)
    return float(sps.norm.cdf((d - z * se0) / se1) + sps.norm.cdf((-d - z * se0) / se1))


def unpaired_mde(
    p0: float,
    n0: float,
    n1: float,
    *,
    increase: bool,
    alpha: float = 0.05,
    power: float = 0.80,
) -> float:
    """Smallest change from ``p0`` (up if ``increase``) with the target power, unpaired."""
    checks.proportion("p0", p0)
    checks.size("n0", n0)
    checks.size("n1", n1)
    _levels(alpha, power)
    room = (1 - p0) if increase else p0
    if room <= 0 or n0 <= 0 or n1 <= 0:
        return math.nan
    sign = 1.0 if increase else -1.0

    def gap(d: float) -> float:
        return unpaired_power(p0, p0 + sign * d, n0, n1, alpha) - power

    if gap(room) < 0:
        return math.nan
    return float(optimize.brentq(gap, 1e-9, room))


def paired_mde_binary(
    p0: float,
    n: int,
    rho: float,
    *,
    increase: bool = False,
    alpha: float = 0.05,
    power: float = 0.80,
) -> float:
    """Paired MDE for a proportion at correlation ρ between the arms' scenario outcomes.

    Solves δ = (z_{α/2}+z_β)·√((v0 + v1 − 2ρ√(v0·v1))/N) with v = p(1−p) and p1 = p0 ± δ.
    """
    checks.proportion("p0", p0)
    checks.size("n", n)
    if not -1 <= checks.size("rho", rho, minimum=-1) <= 1:
        raise ValueError(f"rho must be a correlation in [-1, 1], got {rho!r}")
    _levels(alpha, power)
    room = (1 - p0) if increase else p0
    if room <= 0 or n <= 0:
        return math.nan
    k = z_sum(alpha, power)
    sign = 1.0 if increase else -1.0
    v0 = p0 * (1 - p0)

    def gap(d: float) -> float:
        p1 = p0 + sign * d
        v1 = p1 * (1 - p1)
        var = max(v0 + v1 - 2 * rho * math.sqrt(v0 * v1), 0.0)
        return d - k * math.sqrt(var / n)

    if gap(room) < 0:
        return math.nan
    return float(optimize.brentq(gap, 1e-9, room))


def epoch_mde_multiplier(icc: float, k: int) -> float:
    """MDE multiplier √(ICC + (1 − ICC)/K) from K epochs; it saturates at √ICC."""
    checks.proportion("icc", icc)
    if checks.count("k", k) < 1:
        raise ValueError(f"k must be at least 1 epoch, got {k}")
    return math.sqrt(icc + (1 - icc) / k)
