"""The full refusal-controlled analysis of a records table → a JSON-ready dict.

Per condition: headline IR, refusal, partial and IC among engaged with scenario-clustered CIs,
per-category figures (exploratory), refusal kinds and reasoning flags. Per comparison: paired ΔIR
and Δrefusal, transitions, the both-engaged analysis, the decomposition, SACE bounds (pooled and
scenario-level) with an Imbens–Manski CI from a vectorised scenario cluster bootstrap, Manski
bounds, power, judge-error correction, reasoning shifts and a plain-words verdict. The module does
no I/O; the CLI reads records and writes the JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from deconfound.errors import InputError
from deconfound.records.labels import REASONING_FLAGS, REFUSAL_KIND
from deconfound.stats.aggregate import DEFIER_SHARES
from deconfound.stats.bootstrap import (
    bootstrap_se,
    cluster_weights,
    percentile_interval,
)
from deconfound.stats.bounds import (
    decompose,
    decompose_arrays,
    defier_bounds,
    imbens_manski_interval,
    lee_bounds,
    lee_bounds_arrays,
    manski_bounds,
    scenario_bound_terms,
    scenario_lee_bounds,
    tipping_point,
)
from deconfound.stats.calibration import Calibration
from deconfound.stats.contract import decode
from deconfound.stats.correction import rogan_gladen, rogan_gladen_bootstrap
from deconfound.stats.goldppi import GoldAnalysis, gold_estimates, narrow_gold
from deconfound.stats.intervals import (
    ClusteredRatio,
    clustered_ratio,
    paired_ratio_difference,
    t_interval_mean,
)
from deconfound.stats.paired import bonett_price_interval, mcnemar_midp, sign_flip_tests
from deconfound.stats.power import mcnemar_mde, paired_mde, unpaired_mde, unpaired_power
from deconfound.stats.prepare import (
    JudgeChoice,
    PartialAs,
    in_role_measured,
    modal_kinds,
    modal_states,
    narrow_states,
    response_states,
    scenario_counts,
    select_judges,
)
from deconfound.stats.results import (
    NO_INTERVAL,
    SCHEMA_VERSION,
    Analysis,
    Comparison,
    ComparisonConstructs,
    ConditionConstructs,
    ConditionResult,
    ConstructRates,
    ConstructResult,
    ConstructsAgree,
    Direction,
    Finding,
    GoldSummary,
    IcAnswer,
    JudgeRunResult,
    KindAnswer,
    PartialVariant,
    RefusalAnswer,
    Settings,
    Verdict,
)
from deconfound.stats.sensitivity import failed_run, judge_pairs, run_result, with_agreement

_PERMUTATIONS = 10_000


def _f(x: Any) -> float | None:
    """A JSON number: NaN/inf become null."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _ci(lo: Any, hi: Any) -> list[float | None]:
    return [_f(lo), _f(hi)]


def _prop(r: ClusteredRatio) -> dict[str, Any]:
    return {
        "estimate": _f(r.estimate),
        "ci": _ci(r.ci.low, r.ci.high),
        "se": _f(r.se),
        "n": _f(r.n),
        "n_scenarios": r.n_clusters,
        "n_eff": _f(r.n_eff),
        "method": r.method,
    }


def _arm(counts: pd.DataFrame, condition: str) -> pd.DataFrame:
    """One condition's per-scenario counts, indexed by scenario_id."""
    out = counts.xs(condition, level="condition")
    assert isinstance(out, pd.DataFrame)
    return out


def _col(c: pd.DataFrame, name: str) -> np.ndarray:
    return c[name].to_numpy(dtype=float)


# --------------------------------------------------------------------------------------------
# per condition


def _condition(
    c: pd.DataFrame, states: pd.DataFrame, calibration: Calibration | None, judges: JudgeChoice
) -> dict[str, Any]:
    v, r, m, y = (_col(c, k) for k in ("n_valid", "n_refusal", "n_engaged", "n_ic"))
    sub = states
    conflicts = sub["conflict"][sub["conflict"] != ""].value_counts().to_dict()
    reasons = sub["invalid_reason"][sub["state"] == "invalid"].value_counts().to_dict()
    eng_per = m[v > 0] / v[v > 0] if (v > 0).any() else np.array([])
    epochs = c["n_responses"].to_numpy()
    out: dict[str, Any] = {
        "ir": _prop(clustered_ratio(y, v)),
        "refusal": _prop(clustered_ratio(r, v)),
        "partial": _prop(clustered_ratio(_col(c, "n_partial"), v)),
        "engaged": _prop(clustered_ratio(m, v)),
        "ir_engaged": _prop(clustered_ratio(y, m)),
        "ir_benchmark": {
            **_prop(clustered_ratio(_col(c, "n_bench_ic"), _col(c, "n_bench_valid"))),
            "definition": "IC judge's convergence over all responses with a valid decision "
            "(benchmark-compatible; refusals count as no IC)",
        },
        "n_scenarios": int((v > 0).sum()),
        "n_scenarios_total": len(c),
        "n_responses": int(epochs.sum()),
        "n_valid": int(v.sum()),
        "n_engaged": int(m.sum()),
        "n_invalid": int(_col(c, "n_invalid").sum()),
        "invalid_reasons": {str(k): int(n) for k, n in reasons.items()},
        "conflicts": {str(k): int(n) for k, n in conflicts.items()},
        "epochs": {
            "min": int(epochs.min()) if len(epochs) else 0,
            "max": int(epochs.max()) if len(epochs) else 0,
        },
        "n_mixed_engagement_scenarios": int(((eng_per > 0) & (eng_per < 1)).sum()),
    }
    by_cat: dict[str, Any] = {}
    for cat, g in c.groupby("category", sort=True):
        gv, gm = _col(g, "n_valid"), _col(g, "n_engaged")
        by_cat[str(cat)] = {
            "ir": _prop(clustered_ratio(_col(g, "n_ic"), gv)),
            "refusal": _prop(clustered_ratio(_col(g, "n_refusal"), gv)),
            "ir_engaged": _prop(clustered_ratio(_col(g, "n_ic"), gm)),
            "n_scenarios": int((gv > 0).sum()),
        }
    out["by_category"] = {"exploratory": True, "categories": by_cat}
    kinds: dict[str, Any] = {}
    if _col(c, "kind_n").sum() > 0:
        for k in REFUSAL_KIND:
            kinds[k] = _prop(clustered_ratio(_col(c, f"kind:{k}"), _col(c, "kind_n")))
    out["refusal_kinds"] = kinds
    out["refusal_kinds_n"] = int(_col(c, "kind_n").sum())
    flags: dict[str, Any] = {}
    for flag in REASONING_FLAGS:
        if _col(c, f"flagn:{flag}").sum() > 0:
            flags[flag] = _prop(clustered_ratio(_col(c, f"flag:{flag}"), _col(c, f"flagn:{flag}")))
    out["reasoning_flags"] = flags
    if judges.reasoning is not None:
        out["refusal_kinds_coverage"] = _coverage(
            judges.reasoning, _col(c, "kind_n").sum(), _col(c, "n_refusal_or_partial").sum()
        )
        flag_n = max((_col(c, f"flagn:{f}").sum() for f in REASONING_FLAGS), default=0.0)
        out["reasoning_flags_coverage"] = _coverage(judges.reasoning, flag_n, m.sum())
    if calibration:
        out["judge_correction"] = _condition_correction(out, c, calibration, judges)
    return out


