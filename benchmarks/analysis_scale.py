"""Scale benchmark: time and peak memory of a full analysis from 1k to 1M records.

Each size is a simulated records table (two conditions, two judges, five epochs; scenarios grow
with the size), written to Parquet and then read, validated and analysed with 2,000 scenario
cluster-bootstrap replicates, twice: once timed, once under tracemalloc for the peak memory (the
tracing itself slows pandas several-fold, so it is kept out of the timing). ``seconds`` is the
analysis (``analyze_records`` on the loaded table, the stats engine's target); ``read_seconds``
(reading + schema validation, the records module's work) is printed beside it. Peak memory is
the tracemalloc peak of read + analysis (numpy and pandas allocations included); ``rss_mb`` is
the process's peak resident memory so far (``ru_maxrss``: everything, including the simulation
and the Parquet file written before timing). Prints measured numbers only and writes them to
benchmarks/analysis_scale.txt (or --out); the last line repeats the largest size as
``rows=<n> seconds=<s> peak_mb=<m>``.

Usage: python benchmarks/analysis_scale.py [--bootstrap 2000] [--sizes 1000 100000 1000000]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from deconfound.records import read_records, write_records
from deconfound.stats import analyze_records, simulate_records

EPOCHS = 5
ROWS_PER_SCENARIO = EPOCHS * 2 * 2  # epochs x conditions x judges
BASE, TREAT = "Baseline (adversarial only)", "Ethics prompt"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000, 300000, 1000000])
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("analysis_scale.txt"))
    args = ap.parse_args()
    lines = [f"cpus={os.cpu_count()} bootstrap={args.bootstrap} epochs={EPOCHS}"]
    print(lines[0], flush=True)
    last = ""
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            n_scen = max(2, size // ROWS_PER_SCENARIO)
            path = Path(tmp) / f"r{size}.parquet"
            write_records(simulate_records(n_scen, EPOCHS, seed=size), path)
            # Timed pass without tracing: tracemalloc slows pandas' allocation-heavy paths
            # several-fold (48 s instead of ~10 s at 1M rows), which is not the tool's speed.
            t0 = time.perf_counter()
            table = read_records(path)
            t1 = time.perf_counter()
            analyze_records(table, baseline=BASE, treatments=[TREAT], n_boot=args.bootstrap, seed=1)
            t2 = time.perf_counter()
            del table
            # Memory pass: the same work again under tracemalloc for its peak.
            tracemalloc.start()
            table = read_records(path)
            analyze_records(table, baseline=BASE, treatments=[TREAT], n_boot=args.bootstrap, seed=1)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            line = (
                f"rows={len(table)} scenarios={n_scen} read_seconds={t1 - t0:.2f} "
                f"seconds={t2 - t1:.2f} read_plus_analyze_seconds={t2 - t0:.2f} "
                f"peak_mb={peak / 2**20:.1f} "
                f"rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
            )
            print(line, flush=True)
            lines.append(line)
            last = f"rows={len(table)} seconds={t2 - t1:.2f} peak_mb={peak / 2**20:.1f}"
    lines.append(last)
    print(last)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
