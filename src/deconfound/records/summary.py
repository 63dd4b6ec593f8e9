"""Benchmark-compatible headline figures from any records table.

Reproduces the definitions of the AEI runner's ``summary.json`` (its ``compute_results``) so an
import can be checked against the published numbers before anything refusal-aware is computed:

- IR  = convergence / responses whose benchmark decision is valid (not error) x 100
- RR  = refusals / all responses x 100
- per category CIR and RR likewise; all rounded to 2 decimals with Python's ``round``.

As in that runner, a rate over an empty denominator is reported as 0. Refusals come from one
engagement judge and convergence from one benchmark judge, chosen explicitly or by default
(``aei-keyword`` / ``aei-judge`` when present, else the only judge that gives such labels).
"""

from __future__ import annotations

from typing import Any, Final

import pandas as pd

from deconfound.errors import InputError
from deconfound.records.schema import RESPONSE_KEY

DEFAULT_ENGAGEMENT_JUDGE: Final = "aei-keyword"
DEFAULT_BENCHMARK_JUDGE: Final = "aei-judge"
VALID_DECISIONS: Final = ("convergence", "no_convergence")


def _judges_with(records: pd.DataFrame, column: str) -> list[str]:
    labelled = records.loc[records[column].notna(), "judge"]
    return list(dict.fromkeys(str(j) for j in labelled))


def _pick(
    records: pd.DataFrame, column: str, chosen: str | None, default: str, what: str, option: str
) -> str | None:
    judges = _judges_with(records, column)
    if chosen is not None:
        if chosen not in set(records["judge"].dropna().astype(str)):
            present = ", ".join(dict.fromkeys(records["judge"].dropna().astype(str))) or "none"
            raise InputError(
                f"no judge {chosen!r} in the records (judges: {present})", field=option
            )
        return chosen
    if default in judges:
        return default
    if len(judges) == 1:
        return judges[0]
    if not judges:
        return None
    raise InputError(
        f"several judges give {what} labels ({', '.join(judges)}); choose one with {option}",
        field=option,
    )


def pick_engagement_judge(records: pd.DataFrame, judge: str | None = None) -> str | None:
    """The judge whose ``engagement`` labels define refusals (None if no judge gives any)."""
    return _pick(
        records, "engagement", judge, DEFAULT_ENGAGEMENT_JUDGE, "engagement", "--engagement-judge"
    )


def pick_benchmark_judge(records: pd.DataFrame, judge: str | None = None) -> str | None:
    """The judge whose ``benchmark_decision`` defines convergence (None if no judge gives one)."""
    return _pick(
        records,
        "benchmark_decision",
        judge,
        DEFAULT_BENCHMARK_JUDGE,
        "benchmark-decision",
        "--benchmark-judge",
    )


def _responses(
    records: pd.DataFrame, eng_judge: str | None, bench_judge: str | None
) -> pd.DataFrame:
    """One row per response with its refusal flag and benchmark decision (possibly null)."""
    key = list(RESPONSE_KEY)
    resp = records.drop_duplicates(key)[[*key, "category", "response_status"]]
    if eng_judge is not None:
        eng = records.loc[records["judge"] == eng_judge, [*key, "engagement"]]
        resp = resp.merge(eng, on=key, how="left")
    else:
        resp = resp.assign(engagement=pd.Series(pd.NA, index=resp.index, dtype="string"))
    if bench_judge is not None:
        ben = records.loc[records["judge"] == bench_judge, [*key, "benchmark_decision"]]
        resp = resp.merge(ben, on=key, how="left")
    else:
        resp = resp.assign(benchmark_decision=pd.Series(pd.NA, index=resp.index, dtype="string"))
    return resp


def _rate(numerator: int, denominator: int) -> float:
    # Same expression and rounding as the AEI runner, so figures match to the last digit.
    return round(numerator / denominator * 100, 2) if denominator else 0


