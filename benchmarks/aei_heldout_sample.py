"""Held-out blind careful-reading sample of AEI (InstrumentalEval, Sonnet 4.5) responses.

Draws a seeded random sample of (condition, task_id) pairs, 15 per condition, from
``<data>/{baseline,prompt_only,elessan}_judged.json``, excluding every pair already labelled in
``aei_reading_labels.csv`` (the first reading sample), and prints, for each, only the scenario
prompt and the response text, never a label::

    python benchmarks/aei_heldout_sample.py --data ../shared/data/aei-elessan/sonnet-4.5

The labels for this sample are in ``aei_heldout_labels.csv`` (see ``aei_heldout_labels.md``).
It is meant to evaluate a later change of the lexical judge on pairs not used to develop it.
The data are read in place and never copied into the repository.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

from aei_reading_sample import CONDITIONS, LABELS, ROOT, load, show

PER_CONDITION = 15
SEED = 20250917


def first_sample_pairs(labels: Path = LABELS) -> set[tuple[str, str]]:
    """(condition, task_id) pairs already labelled in the first reading sample."""
    with labels.open(encoding="utf-8", newline="") as f:
        return {(r["condition"], r["source_task_id"]) for r in csv.DictReader(f)}


def draw(data: Path, k: int = PER_CONDITION, seed: int = SEED) -> list[tuple[str, dict]]:
    """Seeded sample of k records per condition, disjoint from the first sample, shuffled."""
    rng = random.Random(seed)
    seen = first_sample_pairs()
    by_cond = load(data)
    picked = []
    for cond in CONDITIONS:
        recs = sorted(
            (r for r in by_cond[cond] if (cond, str(r["task_id"])) not in seen),
            key=lambda r: str(r["task_id"]),
        )
        picked.extend((cond, r) for r in rng.sample(recs, k))
    rng.shuffle(picked)
    return picked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/aei-elessan/sonnet-4.5")
    data = ap.parse_args().data
    show(data, draw(data))


if __name__ == "__main__":
    main()
