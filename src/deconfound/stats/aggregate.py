"""Aggregate-only mode: what published arm-level numbers (IR and refusal per arm) can support.

Papers often report only IR and refusal rates per condition. From these alone the arms must be
treated as independent; the IC rate among engaged, the decomposition, Lee/Zhang–Rubin bounds with
a parametric-bootstrap Imbens–Manski CI, the defier sensitivity, Manski bounds, the tipping point
and power all follow (statistics.md §3 is the acceptance reference for this module).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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

DEFIER_SHARES = (0.0, 0.01, 0.02, 0.05, 0.10, 0.15, 0.20)
CORRELATIONS = (0.0, 0.3, 0.5, 0.7)
DISCORDANT_SHARES = (0.10, 0.15, 0.20, 0.30)
#: Why the SACE bounds are NaN when an arm refuses everything.
NOT_IDENTIFIED = "not identified: an arm has no engaged responses, so no always-engager is observed"


def _z_test(d: float, se: float) -> dict[str, Any]:
    z = d / se if se > 0 else math.nan
    p = float(2 * sps.norm.sf(abs(z))) if se > 0 else math.nan
    half = 1.959963984540054 * se
    return {"estimate": d, "se": se, "ci": [d - half, d + half], "z": z, "p_value": p}


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


def _arm(ir: float, r: float, n: int) -> dict[str, Any]:
    e = 1 - r
    # Clipped: 0.45 / (1 - 0.55) is 1.0000000000000002 in floating point, not a probability.
    p = min(max(ir / e, 0.0), 1.0) if e > 0 else math.nan
    n_eng = e * n
    return {
        "ir": ir,
        "refusal": r,
        "engaged": e,
        "ir_engaged": p,
        "n": n,
        "n_engaged": n_eng,
        "ci": {
            "ir": wilson_interval(ir, n).as_list(),
            "refusal": wilson_interval(r, n).as_list(),
            "ir_engaged": wilson_interval(p, n_eng).as_list(),
        },
    }


def _im_ci(
    ir0: float, r0: float, ir1: float, r1: float, n: int, n_boot: int, seed: int
) -> dict[str, Any]:
    """Parametric bootstrap of the aggregates (arms independent) → SE(L), SE(U) → Imbens–Manski.

    With no engaged response in an arm there is no always-engager to bound: the CI is NaN and
    the method says why (the caller reports the SACE as not identified).
    """
    e0, e1 = 1 - r0, 1 - r1
    if min(e0, e1) <= 0:
        return {
            "ci": [math.nan, math.nan],
            "critical_value": math.nan,
            "se": {"lower": math.nan, "upper": math.nan},
            "union_ci": [math.nan, math.nan],
            "share_resamples_same_direction": math.nan,
            "n_boot": n_boot,
            "method": NOT_IDENTIFIED,
        }
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
    return {
        "ci": ci.as_list(),
        "critical_value": c,
        "se": {"lower": se_l, "upper": se_u},
        "union_ci": union.as_list(),
        "share_resamples_same_direction": float(np.mean((m1 <= m0) if e1 <= e0 else (m1 >= m0))),
        "n_boot": n_boot,
        "method": (
            "Imbens-Manski (2004) CI; SEs of the bounds from a parametric bootstrap of the "
            "aggregates (arms independent, binomial engaged and IC counts)"
        ),
    }


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
) -> dict[str, Any]:
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
        A JSON-ready dict (the ``bounds`` command's output contract, docs/analysis-json.md).
    """
    _check_aggregates(baseline, treatment, n)
    base = _arm(baseline.ir, baseline.refusal, n)
    treat = _arm(treatment.ir, treatment.refusal, n)
    e0, e1 = base["engaged"], treat["engaged"]
    p0, p1 = base["ir_engaged"], treat["ir_engaged"]
    lee = lee_bounds(e0, p0, e1, p1)
    out: dict[str, Any] = {
        "mode": "aggregate",
        "baseline": base,
        "treatment": treat,
        **_differences(base, treat, n),
        "decomposition": _decomposition(decompose(e0, p0, e1, p1)),
        **_sace_bounds(lee, base, treat),
        "manski_bounds": list(
            manski_bounds(baseline.ir, baseline.refusal, treatment.ir, treatment.refusal)
        ),
        "defier_sensitivity": [
            {"max_defier_share": d, "bounds": list(defier_bounds(e0, p0, e1, p1, d))}
            for d in DEFIER_SHARES
        ],
        "settings": {"seed": seed, "bootstrap": n_boot},
    }
    if lee.trimmed_arm == "baseline":
        out.update(_mean_dominance(lee, base, treat))
    im = _im_ci(baseline.ir, baseline.refusal, treatment.ir, treatment.refusal, n, n_boot, seed)
    out["sace_bounds_ci"] = im.pop("ci")
    out["sace_bounds_ci_detail"] = im
    out["power"] = _power(base, treat, n)
    if ic_rates is not None:
        out["judge_correction"] = _ic_correction(base, treat, ic_rates)
    out["warnings"] = [
        *denominator_warnings("baseline IR", baseline.ir * 100, n),
        *denominator_warnings("treatment IR", treatment.ir * 100, n),
    ]
    return out


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


