"""Aggregate-only mode: what published arm-level numbers (IR and refusal per arm) can support.

Papers often report only IR and refusal rates per condition. From these alone the arms must be
treated as independent; the IC rate among engaged, the decomposition, Lee/Zhang–Rubin bounds with
a parametric-bootstrap Imbens–Manski CI, the defier sensitivity, Manski bounds, the tipping point
and power all follow (statistics.md §3 is the acceptance reference for this module).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from deconfound.stats.bootstrap import bootstrap_se
from deconfound.stats.bounds import (
    Decomposition,
    LeeBounds,
    decompose,
    defier_bounds,
    imbens_manski_interval,
    lee_bounds,
    lee_bounds_arrays,
    manski_bounds,
    tipping_point,
)
from deconfound.stats.calibration import JudgeRates
from deconfound.stats.contract import JsonResult, optional
from deconfound.stats.correction import rogan_gladen
from deconfound.stats.intervals import ConfidenceInterval, wilson_interval
from deconfound.stats.power import (
    epoch_mde_multiplier,
    mcnemar_mde,
    paired_mde_binary,
    unpaired_mde,
    unpaired_power,
    z_sum,
)
from deconfound.stats.results import BoundErrors, DefierBound, SplitPart

DEFIER_SHARES = (0.0, 0.01, 0.02, 0.05, 0.10, 0.15, 0.20)
CORRELATIONS = (0.0, 0.3, 0.5, 0.7)
DISCORDANT_SHARES = (0.10, 0.15, 0.20, 0.30)
#: Why the SACE bounds are NaN when an arm refuses everything.
NOT_IDENTIFIED = "not identified: an arm has no engaged responses, so no always-engager is observed"


Pair = tuple[float, float]

#: The decomposition order and the defier row are the paired analysis' own types (one definition
#: of each JSON shape); the aggregate-only names stay importable.
PartSplit = SplitPart
DefierBounds = DefierBound


@dataclass(frozen=True)
class ZTest:
    """An unpaired difference with its z test (normal approximation, arms independent)."""

    estimate: float
    se: float
    ci: Pair
    z: float
    p_value: float


@dataclass(frozen=True)
class ArmIntervals:
    """Wilson 95% intervals of an arm's rates (IC among engaged over the engaged count)."""

    ir: Pair
    refusal: Pair
    ir_engaged: Pair


@dataclass(frozen=True)
class ArmFigures:
    """One arm's rates as published and as derived (engaged share, IC among engaged)."""

    ir: float
    refusal: float
    engaged: float
    ir_engaged: float
    n: int
    n_engaged: float
    ci: ArmIntervals


@dataclass(frozen=True)
class AggregateDecomposition:
    """The symmetric (Kitagawa/Shapley) split of ΔIR and both sequential orders."""

    total: float
    refusal_part: float
    behaviour_part: float
    order_a: SplitPart
    order_b: SplitPart
    refusal_share_of_total: float
    method: str


@dataclass(frozen=True)
class BootstrapSettings:
    seed: int
    bootstrap: int


@dataclass(frozen=True)
class MeanDominance:
    """The half of the SACE bounds left under each mean-dominance assumption."""

    always_engagers_at_least_as_ic_prone: Pair
    always_engagers_at_most_as_ic_prone: Pair


@dataclass(frozen=True)
class CausalSplit:
    """ΔIR split at one value of the always-engagers' baseline IC rate."""

    baseline_ic_always_engagers: float
    baseline_ic_newly_refused: float
    behaviour_part: float
    refusal_part: float


@dataclass(frozen=True)
class ImbensManskiDetail:
    """How the Imbens–Manski interval of the SACE bounds was obtained."""

    critical_value: float
    se: BoundErrors
    union_ci: Pair
    share_resamples_same_direction: float
    n_boot: int
    method: str


@dataclass(frozen=True)
class CorrelationMde:
    correlation: float
    mde: float


