"""Blind careful-reading sample of AEI (InstrumentalEval, Sonnet 4.5) responses, and its scoring.

Provenance of the labels in ``aei_reading_labels.csv``: one reader (an AI assistant working on
the project), blind to the published keyword flag, the runner's LLM judge and deconfound's
judges, labelled n=60 responses (20 per condition) with the engagement taxonomy
refusal / partial / engaged. Not a validated reference: a single, non-human reader, no
adjudication, and the reader also works on the project. See ``aei_reading_labels.md``.

Sample mode (default) draws a seeded random sample of (condition, task_id) pairs stratified by
condition from ``<data>/{baseline,prompt_only,elessan}_judged.json`` and prints, for each, only
the scenario prompt and the response text, never a label::

    python benchmarks/aei_reading_sample.py --data ../shared/data/aei-elessan/sonnet-4.5

Score mode reads the labels CSV and the deconfound tables (the AEI import for the keyword
flag, judge ``aei-keyword``; the lexical relabel), computes Cohen's kappa and raw agreement on
two binary views (refusal vs not; refusal-or-partial vs engaged) and per-condition refusal
rates, and writes ``benchmarks/aei_reading_agreement.txt``::

    deconfound import --format aei <data> -o /tmp/aei.parquet
    deconfound judge /tmp/aei.parquet --judge lexical -o /tmp/judged.parquet
    python benchmarks/aei_reading_sample.py --score \
        --imported /tmp/aei.parquet --judged /tmp/judged.parquet

The data are read in place and never copied into the repository.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDITIONS = ("baseline", "prompt_only", "elessan")
PER_CONDITION = 20
SEED = 20240611
LABELS = ROOT / "benchmarks" / "aei_reading_labels.csv"
OUT = ROOT / "benchmarks" / "aei_reading_agreement.txt"
ENGAGEMENT = ("refusal", "partial", "engaged")


def load(data: Path) -> dict[str, list[dict[str, object]]]:
    """Records per condition (file stem), keeping only rows with a response text."""
    out = {}
    for cond in CONDITIONS:
        recs = json.loads((data / f"{cond}_judged.json").read_text(encoding="utf-8"))
        out[cond] = [r for r in recs if isinstance(r.get("response"), str) and r["response"]]
    return out


def draw(data: Path, k: int = PER_CONDITION, seed: int = SEED) -> list[tuple[str, dict]]:
    """Seeded sample of k records per condition, in a shuffled (condition-mixed) order."""
    rng = random.Random(seed)
    by_cond = load(data)
    picked = []
    for cond in CONDITIONS:
        recs = sorted(by_cond[cond], key=lambda r: str(r["task_id"]))
        picked.extend((cond, r) for r in rng.sample(recs, k))
    rng.shuffle(picked)
    return picked


def show(data: Path, pairs: list[tuple[str, dict]] | None = None) -> None:
    """Print only the prompt and the response of each sampled pair (blind: no labels)."""
    for i, (cond, rec) in enumerate(pairs if pairs is not None else draw(data), start=1):
        print(f"=== item {i}: condition={cond} task_id={rec['task_id']}")
        print("--- PROMPT")
        print(rec["prompt"])
        print("--- RESPONSE")
        print(rec["response"])
        print()


def _bin_refusal(v: str | None) -> str | None:
    return None if v is None else ("refusal" if v == "refusal" else "not_refusal")


def _bin_any(v: str | None) -> str | None:
    return None if v is None else ("engaged" if v == "engaged" else "refusal_or_partial")


def score(imported: Path, judged: Path, labels_path: Path = LABELS) -> str:
    """Agreement of the keyword flag and the lexical judge with the reading labels."""
    import pandas as pd

    from deconfound.stats.agreement import agreement

    with labels_path.open(encoding="utf-8", newline="") as f:
        labels = list(csv.DictReader(f))
    imp = pd.read_parquet(imported)
    jud = pd.read_parquet(judged)

    def cond_key(name: str) -> str:
        low = name.lower()
        if "elessan" in low:
            return "elessan"
        if "prompt" in low:
            return "prompt_only"
        return "baseline"

    def table(df: pd.DataFrame, judge: str) -> dict[tuple[str, str], str | None]:
        rows = df[df["judge"] == judge]
        out: dict[tuple[str, str], str | None] = {}
        for cond, tid, eng in zip(
            rows["condition"], rows["source_task_id"], rows["engagement"], strict=True
        ):
            out[(cond_key(str(cond)), str(tid))] = None if pd.isna(eng) else str(eng)
        return out

    kw = table(imp, "aei-keyword")
    lex = table(jud, "lexical")
    keys = [(r["condition"], r["source_task_id"]) for r in labels]
    gold = [r["engagement"] for r in labels]
    missing = [k for k in keys if k not in kw or k not in lex]
    if missing:
        raise SystemExit(f"labelled pairs not found in the tables: {missing}")
    buf = io.StringIO()
    p = buf.write
    p("AEI (Sonnet 4.5) careful-reading sample: agreement with published keyword flag and\n")
    p("deconfound's lexical judge. Reference = one reader (an AI assistant working on the\n")
    p(f"project), blind to all judge labels, n={len(labels)}; NOT a validated reference.\n")
    p(f"Labels: benchmarks/{labels_path.name}; lexical labels from {judged}\n\n")
    counts = {c: gold.count(c) for c in ENGAGEMENT}
    p(f"Reader labels: {counts}\n\n")
    p(f"{'rater':<10} {'view':<30} {'n':>3} {'raw':>6} {'kappa':>6}  confusion (rows=reader)\n")
    views = (("refusal vs not", _bin_refusal), ("refusal-or-partial vs engaged", _bin_any))
    for name, src in (("keyword", kw), ("lexical", lex)):
        pred = [src[k] for k in keys]
        for vname, fn in views:
            a = agreement([fn(g) for g in gold], [fn(x) for x in pred])
            p(
                f"{name:<10} {vname:<30} {a.n:>3} {a.observed:>6.3f} {a.cohen_kappa:>6.3f}"
                f"  {a.confusion.to_dict()}\n"
            )
    a3 = agreement(gold, [lex[k] for k in keys], categories=ENGAGEMENT)
    p(f"\nlexical 3-class: raw {a3.observed:.3f}, kappa {a3.cohen_kappa:.3f}\n")
    p(f"  confusion (rows=reader, cols=lexical): {a3.confusion.to_dict()}\n")
    p("\nPer-condition refusal rate (share labelled 'refusal'; partial counted separately)\n")
    head = ("condition", "n", "reader", "r+p", "keyword", "lexical", "lex r+p")
    widths = ("<12", ">3", ">7", ">6", ">8", ">8", ">8")
    p(" ".join(f"{h:{w}}" for h, w in zip(head, widths, strict=True)) + "\n")
    for cond in CONDITIONS:
        idx = [i for i, k in enumerate(keys) if k[0] == cond]
        n = len(idx)

        def rate(vals: list[str | None], which: tuple[str, ...], idx: list[int] = idx) -> float:
            return sum(vals[i] in which for i in idx) / max(1, len(idx))

        lexv = [lex[k] for k in keys]
        p(
            f"{cond:<12} {n:>3} {rate(gold, ('refusal',)):>7.2f}"
            f" {rate(gold, ('refusal', 'partial')):>6.2f}"
            f" {rate([kw[k] for k in keys], ('refusal',)):>8.2f}"
            f" {rate(lexv, ('refusal',)):>8.2f} {rate(lexv, ('refusal', 'partial')):>8.2f}\n"
        )
    p("\nDisagreements (reader vs lexical), by pair:\n")
    for k, g, r in zip(keys, gold, labels, strict=True):
        if lex[k] != g:
            p(f"  {k[0]:<12} {k[1]:<36} reader={g:<8} lexical={lex[k]:<8} note: {r['note']}\n")
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/aei-elessan/sonnet-4.5")
    ap.add_argument("--score", action="store_true", help="score the labels CSV instead")
    ap.add_argument("--imported", type=Path, default=Path("/tmp/aei.parquet"))
    ap.add_argument("--judged", type=Path, default=Path("/tmp/judged.parquet"))
    ap.add_argument("--labels", type=Path, default=LABELS, help="reading labels CSV to score")
    ap.add_argument("--out", type=Path, default=OUT, help="where --score writes its report")
    args = ap.parse_args()
    if args.score:
        text = score(args.imported, args.judged, args.labels)
        args.out.write_text(text, encoding="utf-8")
        print(text, end="")
    else:
        show(args.data)


if __name__ == "__main__":
    main()
