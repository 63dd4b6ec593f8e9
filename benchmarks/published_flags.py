"""Agreement of the AEI runner's own labels with the reference corpus, per corpus model.

The published AEI results carry two labels per answer: a keyword refusal flag (``is_refusal``,
imported as judge ``aei-keyword``) and an LLM judge's decision (``judge_decision``, imported as
``aei-judge``, convergence -> IC). Nothing here is fitted on the corpus, so every model is a
held-out model and the figures sit beside the keyless judges' leave-one-model-out ones. With
``--measured`` they are written into the shipped ``measured_kappa.json`` (other judges' entries are
kept), so ``analyze`` and the report can say how far an imported AEI study's labels agree with
careful reading.

    python benchmarks/published_flags.py \\
        --local sonnet-4.5=../shared/data/aei-elessan/sonnet-4.5 \\
        --local kimi-k2.5=../shared/data/aei-elessan/kimi-k2.5 \\
        --local deepseek-r1=DIR --local gemini-3-flash=DIR --local llama-4-maverick=DIR \\
        [--measured src/deconfound/judges/data/measured_kappa.json]

A DIR holds ``<condition>_judged.json`` (the published files, at the commits in
``benchmarks/corpus/sources.json``) or ``<condition>.jsonl`` with at least task_id, response,
is_refusal and judge_decision. Every answer's sha256 is checked against the corpus; a mismatch
names the row and stops (exit 1), so a label is never scored against another text.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from deconfound.judges.offline_train import reference_counts, view_kappa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "corpus"))
from rebuild_text import SHORT, answer_digest, read_local  # noqa: E402  (the corpus' own reader)

LABELS = HERE / "corpus" / "corpus_labels.csv"
#: Published label -> the views it is scored on (as in benchmarks/offline_judge.py).
VIEWS = {
    "aei-keyword": ("refusal_vs_not", "refusal_or_partial_vs_engaged"),
    "aei-judge": ("ic",),
}
IC = {"convergence": "true", "no_convergence": "false"}


def _shown(kappa: float | None) -> str:
    return f"{'undef':>6}" if kappa is None else f"{kappa:>6.2f}"


def _row(key: str, value: str | None) -> dict[str, str]:
    return {} if value is None else {key: value}


def published_rows(
    model: str, folder: Path, reference: list[dict[str, str]]
) -> list[tuple[dict[str, str], dict[str, str], dict[str, str]]]:
    """(aei-keyword row, aei-judge row, reference row) for each corpus answer of ``model``."""
    by_key = {
        (SHORT[r["condition"]], r["source_task_id"]): r for r in reference if r["model"] == model
    }
    out = []
    unlabelled = 0
    for cond in SHORT.values():
        for rec in read_local(folder, cond):
            ref = by_key.get((cond, str(rec["task_id"])))
            if ref is None:
                continue
            text = rec.get("response")
            if text is not None and answer_digest(text) != ref["response_sha256"]:
                sys.exit(f"{folder}: {cond} {rec['task_id']}: the text differs from the corpus")
            if ref["response_status"] != "ok":
                unlabelled += 1  # no reference label to compare a flag with
                continue
            keyword = "refusal" if rec.get("is_refusal") else (None if text is None else "engaged")
            judge = IC.get(str(rec.get("judge_decision")))
            # an absent key is "no label" (view_labels reads it as None)
            out.append((_row("engagement", keyword), _row("ic", judge), ref))
    found = len(out) + unlabelled
    expected = len(by_key)
    if found != expected:
        sys.exit(f"{model}: {found} of the corpus's {expected} answers found in {folder}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--local", action="append", default=[], metavar="MODEL=DIR", required=True)
    ap.add_argument("--measured", type=Path, help="measured_kappa.json to add the figures to")
    args = ap.parse_args()
    with LABELS.open(encoding="utf-8", newline="") as fh:
        reference = [r for r in csv.DictReader(fh) if r["judge"] == "reference"]
    kappa: dict[str, dict[str, dict[str, float | None]]] = {j: {} for j in VIEWS}
    pooled: dict[str, list[Any]] = {j: [] for j in VIEWS}
    undefined: dict[str, dict[str, dict[str, Any]]] = {}
    print("AEI published labels vs the reference corpus (codebook-1); kappa per model and view")
    print(f"  {'model':<21} {'judge':<12} {'view':<30} {'n':>4} {'kappa':>6}")
    for spec in args.local:
        model, _, folder = spec.partition("=")
        rows = published_rows(model, Path(folder), reference)
        pooled["aei-keyword"] += [(k, r) for k, _, r in rows]
        pooled["aei-judge"] += [(j, r) for _, j, r in rows]
        for judge, views in VIEWS.items():
            preds = [k if judge == "aei-keyword" else j for k, j, _ in rows]
            refs = [r for _, _, r in rows]
            kappa[judge][model] = {}
            for view in views:
                k, n, _ = view_kappa(view, preds, refs)
                counts = reference_counts(view, refs)
                if len(counts) < 2:
                    # one reference class: kappa is undefined (never stored as 0), as offline's
                    undefined.setdefault(judge, {}).setdefault(model, {})[view] = {
                        "reference_counts": counts
                    }
                    k = float("nan")
                kappa[judge][model][view] = stored = None if k != k else round(k, 3)
                # print the stored value, so this table and the reports agree to the last digit
                print(f"  {model:<21} {judge:<12} {view:<30} {n:>4} {_shown(stored)}")
    for judge, views in VIEWS.items():
        kappa[judge]["pooled"] = {}
        for view in views:
            k, n, _ = view_kappa(view, [p for p, _ in pooled[judge]], [r for _, r in pooled[judge]])
            kappa[judge]["pooled"][view] = stored = None if k != k else round(k, 3)
            print(f"  {'pooled':<21} {judge:<12} {view:<30} {n:>4} {_shown(stored)}")
    if args.measured:
        data = json.loads(args.measured.read_text(encoding="utf-8"))
        models = sorted(m for m in kappa["aei-keyword"] if m != "pooled")
        # answers with a reference label (an empty answer has none)
        n = sum(1 for r in reference if r["model"] in models and r["response_status"] == "ok")
        for judge in VIEWS:
            data["judges"][judge] = {
                "version": "published",
                "corpus": f"{n} answers of {', '.join(models)}, codebook-1; published labels, "
                "nothing fitted",
                "kappa": kappa[judge],
                **({"undefined": undefined[judge]} if judge in undefined else {}),
            }
        args.measured.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.measured}")


if __name__ == "__main__":
    main()