@dataclass(frozen=True)
class CorrelationSampleSize:
    correlation: float
    n: float


@dataclass(frozen=True)
class DiscordantMde:
    discordant_share: float
    mde: float


@dataclass(frozen=True)
class EpochMultiplier:
    icc: float
    epochs: int
    multiplier: float


@dataclass(frozen=True)
class AggregatePower:
    """Minimum detectable effects and power at the published n (statistics.md §3)."""

    alpha: float
    target_power: float
    mde_unpaired: float
    power_observed_delta_ir_unpaired: float
    mde_paired_by_correlation: list[CorrelationMde]
    n_paired_for_observed_delta_ir: list[CorrelationSampleSize]
    mde_mcnemar_by_discordant_share: list[DiscordantMde]
    mde_refusal_unpaired: float
    mde_ir_engaged_unpaired: float
    epoch_mde_multiplier: list[EpochMultiplier]
    method: str


@dataclass(frozen=True)
class IcCorrection:
    """IC among engaged corrected for the IC judge's error (Rogan–Gladen)."""

    label: str
    sensitivity: float
    specificity: float
    baseline_ir_engaged: float
    treatment_ir_engaged: float
    ir_engaged_difference: float
    method: str


@dataclass(frozen=True, kw_only=True)
class AggregateBounds(JsonResult):
    """What arm-level aggregates support; ``to_json()`` is the ``bounds`` JSON
    (docs/analysis-json.md). NaN marks a quantity the aggregates do not identify."""

    mode: str = "aggregate"
    baseline: ArmFigures
    treatment: ArmFigures
    delta_ir: ZTest
    delta_refusal: ZTest
    ir_engaged_difference: ZTest
    decomposition: AggregateDecomposition
    sace_bounds: Pair
    sace_bounds_method: str
    trimmed_arm: str
    trimming_share: float
    principal_ignorability: float
    tipping_point: float
    tipping_point_stratum: str
    tipping_point_sign_identified: bool
    manski_bounds: Pair
    defier_sensitivity: list[DefierBound]
    settings: BootstrapSettings
    mean_dominance: MeanDominance | None = optional()
    causal_decomposition: list[CausalSplit] | None = optional()
    sace_bounds_ci: Pair
    sace_bounds_ci_detail: ImbensManskiDetail
    power: AggregatePower
    judge_correction: IcCorrection | None = optional()
    warnings: list[str]


def _z_test(d: float, se: float) -> ZTest:
    z = d / se if se > 0 else math.nan
    p = float(2 * sps.norm.sf(abs(z))) if se > 0 else math.nan
    half = 1.959963984540054 * se
    return ZTest(d, se, (d - half, d + half), z, p)


def denominator_warnings(name: str, pct: float, n: int) -> list[str]:
    """Flag a published percentage that is not k/n, suggesting a dropped or errored sample.

    Pitfall 8: 14.67 % of 76 is not an integer count, but 11/75 is exactly 14.67 %.
    """
    tol = 0.005 + 1e-9  # percentages published to two decimals
    if abs(round(pct / 100 * n) / n * 100 - pct) <= tol:
        return []
    for drop in range(1, 6):
        m = n - drop
        if m < 1:  # small n: no smaller denominator left to try
            break
        k = round(pct / 100 * m)
        if abs(k / m * 100 - pct) <= tol:
            return [
                f"{name} {pct:.2f}% is not a count out of {n} but equals {k}/{m}: a sample may "
                "have been dropped or errored; reconcile denominators before publishing"
            ]
    return [
        f"{name} {pct:.2f}% is not a count out of {n}: probably a mean over epochs or a "
        "different denominator"
    ]


def _pair(ci: ConfidenceInterval) -> Pair:
    return (ci.low, ci.high)