#: A reasoning figure is reported only when its judge labelled at least this share of the
#: responses it is about; below it the verdict says "not measured by <judge>".
COVERAGE_THRESHOLD = 0.8


def _coverage(judge: str, labelled: float, total: float) -> dict[str, Any]:
    share = float(labelled / total) if total > 0 else None
    return {
        "judge": judge,
        "labelled": int(labelled),
        "total": int(total),
        "share": _f(share),
        "measured": bool(share is not None and share >= COVERAGE_THRESHOLD),
    }


_RG_BOOT = 2000


def _condition_correction(
    cond: dict[str, Any], c: pd.DataFrame, calibration: Calibration, judges: JudgeChoice
) -> dict[str, Any]:
    res: dict[str, Any] = {}
    # (output key, the judge that defined it, the calibrated label of that judge, counts)
    w = cluster_weights(len(c), _RG_BOOT, seed=0)
    for key, judge, label, num, den in (
        ("ir_engaged", judges.ic, "ic", "n_ic", "n_engaged"),
        ("refusal", judges.engagement, "refusal", "n_refusal", "n_valid"),
    ):
        cal = calibration.rates_for(judge, label)
        if not cal or cond[key]["estimate"] is None:
            continue
        n_pos, n_neg = cal.n_pos, cal.n_neg
        if n_pos and n_neg and float(n_pos).is_integer() and float(n_neg).is_integer():
            # percentile bootstrap: scenarios resampled for the observed rate, Se/Sp redrawn
            # from their gold counts (Wald intervals cover badly near 0 and 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                p_boot = (w @ _col(c, num)) / (w @ _col(c, den))
            rg = rogan_gladen_bootstrap(cond[key]["estimate"], p_boot, cal)
        else:
            rg = rogan_gladen(
                cond[key]["estimate"],
                cond[key]["n_eff"] or 0,
                cal.sensitivity,
                cal.specificity,
                n_pos,
                n_neg,
            )
        res[key] = {
            "estimate": _f(rg.estimate),
            "ci": _ci(rg.ci.low, rg.ci.high),
            "se": _f(rg.se),
            "judge": judge,
            "method": rg.method,
        }
    if "ir_engaged" in res:
        e = 1 - res["refusal"]["estimate"] if "refusal" in res else cond["engaged"]["estimate"]
        res["ir"] = {
            "estimate": _f(e * res["ir_engaged"]["estimate"]),
            "method": "corrected engagement x corrected IC among engaged",
        }
    return res


# --------------------------------------------------------------------------------------------
# per comparison