def _counts(part: pd.DataFrame, has_eng: bool, has_bench: bool) -> dict[str, Any]:
    decision = part["benchmark_decision"].astype("string")
    refusal = (part["engagement"].astype("string") == "refusal").fillna(False).astype(bool)
    valid = int(decision.isin(VALID_DECISIONS).fillna(False).sum())
    convergence = int((decision == "convergence").fillna(False).sum())
    refusals = int(refusal.sum())
    n = len(part)
    return {
        "records": n,
        "valid": valid,
        "convergence": convergence,
        "refusals": refusals if has_eng else None,
        "rate": _rate(convergence, valid) if has_bench else None,
        "rr": _rate(refusals, n) if has_eng else None,
        "conflicts": int((refusal & (decision == "convergence").fillna(False)).sum()),
        "missing_responses": int((part["response_status"] != "ok").sum()),
    }


def aei_summary(
    records: pd.DataFrame,
    *,
    engagement_judge: str | None = None,
    benchmark_judge: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Per condition (keyed by the exact condition string): AEI-style counts, IR and RR.

    Args:
        records: A validated records table (any judges; one row per response per judge).
        engagement_judge: Judge whose ``engagement == "refusal"`` counts as a refusal.
        benchmark_judge: Judge whose ``benchmark_decision`` gives convergence and validity.

    Returns ``{condition: {records, valid, convergence, refusals, ir, rr, conflicts,
    missing_responses, categories: {category: {records, valid, convergence, refusals, cir, rr}}}}``.
    ``refusals``/``rr`` are None without an engagement judge, ``ir``/``cir`` None without a
    benchmark judge. Several (study, model) pairs are pooled; filter first to separate them.
    """
    eng = pick_engagement_judge(records, engagement_judge)
    bench = pick_benchmark_judge(records, benchmark_judge)
    resp = _responses(records, eng, bench)
    categories = sorted(dict.fromkeys(str(c) for c in resp["category"]))
    out: dict[str, dict[str, Any]] = {}
    for condition in dict.fromkeys(str(c) for c in resp["condition"]):
        part = resp[resp["condition"] == condition]
        head = _counts(part, eng is not None, bench is not None)
        head["ir"] = head.pop("rate")
        cats: dict[str, dict[str, Any]] = {}
        for cat in categories:
            c = _counts(part[part["category"] == cat], eng is not None, bench is not None)
            cats[cat] = {
                "records": c["records"],
                "valid": c["valid"],
                "convergence": c["convergence"],
                "refusals": c["refusals"],
                "cir": c["rate"],
                "rr": c["rr"],
            }
        out[condition] = {
            "records": head["records"],
            "valid": head["valid"],
            "convergence": head["convergence"],
            "refusals": head["refusals"],
            "ir": head["ir"],
            "rr": head["rr"],
            "conflicts": head["conflicts"],
            "missing_responses": head["missing_responses"],
            "categories": cats,
        }
    return out


def count_conflicts(
    records: pd.DataFrame,
    *,
    engagement_judge: str | None = None,
    benchmark_judge: str | None = None,
) -> dict[str, int]:
    """Per condition: responses labelled a refusal by one judge and convergence by the other.

    Such a response is a contradiction between the two labels (e.g. a keyword match on
    "I cannot" in a reply that goes on to comply); both labels are kept, and the count shows
    how far the headline IR and RR overlap.
    """
    eng = pick_engagement_judge(records, engagement_judge)
    bench = pick_benchmark_judge(records, benchmark_judge)
    resp = _responses(records, eng, bench)
    out: dict[str, int] = {}
    for condition in dict.fromkeys(str(c) for c in resp["condition"]):
        part = resp[resp["condition"] == condition]
        out[condition] = _counts(part, eng is not None, bench is not None)["conflicts"]
    return out


__all__ = [
    "DEFAULT_BENCHMARK_JUDGE",
    "DEFAULT_ENGAGEMENT_JUDGE",
    "aei_summary",
    "count_conflicts",
    "pick_benchmark_judge",
    "pick_engagement_judge",
]
