"""Do the judges reach the verdicts careful reading reaches? Each corpus model is one study.

The corpus holds each model's answers under the published Elessan study's three conditions, so
each model is a study with two comparisons (prompt-only and full Elessan, each against the
baseline). This script runs deconfound's analysis on every study once per judge — the reference
labels, ``offline``, ``lexical`` and the published AEI labels (keyword refusal flag + LLM IC
judge) — and counts how often each judge's verdict matches the reference's, per question:
did refusal change (broad construct; and narrow, for judges that label ``in_role``), and did IC
among always-engagers change. A verdict is the analysis's own answer: rose / fell /
no_clear_change / cannot_tell and so on (``stats.sensitivity.answer_category``).

``offline`` is scored only where its heads never saw the model: ``--lomo`` holds the held-out
labels (``benchmarks/offline_judge.py --predictions``) that replace the shipped heads' labels of
those models. offline-5 is fitted on every corpus model, so its run covers all of them:

    deconfound judge corpus_with_text.jsonl -o judged.jsonl --judge lexical --judge offline
    python benchmarks/offline_judge.py --corpus corpus_with_text.jsonl --variants template \\
        --predictions lomo.jsonl
    python benchmarks/verdicts.py --records judged.jsonl --lomo lomo.jsonl \\
        --local sonnet-4.5=../shared/data/aei-elessan/sonnet-4.5 ... (every corpus model)

To compare two offline versions, run it once per ``--lomo`` file (``verdicts.txt`` records the
offline-4.1 run beside offline-5's).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from deconfound.records import read_records
from deconfound.records.schema import validate
from deconfound.stats import analyze_records
from deconfound.stats.results import Analysis
from deconfound.stats.sensitivity import answer_category, answers

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "corpus"))
from published_flags import published_rows  # noqa: E402

BASELINE = "Baseline (adversarial only)"
TREATMENTS = ("Prompt-only (adversarial + ethics)", "Full Elessan (adversarial + ethics + RAG)")
SHORT = {TREATMENTS[0]: "prompt-only", TREATMENTS[1]: "elessan"}
#: judge set -> (engagement judge, IC judge)
JUDGES = {
    "reference": ("reference", "reference"),
    "offline": ("offline", "offline"),
    "lexical": ("lexical", "lexical"),
    "aei": ("aei-keyword", "aei-judge"),
}
KEY = ["model", "condition", "scenario_id"]


def verdicts(a: Analysis) -> dict[str, dict[str, str]]:
    """Per comparison (short treatment name), each question's comparable answer (as judge
    sensitivity compares judges); narrow refusal where the judge labels ``in_role``."""
    out: dict[str, dict[str, str]] = {}
    for comp in a.comparisons:
        got = answers(comp)
        row = {"refusal": got["refusal_changed"], "ic_engagers": got["ic_among_engagers_changed"]}
        c = comp.constructs
        if c is not None and c.narrow_measured and c.narrow is not None:
            r = c.narrow.verdict.refusal_changed
            row["narrow_refusal"] = answer_category(r.finding, None, r.estimate)
        out[SHORT[comp.treatment]] = row
    return out


def with_lomo(records: pd.DataFrame, lomo: Path) -> pd.DataFrame:
    """Replace the shipped offline labels of the models in ``lomo`` by their held-out labels."""
    held = pd.read_json(lomo, lines=True, dtype=False)
    held = held.rename(columns={c: f"lomo_{c}" for c in held.columns if c not in KEY})
    off = records["judge"] == "offline"
    rows = records[off].merge(held, on=KEY, how="left")
    fitted = rows["lomo_engagement"].notna()
    rows.loc[fitted, "engagement"] = rows.loc[fitted, "lomo_engagement"]
    rows.loc[fitted, "ic"] = rows.loc[fitted, "lomo_ic"].map({"true": True, "false": False})
    declined = rows["engagement"].isin(["refusal", "partial"])
    rows.loc[fitted, "refusal_kind"] = rows.loc[fitted, "lomo_refusal_kind"].where(declined)
    rows.loc[fitted, "in_role"] = (
        rows.loc[fitted, "lomo_in_role"].map({"yes": True, "no": False}).where(declined)
    )
    rows.loc[fitted, "judge_version"] = rows.loc[fitted, "judge_version"] + " (held out)"
    rows = rows.drop(columns=[c for c in rows.columns if c.startswith("lomo_")])
    return pd.concat([records[~off], rows], ignore_index=True)


def with_published(records: pd.DataFrame, local: list[str]) -> pd.DataFrame:
    """Add the AEI published keyword flag (engagement) and judge decision (IC) as two judges."""
    ref = records[records["judge"] == "reference"]
    by_key = {
        (str(r["model"]), str(r["condition"]), str(r["source_task_id"])): r
        for r in ref.to_dict("records")
    }
    table = [{k: str(v) for k, v in r.items()} for r in by_key.values()]
    extra = []
    for spec in local:
        model, _, folder = spec.partition("=")
        for keyword, judge, r in published_rows(model, Path(folder), table):
            row = by_key[(r["model"], r["condition"], r["source_task_id"])]
            blank = {**row, "judge_version": "published", "refusal_kind": None, "in_role": None}
            blank.update(judge_explanation=None, confidence=None)
            extra.append(
                {**blank, "judge": "aei-keyword", "ic": None}
                | {"engagement": keyword.get("engagement", "missing")}
            )
            ic = {"true": True, "false": False}.get(judge.get("ic", ""))
            extra.append({**blank, "judge": "aei-judge", "engagement": None, "ic": ic})
    return pd.concat([records, pd.DataFrame(extra)], ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=Path, required=True, help="reference + lexical + offline")
    ap.add_argument("--lomo", type=Path, required=True)
    ap.add_argument("--local", action="append", default=[], metavar="MODEL=DIR")
    ap.add_argument("--bootstrap", type=int, default=2000)
    args = ap.parse_args()
    records = validate(
        with_published(with_lomo(read_records(args.records), args.lomo), args.local),
        source="verdicts",
    )
    models = sorted(records["model"].astype(str).unique())
    table: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    for model in models:
        table[model] = {}
        for name, (eng, ic) in JUDGES.items():
            a = analyze_records(
                records,
                baseline=BASELINE,
                treatments=list(TREATMENTS),
                model=model,
                engagement_judge=eng,
                ic_judge=ic,
                n_boot=args.bootstrap,
                judge_sensitivity=False,
            )
            table[model][name] = verdicts(a)
    questions = ("refusal", "narrow_refusal", "ic_engagers")
    print("Verdicts per study (corpus model) and comparison; '=': the judge matches the reference")
    for model in models:
        for comp in SHORT.values():
            ref = table[model]["reference"][comp]
            cells = []
            for name in JUDGES:
                got = table[model][name][comp]
                marks = {
                    q: "=" if name != "reference" and got.get(q) == ref.get(q) else ""
                    for q in questions
                }
                shown = "  ".join(f"{q[:7]}:{got.get(q, '-')}{marks[q]}" for q in questions)
                cells.append(f"    {name:<9} {shown}")
            print(f"{model} / {comp}")
            print("\n".join(cells))
    print()
    print("Agreement with the reference's verdict (studies x comparisons)")
    for name in list(JUDGES)[1:]:
        parts = []
        for q in questions:
            pairs = [
                (table[m][name][c].get(q), table[m]["reference"][c].get(q))
                for m in models
                for c in SHORT.values()
                if q in table[m][name][c] and q in table[m]["reference"][c]
            ]
            same = sum(a == b for a, b in pairs)
            wrong = Counter(f"{a} for {b}" for a, b in pairs if a != b)
            parts.append(
                f"{q} {same}/{len(pairs)}"
                + (f" ({', '.join(f'{k} x{v}' for k, v in wrong.most_common())})" if wrong else "")
            )
        print(f"  {name:<9} " + "; ".join(parts))
    print(json.dumps({"bootstrap": args.bootstrap}))


if __name__ == "__main__":
    main()