class _PairedTests:
    """The paired tests of one comparison over its N scenarios.

    Mid-p McNemar when every scenario in a test has one response per arm; otherwise a sign-flip
    test on scenario mean differences. Sign-flip tests are collected and run together in one pass
    (``sign_flip_tests``), then their p values are written into the result dicts.
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.seed = seed
        self.columns: list[np.ndarray] = []
        self.slots: list[tuple[dict[str, Any], str, str]] = []

    def add(
        self,
        a0: np.ndarray,
        n0: np.ndarray,
        a1: np.ndarray,
        n1: np.ndarray,
        target: dict[str, Any],
        key: str = "p_value",
        test_key: str = "test",
    ) -> dict[str, Any]:
        """Register a test of counts a/n per scenario (scenarios empty in an arm drop out);
        returns ``target``, whose p value is written now (McNemar) or when the tests run."""
        keep = (n0 > 0) & (n1 > 0)
        if not keep.any():
            target[key], target[test_key] = None, "no scenario informative in both conditions"
        elif np.all(n0[keep] == 1) and np.all(n1[keep] == 1):
            b = int(((a0 == 1) & (a1 == 0) & keep).sum())
            c = int(((a0 == 0) & (a1 == 1) & keep).sum())
            res = mcnemar_midp(b, c)
            target[key], target[test_key] = _f(res.pvalue), res.method
        else:
            d = np.full(self.n, np.nan)
            d[keep] = a1[keep] / n1[keep] - a0[keep] / n0[keep]
            self.add_differences(d, target, key, test_key)
        return target

    def add_differences(
        self, d: np.ndarray, target: dict[str, Any], key: str = "p_value", test_key: str = "test"
    ) -> None:
        """Register a sign-flip test of per-scenario differences (NaN = not in the test)."""
        self.columns.append(d)
        self.slots.append((target, key, test_key))

    def run(self) -> None:
        """Run all registered sign-flip tests in one pass and fill in their p values."""
        if not self.columns:
            return
        results = sign_flip_tests(
            np.column_stack(self.columns), n_resamples=_PERMUTATIONS, seed=self.seed
        )
        for res, (target, key, test_key) in zip(results, self.slots, strict=True):
            target[key] = _f(res.pvalue)
            detail = " (exact)" if res.exact else f" ({res.n_resamples} resamples)"
            target[test_key] = res.method + (detail if res.n_resamples else "")


def _delta(
    a0: np.ndarray,
    n0: np.ndarray,
    a1: np.ndarray,
    n1: np.ndarray,
    boot: np.ndarray,
    tests: _PairedTests,
) -> dict[str, Any]:
    pd_ = paired_ratio_difference(a0, n0, a1, n1)
    bci = percentile_interval(boot)
    lo, hi, method = pd_.ci.low, pd_.ci.high, pd_.method
    if np.all(n0 == 1) and np.all(n1 == 1):
        # one binary response per scenario and arm: the paired-proportion interval
        b = int(((a0 == 1) & (a1 == 0)).sum())
        c = int(((a0 == 0) & (a1 == 1)).sum())
        bp = bonett_price_interval(b, c, len(a0))
        lo, hi = bp.low, bp.high
        method = "one response per scenario: Bonett-Price (2012) paired CI"
    out = {
        "estimate": _f(pd_.estimate),
        "ci": _ci(lo, hi),
        "p_value": None,
        "se": _f(pd_.se),
        "ci_bootstrap": _ci(bci.low, bci.high),
        "correlation": _f(pd_.correlation),
        "n_scenarios": pd_.n_scenarios,
        "method": method,
        "test": "",
    }
    return tests.add(a0, n0, a1, n1, out)


def _both_engaged(
    m0: np.ndarray,
    y0: np.ndarray,
    m1: np.ndarray,
    y1: np.ndarray,
    v0: np.ndarray,
    v1: np.ndarray,
    tests: _PairedTests,
) -> dict[str, Any]:
    both = (m0 > 0) & (m1 > 0)
    n = int(both.sum())
    e0 = np.divide(m0, v0, out=np.zeros_like(m0), where=v0 > 0)
    e1 = np.divide(m1, v1, out=np.zeros_like(m1), where=v1 > 0)
    mixed = int((((e0 > 0) & (e0 < 1)) | ((e1 > 0) & (e1 < 1))).sum())
    base: dict[str, Any] = {"n_scenarios": n, "n_mixed_engagement_scenarios": mixed}
    if n == 0:
        return {
            **base,
            "baseline_ic": None,
            "treatment_ic": None,
            "difference": None,
            "ci": [None, None],
            "mcnemar_p": None,
            "method": "no scenario engaged in both",
        }
    b_m0, b_y0, b_m1, b_y1 = m0[both], y0[both], m1[both], y1[both]
    if np.all(b_m0 == 1) and np.all(b_m1 == 1):
        b = int(((b_y0 == 1) & (b_y1 == 0)).sum())
        c = int(((b_y0 == 0) & (b_y1 == 1)).sum())
        ci = bonett_price_interval(b, c, n)
        mc = mcnemar_midp(b, c)
        return {
            **base,
            "baseline_ic": _f(b_y0.mean()),
            "treatment_ic": _f(b_y1.mean()),
            "difference": _f((c - b) / n),
            "ci": _ci(ci.low, ci.high),
            "mcnemar_p": _f(mc.pvalue),
            "mcnemar_exact_p": _f(mc.pvalue_exact),
            "discordant": {"baseline_only_ic": b, "treatment_only_ic": c},
            "method": "one response per scenario: Bonett-Price CI, McNemar mid-p",
            "caveat": "a scenario-level SACE only if engagement is deterministic per scenario",
        }
    p0, p1 = b_y0 / b_m0, b_y1 / b_m1
    d = p1 - p0
    ti = t_interval_mean(d)
    full = np.full(len(m0), np.nan)
    full[both] = d
    out = {
        **base,
        "baseline_ic": _f(p0.mean()),
        "treatment_ic": _f(p1.mean()),
        "difference": _f(ti.estimate),
        "ci": _ci(ti.ci.low, ti.ci.high),
        "mcnemar_p": None,
        "test": "",
        "method": "mean of per-scenario IC-among-engaged differences, t-interval; p from "
        "the sign-flip permutation test (reported under mcnemar_p)",
        "caveat": "a selected mixture of strata when engagement varies across epochs "
        f"({mixed} scenarios have mixed engagement)",
    }
    tests.add_differences(full, out, key="mcnemar_p")
    return out


def _pair_labels(
    series: pd.Series, baseline: str, treatment: str, scenarios: Sequence[str], missing: str | None
) -> dict[str, int]:
    """Count "a->b" label pairs of the scenarios between two conditions."""
    a = series.xs(baseline, level="condition").reindex(list(scenarios))
    b = series.xs(treatment, level="condition").reindex(list(scenarios))
    pairs = pd.DataFrame({"a": a.to_numpy(), "b": b.to_numpy()})
    pairs = pairs.dropna() if missing is None else pairs.fillna(missing)
    keys = pairs["a"].astype(str) + "->" + pairs["b"].astype(str)
    return {str(k): int(v) for k, v in sorted(keys.value_counts().items())}


def _transitions(
    states: pd.DataFrame, baseline: str, treatment: str, scenarios: Sequence[str]
) -> tuple[dict[str, int], str]:
    modal = modal_states(states)
    k = states.groupby(["condition", "scenario_id"]).size()
    counts = _pair_labels(modal, baseline, treatment, scenarios, "invalid")
    single = bool((k.loc[[baseline, treatment]] == 1).all()) if len(k) else True
    basis = (
        "state of the single response per scenario"
        if single
        else "modal state per scenario over its epochs (ties go to the earlier of refusal, "
        "partial, engaged_no_ic, engaged_ic)"
    )
    return counts, basis


def _share_shift(
    arm0: tuple[np.ndarray, np.ndarray],
    arm1: tuple[np.ndarray, np.ndarray],
    keep: np.ndarray,
    tests: _PairedTests,
    n_scenarios: int | None = None,
) -> dict[str, Any]:
    """Change of a label's per-scenario share (count / denominator) over the ``keep`` scenarios,
    with a t-interval; its paired test is registered with ``tests``."""
    (a0, n0), (a1, n1) = arm0, arm1
    s0, s1 = a0[keep] / n0[keep], a1[keep] / n1[keep]
    ti = t_interval_mean(s1 - s0)
    rec: dict[str, Any] = {
        "baseline": _f(s0.mean()),
        "treatment": _f(s1.mean()),
        "estimate": _f(ti.estimate),
        "ci": _ci(ti.ci.low, ti.ci.high),
        "p_value": None,
    }
    if n_scenarios is not None:
        rec["n_scenarios"] = n_scenarios
    return tests.add(a0, n0, a1, n1, {**rec, "test": ""})


def _reasoning_shift(
    c0: pd.DataFrame,
    c1: pd.DataFrame,
    states: pd.DataFrame,
    baseline: str,
    treatment: str,
    tests: _PairedTests,
) -> dict[str, Any]:
    out: dict[str, Any] = {"refusal_kinds": {}, "reasoning_flags": {}}
    kn0, kn1 = _col(c0, "kind_n"), _col(c1, "kind_n")
    both = (kn0 > 0) & (kn1 > 0)
    if both.any():
        for k in REFUSAL_KIND:
            f0, f1 = _col(c0, f"kind:{k}"), _col(c1, f"kind:{k}")
            out["refusal_kinds"][k] = _share_shift((f0, kn0), (f1, kn1), both, tests)
        mk = modal_kinds(states)
        if len(mk):
            out["refusal_kind_transitions"] = _pair_labels(
                mk, baseline, treatment, list(c0.index[both]), None
            )
    out["n_scenarios_refused_both"] = int(both.sum())
    n_flag_both = 0
    for flag in REASONING_FLAGS:
        fn0, fn1 = _col(c0, f"flagn:{flag}"), _col(c1, f"flagn:{flag}")
        fb = (fn0 > 0) & (fn1 > 0)
        if not fb.any():
            continue
        n_flag_both = max(n_flag_both, int(fb.sum()))
        g0, g1 = _col(c0, f"flag:{flag}"), _col(c1, f"flag:{flag}")
        out["reasoning_flags"][flag] = _share_shift(
            (g0, fn0), (g1, fn1), fb, tests, n_scenarios=int(fb.sum())
        )
    out["n_scenarios_engaged_both"] = n_flag_both
    out["method"] = (
        "per-scenario share differences on scenarios refused (kinds) or engaged "
        "(flags) under both conditions; Holm-adjusted across labels"
    )
    return out


def _add_holm(records: dict[str, dict[str, Any]]) -> None:
    """Add Holm (1979) step-down adjusted p values (``p_holm``) across a family of tests."""
    tested = [(k, r["p_value"]) for k, r in records.items() if r.get("p_value") is not None]
    if not tested:
        return
    _, adjusted, _, _ = multipletests([p for _, p in tested], method="holm")
    for (k, _), p in zip(tested, adjusted, strict=True):
        records[k]["p_holm"] = _f(p)


def _comparison(
    counts: pd.DataFrame,
    states: pd.DataFrame,
    baseline: str,
    treatment: str,
    n_boot: int,
    seed: int,
    calibration: Calibration | None,
    judges: JudgeChoice,
) -> dict[str, Any]:
    c0 = _arm(counts, baseline)
    c1 = _arm(counts, treatment)
    common = c0.index.intersection(c1.index)
    c0, c1 = c0.loc[common], c1.loc[common]
    paired = (_col(c0, "n_valid") > 0) & (_col(c1, "n_valid") > 0)
    ids = list(common[paired])
    c0, c1 = c0.loc[ids], c1.loc[ids]
    v0, r0, m0, y0 = (_col(c0, k) for k in ("n_valid", "n_refusal", "n_engaged", "n_ic"))
    v1, r1, m1, y1 = (_col(c1, k) for k in ("n_valid", "n_refusal", "n_engaged", "n_ic"))
    n = len(ids)
    out: dict[str, Any] = {
        "baseline": baseline,
        "treatment": treatment,
        "n_scenarios": n,
        "n_scenarios_unpaired_dropped": int(len(common) - n)
        + int(len(_arm(counts, baseline)) + len(_arm(counts, treatment)) - 2 * len(common)),
    }
    if n < 2:
        raise InputError(
            f"comparison {baseline!r} vs {treatment!r} has {n} scenario(s) with "
            "valid responses in both conditions; at least 2 are needed"
        )
    e0, e1 = m0.sum() / v0.sum(), m1.sum() / v1.sum()
    p0 = y0.sum() / m0.sum() if m0.sum() else math.nan
    p1 = y1.sum() / m1.sum() if m1.sum() else math.nan
    ir0, ir1 = y0.sum() / v0.sum(), y1.sum() / v1.sum()
    # per-scenario rates for the scenario-level bounds
    es0, es1 = m0 / v0, m1 / v1
    with np.errstate(divide="ignore", invalid="ignore"):
        ps0, ps1 = y0 / m0, y1 / m1
    pi_s, lo_s, hi_s, _ = scenario_bound_terms(es0, ps0, es1, ps1)

    # ---- vectorised scenario cluster bootstrap
    w = cluster_weights(n, n_boot, seed)
    x = np.column_stack([v0, r0, m0, y0, v1, r1, m1, y1, pi_s, lo_s, hi_s])
    wx = w @ x
    bv0, br0, bm0, by0, bv1, br1, bm1, by1, bpi, blo, bhi = wx.T
    with np.errstate(divide="ignore", invalid="ignore"):
        be0, be1 = bm0 / bv0, bm1 / bv1
        bp0, bp1 = by0 / bm0, by1 / bm1
        bir0, bir1 = by0 / bv0, by1 / bv1
        b_lo, b_hi = lee_bounds_arrays(be0, bp0, be1, bp1)
        bs_lo, bs_hi = blo / bpi, bhi / bpi
    b_ref, b_beh = decompose_arrays(be0, bp0, be1, bp1)

    tests = _PairedTests(n, seed + 7)
    out["delta_ir"] = _delta(y0, v0, y1, v1, bir1 - bir0, tests)
    out["delta_refusal"] = _delta(r0, v0, r1, v1, br1 / bv1 - br0 / bv0, tests)
    out["delta_ir_engaged"] = (
        {
            **_delta(y0, m0, y1, m1, bp1 - bp0, tests),
            "note": "compares different engaged populations; not a causal effect (see sace_bounds)",
        }
        if m0.sum() > 0 and m1.sum() > 0
        else None
    )
    trans, basis = _transitions(states, baseline, treatment, ids)
    out["transitions"] = trans
    out["transitions_basis"] = basis
    out["both_engaged"] = _both_engaged(m0, y0, m1, y1, v0, v1, tests)

    dec = decompose(e0, p0, e1, p1)
    ref_ci, beh_ci = percentile_interval(b_ref), percentile_interval(b_beh)
    out["decomposition"] = {
        "total": _f(dec.total),
        "refusal_part": _f(dec.refusal_part),
        "behaviour_part": _f(dec.behaviour_part),
        "refusal_part_ci": _ci(ref_ci.low, ref_ci.high),
        "behaviour_part_ci": _ci(beh_ci.low, beh_ci.high),
        "order_a": {"refusal_part": _f(dec.order_a[0]), "behaviour_part": _f(dec.order_a[1])},
        "order_b": {"refusal_part": _f(dec.order_b[0]), "behaviour_part": _f(dec.order_b[1])},
        "method": "Kitagawa/Shapley symmetric split of the pooled rates over paired scenarios "
        "(descriptive); CIs by scenario cluster bootstrap (percentile)",
    }
    arms = _ArmRates(e0, p0, ir0, e1, p1, ir1, es0, ps0, es1, ps1, ids)
    out["sace_bounds"] = _sace(arms, (b_lo, b_hi), (bs_lo, bs_hi))
    out["manski_bounds"] = [_f(x) for x in manski_bounds(ir0, 1 - e0, ir1, 1 - e1)]
    out["power"] = _power(y0, v0, y1, v1, ir0, ir1, n)
    out["reasoning_shift"] = _reasoning_shift(c0, c1, states, baseline, treatment, tests)
    tests.run()
    _add_holm(out["reasoning_shift"]["refusal_kinds"])
    _add_holm(out["reasoning_shift"]["reasoning_flags"])
    if calibration:
        out["judge_correction"] = _comparison_correction(
            (y0, m0, r0, v0), (y1, m1, r1, v1), calibration, judges
        )
    return out


@dataclass(frozen=True)
class _ArmRates:
    """Engagement and IC rates of the two arms over the paired scenarios, pooled and per scenario.

    Attributes:
        e0, e1: Pooled engagement share at baseline / under treatment.
        p0, p1: Pooled IC rate among engaged (NaN without engaged responses).
        ir0, ir1: Pooled headline IR.
        es0, es1: Engagement share per scenario.
        ps0, ps1: IC rate among engaged per scenario (NaN where none engaged).
        ids: The paired scenario ids, aligned with the per-scenario arrays.
    """

    e0: float
    p0: float
    ir0: float
    e1: float
    p1: float
    ir1: float
    es0: np.ndarray
    ps0: np.ndarray
    es1: np.ndarray
    ps1: np.ndarray
    ids: Sequence[str]


def _sace(
    arms: _ArmRates,
    boot_pooled: tuple[np.ndarray, np.ndarray],
    boot_scen: tuple[np.ndarray, np.ndarray],
) -> dict[str, Any]:
    """SACE bounds (pooled and scenario-level) with Imbens–Manski CIs from the bootstrap draws."""
    e0, p0, ir0, es0, ps0 = arms.e0, arms.p0, arms.ir0, arms.es0, arms.ps0
    e1, p1, ir1, es1, ps1 = arms.e1, arms.p1, arms.ir1, arms.es1, arms.ps1
    ids = arms.ids
    lee = lee_bounds(e0, p0, e1, p1)
    scen = scenario_lee_bounds(es0, ps0, es1, ps1)
    se_l, se_u = bootstrap_se(boot_pooled[0]), bootstrap_se(boot_pooled[1])
    im, c = imbens_manski_interval(lee.lower, lee.upper, se_l, se_u)
    sse_l, sse_u = bootstrap_se(boot_scen[0]), bootstrap_se(boot_scen[1])
    sim, _ = imbens_manski_interval(scen.lower, scen.upper, sse_l, sse_u)
    trim_base = e1 <= e0
    viol = (es1 > es0) if trim_base else (es1 < es0)
    viol_ids = [s for s, bad in zip(ids, viol, strict=True) if bad]
    tip = tipping_point(ir0, e0, ir1, e1)
    # what the paired data say about the unidentified stratum (per-scenario engagement drop)
    if trim_base:
        wgt = np.clip(es0 - es1, 0, None)
        rate = np.nan_to_num(ps0)
    else:
        wgt = np.clip(es1 - es0, 0, None)
        rate = np.nan_to_num(ps1)
    stratum: dict[str, Any] = {"n_scenarios": int((wgt > 0).sum())}
    if wgt.sum() > 0:
        est = clustered_ratio(wgt * rate, wgt)
        stratum.update(
            {
                "estimate": _f(est.estimate),
                "ci": _ci(est.ci.low, est.ci.high),
                "below_tipping_point": (
                    bool(est.estimate < tip.value) if math.isfinite(tip.value) else None
                ),
                "method": "per-scenario engagement drop-weighted IC rate of the trimmed arm "
                "(assumes principal ignorability within scenario)",
            }
        )
    else:
        stratum.update({"estimate": None, "ci": [None, None], "below_tipping_point": None})
    return {
        "pooled": [_f(lee.lower), _f(lee.upper)],
        "scenario": [_f(scen.lower), _f(scen.upper)],
        "ci": _ci(im.low, im.high),
        "scenario_ci": _ci(sim.low, sim.high),
        "ci_method": "Imbens-Manski (2004), SEs of the bounds by scenario cluster bootstrap",
        "critical_value": _f(c),
        "se": {"lower": _f(se_l), "upper": _f(se_u)},
        "union_ci": _ci(max(-1.0, lee.lower - 1.96 * se_l), min(1.0, lee.upper + 1.96 * se_u)),
        "principal_ignorability": _f(lee.principal_ignorability),
        "scenario_principal_ignorability": _f(scen.principal_ignorability),
        "always_engaged_share": _f(min(e0, e1)),
        "scenario_weight": _f(scen.weight),
        "n_scenarios_scenario_bounds": scen.n_scenarios,
        "trimmed_arm": lee.trimmed_arm,
        "trimming_share": _f(lee.trimming_share),
        "monotonicity_violations": int(viol.sum()),
        "monotonicity_violation_scenarios": viol_ids[:50],
        "monotonicity_direction": (
            "engagement does not rise under treatment in any scenario"
            if trim_base
            else "engagement does not fall under treatment in any scenario"
        ),
        "tipping_point": _f(tip.value),
        "tipping_point_stratum": tip.stratum,
        "tipping_point_sign_identified": tip.sign_identified,
        "trimmed_stratum_ic": stratum,
        "defier_sensitivity": [
            {"max_defier_share": d, "bounds": [_f(x) for x in defier_bounds(e0, p0, e1, p1, d)]}
            for d in DEFIER_SHARES
        ],
        "method": "Lee (2009) / Zhang-Rubin (2003) sharp bounds under monotonicity, pooled and "
        "scenario-level (within-scenario trimming averaged with weights "
        "min(e_s0, e_s1); Semenova 2020)",
    }


def _power(
    y0: np.ndarray, v0: np.ndarray, y1: np.ndarray, v1: np.ndarray, ir0: float, ir1: float, n: int
) -> dict[str, Any]:
    d = y1 / v1 - y0 / v0
    sd = float(np.std(d, ddof=1)) if n > 1 else math.nan
    out: dict[str, Any] = {
        "mde_paired": _f(paired_mde(sd, n)),
        "sd_scenario_difference": _f(sd),
        "mde_unpaired": _f(unpaired_mde(ir0, n, n, increase=ir1 >= ir0)),
        "power_observed_delta_ir_unpaired": _f(unpaired_power(ir0, ir1, n, n)),
        "alpha": 0.05,
        "target_power": 0.80,
        "method": "paired MDE 2.802*SD(d)/sqrt(N) over scenario IR differences (Miller 2024); "
        "unpaired pooled-variance z-test; McNemar MDE from Connor (1987)",
    }
    if np.all(v0 == 1) and np.all(v1 == 1):
        psi = float((y0 != y1).mean())
        out["discordant_share"] = psi
        out["mde_mcnemar"] = _f(mcnemar_mde(psi, n)) if psi > 0 else None
    return out


def _comparison_correction(
    arm0: tuple[np.ndarray, ...],
    arm1: tuple[np.ndarray, ...],
    calibration: Calibration,
    judges: JudgeChoice,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    y0, m0, r0, v0 = arm0
    y1, m1, r1, v1 = arm1
    ic_cal = calibration.rates_for(judges.ic, "ic")
    ref_cal = calibration.rates_for(judges.engagement, "refusal")
    if ic_cal and m0.sum() > 0 and m1.sum() > 0:
        se, sp = ic_cal.sensitivity, ic_cal.specificity
        c0, c1 = clustered_ratio(y0, m0), clustered_ratio(y1, m1)
        a = rogan_gladen(c0.estimate, c0.n_eff, se, sp)
        b = rogan_gladen(c1.estimate, c1.n_eff, se, sp)
        out["ir_engaged_difference"] = {
            "raw": _f(c1.estimate - c0.estimate),
            "corrected": _f(b.estimate - a.estimate),
            "note": "with the same Se/Sp in both arms the correction only rescales by 1/J; "
            "differential misclassification is not corrected",
        }
    if ref_cal:
        se, sp = ref_cal.sensitivity, ref_cal.specificity
        ra = rogan_gladen(r0.sum() / v0.sum(), float(v0.sum()), se, sp)
        rb = rogan_gladen(r1.sum() / v1.sum(), float(v1.sum()), se, sp)
        out["refusal_difference"] = {
            "raw": _f(rb.raw - ra.raw),
            "corrected": _f(rb.estimate - ra.estimate),
        }
    return out


# --------------------------------------------------------------------------------------------
# verdict


#: Bounds within this of 0 touch 0: a bound that is 0 in exact arithmetic comes out of the
#: trimming as e.g. -5.6e-17 and must not read as "the set excludes 0".
_ZERO = 1e-12


def _significant(p: float | None) -> bool:
    return p is not None and p < 0.05


def verdict(comp: Comparison, baseline: ConditionResult, treatment: ConditionResult) -> Verdict:
    """Structured answers to the three questions; the words are the report's and the CLI's."""
    dr = comp.delta_refusal
    refusal = RefusalAnswer(
        finding=(
            Finding.NOT_TESTED
            if dr.p_value is None
            else Finding.CHANGED
            if _significant(dr.p_value)
            else Finding.NO_CLEAR_CHANGE
        ),
        baseline_rate=baseline.refusal.estimate,
        treatment_rate=treatment.refusal.estimate,
        estimate=dr.estimate,
        ci=dr.ci,
        p_value=dr.p_value,
    )
    ppi = comp.ppi.delta_refusal if comp.ppi is not None else None
    if ppi is not None and ppi.estimate is not None and None not in ppi.ci:
        lo, hi = ppi.ci
        assert lo is not None and hi is not None
        b_ppi = baseline.ppi.refusal.estimate if baseline.ppi is not None else None
        t_ppi = treatment.ppi.refusal.estimate if treatment.ppi is not None else None
        refusal = RefusalAnswer(
            finding=Finding.CHANGED if lo > 0 or hi < 0 else Finding.NO_CLEAR_CHANGE,
            baseline_rate=b_ppi,
            treatment_rate=t_ppi,
            estimate=ppi.estimate,
            ci=ppi.ci,
            p_value=None,
            basis="ppi",
            judge_estimate=dr.estimate,
            judge_ci=dr.ci,
        )
    shift = comp.reasoning_shift
    thin = [
        cov
        for cov in (baseline.refusal_kinds_coverage, treatment.refusal_kinds_coverage)
        if cov is not None and cov.total > 0 and not cov.measured
    ]
    if thin:
        share = min(cov.share for cov in thin if cov.share is not None)
        kind = KindAnswer(
            Finding.NOT_MEASURED,
            None,
            None,
            NO_INTERVAL,
            None,
            None,
            shift.n_scenarios_refused_both,
            not_measured_by=thin[0].judge or "the reasoning judge",
            labelled_share=share,
        )
    elif shift.refusal_kinds:
        name, rec = min(
            shift.refusal_kinds.items(),
            key=lambda kv: kv[1].p_holm if kv[1].p_holm is not None else 1.0,
        )
        kind = KindAnswer(
            finding=Finding.CHANGED if _significant(rec.p_holm) else Finding.NO_CLEAR_CHANGE,
            label=name,
            estimate=rec.estimate,
            ci=rec.ci,
            p_value=rec.p_value,
            p_holm=rec.p_holm,
            n_scenarios=shift.n_scenarios_refused_both,
        )
    else:
        kind = KindAnswer(Finding.NOT_MEASURED, None, None, NO_INTERVAL, None, None, 0)
    sb = comp.sace_bounds
    lo, hi = sb.pooled
    clo, chi = sb.ci
    direction: Direction | None = None
    if clo is not None and chi is not None and (clo > _ZERO or chi < -_ZERO):
        finding = Finding.CHANGED
        direction = Direction.UP if clo > 0 else Direction.DOWN
    elif lo is not None and hi is not None and (lo > _ZERO or hi < -_ZERO):
        finding = Finding.SET_EXCLUDES_ZERO
    elif (lo, hi, clo, chi) == (0.0, 0.0, 0.0, 0.0):
        # Degenerate, not uncertain: no engaged response showed IC under either condition.
        finding = Finding.NO_IC_EITHER
    else:
        finding = Finding.CANNOT_TELL
    ic = IcAnswer(
        finding=finding,
        direction=direction,
        estimate=sb.principal_ignorability,
        bounds=sb.pooled,
        scenario_bounds=sb.scenario,
        ci=sb.ci,
        both_engaged_n=comp.both_engaged.n_scenarios,
        both_engaged_difference=comp.both_engaged.difference,
        monotonicity_violations=sb.monotonicity_violations,
        tipping_point=sb.tipping_point,
    )
    return Verdict(refusal, kind, ic)


# --------------------------------------------------------------------------------------------
# entry point


def analyze_records(
    records: pd.DataFrame,
    *,
    baseline: str,
    treatments: Sequence[str],
    model: str | None = None,
    partial_as: PartialAs = "engaged",
    engagement_judge: str | None = None,
    ic_judge: str | None = None,
    reasoning_judge: str | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    calibration: Calibration | None = None,
    gold: pd.DataFrame | None = None,
    judge_sensitivity: bool = True,
) -> Analysis:
    """Analyse one model's conditions in a validated records table.

    Args:
        records: A records table (``records.schema.validate``-d).
        baseline: Baseline condition name (exact).
        treatments: Treatment condition names, each compared with the baseline.
        model: Model to analyse; needed when the table holds several.
        partial_as: Count partial refusals as "engaged" (default) or "refusal".
        engagement_judge: Judge defining engagement; default by preference order.
        ic_judge: Judge defining IC; default by preference order.
        reasoning_judge: Judge defining refusal kinds and reasoning flags.
        n_boot: Scenario cluster bootstrap replicates.
        seed: Seed for the bootstrap and permutation tests.
        calibration: Judge sensitivity/specificity for Rogan–Gladen correction.
        gold: Gold labels (``read_gold`` rows): adds PPI++ and gold-only figures and makes the
            refusal verdict use the PPI Δrefusal (stats.goldppi).
        judge_sensitivity: With several engagement or IC judges, also run the main estimands
            under each (``comparisons[].judge_sensitivity``; stats.sensitivity).

    Returns:
        The typed analysis; ``.to_json()`` is the analysis JSON (docs/contract.md).
    """
    _check_settings(partial_as, n_boot)
    model = _choose_model(records, model)
    wanted = [baseline, *treatments]
    sub = _select_conditions(records[records["model"] == model], model, wanted)
    judges = select_judges(
        sub, engagement_judge=engagement_judge, ic_judge=ic_judge, reasoning_judge=reasoning_judge
    )
    states = response_states(sub, judges)
    counts = scenario_counts(states, partial_as)
    other: PartialAs = "refusal" if partial_as == "engaged" else "engaged"
    raw_conditions = {
        name: _condition(
            _arm(counts, name), states[states["condition"] == name], calibration, judges
        )
        for name in wanted
    }
    gold_res = (
        gold_estimates(
            states,
            gold,
            baseline=baseline,
            treatments=list(treatments),
            partial_as=partial_as,
            model=model,
            responses=sub,
        )
        if gold is not None
        else None
    )
    if gold_res is not None:
        for name in wanted:
            raw_conditions[name]["ppi"] = {
                k: fig.to_dict() for k, fig in gold_res.conditions[name].items()
            }
    conditions = {
        name: decode(ConditionResult, c, f"conditions.{name}") for name, c in raw_conditions.items()
    }
    comparisons = []
    for i, t in enumerate(treatments):
        raw = _comparison(counts, states, baseline, t, n_boot, seed + 1000 * i, calibration, judges)
        if gold_res is not None:
            raw["ppi"] = {k: fig.to_dict() for k, fig in gold_res.comparisons[t].items()}
        comp: Comparison = decode(Comparison, raw, f"comparisons[{i}]")
        comparisons.append(
            replace(comp, verdict=verdict(comp, conditions[baseline], conditions[t]))
        )

    def narrow_ppi(nstates: pd.DataFrame) -> tuple[GoldAnalysis | None, str | None]:
        """The gold file's figures under the narrow construct (None and why if it cannot)."""
        assert gold is not None
        ngold, why = narrow_gold(gold)
        if ngold is None:
            return None, why
        ppi = gold_estimates(
            nstates,
            ngold,
            baseline=baseline,
            treatments=list(treatments),
            partial_as=partial_as,
            model=model,
        )
        return ppi, None

    conditions, comparisons = _with_constructs(
        states,
        conditions,
        comparisons,
        judges,
        partial_as,
        n_boot,
        seed,
        narrow_ppi if gold is not None else None,
    )
    if judge_sensitivity:

        def rerun(eng: str, icj: str) -> Analysis:
            return analyze_records(
                sub,
                baseline=baseline,
                treatments=treatments,
                model=model,
                partial_as=partial_as,
                engagement_judge=eng,
                ic_judge=icj,
                reasoning_judge=judges.reasoning,
                n_boot=min(n_boot, 1000),
                seed=seed,
                judge_sensitivity=False,
            )

        comparisons = _with_judge_sensitivity(comparisons, judge_pairs(sub, judges), rerun)
    partial = _partial_sensitivity(
        {partial_as: counts, other: scenario_counts(states, other)}, baseline, treatments
    )
    return Analysis(
        schema_version=SCHEMA_VERSION,
        model=str(model),
        baseline=baseline,
        treatments=list(treatments),
        conditions=conditions,
        comparisons=comparisons,
        partial_sensitivity={
            k: decode(PartialVariant, v, f"partial_sensitivity.{k}") for k, v in partial.items()
        },
        judges=judges,
        settings=Settings(
            seed=seed,
            bootstrap=n_boot,
            partial_as=partial_as,
            confidence=0.95,
            permutations=_PERMUTATIONS,
            inference_target="super-population of scenarios (scenario-clustered)",
        ),
        gold=None
        if gold_res is None
        else decode(GoldSummary, {**gold_res.summary, "notices": list(gold_res.notices)}, "gold"),
    )