def _arm(ir: float, r: float, n: int) -> ArmFigures:
    e = 1 - r
    # Clipped: 0.45 / (1 - 0.55) is 1.0000000000000002 in floating point, not a probability.
    p = min(max(ir / e, 0.0), 1.0) if e > 0 else math.nan
    n_eng = e * n
    ci = ArmIntervals(
        _pair(wilson_interval(ir, n)),
        _pair(wilson_interval(r, n)),
        _pair(wilson_interval(p, n_eng)),
    )
    return ArmFigures(ir, r, e, p, n, n_eng, ci)


def _im_ci(
    ir0: float, r0: float, ir1: float, r1: float, n: int, n_boot: int, seed: int
) -> tuple[Pair, ImbensManskiDetail]:
    """Parametric bootstrap of the aggregates (arms independent) → SE(L), SE(U) → Imbens–Manski.

    With no engaged response in an arm there is no always-engager to bound: the CI is NaN and
    the method says why (the caller reports the SACE as not identified).
    """
    e0, e1 = 1 - r0, 1 - r1
    if min(e0, e1) <= 0:
        nan = math.nan
        return (nan, nan), ImbensManskiDetail(
            nan, BoundErrors(nan, nan), (nan, nan), nan, n_boot, NOT_IDENTIFIED
        )
    p0, p1 = min(ir0 / e0, 1.0), min(ir1 / e1, 1.0)
    rng = np.random.default_rng(seed)
    m0 = rng.binomial(n, e0, n_boot)
    m1 = rng.binomial(n, e1, n_boot)
    y0 = rng.binomial(m0, min(max(p0, 0.0), 1.0))
    y1 = rng.binomial(m1, min(max(p1, 0.0), 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = lee_bounds_arrays(m0 / n, y0 / m0, m1 / n, y1 / m1)
    se_l, se_u = bootstrap_se(lo), bootstrap_se(hi)
    point = lee_bounds(e0, p0, e1, p1)
    ci, c = imbens_manski_interval(point.lower, point.upper, se_l, se_u)
    union = ConfidenceInterval(
        max(-1.0, point.lower - 1.959963984540054 * se_l),
        min(1.0, point.upper + 1.959963984540054 * se_u),
    )
    return _pair(ci), ImbensManskiDetail(
        critical_value=c,
        se=BoundErrors(se_l, se_u),
        union_ci=_pair(union),
        share_resamples_same_direction=float(np.mean((m1 <= m0) if e1 <= e0 else (m1 >= m0))),
        n_boot=n_boot,
        method=(
            "Imbens-Manski (2004) CI; SEs of the bounds from a parametric bootstrap of the "
            "aggregates (arms independent, binomial engaged and IC counts)"
        ),
    )


@dataclass(frozen=True)
class ArmAggregate:
    """One arm's published headline figures, as proportions in [0, 1].

    Args:
        ir: Headline IR (IC over all responses, refusals counted as no IC).
        refusal: Refusal rate.
    """

    ir: float
    refusal: float


def aggregate_bounds(
    baseline: ArmAggregate,
    treatment: ArmAggregate,
    n: int,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    ic_rates: JudgeRates | None = None,
) -> AggregateBounds:
    """Everything statistics.md §3 derives from arm-level aggregates.

    Args:
        baseline: IR and refusal rate at baseline.
        treatment: IR and refusal rate under treatment.
        n: Scenarios per arm (one draw each assumed).
        n_boot: Parametric bootstrap replicates for the Imbens–Manski CI.
        seed: Seed of the bootstrap.
        ic_rates: The IC judge's sensitivity and specificity, to apply Rogan–Gladen to IC among
            engaged.

    Returns:
        The typed result; ``.to_json()`` is the ``bounds`` command's JSON (docs/analysis-json.md).
    """
    _check_aggregates(baseline, treatment, n)
    base = _arm(baseline.ir, baseline.refusal, n)
    treat = _arm(treatment.ir, treatment.refusal, n)
    lee = lee_bounds(base.engaged, base.ir_engaged, treat.engaged, treat.ir_engaged)
    tip = tipping_point(base.ir, base.engaged, treat.ir, treat.engaged)
    identified = min(base.engaged, treat.engaged) > 0
    im_ci, im_detail = _im_ci(
        baseline.ir, baseline.refusal, treatment.ir, treatment.refusal, n, n_boot, seed
    )
    dominance = _mean_dominance(lee, base, treat) if lee.trimmed_arm == "baseline" else None
    return AggregateBounds(
        baseline=base,
        treatment=treat,
        delta_ir=_z_test(treat.ir - base.ir, _unpaired_se(base.ir, n, treat.ir, n)),
        delta_refusal=_z_test(
            treat.refusal - base.refusal, _unpaired_se(base.refusal, n, treat.refusal, n)
        ),
        ir_engaged_difference=_z_test(
            treat.ir_engaged - base.ir_engaged,
            _unpaired_se(base.ir_engaged, base.n_engaged, treat.ir_engaged, treat.n_engaged)
            if identified
            else math.nan,
        ),
        decomposition=_decomposition(
            decompose(base.engaged, base.ir_engaged, treat.engaged, treat.ir_engaged)
        ),
        sace_bounds=(lee.lower, lee.upper),
        sace_bounds_method="Lee (2009) / Zhang-Rubin (2003) sharp bounds under monotonicity"
        if identified
        else NOT_IDENTIFIED,
        trimmed_arm=lee.trimmed_arm,
        trimming_share=lee.trimming_share,
        principal_ignorability=lee.principal_ignorability,
        tipping_point=tip.value,
        tipping_point_stratum=tip.stratum,
        tipping_point_sign_identified=tip.sign_identified,
        manski_bounds=manski_bounds(baseline.ir, baseline.refusal, treatment.ir, treatment.refusal),
        defier_sensitivity=[
            DefierBound(
                d, defier_bounds(base.engaged, base.ir_engaged, treat.engaged, treat.ir_engaged, d)
            )
            for d in DEFIER_SHARES
        ],
        settings=BootstrapSettings(seed, n_boot),
        mean_dominance=dominance[0] if dominance else None,
        causal_decomposition=dominance[1] if dominance else None,
        sace_bounds_ci=im_ci,
        sace_bounds_ci_detail=im_detail,
        power=_power(base, treat, n),
        judge_correction=None if ic_rates is None else _ic_correction(base, treat, ic_rates),
        warnings=[
            *denominator_warnings("baseline IR", baseline.ir * 100, n),
            *denominator_warnings("treatment IR", treatment.ir * 100, n),
        ],
    )


def _unpaired_se(p0: float, n0: float, p1: float, n1: float) -> float:
    """Standard error of p1 − p0 for two independent proportions."""
    return math.sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1)


def _check_aggregates(baseline: ArmAggregate, treatment: ArmAggregate, n: int) -> None:
    """Every figure a proportion, IR within the engaged share, at least two scenarios."""
    for name, arm in (("baseline", baseline), ("treatment", treatment)):
        for what, v in (("IR", arm.ir), ("refusal", arm.refusal)):
            if not 0 <= v <= 1:
                raise ValueError(f"{name} {what} must lie in [0, 1], got {v}")
    if n < 2:
        raise ValueError("n must be at least 2")
    for name, arm in (("baseline", baseline), ("treatment", treatment)):
        if arm.ir > 1 - arm.refusal + 1e-12:
            raise ValueError(f"{name}: IR {arm.ir} exceeds the engaged share {1 - arm.refusal}")


def _decomposition(dec: Decomposition) -> AggregateDecomposition:
    return AggregateDecomposition(
        total=dec.total,
        refusal_part=dec.refusal_part,
        behaviour_part=dec.behaviour_part,
        order_a=SplitPart(*dec.order_a),
        order_b=SplitPart(*dec.order_b),
        refusal_share_of_total=dec.refusal_part / dec.total if dec.total else math.nan,
        method="Kitagawa/Shapley symmetric split; orders A and B sequential (descriptive)",
    )


def _mean_dominance(
    lee: LeeBounds, base: ArmFigures, treat: ArmFigures
) -> tuple[MeanDominance, list[CausalSplit] | None]:
    """Halves of the bounds under mean dominance and, when the treatment engages less, the
    causal split of ΔIR at the bounds and at principal ignorability (baseline trimmed)."""
    pi = lee.principal_ignorability
    halves = MeanDominance((lee.lower, pi), (pi, lee.upper))
    e0, e1 = base.engaged, treat.engaged
    p0, p1 = base.ir_engaged, treat.ir_engaged
    if not e0 > e1 > 0:
        return halves, None
    q = e1 / e0
    rows = []
    for mu_ee in (p1 - lee.upper, p0, p1 - lee.lower):
        mu_er = (p0 - q * mu_ee) / (1 - q)
        rows.append(CausalSplit(mu_ee, mu_er, e1 * (p1 - mu_ee), -(e0 - e1) * mu_er))
    return halves, rows


def _ic_correction(base: ArmFigures, treat: ArmFigures, rates: JudgeRates) -> IcCorrection:
    """Rogan–Gladen corrected IC among engaged in both arms (rates treated as known)."""
    se, sp = rates.sensitivity, rates.specificity
    rg0 = rogan_gladen(base.ir_engaged, base.n_engaged, se, sp)
    rg1 = rogan_gladen(treat.ir_engaged, treat.n_engaged, se, sp)
    return IcCorrection(
        label="ic",
        sensitivity=se,
        specificity=sp,
        baseline_ir_engaged=rg0.estimate,
        treatment_ir_engaged=rg1.estimate,
        ir_engaged_difference=rg1.estimate - rg0.estimate,
        method=rg0.method + "; applied to IC among engaged",
    )


def _power(base: ArmFigures, treat: ArmFigures, n: int) -> AggregatePower:
    ir0, ir1 = base.ir, treat.ir
    r0, r1 = base.refusal, treat.refusal
    p0, p1 = base.ir_engaged, treat.ir_engaged
    up_ir, up_r, up_p = ir1 >= ir0, r1 >= r0, p1 >= p0
    d = ir1 - ir0
    v0, v1 = ir0 * (1 - ir0), ir1 * (1 - ir1)
    k2 = z_sum() ** 2
    return AggregatePower(
        alpha=0.05,
        target_power=0.80,
        mde_unpaired=unpaired_mde(ir0, n, n, increase=up_ir),
        power_observed_delta_ir_unpaired=unpaired_power(ir0, ir1, n, n),
        mde_paired_by_correlation=[
            CorrelationMde(rho, paired_mde_binary(ir0, n, rho, increase=up_ir))
            for rho in CORRELATIONS
        ],
        n_paired_for_observed_delta_ir=[
            CorrelationSampleSize(
                rho,
                k2 * max(v0 + v1 - 2 * rho * math.sqrt(v0 * v1), 0.0) / d**2 if d else math.inf,
            )
            for rho in CORRELATIONS
        ],
        mde_mcnemar_by_discordant_share=[
            DiscordantMde(psi, mcnemar_mde(psi, n)) for psi in DISCORDANT_SHARES
        ],
        mde_refusal_unpaired=unpaired_mde(r0, n, n, increase=up_r),
        mde_ir_engaged_unpaired=unpaired_mde(p0, base.n_engaged, treat.n_engaged, increase=up_p)
        if base.n_engaged > 0 and treat.n_engaged > 0
        else math.nan,
        epoch_mde_multiplier=[
            EpochMultiplier(icc, k, epoch_mde_multiplier(icc, k))
            for icc in (0.3, 0.5, 0.8)
            for k in (1, 3, 5, 10)
        ],
        method=(
            "two-sided pooled-variance z-test (Fleiss) for unpaired MDEs; paired MDE solves "
            "delta = 2.802*sqrt((v0+v1-2*rho*sqrt(v0*v1))/N); McNemar MDE from Connor (1987)"
        ),
    )
