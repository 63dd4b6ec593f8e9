"""Judge sensitivity on the published AEI studies: does the refusal verdict depend on the judge?

For each records file (an AEI import judged by `lexical` and `offline`, see below), runs the
analysis without gold labels and prints, per comparison, Δrefusal under every engagement judge,
the refusal answer each judge's paired test gives, `judges_agree`, and the verdict's words.

Usage (the committed judge_sensitivity_aei.txt came from these commands):
    deconfound import ../shared/data/aei-elessan/<model> --format aei -o <model>.parquet
    deconfound judge <model>.parquet --judge lexical -o <model>_lex.parquet
    deconfound judge <model>_lex.parquet --judge offline -o <model>_judged.parquet
    python benchmarks/judge_sensitivity_aei.py sonnet-4.5=<...>_judged.parquet kimi-k2.5=<...>
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from deconfound.records import read_records
from deconfound.report.format import ci_text, pp, verdict_lines
from deconfound.stats import analyze_records

BASELINE = "Baseline (adversarial only)"
TREATMENTS = ("Prompt-only (adversarial + ethics)", "Full Elessan (adversarial + ethics + RAG)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("studies", nargs="+", help="name=records.parquet")
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).with_name("judge_sensitivity_aei.txt")
    )
    args = ap.parse_args()
    lines: list[str] = []
    say: Callable[[str], None] = lambda s: (print(s, flush=True), lines.append(s))  # noqa: E731
    for spec in args.studies:
        name, _, path = spec.partition("=")
        records = read_records(Path(path))
        a = analyze_records(records, baseline=BASELINE, treatments=list(TREATMENTS), n_boot=2000)
        say(f"# {name}: engagement judge {a.judges.engagement}, IC judge {a.judges.ic}")
        for comp in a.comparisons:
            assert comp.verdict is not None and comp.judge_sensitivity is not None
            say(f"## {comp.treatment} vs {comp.baseline}")
            for r in comp.judge_sensitivity:
                d = r.delta_refusal
                p = "n/a" if d.p_value is None else f"{d.p_value:.3g}"
                say(
                    f"{r.engagement_judge:12s} / {r.ic_judge:10s} delta refusal {pp(d.estimate)} "
                    f"{ci_text(d.ci, points=True)} p={p} -> {r.answers['refusal_changed']}"
                    f"{'  (analysis judges)' if r.chosen else ''}"
                )
            v = comp.verdict.refusal_changed
            line = verdict_lines(comp.verdict, comp.judge_sensitivity)[0]
            say(f"judges_agree={v.judges_agree} finding={v.finding.value}")
            say(f"verdict ({line.answer}): {line.text}")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
