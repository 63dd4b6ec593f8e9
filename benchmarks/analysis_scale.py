"""Scale benchmark: time and peak memory of a full analysis from 1k to 100k records.

Each size is a simulated records table (two conditions, two judges, five epochs; scenarios grow
with the size), written to Parquet and then read, validated and analysed with 2,000 scenario
cluster-bootstrap replicates. ``seconds`` is the analysis (``analyze_records`` on the loaded
table, the stats engine's target); ``read_seconds`` (reading + schema validation, the records
module's work) is printed beside it. Peak memory is the tracemalloc peak of read + analysis (numpy
and pandas allocations included). Prints measured numbers only and writes them to
benchmarks/analysis_scale.txt (or --out); the last line is ``rows=100000 seconds=<t>``.

With ``--in-role-share 0.3`` the rubric judge also labels that share of its refusals and partials
in role, so the analysis computes the narrow refusal construct too (a second pass over the same
table); ``untraced_seconds`` (that analysis again, without tracemalloc) and ``broad_only_seconds``
(the same table without ``in_role``, measured in the same run) and their ratio are printed beside
it (output: benchmarks/analysis_scale_constructs.txt by default).

Usage: python benchmarks/analysis_scale.py [--bootstrap 2000] [--sizes 1000 10000 100000]
       [--in-role-share 0.3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from deconfound.records.io import read_records, write_records
from deconfound.stats.analysis import analyze_records
from deconfound.stats.simulate import simulate_records

EPOCHS = 5
ROWS_PER_SCENARIO = EPOCHS * 2 * 2  # epochs x conditions x judges
BASE, TREAT = "Baseline (adversarial only)", "Ethics prompt"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000, 30000, 100000])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--in-role-share", type=float, default=None)
    args = ap.parse_args()
    share = args.in_role_share
    name = "analysis_scale.txt" if share is None else "analysis_scale_constructs.txt"
    out = args.out or Path(__file__).with_name(name)
    lines = [f"cpus={os.cpu_count()} bootstrap={args.bootstrap} epochs={EPOCHS}"]
    if share is not None:
        lines[0] += f" in_role_share={share}"
    print(lines[0], flush=True)
    if share is not None:  # warm up (imports, first-call caches) so neither timing carries it
        warm = simulate_records(20, 2, seed=0, in_role_share=share)
        analyze_records(warm, baseline=BASE, treatments=[TREAT], n_boot=50, seed=1)
    last = ""
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            n_scen = max(2, size // ROWS_PER_SCENARIO)
            path = Path(tmp) / f"r{size}.parquet"
            write_records(simulate_records(n_scen, EPOCHS, seed=size, in_role_share=share), path)
            tracemalloc.start()
            t0 = time.perf_counter()
            table = read_records(path)
            t1 = time.perf_counter()
            analyze_records(table, baseline=BASE, treatments=[TREAT], n_boot=args.bootstrap, seed=1)
            t2 = time.perf_counter()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            line = (
                f"rows={len(table)} scenarios={n_scen} read_seconds={t1 - t0:.2f} "
                f"seconds={t2 - t1:.2f} read_plus_analyze_seconds={t2 - t0:.2f} "
                f"peak_mb={peak / 2**20:.1f}"
            )
            if share is not None:  # both timed without tracemalloc, which slows allocation
                timed = {}
                for label, tab in (("both", table), ("broad_only", table.assign(in_role=None))):
                    t3 = time.perf_counter()
                    analyze_records(
                        tab, baseline=BASE, treatments=[TREAT], n_boot=args.bootstrap, seed=1
                    )
                    timed[label] = time.perf_counter() - t3
                line += (
                    f" untraced_seconds={timed['both']:.2f} "
                    f"broad_only_seconds={timed['broad_only']:.2f} "
                    f"ratio_with_constructs={timed['both'] / timed['broad_only']:.2f}"
                )
            print(line, flush=True)
            lines.append(line)
            last = f"rows={len(table)} seconds={t2 - t1:.2f}"
    lines.append(last)
    print(last)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
