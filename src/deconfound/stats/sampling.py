"""Drawing a gold-label sample, and how large it must be.

A careful reader's time is the scarce resource, so the sample is stratified (condition × judge
label, and whether the judges disagree) and strata where the judge is likely wrong are
over-sampled. Over-sampling is harmless as long as each item's inclusion probability is kept:
the PPI estimators weight gold items by 1/π (Horvitz & Thompson 1952; Cochran 1977 ch. 5).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps


@dataclass(frozen=True)
class StratifiedSample:
    """A stratified simple random sample without replacement.

    Attributes:
        index: Positions of the sampled items in the population, in random order.
        inclusion_probability: π_i = n_h/N_h of each sampled item (aligned with ``index``).
        stratum: Stratum of each sampled item (aligned with ``index``).
        allocation: ``{stratum: (n_h, N_h)}``.
    """

    index: NDArray[np.int64]
    inclusion_probability: NDArray[np.float64]
    stratum: tuple[str, ...]
    allocation: dict[str, tuple[int, int]]


def _allocate(sizes: dict[str, int], boost: dict[str, float], n: int, floor: int) -> dict[str, int]:
    """Allocation of n over strata ∝ N_h·boost_h, each between min(floor, N_h) and N_h.

    Strata whose proportional share falls outside those limits are fixed at the limit and the
    rest re-shared; the final integers come from largest remainders (Hamilton's method).
    """
    low = {h: min(floor, size) for h, size in sizes.items()}
    fixed: dict[str, int] = {}
    while True:
        free = [h for h in sizes if h not in fixed]
        left = n - sum(fixed.values())
        total = sum(sizes[h] * boost[h] for h in free)
        if not free or total <= 0:
            break
        share = {h: left * sizes[h] * boost[h] / total for h in free}
        over = [h for h in free if share[h] > sizes[h]]
        under = [h for h in free if share[h] < low[h]]
        if not over and not under:
            alloc = {h: math.floor(share[h]) for h in free}
            rest = left - sum(alloc.values())
            order = sorted(free, key=lambda k: (-(share[k] - math.floor(share[k])), k))
            for h in order[:rest]:
                alloc[h] += 1
            return {**fixed, **alloc}
        for h in over:
            fixed[h] = sizes[h]
        for h in under:
            fixed[h] = low[h]
    return {h: fixed.get(h, 0) for h in sizes}


def stratified_sample(
    strata: Sequence[str],
    n: int,
    *,
    seed: int | None = 0,
    oversample: Mapping[str, float] | None = None,
    min_per_stratum: int = 2,
) -> StratifiedSample:
    """Draw n items stratified by ``strata``, allocation ∝ N_h × oversample factor.

    Args:
        strata: Stratum of each population item.
        n: Sample size; capped at the population size.
        seed: Random seed (the same seed and population give the same sample).
        oversample: Factor per stratum (default 1); e.g. 3 for strata where judges disagree.
        min_per_stratum: Each stratum gets at least this many items (or all it has), so every
            stratum's judge error is estimable.

    Returns:
        A :class:`StratifiedSample` with the inclusion probability of every sampled item.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive whole number, got {n!r}")
    if min_per_stratum < 0:
        raise ValueError(f"min_per_stratum must be >= 0, got {min_per_stratum!r}")
    labels = np.asarray([str(s) for s in strata])
    if len(labels) == 0:
        raise ValueError("strata is empty: there is nothing to sample")
    names, codes = np.unique(labels, return_inverse=True)
    sizes = {str(h): int(c) for h, c in zip(names, np.bincount(codes), strict=True)}
    boost = {h: 1.0 for h in sizes}
    for h, factor in (oversample or {}).items():
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"oversample factor for {h!r} must be positive, got {factor!r}")
        if h in boost:
            boost[h] = float(factor)
    n = min(int(n), len(labels))
    floor = min_per_stratum if min_per_stratum * len(sizes) <= n else 0
    alloc = _allocate(sizes, boost, n, floor)
    rng = np.random.default_rng(seed)
    picked: list[NDArray[np.int64]] = []
    probs: list[NDArray[np.float64]] = []
    which: list[str] = []
    for i, h in enumerate(names):
        k = alloc[str(h)]
        if k == 0:
            continue
        members = np.flatnonzero(codes == i)
        take = rng.choice(members, size=k, replace=False)
        picked.append(take.astype(np.int64))
        probs.append(np.full(k, k / len(members)))
        which.extend([str(h)] * k)
    index = np.concatenate(picked)
    prob = np.concatenate(probs)
    order = rng.permutation(len(index))
    return StratifiedSample(
        index[order],
        prob[order],
        tuple(which[j] for j in order),
        {h: (alloc[h], sizes[h]) for h in sizes},
    )


