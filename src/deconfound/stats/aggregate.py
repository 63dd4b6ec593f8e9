"""Aggregate-only mode: what published arm-level numbers (IR and refusal per arm) can support.

Papers often report only IR and refusal rates per condition. From these alone the arms must be
treated as independent; the IC rate among engaged, the decomposition, Lee/Zhang–Rubin bounds with
a parametric-bootstrap Imbens–Manski CI, the defier sensitivity, Manski bounds, the tipping point
and power all follow (statistics.md §3 is the acceptance reference for this module).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats as sps

from deconfound.stats.bootstrap import bootstrap_se
from deconfound.stats.bounds import (
    decompose,
    defier_bounds,
    imbens_manski_interval,
    lee_bounds,
    lee_bounds_arrays,
    manski_bounds,
    tipping_point,
)
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


def aggregate_bounds(
    baseline_ir: float,
    baseline_refusal: float,
    treatment_ir: float,
    treatment_refusal: float,
    n: int,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    ic_sensitivity: float | None = None,
    ic_specificity: float | None = None,
) -> dict[str, Any]:
    """Everything statistics.md §3 derives from arm-level aggregates (proportions in [0, 1]).

    Args:
        baseline_ir: Headline IR at baseline (IC over all responses).
        baseline_refusal: Refusal rate at baseline.
        treatment_ir: Headline IR under treatment.
        treatment_refusal: Refusal rate under treatment.
        n: Scenarios per arm (one draw each assumed).
        n_boot: Parametric bootstrap replicates for the Imbens–Manski CI.
        seed: Seed of the bootstrap.
        ic_sensitivity: Judge sensitivity for IC, to apply Rogan–Gladen to IC among engaged.
        ic_specificity: Judge specificity for IC.

    Returns:
        A JSON-ready dict (the ``bounds`` command's output contract, docs/analysis-json.md).
    """
    for name, v in (
        ("baseline IR", baseline_ir),
        ("baseline refusal", baseline_refusal),
        ("treatment IR", treatment_ir),
        ("treatment refusal", treatment_refusal),
    ):
        if not 0 <= v <= 1:
            raise ValueError(f"{name} must lie in [0, 1], got {v}")
    if n < 2:
        raise ValueError("n must be at least 2")
    for name, ir, r in (
        ("baseline", baseline_ir, baseline_refusal),
        ("treatment", treatment_ir, treatment_refusal),
    ):
        if ir > 1 - r + 1e-12:
            raise ValueError(f"{name}: IR {ir} exceeds the engaged share {1 - r}")
    ir0, r0, ir1, r1 = baseline_ir, baseline_refusal, treatment_ir, treatment_refusal
    base, treat = _arm(ir0, r0, n), _arm(ir1, r1, n)
    e0, e1 = base["engaged"], treat["engaged"]
    p0, p1 = base["ir_engaged"], treat["ir_engaged"]
    dec = decompose(e0, p0, e1, p1)
    lee = lee_bounds(e0, p0, e1, p1)
    tip = tipping_point(ir0, e0, ir1, e1)
    out: dict[str, Any] = {
        "mode": "aggregate",
        "baseline": base,
        "treatment": treat,
        "delta_ir": _z_test(ir1 - ir0, math.sqrt(ir0 * (1 - ir0) / n + ir1 * (1 - ir1) / n)),
        "delta_refusal": _z_test(r1 - r0, math.sqrt(r0 * (1 - r0) / n + r1 * (1 - r1) / n)),
        "ir_engaged_difference": _z_test(
            p1 - p0,
            math.sqrt(p0 * (1 - p0) / base["n_engaged"] + p1 * (1 - p1) / treat["n_engaged"])
            if min(e0, e1) > 0
            else math.nan,
        ),
        "decomposition": {
            "total": dec.total,
            "refusal_part": dec.refusal_part,
            "behaviour_part": dec.behaviour_part,
            "order_a": {"refusal_part": dec.order_a[0], "behaviour_part": dec.order_a[1]},
            "order_b": {"refusal_part": dec.order_b[0], "behaviour_part": dec.order_b[1]},
            "refusal_share_of_total": dec.refusal_part / dec.total if dec.total else math.nan,
            "method": "Kitagawa/Shapley symmetric split; orders A and B sequential (descriptive)",
        },
        "sace_bounds": [lee.lower, lee.upper],
        "sace_bounds_method": "Lee (2009) / Zhang-Rubin (2003) sharp bounds under monotonicity"
        if min(e0, e1) > 0
        else NOT_IDENTIFIED,
        "trimmed_arm": lee.trimmed_arm,
        "trimming_share": lee.trimming_share,
        "principal_ignorability": lee.principal_ignorability,
        "tipping_point": tip.value,
        "tipping_point_stratum": tip.stratum,
        "tipping_point_sign_identified": tip.sign_identified,
        "manski_bounds": list(manski_bounds(ir0, r0, ir1, r1)),
        "defier_sensitivity": [
            {"max_defier_share": d, "bounds": list(defier_bounds(e0, p0, e1, p1, d))}
            for d in DEFIER_SHARES
        ],
        "settings": {"seed": seed, "bootstrap": n_boot},
    }
    if lee.trimmed_arm == "baseline":
        pi = lee.principal_ignorability
        out["mean_dominance"] = {
            "always_engagers_at_least_as_ic_prone": [lee.lower, pi],
            "always_engagers_at_most_as_ic_prone": [pi, lee.upper],
        }
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
    im = _im_ci(ir0, r0, ir1, r1, n, n_boot, seed)
    out["sace_bounds_ci"] = im.pop("ci")
    out["sace_bounds_ci_detail"] = im
    out["power"] = _power(base, treat, n)
    if ic_sensitivity is not None and ic_specificity is not None:
        rg0 = rogan_gladen(p0, base["n_engaged"], ic_sensitivity, ic_specificity)
        rg1 = rogan_gladen(p1, treat["n_engaged"], ic_sensitivity, ic_specificity)
        out["judge_correction"] = {
            "label": "ic",
            "sensitivity": ic_sensitivity,
            "specificity": ic_specificity,
            "baseline_ir_engaged": rg0.estimate,
            "treatment_ir_engaged": rg1.estimate,
            "ir_engaged_difference": rg1.estimate - rg0.estimate,
            "method": rg0.method + "; applied to IC among engaged",
        }
    warnings: list[str] = []
    warnings += denominator_warnings("baseline IR", ir0 * 100, n)
    warnings += denominator_warnings("treatment IR", ir1 * 100, n)
    out["warnings"] = warnings
    return out


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
