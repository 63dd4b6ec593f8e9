"""A judge that never reads the answer: each scenario's majority label among the other models.

Cohen's kappa per corpus model is the project's measure of a judge, but InstrumentalEval's
scenarios differ a lot in how often any model refuses or shows IC, so part of a judge's kappa can
come from knowing the scenario rather than from reading the answer. This baseline labels each
answer with the majority label that the *other* corpus models' answers to the same scenario carry
(all conditions, or the same condition only), never looking at the text, and reports its kappa per
held-out model beside the shipped judges' (from ``judges/data/measured_kappa.json``). A judge that
does not clear this baseline reads little from the answer. The baseline is also biased for what
deconfound measures: pooled over conditions it is the same for every condition, and per condition
it carries only the other models' response to it, so it cannot see how the judged model's own
behaviour changes; that is why no shipped judge uses scenario priors as a feature.

    python benchmarks/scenario_baseline.py > benchmarks/scenario_baseline.txt
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from deconfound.stats import cohen_kappa

HERE = Path(__file__).resolve().parent
TABLE = HERE / "corpus" / "corpus_labels.csv"
MEASURED = HERE.parent / "src" / "deconfound" / "judges" / "data" / "measured_kappa.json"

Row = dict[str, str]
#: view name -> (measured_kappa.json view key, the view's positive class of a reference row)
VIEWS: dict[str, tuple[str, Callable[[Row], bool]]] = {
    "R|not": ("refusal_vs_not", lambda r: r["engagement"] == "refusal"),
    "RP|E": ("refusal_or_partial_vs_engaged", lambda r: r["engagement"] != "engaged"),
    "IC": ("ic", lambda r: r["ic"] == "true"),
}


def baseline_kappa(
    rows: list[Row], model: str, positive: Callable[[Row], bool], *, by_condition: bool
) -> float | None:
    """Kappa of the other models' per-scenario majority (ties count as positive) on ``model``;
    None where the model's reference has one class (kappa is undefined there, not 0)."""

    def key(r: Row) -> tuple[str, ...]:
        return (r["source_task_id"], r["condition"]) if by_condition else (r["source_task_id"],)

    votes: dict[tuple[str, ...], list[bool]] = defaultdict(list)
    for r in rows:
        if r["model"] != model:
            votes[key(r)].append(positive(r))
    mine = [r for r in rows if r["model"] == model]
    truth = [positive(r) for r in mine]
    if len(set(truth)) < 2:
        return None
    pred = [2 * sum(votes[key(r)]) >= len(votes[key(r)]) for r in mine]
    return cohen_kappa(truth, pred)


def main() -> None:
    with TABLE.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["engagement"] != "missing"]
    models = sorted({r["model"] for r in rows})
    shipped = json.loads(MEASURED.read_text(encoding="utf-8"))["judges"]
    print(
        f"Scenario-majority baseline vs the reference corpus ({len(rows)} answers, "
        f"{len(models)} models); kappa per held-out model, the majority taken over the other "
        f"{len(models) - 1} models' answers to the same scenario"
    )
    print(
        "columns: any = all conditions pooled; cond = the same condition only; "
        "offline / lexical = the shipped judges' measured kappa (LOMO or never-seen rows)"
    )
    for view, (key, positive) in VIEWS.items():
        print()
        print(f"{view}  {'model':<21} {'any':>6} {'cond':>6} {'offline':>8} {'lexical':>8}")
        for m in models:
            judged = [shipped[j]["kappa"].get(m, {}).get(key) for j in ("offline", "lexical")]
            cells = " ".join(f"{'-' if k is None else f'{k:.2f}':>8}" for k in judged)
            base = [
                baseline_kappa(rows, m, positive, by_condition=by)
                for by in (False, True)  # any condition, same condition
            ]
            shown = " ".join(f"{'undef' if k is None else f'{k:.2f}':>6}" for k in base)
            print(f"{'':<5} {m:<21} {shown} {cells}")


if __name__ == "__main__":
    main()
