"""The shipped keyless judges on corpus models they were never fitted or tuned on.

Leave-one-model-out (``offline_judge.py``) estimates how a judge does on a new model; this script
checks the estimate the direct way: the heads *as shipped* label the answers of corpus models
added after they were fitted (models not in the head file's ``train_models``), and Cohen's kappa
against the reference is printed per model and view, with the same views and conventions as
``offline_judge.py`` (``in_role`` scored on the reference's refusals and partials). The shipped
``lexical`` judge is scored beside it (it was never tuned on the corpus).

    python benchmarks/offline_unseen.py --corpus /work/corpus/corpus_with_text.jsonl \
        [--heads src/deconfound/judges/data/offline_heads.json] [--models gpt-4.1 gpt-5.4] \
        [--measured src/deconfound/judges/data/measured_kappa.json]

``--measured`` adds these models' rows to the shipped judges' entries of that file (only when an
entry is for the same judge version), so reports print a measured kappa for them too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from offline_judge import (
    SHORT,
    TARGET_VIEWS,
    fmt_ci,
    fmt_table,
    kappa_table,
    lexical_preds,
    predict_select,
)

from deconfound.judges.lexical import LEXICAL_VERSION
from deconfound.judges.offline import OfflineJudge
from deconfound.judges.offline_data import CorpusItem, load_corpus


def offline_labels(judge: OfflineJudge, items: Sequence[CorpusItem]) -> list[dict[str, str]]:
    """The shipped heads' labels of ``items``, decoded exactly as offline_judge.py decodes its
    folds (``in_role`` and ``refusal_kind`` from their heads on every row; they are scored on
    the reference's declines only)."""
    x = judge.features([it.response for it in items], [it.prompt for it in items])
    return predict_select(judge.heads.heads, judge.heads.decoding, x)


def add_measured(
    path: Path, judge: str, version: str, table: dict[str, dict[str, dict[str, Any]]]
) -> None:
    """Put the unseen models' kappa (intervals, undefined cells) into ``judge``'s entry."""
    data = json.loads(path.read_text(encoding="utf-8"))
    entry = data.get("judges", {}).get(judge)
    if entry is None or entry["version"] != version:
        sys.exit(f"--measured: {path} has no {judge} entry for version {version}")
    models = [m for m in table if m != "pooled"]
    for m in models:
        row = table[m]
        entry["kappa"][m] = {v: c["kappa"] for v, c in row.items()}
        if any(c.get("ci95") for c in row.values()):
            entry.setdefault("kappa_ci95", {})[m] = {v: c.get("ci95") for v, c in row.items()}
        undefined = {
            v: {"reference_counts": c["ref_counts"]} for v, c in row.items() if c["undefined"]
        }
        if undefined:
            entry.setdefault("undefined", {})[m] = undefined
    never = (
        "which is fitted on no corpus model, so every row is out of sample"
        if judge == "lexical"
        else "which was never fitted on them"
    )
    note = (
        f"; {', '.join(models)} scored by the shipped judge, {never} "
        "(the pooled row is over the models before them)"
    )
    # one note naming every unseen model: a later run (a model added) replaces the earlier one
    base = entry["corpus"].split("; ")
    kept = [part for part in base if " scored by the shipped judge, " not in part]
    entry["corpus"] = "; ".join(kept) + note
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--heads", type=Path, help="a head file instead of the shipped one")
    ap.add_argument("--models", nargs="+", help="default: every corpus model the heads never saw")
    ap.add_argument("--measured", type=Path, help="add these models' rows to this measured file")
    args = ap.parse_args()

    judge = OfflineJudge(args.heads)
    seen = set(judge.heads.meta.get("train_models", []))
    items = load_corpus(args.corpus)
    models = args.models or sorted({it.model for it in items} - seen)
    if not models:
        sys.exit(f"--corpus: every model in {args.corpus} was used to fit {judge.version}")
    fitted_on = sorted(set(models) & seen)
    if fitted_on:
        sys.exit(f"--models: {', '.join(fitted_on)} were used to fit {judge.version}")
    items = [it for it in items if it.model in models]
    print(
        f"Shipped judges on {len(items)} answers of {len(models)} corpus model(s) they never saw "
        f"({', '.join(models)}); offline heads {judge.version} fitted on {', '.join(sorted(seen))}"
    )
    print("views as in offline_judge.py:", ", ".join(f"{v}={k}" for k, v in SHORT.items()))
    for name, key, version, preds in (
        (
            f"offline {judge.version} (as shipped)",
            "offline",
            judge.version,
            offline_labels(judge, items),
        ),
        ("lexical-2 (as shipped)", "lexical", LEXICAL_VERSION, lexical_preds(items)),
    ):
        table = kappa_table(items, preds, ci=True)
        if args.measured:
            add_measured(args.measured, key, version, table)
        print()
        print("\n".join(fmt_table(name, table)))
        print("\n".join(fmt_ci(table)))
        below = [
            f"{m} {SHORT[v]} {table[m][v]['kappa']}"
            for m in models
            for v in TARGET_VIEWS
            if table[m][v]["kappa"] is None or table[m][v]["kappa"] < 0.7
        ]
        print("  below 0.7 or undefined: " + ("; ".join(below) if below else "none"))


if __name__ == "__main__":
    main()