def _with_judge_sensitivity(
    comparisons: list[Comparison],
    pairs: Sequence[tuple[str, str]],
    rerun: Callable[[str, str], Analysis],
) -> list[Comparison]:
    """Each comparison with the main estimands under every other (engagement, IC) judge pair.

    ``pairs[0]`` is the analysis' own pair; ``rerun`` analyses the same data under another pair
    (a pair whose labels cannot carry the analysis is recorded as failed, not dropped). With one
    pair there is nothing to compare and the comparisons come back unchanged.
    """
    if len(pairs) < 2:
        return comparisons
    chosen_eng, chosen_ic = pairs[0]
    runs: dict[str, list[JudgeRunResult]] = {
        c.treatment: [run_result(c, chosen_eng, chosen_ic, True)] for c in comparisons
    }
    for eng, icj in pairs[1:]:
        try:
            alt = rerun(eng, icj)
        except InputError:
            for c in comparisons:
                runs[c.treatment].append(failed_run(eng, icj))
            continue
        for c in alt.comparisons:
            runs[c.treatment].append(run_result(c, eng, icj, False))
    return [
        replace(
            c,
            judge_sensitivity=runs[c.treatment],
            verdict=None if c.verdict is None else with_agreement(c.verdict, runs[c.treatment]),
        )
        for c in comparisons
    ]


