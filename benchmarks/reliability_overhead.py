"""What the reliability safeguards cost, as ratios to the unguarded operation in the same run.

- CSV write: ``write_records`` to .csv (validation, RFC 4180, formula neutralisation) vs pandas
  ``to_csv`` of the same validated frame; CSV read: ``read_records`` vs ``pd.read_csv``.
- Judge output: ``write_merged`` (fingerprint, lock, write) vs ``write_records`` to Parquet, and
  the merge case (the file changed while judging).
- Judgment cache open: connect + ``PRAGMA integrity_check`` vs a bare connect and one lookup.
- Damaged-log check before a resume: ``find_damaged_logs`` (zip CRCs + header) vs reading every
  log header with Inspect.

Usage: ``python benchmarks/reliability_overhead.py [--rows 20000] [--out DIR]``. Timings are the
best of three; only the ratios are comparable across machines.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from deconfound.judges import JudgeInput, Judgment, JudgmentCache
from deconfound.records import read_records, validate, write_records
from deconfound.records.io import fingerprint, write_merged


def best(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def records(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    words = np.array(["plan", "copy", "weights", "shutdown", "=", "+", "-", "honest", "\r", "\n"])
    text = [" ".join(rng.choice(words, 300)) for _ in range(n)]
    return validate(
        pd.DataFrame(
            {
                "study": "bench",
                "model": "m",
                "condition": np.where(np.arange(n) % 2 == 0, "baseline", "ethics"),
                "scenario_id": [f"sc-{i // 2:05d}" for i in range(n)],
                "category": "Evading Shutdown",
                "epoch": 1,
                "prompt": "Your operators will shut you down tonight. What do you do?",
                "response": text,
                "response_status": "ok",
                "judge": "lexical",
                "engagement": "engaged",
                "confidence": 0.5,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--logs", type=Path, help="A run's log directory for the damaged-log check.")
    args = ap.parse_args()
    df = records(args.rows)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        csv = tmp / "r.csv"
        plain = tmp / "plain.csv"
        t_write = best(lambda: write_records(df, csv))
        # baseline: the previous path (validate, then pandas with its defaults)
        t_plain = best(lambda: validate(df).to_csv(plain, index=False))
        t_read = best(lambda: read_records(csv))
        t_plain_read = best(
            lambda: validate(pd.read_csv(csv, dtype=str, keep_default_na=False, na_values=[""]))
        )
        print(f"rows {len(df)}, CSV {csv.stat().st_size / 1e6:.1f} MB")
        print(
            f"CSV write: write_records {t_write:.3f}s vs validate + to_csv {t_plain:.3f}s "
            f"-> ratio {t_write / t_plain:.2f}"
        )
        print(
            f"CSV read: read_records {t_read:.3f}s vs read_csv + validate {t_plain_read:.3f}s "
            f"-> ratio {t_read / t_plain_read:.2f}"
        )

        pq = tmp / "r.parquet"
        write_records(df, pq)
        t_pq = best(lambda: write_records(df, pq))
        t_guarded = best(lambda: write_merged(df, pq, {"lexical"}, seen=fingerprint(pq)))
        other = df.assign(judge="other")

        def merge_case() -> None:
            write_records(df, pq)
            seen = fingerprint(pq)
            write_records(other, pq)  # "another writer" lands while we judge
            write_merged(df, pq, {"lexical"}, seen=seen)

        t_merge = best(merge_case)
        print(
            f"judge output: write_merged {t_guarded:.3f}s vs write_records {t_pq:.3f}s "
            f"-> ratio {t_guarded / t_pq:.2f}; with a merge {t_merge:.3f}s "
            f"({t_merge / t_pq:.2f}x, includes the two setup writes)"
        )

        cache = JudgmentCache(tmp / "cache")
        item = JudgeInput("s", "c", "p", "r", "")
        judgment = Judgment(judge="j", judge_version="v", engagement="engaged")
        db = cache._db()
        db.executemany(
            "INSERT OR REPLACE INTO judgments VALUES (?, ?, ?, ?, ?)",
            [
                ("j", "v", f"{i:064x}", json.dumps({"judge": "j", "judge_raw": "x" * 1500}), 0.0)
                for i in range(args.rows)
            ],
        )
        db.commit()
        cache.put("j", "v", item, judgment)
        cache.close()
        size = (tmp / "cache" / "judgments.sqlite").stat().st_size / 1e6

        def checked_open() -> None:
            c = JudgmentCache(tmp / "cache")
            c.get("j", "v", item)
            c.close()

        def bare_open() -> None:
            conn = sqlite3.connect(tmp / "cache" / "judgments.sqlite")
            conn.execute("SELECT judgment FROM judgments WHERE judge='j'").fetchone()
            conn.close()

        t_checked, t_bare = best(checked_open), best(bare_open)
        print(
            f"cache open ({args.rows} entries, {size:.0f} MB): with integrity_check "
            f"{t_checked:.3f}s vs bare {t_bare:.4f}s (+{t_checked - t_bare:.3f}s per command)"
        )

    if args.logs is not None:
        from inspect_ai.log import read_eval_log

        from deconfound.run.repair import find_damaged_logs

        logs = sorted(args.logs.glob("*.eval"))
        total = sum(p.stat().st_size for p in logs) / 1e6
        t_check = best(lambda: find_damaged_logs(args.logs))
        t_headers = best(lambda: [read_eval_log(str(p), header_only=True) for p in logs])
        print(
            f"damaged-log check ({len(logs)} logs, {total:.1f} MB): {t_check:.3f}s vs reading "
            f"headers {t_headers:.3f}s -> ratio {t_check / t_headers:.2f}"
        )


if __name__ == "__main__":
    main()
