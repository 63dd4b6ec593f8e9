"""Do the compared conditions cover the same scenarios and the same number of responses?

An unfinished or partly failed run imports without complaint, and the analysis then compares,
say, 42 scenarios under the baseline with 40 under the treatment. Rates over different scenario
sets differ for reasons that have nothing to do with the intervention, so the CLI warns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pandas as pd

from deconfound.records.schema import RESPONSE_KEY

_SHOWN: Final = 5


def _listed(ids: set[str]) -> str:
    shown = sorted(ids)[:_SHOWN]
    more = f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else ""
    return ", ".join(shown) + more


def coverage_warnings(
    records: pd.DataFrame, conditions: Sequence[str], *, model: str | None = None
) -> list[str]:
    """Warnings when ``conditions`` differ in scenarios answered or in response counts.

    Args:
        records: A validated records table.
        conditions: The conditions being compared (baseline first).
        model: The model analysed (None: every model in the table).

    Returns:
        One sentence per problem; empty when every condition has the same scenarios with ok
        responses and the same number of ok responses.
    """
    table = records if model is None else records[records["model"] == model]
    responses = table.drop_duplicates(list(RESPONSE_KEY))
    ok = responses[responses["response_status"] == "ok"]
    scenarios = {
        c: set(ok.loc[ok["condition"] == c, "scenario_id"].astype(str)) for c in conditions
    }
    counts = {c: int((ok["condition"] == c).sum()) for c in conditions}
    failed = {
        c: int(((responses["condition"] == c) & (responses["response_status"] != "ok")).sum())
        for c in conditions
    }
    warnings: list[str] = []
    union = set().union(*scenarios.values()) if scenarios else set()
    if any(s != union for s in scenarios.values()):
        parts = []
        for c in conditions:
            lacking = union - scenarios[c]
            detail = f" (lacks {_listed(lacking)})" if lacking else ""
            parts.append(f"{c} {len(scenarios[c])}{detail}")
        warnings.append(
            "conditions cover different scenarios with ok responses: "
            + "; ".join(parts)
            + ". Unpaired rates compare different scenario sets; resume or rerun the missing "
            "samples, or restrict the table to shared scenarios"
        )
    if len(set(counts.values())) > 1:
        warnings.append(
            "conditions have different numbers of ok responses: "
            + ", ".join(f"{c} {n}" for c, n in counts.items())
        )
    if any(failed.values()):
        warnings.append(
            "missing or errored responses (excluded): "
            + ", ".join(f"{c} {n}" for c, n in failed.items())
        )
    return warnings
