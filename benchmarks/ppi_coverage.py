"""Coverage of Δrefusal and ΔIR-among-engaged intervals when judge error differs by condition.

Each simulated study draws 76 scenarios from a super-population, 3 epochs per scenario and
condition (baseline, treatment). The treatment raises refusal (logit +0.4) and lowers IC among
engaged responses (× 0.8). The engagement judge calls engaged responses "refusal" 5% of the time
under baseline but 25% under treatment (ethical-sounding engagement read as refusal), and its IC
label misses more IC under treatment (sensitivity 0.85 vs 0.70). A second, keyword-like judge
errs independently; it is used only to stratify the gold sample. 100 gold labels per study.

Methods, each with a 95% interval for the super-population truth:
  raw    the judge's labels as if true (deconfound's paired clustered CI)
  rg     Rogan-Gladen with Se/Sp from the gold labels pooled over conditions, as `calibrate`
         gives them to `analyze --calibration`; bootstrap interval (scenario cluster bootstrap of
         the observed rate and a parametric bootstrap of Se/Sp)
  rg_cond  the same with Se/Sp per condition (not what the tool does today; shown for fairness)
  gold   gold labels only (lambda = 0 of the PPI estimator, inclusion weights, no judge strata)
  ppi    PPI++ (deconfound.stats.ppi_paired_difference), power-tuned lambda per condition

Two gold designs: "random" (50 per condition, simple random) and "label" (stratified exactly as
`deconfound label` draws it: condition x judge label x judges disagree, disagreement strata
over-sampled, inclusion probabilities used as weights, exactly as `analyze --gold` uses them).

Usage: python benchmarks/ppi_coverage.py [--studies 1000] [--out benchmarks/ppi_coverage.txt]
Prints measured numbers only; the last line is the summary the issue asks for.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

from deconfound.stats import (
    JudgeRates,
    PPIArm,
    cluster_weights,
    label_strata,
    paired_ratio_difference,
    percentile_interval,
    ppi_paired_difference,
    rogan_gladen_replicates,
    stratified_sample,
)

N_SCEN, EPOCHS = 76, 3
REFUSAL_SHIFT = 0.4  # logit shift of refusal under treatment
IC_FACTOR = 0.8  # IC among engaged multiplied under treatment
# judge: P(judged refusal | true state, condition), P(judged IC | true IC, condition)
JUDGE_REFUSAL_GIVEN_REFUSAL = (0.92, 0.92)
JUDGE_REFUSAL_GIVEN_ENGAGED = (0.05, 0.25)
JUDGE_IC_SENS = (0.85, 0.70)
JUDGE_IC_FPR = (0.08, 0.08)
KEYWORD_FLIP = 0.15  # the second judge flips the true engagement label this often


def scenario_params(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Per-scenario refusal and IC-among-engaged propensities under both conditions."""
    r0 = rng.beta(1.2, 3.0, n)
    r1 = expit(logit(np.clip(r0, 1e-6, 1 - 1e-6)) + REFUSAL_SHIFT)
    p0 = rng.beta(1.5, 3.0, n)
    p1 = p0 * IC_FACTOR
    return r0, r1, p0, p1


def super_population_truth(seed: int = 7, n: int = 2_000_000) -> dict[str, float]:
    r0, r1, p0, p1 = scenario_params(np.random.default_rng(seed), n)
    e0, e1 = 1 - r0, 1 - r1
    return {
        "delta_refusal": float(r1.mean() - r0.mean()),
        "delta_ir_engaged": float((e1 * p1).mean() / e1.mean() - (e0 * p0).mean() / e0.mean()),
    }


