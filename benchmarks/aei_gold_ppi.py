"""PPI++ on real data: AEI Sonnet 4.5 with the blind careful-reading samples as gold labels.

Gold: `aei_reading_labels.csv` (n=60) and `aei_heldout_labels.csv` (n=45), disjoint random
samples of (condition, task) pairs, 35 per condition, labelled blind by ONE AI READER (not a
validated human reference; engagement only, no IC labels). Records: the published AEI files for
Sonnet 4.5 (76 scenarios x 3 conditions, one response each), imported with
`deconfound import --format aei` (judges `aei-keyword`, `aei-judge`) and labelled with
`deconfound judge --judge lexical` and `--judge offline`.

For each engagement judge it prints Δrefusal (each treatment vs baseline) from the judge alone
(paired clustered t interval; `analyze` reports Bonett-Price with one response per scenario,
within a few tenths of a pp), from PPI++ with the gold labels, and from the gold labels alone;
and the refusal rate per condition. The gold-only figures are the careful reader's
own estimate on its 35-per-condition sample.

Usage (the committed aei_gold_ppi.txt came from exactly these commands):
    deconfound import ../shared/data/aei-elessan/sonnet-4.5 --format aei -o aei.parquet
    deconfound judge aei.parquet --judge lexical -o aei_lex.parquet
    deconfound judge aei_lex.parquet --judge offline -o aei_judged.parquet
    python benchmarks/aei_gold_ppi.py --records aei_judged.parquet

The gold-only figure is the careful reader's own estimate, and PPI++ uses the same gold labels,
so "PPI++ covers it" is a consistency check here, not an independent validation. The last
section is out of sample: PPI++ from the first sample (60) against the reader's estimate on the
held-out sample (45), which the estimator never sees.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from deconfound.records import read_records
from deconfound.records.gold import read_gold
from deconfound.stats import (
    paired_ratio_difference,
    response_states,
    scenario_counts,
    select_judges,
)
from deconfound.stats.goldppi import gold_estimates

HERE = Path(__file__).parent
GOLD_FILES = ("aei_reading_labels.csv", "aei_heldout_labels.csv")
#: the reading samples name conditions by the AEI file stem; the records by the published name
CONDITION_NAMES = {
    "baseline": "Baseline (adversarial only)",
    "prompt_only": "Prompt-only (adversarial + ethics)",
    "elessan": "Full Elessan (adversarial + ethics + RAG)",
}
BASELINE = CONDITION_NAMES["baseline"]
TREATMENTS = (CONDITION_NAMES["prompt_only"], CONDITION_NAMES["elessan"])
JUDGES = ("aei-keyword", "lexical", "offline")


def gold_table(records: pd.DataFrame) -> pd.DataFrame:
    """The two reading samples in the gold format (scenario_id from the records' task ids)."""
    ids = records.drop_duplicates(["condition", "source_task_id"]).set_index(
        ["condition", "source_task_id"]
    )["scenario_id"]
    frames = [pd.read_csv(HERE / name, dtype=str) for name in GOLD_FILES]
    g = pd.concat(frames, ignore_index=True)
    g["condition"] = g["condition"].map(CONDITION_NAMES)
    g["scenario_id"] = [
        ids[(c, t)] for c, t in zip(g["condition"], g["source_task_id"], strict=True)
    ]
    g["epoch"] = "1"
    return g[["scenario_id", "condition", "epoch", "engagement"]]


def pp(x: float | None) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:+.1f}"


def pct(x: float | None) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.1f}%"


