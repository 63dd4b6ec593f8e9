"""Scale benchmark: time and size of the HTML report as the number of responses grows.

Each size is a simulated records table (two conditions, two judges, five epochs; scenarios grow
with the size). Its analysis (200 bootstrap replicates) is computed first and not timed;
``report_seconds`` is ``build_report`` (figures, tables, transcript explorer, the page), the work
of ``deconfound report``; ``html_mb`` is the size of the written page. Prints measured numbers
only and writes them to benchmarks/report_scale.txt (or --out); the last line repeats the largest
size as ``responses=<n> report_seconds=<s> html_mb=<m>``.

Usage: python benchmarks/report_scale.py [--sizes 12500 25000 50000 100000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from deconfound.report import build_report
from deconfound.stats import analyze_records, simulate_records

EPOCHS = 5
CONDITIONS = 2
BASE, TREAT = "Baseline (adversarial only)", "Ethics prompt"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[12500, 25000, 50000, 100000])
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("report_scale.txt"))
    args = ap.parse_args()
    lines = [f"cpus={os.cpu_count()} epochs={EPOCHS} conditions={CONDITIONS} judges=2"]
    print(lines[0], flush=True)
    last = ""
    for responses in args.sizes:
        n_scen = max(2, responses // (EPOCHS * CONDITIONS))
        table = simulate_records(n_scen, EPOCHS, seed=responses)
        analysis = analyze_records(table, baseline=BASE, treatments=[TREAT], n_boot=200, seed=1)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            page = build_report(analysis, table, Path(tmp), figure_formats=("svg",))
            seconds = time.perf_counter() - t0
            mb = page.stat().st_size / 2**20
        n = n_scen * EPOCHS * CONDITIONS
        line = (
            f"responses={n} rows={len(table)} scenarios={n_scen} "
            f"report_seconds={seconds:.2f} html_mb={mb:.1f}"
        )
        print(line, flush=True)
        lines.append(line)
        last = f"responses={n} report_seconds={seconds:.2f} html_mb={mb:.1f}"
    lines.append(last)
    print(last)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
