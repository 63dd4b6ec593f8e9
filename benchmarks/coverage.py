"""Coverage study: simulated studies with known truth, analysed with deconfound.stats.

Each study draws N scenarios from a super-population (deconfound.stats.simulate.Design: treatment
lowers engagement monotonically, the newly refused are more IC-prone than the always-engagers, and
the treatment changes IC among always-engagers), K epochs per scenario and condition. It checks how
often the 95% intervals for ΔIR and for IC among engaged cover the super-population truth, and how
often the SACE bounds (and their Imbens–Manski CI) contain the true SACE.

Usage: python benchmarks/coverage.py [--quick] [--studies N] [--scenarios 76] [--epochs 5]
Writes what it prints to benchmarks/coverage.txt (or --out). Prints measured numbers only.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from deconfound.stats import clustered_ratio, paired_ratio_difference
from deconfound.stats.bootstrap import bootstrap_se, cluster_weights
from deconfound.stats.bounds import (
    imbens_manski_interval,
    lee_bounds,
    lee_bounds_arrays,
    scenario_bound_terms,
    scenario_lee_bounds,
)
from deconfound.stats.simulate import Design, simulate_counts, true_values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100 studies instead of 1000")
    ap.add_argument("--studies", type=int, default=None)
    ap.add_argument("--scenarios", type=int, default=76)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--bootstrap", type=int, default=400)
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("coverage.txt"))
    args = ap.parse_args()
    studies = args.studies or (100 if args.quick else 1000)
    design = Design()
    truth = true_values(design)
    rng = np.random.default_rng(args.seed)
    hits = {
        k: 0
        for k in (
            "delta_ir",
            "ir_engaged0",
            "ir_engaged1",
            "pooled",
            "scenario",
            "im_ci",
            "scenario_im_ci",
        )
    }
    widths = {k: [] for k in ("delta_ir", "ir_engaged0", "pooled", "im_ci")}
    t0 = time.perf_counter()
    for s in range(studies):
        c = simulate_counts(design, args.scenarios, args.epochs, rng)
        v0, v1, m0, m1, y0, y1 = (c[k] for k in ("v0", "v1", "m0", "m1", "y0", "y1"))
        d = paired_ratio_difference(y0, v0, y1, v1)
        hits["delta_ir"] += d.ci.low <= truth.delta_ir <= d.ci.high
        widths["delta_ir"].append(d.ci.high - d.ci.low)
        r0, r1 = clustered_ratio(y0, m0), clustered_ratio(y1, m1)
        hits["ir_engaged0"] += r0.ci.low <= truth.ir_engaged0 <= r0.ci.high
        hits["ir_engaged1"] += r1.ci.low <= truth.ir_engaged1 <= r1.ci.high
        widths["ir_engaged0"].append(r0.ci.high - r0.ci.low)
        e0, e1 = m0.sum() / v0.sum(), m1.sum() / v1.sum()
        p0, p1 = y0.sum() / m0.sum(), y1.sum() / m1.sum()
        lee = lee_bounds(e0, p0, e1, p1)
        hits["pooled"] += lee.lower <= truth.sace <= lee.upper
        widths["pooled"].append(lee.upper - lee.lower)
        with np.errstate(divide="ignore", invalid="ignore"):
            ps0, ps1 = y0 / m0, y1 / m1
            sb = scenario_lee_bounds(m0 / v0, ps0, m1 / v1, ps1)
        hits["scenario"] += sb.lower <= truth.sace <= sb.upper
        w = cluster_weights(args.scenarios, args.bootstrap, seed=args.seed + s)
        bv0, bm0, by0, bv1, bm1, by1 = (w @ np.column_stack([v0, m0, y0, v1, m1, y1])).T
        with np.errstate(divide="ignore", invalid="ignore"):
            blo, bhi = lee_bounds_arrays(bm0 / bv0, by0 / bm0, bm1 / bv1, by1 / bm1)
        ci, _ = imbens_manski_interval(lee.lower, lee.upper, bootstrap_se(blo), bootstrap_se(bhi))
        hits["im_ci"] += ci.low <= truth.sace <= ci.high
        widths["im_ci"].append(ci.high - ci.low)
        pi, lo, hi, _ = scenario_bound_terms(m0 / v0, ps0, m1 / v1, ps1)
        wpi = w @ pi
        sci, _ = imbens_manski_interval(
            sb.lower, sb.upper, bootstrap_se((w @ lo) / wpi), bootstrap_se((w @ hi) / wpi)
        )
        hits["scenario_im_ci"] += sci.low <= truth.sace <= sci.high
    elapsed = time.perf_counter() - t0
    n = studies
    lines = [
        f"studies={n} scenarios={args.scenarios} epochs={args.epochs} "
        f"bootstrap={args.bootstrap} seed={args.seed} seconds={elapsed:.1f}",
        f"truth delta_ir={truth.delta_ir:.4f} ir_engaged_baseline={truth.ir_engaged0:.4f} "
        f"ir_engaged_treatment={truth.ir_engaged1:.4f} sace={truth.sace:.4f}",
        f"coverage delta_ir (paired linearised t) = {hits['delta_ir'] / n:.3f} "
        f"mean_width={np.mean(widths['delta_ir']):.4f}",
        f"coverage ir_engaged baseline (Wilson-KG) = {hits['ir_engaged0'] / n:.3f} "
        f"mean_width={np.mean(widths['ir_engaged0']):.4f}",
        f"coverage ir_engaged treatment (Wilson-KG) = {hits['ir_engaged1'] / n:.3f}",
        f"pooled Lee bounds contain true SACE = {hits['pooled'] / n:.3f} "
        f"mean_width={np.mean(widths['pooled']):.4f}",
        f"Imbens-Manski CI (pooled) contains true SACE = {hits['im_ci'] / n:.3f} "
        f"mean_width={np.mean(widths['im_ci']):.4f}",
        f"scenario-level bounds contain true SACE = {hits['scenario'] / n:.3f}",
        f"Imbens-Manski CI (scenario-level) contains true SACE = {hits['scenario_im_ci'] / n:.3f}",
        f"coverage_delta_ir={hits['delta_ir'] / n:.3f} "
        f"coverage_ir_engaged={hits['ir_engaged0'] / n:.3f} "
        f"bounds_contain_truth={hits['pooled'] / n:.3f}",
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