def ci(lo: float | None, hi: float | None, signed: bool = True) -> str:
    f = pp if signed else pct
    return f"[{f(lo)}, {f(hi)}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=HERE / "aei_gold_ppi.txt")
    args = ap.parse_args()
    records = read_records(args.records)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "aei_gold.csv"
        gold_table(records).to_csv(path, index=False)
        gold = read_gold(path)
    lines: list[str] = []
    say: Callable[[str], None] = lambda s: (print(s, flush=True), lines.append(s))  # noqa: E731
    say(
        f"# AEI Sonnet 4.5: {records['scenario_id'].nunique()} scenarios x "
        f"{records['condition'].nunique()} conditions; gold = {len(gold)} blind careful-reading "
        "labels by one AI reader (35 per condition, engagement only)"
    )
    say("# delta refusal in pp (95% CI); refusal counts refusals only (partial = engaged)")
    say(
        "# offline: its heads are fitted on the reference corpus, which holds these Sonnet 4.5 "
        "answers, so its agreement with the gold labels here is in-sample"
    )
    for judge in JUDGES:
        sub = records[records["condition"].isin([BASELINE, *TREATMENTS])]
        choice = select_judges(sub, engagement_judge=judge, ic_judge="aei-judge")
        states = response_states(sub, choice)
        counts = scenario_counts(states)
        res = gold_estimates(states, gold, baseline=BASELINE, treatments=list(TREATMENTS))
        say(f"## engagement judge: {judge}")
        acc = res.summary["by_condition"]
        say(
            "judge vs gold: "
            + "; ".join(
                f"{c} engagement accuracy {acc[c]['engagement_accuracy']:.2f}, refusal Se "
                f"{acc[c]['refusal_sensitivity']:.2f} Sp {acc[c]['refusal_specificity']:.2f}"
                for c in (BASELINE, *TREATMENTS)
            )
        )
        for c in (BASELINE, *TREATMENTS):
            arm = counts.xs(c, level="condition")
            raw = arm["n_refusal"].sum() / arm["n_valid"].sum()
            fig = res.conditions[c]["refusal"]
            assert fig.ppi is not None and fig.gold_only is not None
            say(
                f"refusal {c}: judge {pct(raw)}; PPI++ {pct(fig.ppi.estimate)} "
                f"{ci(fig.ppi.ci.low, fig.ppi.ci.high, False)} (lambda {fig.ppi.lam[0]:.2f}); "
                f"gold only {pct(fig.gold_only.estimate)} "
                f"{ci(fig.gold_only.ci.low, fig.gold_only.ci.high, False)}"
            )
        c0 = counts.xs(BASELINE, level="condition")
        for t in TREATMENTS:
            c1 = counts.xs(t, level="condition")
            common = c0.index.intersection(c1.index)
            a, b = c0.loc[common], c1.loc[common]
            raw = paired_ratio_difference(
                a["n_refusal"].to_numpy(float),
                a["n_valid"].to_numpy(float),
                b["n_refusal"].to_numpy(float),
                b["n_valid"].to_numpy(float),
            )
            fig = res.comparisons[t]["delta_refusal"]
            assert fig.ppi is not None and fig.gold_only is not None
            gold_val = fig.gold_only.estimate
            covers_raw = raw.ci.low <= gold_val <= raw.ci.high
            covers_ppi = fig.ppi.ci.low <= gold_val <= fig.ppi.ci.high
            ratio = (fig.ppi.ci.high - fig.ppi.ci.low) / (
                fig.gold_only.ci.high - fig.gold_only.ci.low
            )
            say(
                f"delta refusal {t} vs {BASELINE}: judge {pp(raw.estimate)} "
                f"{ci(raw.ci.low, raw.ci.high)}; PPI++ {pp(fig.ppi.estimate)} "
                f"{ci(fig.ppi.ci.low, fig.ppi.ci.high)} (lambda "
                f"{fig.ppi.lam[0]:.2f}/{fig.ppi.lam[1]:.2f}); gold only {pp(gold_val)} "
                f"{ci(fig.gold_only.ci.low, fig.gold_only.ci.high)}; careful-reading value "
                f"{pp(gold_val)} inside judge CI: {'yes' if covers_raw else 'NO'}, inside PPI++ "
                f"CI: {'yes' if covers_ppi else 'NO'}; width PPI++/gold {ratio:.2f}"
            )
    out_of_sample(records, say)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def out_of_sample(records: pd.DataFrame, say: Callable[[str], None]) -> None:
    """Gold = the first sample (60, 20 per condition); check = the held-out sample (45, 15 per
    condition), labelled by the same reader but not used by the estimator."""
    table = gold_table(records)
    n_first = len(pd.read_csv(HERE / GOLD_FILES[0]))
    with tempfile.TemporaryDirectory() as tmp:
        paths = (Path(tmp) / "first.csv", Path(tmp) / "held.csv")
        table.iloc[:n_first].to_csv(paths[0], index=False)
        table.iloc[n_first:].to_csv(paths[1], index=False)
        first, held = read_gold(paths[0]), read_gold(paths[1])
    say(
        f"# out of sample: gold = {GOLD_FILES[0]} ({len(first)}), check = the reader's own "
        f"estimate on {GOLD_FILES[1]} ({len(held)}; itself uncertain, about +-20 pp)"
    )
    for judge in JUDGES:
        sub = records[records["condition"].isin([BASELINE, *TREATMENTS])]
        states = response_states(
            sub, select_judges(sub, engagement_judge=judge, ic_judge="aei-judge")
        )
        counts = scenario_counts(states)
        fit = gold_estimates(states, first, baseline=BASELINE, treatments=list(TREATMENTS))
        check = gold_estimates(states, held, baseline=BASELINE, treatments=list(TREATMENTS))
        c0 = counts.xs(BASELINE, level="condition")
        for t in TREATMENTS:
            c1 = counts.xs(t, level="condition")
            common = c0.index.intersection(c1.index)
            a, b = c0.loc[common], c1.loc[common]
            raw = paired_ratio_difference(
                a["n_refusal"].to_numpy(float),
                a["n_valid"].to_numpy(float),
                b["n_refusal"].to_numpy(float),
                b["n_valid"].to_numpy(float),
            )
            f = fit.comparisons[t]["delta_refusal"].ppi
            h = check.comparisons[t]["delta_refusal"].gold_only
            assert f is not None and h is not None
            say(
                f"{judge} {t} vs baseline: judge {pp(raw.estimate)} {ci(raw.ci.low, raw.ci.high)}"
                f" covers held-out {pp(h.estimate)}: "
                f"{'yes' if raw.ci.low <= h.estimate <= raw.ci.high else 'NO'}; PPI++ (60 gold) "
                f"{pp(f.estimate)} {ci(f.ci.low, f.ci.high)} covers it: "
                f"{'yes' if f.ci.low <= h.estimate <= f.ci.high else 'NO'}"
            )


if __name__ == "__main__":
    main()