def _differences(base: dict[str, Any], treat: dict[str, Any], n: int) -> dict[str, Any]:
    """Unpaired z tests of the IR, refusal and IC-among-engaged differences."""
    ir0, ir1 = base["ir"], treat["ir"]
    r0, r1 = base["refusal"], treat["refusal"]
    p0, p1 = base["ir_engaged"], treat["ir_engaged"]
    return {
        "delta_ir": _z_test(ir1 - ir0, math.sqrt(ir0 * (1 - ir0) / n + ir1 * (1 - ir1) / n)),
        "delta_refusal": _z_test(r1 - r0, math.sqrt(r0 * (1 - r0) / n + r1 * (1 - r1) / n)),
        "ir_engaged_difference": _z_test(
            p1 - p0,
            math.sqrt(p0 * (1 - p0) / base["n_engaged"] + p1 * (1 - p1) / treat["n_engaged"])
            if min(base["engaged"], treat["engaged"]) > 0
            else math.nan,
        ),
    }


def _decomposition(dec: Decomposition) -> dict[str, Any]:
    return {
        "total": dec.total,
        "refusal_part": dec.refusal_part,
        "behaviour_part": dec.behaviour_part,
        "order_a": {"refusal_part": dec.order_a[0], "behaviour_part": dec.order_a[1]},
        "order_b": {"refusal_part": dec.order_b[0], "behaviour_part": dec.order_b[1]},
        "refusal_share_of_total": dec.refusal_part / dec.total if dec.total else math.nan,
        "method": "Kitagawa/Shapley symmetric split; orders A and B sequential (descriptive)",
    }


def _sace_bounds(lee: LeeBounds, base: dict[str, Any], treat: dict[str, Any]) -> dict[str, Any]:
    """Sharp bounds among always-engagers, their trimming, and the tipping point."""
    tip = tipping_point(base["ir"], base["engaged"], treat["ir"], treat["engaged"])
    return {
        "sace_bounds": [lee.lower, lee.upper],
        "sace_bounds_method": "Lee (2009) / Zhang-Rubin (2003) sharp bounds under monotonicity"
        if min(base["engaged"], treat["engaged"]) > 0
        else NOT_IDENTIFIED,
        "trimmed_arm": lee.trimmed_arm,
        "trimming_share": lee.trimming_share,
        "principal_ignorability": lee.principal_ignorability,
        "tipping_point": tip.value,
        "tipping_point_stratum": tip.stratum,
        "tipping_point_sign_identified": tip.sign_identified,
    }


