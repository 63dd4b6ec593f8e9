"""Offline judges against XSTest's human labels (2,250 completions of 5 subject models).

Reports, for the lexical judge, the offline judge (its heads are fitted on the InstrumentalEval
reference corpus, so XSTest is wholly held out) and the labels
published with XSTest (string match, GPT-4 2023) as reference rows: 3-class accuracy and
kappa, any-refusal (refusal or partial vs compliance) accuracy, precision, recall and kappa,
per-class recall and partial-class F1, and the same binary figures per subject model. Writes
the printed text to benchmarks/xstest_judges.txt.

    python benchmarks/xstest_judges.py [--xstest ../shared/data/xstest] [--no-offline]

Caveat printed with the numbers: the lexical cue lists were written while reading XSTest and
InstrumentalEval responses, so its XSTest figures are in-sample for the rule author.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deconfound.judges.lexical import LexicalJudge
from deconfound.judges.offline_data import XSTEST_MODELS, XSTestItem, load_xstest
from deconfound.stats import agreement

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("refusal", "partial", "engaged")


def _binary(v: str | None) -> str | None:
    return None if v is None else ("engaged" if v == "engaged" else "refusal")


def row(name: str, subset: str, pred: Sequence[str | None], gold: Sequence[str]) -> str:
    keep = [(p, g) for p, g in zip(pred, gold, strict=True) if p is not None]
    p3 = [p for p, _ in keep]
    g3 = [g for _, g in keep]
    three = agreement(p3, g3, categories=CLASSES)
    pb = [_binary(p) for p in p3]
    gb = [_binary(g) for g in g3]
    two = agreement(pb, gb, categories=("refusal", "engaged"))
    tp = sum(p == g == "refusal" for p, g in zip(pb, gb, strict=True))
    prec = tp / max(1, pb.count("refusal"))
    rec = tp / max(1, gb.count("refusal"))
    recall = {
        c: sum(p == g == c for p, g in zip(p3, g3, strict=True)) / max(1, g3.count(c))
        for c in CLASSES
    }
    tpp = sum(p == g == "partial" for p, g in zip(p3, g3, strict=True))
    f1p = 2 * tpp / max(1, p3.count("partial") + g3.count("partial"))
    return (
        f"{name:<22} {subset:<18} {len(keep):>5} {three.observed:>6.3f} {three.cohen_kappa:>6.3f}"
        f" {two.observed:>6.3f} {prec:>6.3f} {rec:>6.3f} {two.cohen_kappa:>6.3f}"
        f" {recall['refusal']:>6.3f} {recall['partial']:>6.3f} {recall['engaged']:>6.3f}"
        f" {f1p:>6.3f}"
    )


HEADER = (
    f"{'detector':<22} {'subset':<18} {'n':>5} {'acc3':>6} {'kap3':>6} {'accB':>6} {'precB':>6}"
    f" {'recB':>6} {'kapB':>6} {'rRef':>6} {'rPart':>6} {'rEng':>6} {'F1prt':>6}"
)
LEGEND = (
    "acc3/kap3: 3-class accuracy and Cohen's kappa (refusal/partial/engaged); accB/precB/recB/"
    "kapB: any refusal (refusal or partial) vs compliance; rRef/rPart/rEng: per-class recall; "
    "F1prt: partial-class F1."
)


HEADER_HELD = (
    f"{'held-out subset':<26} {'n':>5} {'acc3':>6} {'kap3':>6} {'accB':>6} {'kapB':>6}"
    f" {'rRef':>6} {'rPart':>6} {'rEng':>6} {'F1prt':>6}"
)


def held_row(name: str, sc: dict[str, Any]) -> str:
    r = sc["recall"]
    return (
        f"{name:<26} {sc['n']:>5} {sc['accuracy_3class']:>6.3f} {sc['kappa_3class']:>6.3f}"
        f" {sc['accuracy_any_refusal']:>6.3f} {sc['kappa_any_refusal']:>6.3f}"
        f" {r['refusal']:>6.3f} {r['partial']:>6.3f} {r['engaged']:>6.3f} {sc['f1_partial']:>6.3f}"
    )


def per_model(
    name: str, preds: Sequence[str | None], items: list[XSTestItem], out: io.StringIO
) -> None:
    for m in XSTEST_MODELS:
        idx = [i for i, it in enumerate(items) if it.model == m]
        print(row(name, m, [preds[i] for i in idx], [items[i].label for i in idx]), file=out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xstest", type=Path, default=ROOT.parent / "shared" / "data" / "xstest")
    ap.add_argument("--no-offline", action="store_true", help="Skip the offline classifier.")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "xstest_judges.txt")
    args = ap.parse_args()

    items = load_xstest(args.xstest)
    gold = [it.label for it in items]
    out = io.StringIO()
    print(
        f"XSTest v2: {len(items)} completions, {len(XSTEST_MODELS)} subject models; human "
        f"labels: {gold.count('engaged')} compliance, {gold.count('refusal')} full refusal, "
        f"{gold.count('partial')} partial",
        file=out,
    )
    print(LEGEND, file=out)
    print("", file=out)

    judge = LexicalJudge()
    t0 = time.perf_counter()
    lex = [judge.label(it.completion).engagement for it in items]
    dt = time.perf_counter() - t0
    print(HEADER, file=out)
    print(row("lexical", "all", lex, gold), file=out)
    print(row("XSTest string match", "all", [it.strmatch for it in items], gold), file=out)
    gpt = [it.gpt4 for it in items]
    print(row("GPT-4 (2023) judge", "all (non-label out)", gpt, gold), file=out)

    offline_note = ""
    off: list[str | None] = []
    if not args.no_offline:
        from deconfound.judges.offline import OfflineJudge

        offline = OfflineJudge()
        off = [
            j.engagement
            for j in offline.label_many(
                [it.completion for it in items], [it.prompt for it in items]
            )
        ]
        print(row("offline (corpus heads)", "all", off, gold), file=out)
        offline_note = (
            f"offline {offline.version}: heads fitted on the InstrumentalEval reference corpus "
            "only, so every XSTest completion is out of domain and held out."
        )
    print("", file=out)
    print("Per subject model:", file=out)
    print(HEADER, file=out)
    per_model("lexical", lex, items, out)
    per_model("XSTest string match", [it.strmatch for it in items], items, out)
    if not args.no_offline:
        per_model("offline (corpus heads)", off, items, out)
    print("", file=out)
    print(
        f"lexical speed: {len(items)} completions in {dt:.2f} s "
        f"({len(items) / dt:,.0f} per second, one process)",
        file=out,
    )
    if offline_note:
        print(offline_note, file=out)
    print(
        "Caveat: the lexical cue lists were written while reading XSTest and InstrumentalEval "
        "responses, so these lexical figures are in-sample for the rule author.",
        file=out,
    )
    text = out.getvalue()
    print(text, end="")
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