def simulate(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One study: arrays of shape (2 conditions, N_SCEN * EPOCHS), scenario-major."""
    r0, r1, p0, p1 = scenario_params(rng, N_SCEN)
    r = np.repeat(np.vstack([r0, r1]), EPOCHS, axis=1)
    p = np.repeat(np.vstack([p0, p1]), EPOCHS, axis=1)
    shape = r.shape
    refused = rng.random(shape) < r
    ic = ~refused & (rng.random(shape) < p)
    z = np.arange(2)[:, None]
    u = rng.random(shape)
    judge_ref = np.where(
        refused,
        u < np.take(JUDGE_REFUSAL_GIVEN_REFUSAL, z),
        u < np.take(JUDGE_REFUSAL_GIVEN_ENGAGED, z),
    )
    u = rng.random(shape)
    judge_ic_raw = np.where(ic, u < np.take(JUDGE_IC_SENS, z), u < np.take(JUDGE_IC_FPR, z))
    judge_ic = ~judge_ref & judge_ic_raw
    keyword_ref = refused ^ (rng.random(shape) < KEYWORD_FLIP)
    return {
        "refused": refused.astype(float),
        "ic": ic.astype(float),
        "judge_ref": judge_ref.astype(float),
        "judge_ic": judge_ic.astype(float),
        "keyword_ref": keyword_ref.astype(float),
        "scenario": np.tile(np.repeat(np.arange(N_SCEN), EPOCHS), (2, 1)),
    }


def draw_gold(
    rng: np.random.Generator, d: dict[str, np.ndarray], design: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """Gold indicator and inclusion weights (2 × n arrays stacked: [mask, weight]) and the
    sampling strata (2 × n) of a stratified design."""
    n = d["refused"].shape[1]
    mask = np.zeros((2, n), dtype=bool)
    weight = np.ones((2, n))
    if design == "random":
        for z in range(2):
            mask[z, rng.choice(n, 50, replace=False)] = True
            weight[z] = n / 50
        return np.stack([mask, weight]), None
    cond = ["baseline"] * n + ["treatment"] * n
    label = np.where(d["judge_ref"].ravel() == 1, "refusal", "engaged").tolist()
    disagree = (d["judge_ref"].ravel() != d["keyword_ref"].ravel()).tolist()
    keys, boost = label_strata(cond, label, disagree)
    s = stratified_sample(keys, 100, seed=int(rng.integers(2**31)), oversample=boost)
    flat_mask = np.zeros(2 * n, dtype=bool)
    flat_w = np.ones(2 * n)
    flat_mask[s.index] = True
    flat_w[s.index] = 1 / s.inclusion_probability
    strata = np.asarray(keys).reshape(2, n)
    return np.stack([flat_mask.reshape(2, n), flat_w.reshape(2, n)]), strata


def _arms(
    d: dict[str, np.ndarray], gold: np.ndarray, estimand: str, strata: np.ndarray | None
) -> tuple[PPIArm, PPIArm]:
    mask, weight = gold[0].astype(bool), gold[1]
    arms = []
    for z in range(2):
        s = None if strata is None else strata[z]
        if estimand == "delta_refusal":
            arms.append(
                PPIArm(
                    d["scenario"][z],
                    d["judge_ref"][z],
                    np.where(mask[z], d["refused"][z], np.nan),
                    weights=weight[z],
                    strata=s,
                )
            )
        else:
            arms.append(
                PPIArm(
                    d["scenario"][z],
                    d["judge_ic"][z],
                    np.where(mask[z], d["ic"][z], np.nan),
                    1 - d["judge_ref"][z],
                    np.where(mask[z], 1 - d["refused"][z], np.nan),
                    weights=weight[z],
                    strata=s,
                )
            )
    return arms[0], arms[1]


def _scen_sums(x: np.ndarray) -> np.ndarray:
    """(2, N_SCEN*EPOCHS) -> (2, N_SCEN) per-scenario totals."""
    return x.reshape(2, N_SCEN, EPOCHS).sum(axis=2)


def raw_ci(d: dict[str, np.ndarray], estimand: str) -> tuple[float, float]:
    if estimand == "delta_refusal":
        y, m = _scen_sums(d["judge_ref"]), np.full((2, N_SCEN), float(EPOCHS))
    else:
        y, m = _scen_sums(d["judge_ic"]), _scen_sums(1 - d["judge_ref"])
    res = paired_ratio_difference(y[0], m[0], y[1], m[1])
    return res.ci.low, res.ci.high


def _se_sp(pred: np.ndarray, gold: np.ndarray, w: np.ndarray) -> tuple[float, float, int, int]:
    """Weighted Se/Sp (weights undo stratified over-sampling) and the gold counts behind them."""
    pos, neg = gold == 1, gold == 0
    se = float((w * pred * pos).sum() / (w * pos).sum()) if pos.any() else float("nan")
    sp = float((w * (1 - pred) * neg).sum() / (w * neg).sum()) if neg.any() else float("nan")
    return se, sp, int(pos.sum()), int(neg.sum())


def rg_ci(
    d: dict[str, np.ndarray],
    gold: np.ndarray,
    estimand: str,
    boot_w: np.ndarray,
    by_condition: bool,
    seed: int,
) -> tuple[float, float]:
    """Rogan-Gladen corrected difference with a bootstrap percentile interval."""
    mask, weight = gold[0].astype(bool), gold[1]
    if estimand == "delta_refusal":
        pred, truth = d["judge_ref"], d["refused"]
        sel = mask
        y, m = _scen_sums(d["judge_ref"]), np.full((2, N_SCEN), float(EPOCHS))
    else:
        # IC among engaged: the IC judge's rate among judge-engaged, calibrated on gold items
        # that both call engaged (where both IC labels exist), as `calibrate` pairs them
        pred, truth = d["judge_ic"], d["ic"]
        sel = mask & (d["judge_ref"] == 0) & (d["refused"] == 0)
        y, m = _scen_sums(d["judge_ic"]), _scen_sums(1 - d["judge_ref"])
    reps = []
    for z in range(2):
        if by_condition:
            se, sp, npos, nneg = _se_sp(pred[z][sel[z]], truth[z][sel[z]], weight[z][sel[z]])
        else:
            se, sp, npos, nneg = _se_sp(pred[sel], truth[sel], weight[sel])
        if not (npos and nneg) or se + sp <= 1:
            return float("nan"), float("nan")
        p_boot = (boot_w @ y[z]) / (boot_w @ m[z])
        # pooled calibration: both arms share one Se/Sp draw (same seed)
        reps.append(
            rogan_gladen_replicates(
                p_boot, JudgeRates(se, sp, npos, nneg), seed=seed + (z if by_condition else 0)
            )
        )
    ci = percentile_interval(reps[1] - reps[0])
    return ci.low, ci.high


def run(
    studies: int, design: str, seed: int, truth: dict[str, float], n_boot: int
) -> dict[str, dict[str, list[float]]]:
    rng = np.random.default_rng(seed)
    methods = ("raw", "rg", "rg_cond", "gold", "ppi")
    out = {e: {m: [] for m in (*methods, *(f"{k}_width" for k in methods))} for e in truth}
    for i in range(studies):
        d = simulate(rng)
        gold, _ = draw_gold(rng, d, design)
        boot_w = cluster_weights(N_SCEN, n_boot, seed=seed + i)
        for e, true in truth.items():
            # as `analyze --gold` does: inclusion weights, calibration groups = conditions (the
            # key file knows strata of gold items only); gold only = the same arms at lambda 0
            a0, a1 = _arms(d, gold, e, None)
            g0, g1 = a0, a1
            cis: dict[str, tuple[float, float]] = {
                "raw": raw_ci(d, e),
                "rg": rg_ci(d, gold, e, boot_w, False, seed + i),
                "rg_cond": rg_ci(d, gold, e, boot_w, True, seed + i),
            }
            for name, arms, lam in (("gold", (g0, g1), 0.0), ("ppi", (a0, a1), None)):
                res = ppi_paired_difference(*arms, lam=lam)
                cis[name] = (res.ci.low, res.ci.high)
            for m, (lo, hi) in cis.items():
                ok = bool(lo <= true <= hi) if np.isfinite(lo) and np.isfinite(hi) else False
                out[e][m].append(float(ok))
                out[e][f"{m}_width"].append(hi - lo)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", type=int, default=1000)
    ap.add_argument("--bootstrap", type=int, default=500)
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("ppi_coverage.txt"))
    args = ap.parse_args()
    truth = super_population_truth()
    lines: list[str] = []
    say: Callable[[str], None] = lambda s: (print(s, flush=True), lines.append(s))  # noqa: E731
    say(
        f"# {args.studies} simulated paired studies per gold design, {N_SCEN} scenarios x "
        f"{EPOCHS} epochs x 2 conditions, 100 gold labels each; seed {args.seed}"
    )
    say(
        f"# truth (super-population): delta_refusal {truth['delta_refusal']:+.4f}, "
        f"delta_ir_engaged {truth['delta_ir_engaged']:+.4f}"
    )
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for design in ("random", "label"):
        t0 = time.perf_counter()
        res = run(
            args.studies,
            design,
            args.seed + (0 if design == "random" else 1),
            truth,
            args.bootstrap,
        )
        secs = time.perf_counter() - t0
        say(f"## gold design: {design} ({secs:.1f} s)")
        summary[design] = {}
        for e, r in res.items():
            cov = {m: float(np.mean(r[m])) for m in ("raw", "rg", "rg_cond", "gold", "ppi")}
            wid = {m: float(np.nanmean(r[f"{m}_width"])) for m in cov}
            ratio = wid["ppi"] / wid["gold"]
            summary[design][e] = {**{f"cov_{m}": v for m, v in cov.items()}, "ratio": ratio}
            say(
                f"{e}: coverage raw={cov['raw']:.3f} rg={cov['rg']:.3f} "
                f"rg_by_condition={cov['rg_cond']:.3f} gold={cov['gold']:.3f} "
                f"ppi={cov['ppi']:.3f}; mean CI width raw={wid['raw']:.4f} rg={wid['rg']:.4f} "
                f"gold={wid['gold']:.4f} ppi={wid['ppi']:.4f}; "
                f"width_ratio_ppi_vs_gold={ratio:.3f}"
            )
    # per method: the lower coverage of the two estimands (and of both designs), larger ratio
    cells = [c for d in summary.values() for c in d.values()]
    say(
        f"coverage_raw={min(c['cov_raw'] for c in cells):.3f} "
        f"coverage_rg={min(c['cov_rg'] for c in cells):.3f} "
        f"coverage_gold={min(c['cov_gold'] for c in cells):.3f} "
        f"coverage_ppi={min(c['cov_ppi'] for c in cells):.3f} "
        f"width_ratio_ppi_vs_gold={max(c['ratio'] for c in cells):.3f}"
    )
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