def _mean_dominance(lee: LeeBounds, base: dict[str, Any], treat: dict[str, Any]) -> dict[str, Any]:
    """Halves of the bounds under mean dominance and, when the treatment engages less, the
    causal split of ΔIR at the bounds and at principal ignorability (baseline trimmed)."""
    pi = lee.principal_ignorability
    out: dict[str, Any] = {
        "mean_dominance": {
            "always_engagers_at_least_as_ic_prone": [lee.lower, pi],
            "always_engagers_at_most_as_ic_prone": [pi, lee.upper],
        }
    }
    e0, e1 = base["engaged"], treat["engaged"]
    p0, p1 = base["ir_engaged"], treat["ir_engaged"]
    if e0 > e1 > 0:
        q = e1 / e0
        rows = []
        for mu_ee in (p1 - lee.upper, p0, p1 - lee.lower):
            mu_er = (p0 - q * mu_ee) / (1 - q)
            rows.append(
                {
                    "baseline_ic_always_engagers": mu_ee,
                    "baseline_ic_newly_refused": mu_er,
                    "behaviour_part": e1 * (p1 - mu_ee),
                    "refusal_part": -(e0 - e1) * mu_er,
                }
            )
        out["causal_decomposition"] = rows
    return out


def _ic_correction(
    base: dict[str, Any], treat: dict[str, Any], rates: JudgeRates
) -> dict[str, Any]:
    """Rogan–Gladen corrected IC among engaged in both arms (rates treated as known)."""
    se, sp = rates.sensitivity, rates.specificity
    rg0 = rogan_gladen(base["ir_engaged"], base["n_engaged"], se, sp)
    rg1 = rogan_gladen(treat["ir_engaged"], treat["n_engaged"], se, sp)
    return {
        "label": "ic",
        "sensitivity": se,
        "specificity": sp,
        "baseline_ir_engaged": rg0.estimate,
        "treatment_ir_engaged": rg1.estimate,
        "ir_engaged_difference": rg1.estimate - rg0.estimate,
        "method": rg0.method + "; applied to IC among engaged",
    }


def _power(base: dict[str, Any], treat: dict[str, Any], n: int) -> dict[str, Any]:
    ir0, ir1 = base["ir"], treat["ir"]
    r0, r1 = base["refusal"], treat["refusal"]
    p0, p1 = base["ir_engaged"], treat["ir_engaged"]
    up_ir, up_r, up_p = ir1 >= ir0, r1 >= r0, p1 >= p0
    d = ir1 - ir0
    v0, v1 = ir0 * (1 - ir0), ir1 * (1 - ir1)
    k2 = z_sum() ** 2
    return {
        "alpha": 0.05,
        "target_power": 0.80,
        "mde_unpaired": unpaired_mde(ir0, n, n, increase=up_ir),
        "power_observed_delta_ir_unpaired": unpaired_power(ir0, ir1, n, n),
        "mde_paired_by_correlation": [
            {"correlation": rho, "mde": paired_mde_binary(ir0, n, rho, increase=up_ir)}
            for rho in CORRELATIONS
        ],
        "n_paired_for_observed_delta_ir": [
            {
                "correlation": rho,
                "n": k2 * max(v0 + v1 - 2 * rho * math.sqrt(v0 * v1), 0.0) / d**2
                if d
                else math.inf,
            }
            for rho in CORRELATIONS
        ],
        "mde_mcnemar_by_discordant_share": [
            {"discordant_share": psi, "mde": mcnemar_mde(psi, n)} for psi in DISCORDANT_SHARES
        ],
        "mde_refusal_unpaired": unpaired_mde(r0, n, n, increase=up_r),
        "mde_ir_engaged_unpaired": unpaired_mde(
            p0, base["n_engaged"], treat["n_engaged"], increase=up_p
        )
        if base["n_engaged"] > 0 and treat["n_engaged"] > 0
        else math.nan,
        "epoch_mde_multiplier": [
            {"icc": icc, "epochs": k, "multiplier": epoch_mde_multiplier(icc, k)}
            for icc in (0.3, 0.5, 0.8)
            for k in (1, 3, 5, 10)
        ],
        "method": (
            "two-sided pooled-variance z-test (Fleiss) for unpaired MDEs; paired MDE solves "
            "delta = 2.802*sqrt((v0+v1-2*rho*sqrt(v0*v1))/N); McNemar MDE from Connor (1987)"
        ),
    }
