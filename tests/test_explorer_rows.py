"""The explorer's rows are built in one pass over the records: order of input rows is irrelevant."""

from __future__ import annotations

import dataclasses

from deconfound.report.explorer import build_rows
from deconfound.stats import select_judges, simulate_records

CONDS = ["Baseline (adversarial only)", "Ethics prompt"]


def test_rows_do_not_depend_on_the_order_of_the_records() -> None:
    table = simulate_records(40, 3, seed=7)
    judges = select_judges(table)
    a = build_rows(table, CONDS, judges, [tuple(CONDS)])  # type: ignore[list-item]
    b = build_rows(table.sample(frac=1.0, random_state=3), CONDS, judges, [tuple(CONDS)])  # type: ignore[list-item]
    assert [dataclasses.asdict(r) for r in a] == [dataclasses.asdict(r) for r in b]
    assert len(a) == 40
    first = a[0].responses[CONDS[0]]
    assert [r.epoch for r in first] == [1, 2, 3]
    assert all(len(r.labels) == 2 for r in first)  # both judges' labels on every response
    assert [lab.judge for lab in first[0].labels] == sorted(lab.judge for lab in first[0].labels)