@dataclass(frozen=True)
class GoldPlan:
    """How many gold labels give a target CI half-width, for PPI and for gold labels alone.

    Attributes:
        estimand: Name of the estimand.
        half_width: Target 95% CI half-width.
        n_ppi: Gold labels needed with PPI (None when the judge's own sampling noise already
            exceeds the target: more scenarios are needed, not more gold).
        n_gold_only: Gold labels needed without the judge.
        assumption: The error rate assumed for the judge and where it came from.
    """

    estimand: str
    half_width: float
    n_ppi: int | None
    n_gold_only: int
    assumption: str


def plan_gold_sample(
    *,
    estimand: str,
    half_widths: Sequence[float],
    judge_variance: float,
    outcome_variance: float,
    judge_error_rate: float,
    share: float = 1.0,
    n_arms: int = 2,
    design_effect: float = 1.0,
    error_source: str = "",
    confidence: float = 0.95,
) -> list[GoldPlan]:
    """Gold sample sizes for target half-widths (a planning approximation, not a guarantee).

    With λ = 1, Var(PPI) ≈ V_judge + Σ_arms Var(y − f)/n_arm (Angelopoulos et al. 2023), and a
    binary judge error makes Var(y − f) ≤ P(y ≠ f) = e. A gold sample split evenly over
    ``n_arms`` conditions then needs n = n_arms²·e/(share·((h/z)² − V_judge)) labels, where
    ``share`` is the fraction of items in the estimand's denominator (the engaged share for IC
    among engaged). Gold-only needs n = n_arms²·σ²·deff/(share·(h/z)²).

    Args:
        estimand: Name, for the output.
        half_widths: Target half-widths (proportions, e.g. 0.05).
        judge_variance: Sampling variance of the judge-only estimate (scenario-clustered).
        outcome_variance: Per-item variance of the outcome (p(1−p) for a proportion).
        judge_error_rate: Assumed P(judge ≠ gold), e.g. observed judge disagreement.
        share: Fraction of items in the estimand's denominator.
        n_arms: Conditions the gold sample is split over (2 for a paired difference).
        design_effect: Clustering design effect for the gold-only estimate.
        error_source: Where the error rate came from (stated in the assumption).
        confidence: Two-sided level.
    """
    if not 0 <= judge_error_rate <= 1:
        raise ValueError(f"judge_error_rate must be in [0, 1], got {judge_error_rate!r}")
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    if judge_variance < 0 or outcome_variance < 0:
        raise ValueError("variances must be non-negative")
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    source = f" ({error_source})" if error_source else ""
    out = []
    for h in half_widths:
        if not h > 0:
            raise ValueError(f"half-width must be positive, got {h!r}")
        budget = (h / z) ** 2
        k = n_arms**2 / share
        room = budget - judge_variance
        n_ppi = math.ceil(k * judge_error_rate / room) if room > 0 else None
        n_gold = math.ceil(k * outcome_variance * design_effect / budget)
        if n_ppi is not None:
            n_ppi = min(max(n_ppi, 2 * n_arms), n_gold)
        out.append(
            GoldPlan(
                estimand,
                float(h),
                n_ppi,
                n_gold,
                f"judge error rate {judge_error_rate:.3f}{source}",
            )
        )
    return out


#: Over-sampling factor for strata where the judges disagree (their labels are least certain).
DISAGREEMENT_OVERSAMPLE = 3.0


def label_strata(
    condition: Sequence[str],
    judge_label: Sequence[str] | None = None,
    disagree: Sequence[bool] | None = None,
) -> tuple[list[str], dict[str, float]]:
    """Stratum keys (condition × judge label × judges disagree) and over-sampling factors.

    The keys name conditions, so they belong in the key file kept beside a labelling page, never
    in the page. Strata where judges disagree are over-sampled by ``DISAGREEMENT_OVERSAMPLE``.
    """
    n = len(condition)
    for name, seq in (("judge_label", judge_label), ("disagree", disagree)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"{name} has {len(seq)} entries, expected {n}")
    keys = []
    boost: dict[str, float] = {}
    for i in range(n):
        parts = [str(condition[i])]
        if judge_label is not None:
            parts.append(str(judge_label[i]))
        if disagree is not None:
            parts.append("judges disagree" if disagree[i] else "judges agree")
        key = " | ".join(parts)
        keys.append(key)
        if disagree is not None and disagree[i]:
            boost[key] = DISAGREEMENT_OVERSAMPLE
    return keys, boost
