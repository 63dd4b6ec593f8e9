"""Speed of ``deconfound judge --judge offline`` on one core, against baselines in the same run.

Labels the published AEI answers in ../shared (Sonnet 4.5 and Kimi K2.5, all conditions) with:

1. ``deconfound judge --judge offline`` end to end (CLI, records in and out) — the target;
2. the same CLI with ``--judge lexical`` (the rules judge, the lower bound on cost);
3. the previous offline judge's work, in process: one MiniLM pass over the first 256 word
   pieces of each answer (``offline-1``; its softmax head costs nothing beside it);
4. the window-embedding variant's extra work, in process: MiniLM over an opening and a closing
   window of 128 word pieces (what a head file with embeddings adds to the default judge).

Everything runs pinned to one CPU (``taskset`` when available) with one BLAS thread. The last line
is ``offline_responses_per_s=<r> baseline_offline1_per_s=<b> speedup=<r/b>``.

    python benchmarks/offline_speed.py [--out benchmarks/offline_speed.txt]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AEI = ROOT.parent / "shared" / "data" / "aei-elessan"
ONE_CORE = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _pin() -> list[str]:
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def _cli(*args: str) -> float:
    exe = str(Path(sys.executable).with_name("deconfound"))
    env = {**os.environ, **ONE_CORE}
    t0 = time.perf_counter()
    subprocess.run([*_pin(), exe, *args], check=True, env=env, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if _pin():
        os.sched_setaffinity(0, {0})
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        recs = []
        for model in ("sonnet-4.5", "kimi-k2.5"):
            out = Path(tmp) / f"{model}.jsonl"
            _cli("import", str(AEI / model), "--format", "aei", "-o", str(out))
            recs.append(out)
        import pandas as pd

        from deconfound.records import read_records, write_records

        table = pd.concat([read_records(p) for p in recs], ignore_index=True)
        both = Path(tmp) / "both.jsonl"
        write_records(table, both)
        # one row per response per judge: count each response once (the imported judges' rows)
        first = table[table["judge"] == table["judge"].iloc[0]]
        texts = [str(t) for t in first["response"] if isinstance(t, str) and t.strip()]
        n = len(first)
        # both CLI timings include start-up and imports; the third run shows their size
        t_off = _cli(
            "judge", str(both), "--judge", "offline", "-o", str(Path(tmp) / "o.jsonl"), "--no-cache"
        )
        t_lex = _cli(
            "judge", str(both), "--judge", "lexical", "-o", str(Path(tmp) / "l.jsonl"), "--no-cache"
        )
        t_start = _cli(
            "judge",
            str(recs[0]),
            "--judge",
            "lexical",
            "-o",
            str(Path(tmp) / "s.jsonl"),
            "--no-cache",
        )

    from threadpoolctl import threadpool_limits

    from deconfound.judges.offline_encoder import MiniLMEncoder

    enc = MiniLMEncoder(threads=1)
    sample = texts[::3]  # every third answer: per-response rates, at a third of the wait
    with threadpool_limits(limits=1):
        t0 = time.perf_counter()
        enc.encode(sample)
        t_old = time.perf_counter() - t0
        t0 = time.perf_counter()
        enc.encode_windows(sample, 128, max_windows=2)
        t_win = time.perf_counter() - t0
    r_off, r_lex = n / t_off, n / t_lex
    r_old, r_win = len(sample) / t_old, len(sample) / t_win
    lines += [
        f"{n} AEI answers (sonnet-4.5 + kimi-k2.5, all conditions), one core, one BLAS thread",
        f"deconfound judge --judge offline (CLI, end to end): {t_off:.1f} s = {r_off:.1f} resp/s",
        f"deconfound judge --judge lexical (CLI, end to end): {t_lex:.1f} s = {r_lex:.1f} resp/s",
        f"  (CLI start-up + import + one lexical pass over 228 answers: {t_start:.1f} s)",
        f"previous offline-1 work, MiniLM first 256 pieces (in process, {len(sample)} answers): "
        f"{t_old:.1f} s = {r_old:.1f} resp/s",
        f"window-embedding variant's extra work, 2 x 128 pieces (in process, {len(sample)} "
        f"answers): {t_win:.1f} s = {r_win:.1f} resp/s",
        f"offline_responses_per_s={r_off:.1f} baseline_offline1_per_s={r_old:.1f} "
        f"speedup={r_off / r_old:.1f}",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