def _with_constructs(
    states: pd.DataFrame,
    conditions: dict[str, ConditionResult],
    comparisons: list[Comparison],
    judges: JudgeChoice,
    partial_as: PartialAs,
    n_boot: int,
    seed: int,
    narrow_ppi: Callable[[pd.DataFrame], tuple[GoldAnalysis | None, str | None]] | None = None,
) -> tuple[dict[str, ConditionResult], list[Comparison]]:
    """Add the broad and narrow refusal constructs (docs/codebook.md) to every condition and
    comparison.

    The broad figures are the analysis' own; the narrow ones come from the same computation run
    on :func:`~deconfound.stats.prepare.narrow_states` (same bootstrap seeds, no judge-error
    correction: calibrations describe the broad labels). Without ``in_role`` labels from the
    engagement judge the narrow construct is reported as not measured, never copied.

    With a gold file (``narrow_ppi``), the broad verdict rests on the gold labels; the narrow one
    then does too when the gold file carries ``in_role``, and otherwise rests on the judge
    alone, so the two are not compared (``constructs_agree`` stays null, the note says why).
    """
    judge = judges.engagement
    measured = in_role_measured(states)
    note = (
        None
        if measured
        else f"not measured by {judge}: it gives no in_role labels on its refusals and partials"
    )
    narrow_conds: dict[str, ConditionResult] = {}
    narrow_comps: list[ConstructResult | None] = [None] * len(comparisons)
    comp_notes: list[str | None] = [note] * len(comparisons)
    comparable = True
    if measured:
        nstates = narrow_states(states)
        ncounts = scenario_counts(nstates, partial_as)
        gold_res, no_gold = narrow_ppi(nstates) if narrow_ppi is not None else (None, None)
        if no_gold is not None:
            comparable = False
            comp_notes = [
                f"narrow construct from {judge} alone ({no_gold}), broad from the gold labels: "
                "the two verdicts are not compared"
            ] * len(comparisons)
        for name in conditions:
            arm = nstates[nstates["condition"] == name]
            raw = _condition(_arm(ncounts, name), arm, None, judges)
            if gold_res is not None:
                raw["ppi"] = {k: fig.to_dict() for k, fig in gold_res.conditions[name].items()}
            narrow_conds[name] = decode(ConditionResult, raw, f"conditions.{name}.narrow")
        for i, comp in enumerate(comparisons):
            b, t = comp.baseline, comp.treatment
            try:
                raw = _comparison(ncounts, nstates, b, t, n_boot, seed + 1000 * i, None, judges)
            except InputError as exc:  # too few scenarios valid under both (unlabelled in_role)
                comp_notes[i] = f"narrow construct not computed: {exc.message}"
                continue
            if gold_res is not None:
                raw["ppi"] = {k: fig.to_dict() for k, fig in gold_res.comparisons[t].items()}
            ncomp: Comparison = decode(Comparison, raw, f"comparisons[{i}].narrow")
            narrow_comps[i] = _construct_result(
                ncomp, verdict(ncomp, narrow_conds[b], narrow_conds[t])
            )
    out_conds = {
        name: replace(
            c,
            constructs=ConditionConstructs(
                broad=_construct_rates(c),
                narrow=_construct_rates(narrow_conds[name]) if measured else None,
                narrow_measured=measured,
                in_role_judge=judge,
                note=note,
            ),
        )
        for name, c in conditions.items()
    }
    out_comps = []
    for comp, narrow, why in zip(comparisons, narrow_comps, comp_notes, strict=True):
        assert comp.verdict is not None
        broad = _construct_result(comp, comp.verdict)
        out_comps.append(
            replace(
                comp,
                constructs=ComparisonConstructs(
                    broad=broad,
                    narrow=narrow,
                    narrow_measured=measured,
                    in_role_judge=judge,
                    constructs_agree=constructs_agree(broad.verdict, narrow.verdict)
                    if narrow is not None and comparable
                    else ConstructsAgree(None, None, None),
                    note=why,
                ),
            )
        )
    return out_conds, out_comps


def _construct_rates(c: ConditionResult) -> ConstructRates:
    return ConstructRates(
        refusal=c.refusal,
        ir_engaged=c.ir_engaged,
        n_valid=c.n_valid,
        n_engaged=c.n_engaged,
        n_invalid=c.n_invalid,
    )


def _construct_result(comp: Comparison, v: Verdict) -> ConstructResult:
    return ConstructResult(
        delta_refusal=comp.delta_refusal, delta_ir_engaged=comp.delta_ir_engaged, verdict=v
    )


def constructs_agree(broad: Verdict, narrow: Verdict) -> ConstructsAgree:
    """Per verdict question, whether two verdicts give the same answer.

    The same answer is the same finding and, for a change, the same direction (refusal: the sign
    of the estimate; IC: the direction of the always-engager effect) or the same refusal kind.
    """

    def refusal(a: RefusalAnswer) -> tuple[object, ...]:
        if a.finding is not Finding.CHANGED or a.estimate is None:
            return (a.finding,)
        return (a.finding, a.estimate > 0)

    def kind(a: KindAnswer) -> tuple[object, ...]:
        return (a.finding, a.label) if a.finding is Finding.CHANGED else (a.finding,)

    def ic(a: IcAnswer) -> tuple[object, ...]:
        return (a.finding, a.direction)

    return ConstructsAgree(
        refusal_changed=refusal(broad.refusal_changed) == refusal(narrow.refusal_changed),
        refusal_kind_changed=kind(broad.refusal_kind_changed) == kind(narrow.refusal_kind_changed),
        ic_among_engagers_changed=ic(broad.ic_among_engagers_changed)
        == ic(narrow.ic_among_engagers_changed),
    )


def _check_settings(partial_as: str, n_boot: int) -> None:
    """The analysis settings, checked before any work (ValueError naming the argument)."""
    if partial_as not in ("engaged", "refusal"):
        raise ValueError(f"partial_as must be 'engaged' or 'refusal', got {partial_as!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError(f"n_boot must be an integer of at least 1 replicate, got {n_boot!r}")


def _choose_model(records: pd.DataFrame, model: str | None) -> str:
    """The model to analyse: the one asked for, or the table's only model."""
    models = sorted(records["model"].dropna().unique())
    if model is None:
        if len(models) != 1:
            raise InputError(
                f"the table holds {len(models)} models ({', '.join(models)}); choose one",
                field="model",
            )
        return str(models[0])
    if model not in models:
        raise InputError(
            f"model {model!r} not in the table (models: {', '.join(models)})", field="model"
        )
    return model


def _select_conditions(sub: pd.DataFrame, model: str, wanted: Sequence[str]) -> pd.DataFrame:
    """One model's rows of the wanted conditions; each must exist, and no condition twice."""
    available = sorted(sub["condition"].unique())
    for name in wanted:
        if name not in available:
            raise InputError(
                f"condition {name!r} not found for model {model!r} (conditions: "
                f"{'; '.join(repr(a) for a in available)})",
                field="condition",
            )
    if len(set(wanted)) != len(wanted):
        raise InputError("baseline and treatments must be distinct conditions", field="treatments")
    return sub[sub["condition"].isin(wanted)]


def _partial_sensitivity(
    variants: Mapping[str, pd.DataFrame], baseline: str, treatments: Sequence[str]
) -> dict[str, Any]:
    """Headline numbers under both partial conventions (a definitional choice, §2b)."""
    out: dict[str, Any] = {}
    for label, counts in variants.items():
        conds = {}
        for name in [baseline, *treatments]:
            c = _arm(counts, name)
            v = _col(c, "n_valid")
            conds[name] = {
                "ir": _f(_col(c, "n_ic").sum() / v.sum()) if v.sum() else None,
                "refusal": _f(_col(c, "n_refusal").sum() / v.sum()) if v.sum() else None,
                "ir_engaged": _f(_col(c, "n_ic").sum() / _col(c, "n_engaged").sum())
                if _col(c, "n_engaged").sum()
                else None,
            }
        comps = []
        for t in treatments:
            b, tr = conds[baseline], conds[t]
            e0 = 1 - (b["refusal"] or 0.0)
            e1 = 1 - (tr["refusal"] or 0.0)
            p0 = b["ir_engaged"] if b["ir_engaged"] is not None else math.nan
            p1 = tr["ir_engaged"] if tr["ir_engaged"] is not None else math.nan
            lee = lee_bounds(e0, p0, e1, p1)
            comps.append(
                {
                    "treatment": t,
                    "sace_bounds": [_f(lee.lower), _f(lee.upper)],
                    "delta_refusal": _f((tr["refusal"] or 0) - (b["refusal"] or 0)),
                }
            )
        out[f"partial_as_{label}"] = {"conditions": conds, "comparisons": comps}
    return out
