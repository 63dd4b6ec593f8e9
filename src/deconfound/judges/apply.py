"""Run judges over a records table after the fact (``deconfound judge``).

Published or earlier responses can be re-labelled without re-running the subject model. Each judge
labels every unique response once (the response key is ``RESPONSE_KEY``); its rows replace any
earlier rows of the same judge id, and the rows of other judges are kept untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import pandas as pd

from deconfound.errors import DeconfoundError
from deconfound.judges.base import Judge, JudgeInput, Judgment
from deconfound.records.schema import COLUMNS, RESPONSE_KEY, concat_records, validate

#: Response-level columns copied into every new judge row (everything that is not a label).
RESPONSE_COLUMNS: Final = (
    "study",
    "model",
    "condition",
    "scenario_id",
    "source_task_id",
    "category",
    "epoch",
    "prompt",
    "response",
    "response_status",
    "smoke_model",
)
#: Optional extra column from which a scenario's judge context is read when present.
JUDGE_CONTEXT_COLUMN: Final = "judge_context"

assert set(RESPONSE_COLUMNS) <= {c.name for c in COLUMNS}


class JudgeRunError(DeconfoundError):
    """A judge failed (API error, missing key); finished judgments stay in the cache."""


def _text(v: Any) -> str:
    return "" if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)) else str(v)


def unique_responses(records: pd.DataFrame) -> pd.DataFrame:
    """One row per response (first row of each ``RESPONSE_KEY``), response columns only."""
    first = records.drop_duplicates(list(RESPONSE_KEY), keep="first").reset_index(drop=True)
    cols = [c for c in RESPONSE_COLUMNS if c in first.columns]
    if JUDGE_CONTEXT_COLUMN in first.columns:
        cols.append(JUDGE_CONTEXT_COLUMN)
    return first[cols]


def judge_inputs(
    responses: pd.DataFrame, judge_contexts: Mapping[str, str] | None = None
) -> list[JudgeInput | None]:
    """The judge's view of each response; None where the response is missing or errored.

    The judge context comes from a ``judge_context`` column when the table has one, else from
    ``judge_contexts`` (scenario id -> context), else it is empty. The condition's system prompt
    is never passed: judges stay blind to the condition.
    """
    contexts = judge_contexts or {}
    has_col = JUDGE_CONTEXT_COLUMN in responses.columns
    out: list[JudgeInput | None] = []
    for row in responses.to_dict("records"):
        response = row.get("response")
        if row["response_status"] != "ok" or response is None or response is pd.NA:
            out.append(None)
            continue
        sid = str(row["scenario_id"])
        context = _text(row.get(JUDGE_CONTEXT_COLUMN)) if has_col else ""
        out.append(
            JudgeInput(
                scenario_id=sid,
                category=_text(row["category"]),
                prompt=_text(row.get("prompt")),
                response=str(response),
                judge_context=context or contexts.get(sid, ""),
            )
        )
    return out


async def run_judges(
    judges: Sequence[Judge],
    inputs: Sequence[JudgeInput | None],
    *,
    max_connections: int = 10,
    on_judgment: Callable[[Judge, Judgment], None] | None = None,
    describe: Callable[[int], str] | None = None,
) -> dict[str, list[Judgment]]:
    """Judge every input with every judge, at most ``max_connections`` calls at once.

    A None input gets engagement ``missing`` without a judge call. Returns judgments per judge id
    in input order. A judge exception cancels the rest and raises :class:`JudgeRunError`.
    """
    if max_connections < 1:
        raise ValueError("max_connections must be at least 1")
    sem = asyncio.Semaphore(max_connections)
    results: dict[str, list[Judgment | None]] = {j.id: [None] * len(inputs) for j in judges}

    async def one(judge: Judge, i: int, item: JudgeInput | None) -> None:
        if item is None:
            judgment = Judgment(judge=judge.id, judge_version=judge.version, engagement="missing")
        else:
            async with sem:
                try:
                    judgment = await judge.judge(item)
                except DeconfoundError:
                    raise
                except Exception as exc:
                    where = describe(i) if describe else f"response {i + 1}"
                    raise JudgeRunError(
                        f"judge {judge.id!r} failed on {where}: {type(exc).__name__}: {exc}. "
                        "Finished judgments are cached; run again to resume."
                    ) from exc
        results[judge.id][i] = judgment
        if on_judgment is not None:
            on_judgment(judge, judgment)

    try:
        async with asyncio.TaskGroup() as tg:
            for judge in judges:
                for i, item in enumerate(inputs):
                    tg.create_task(one(judge, i, item))
    except* DeconfoundError as group:
        raise group.exceptions[0] from None
    return {jid: [j for j in js if j is not None] for jid, js in results.items()}


def apply_judges(
    records: pd.DataFrame,
    judges: Sequence[Judge],
    *,
    max_connections: int = 10,
    judge_contexts: Mapping[str, str] | None = None,
    on_judgment: Callable[[Judge, Judgment], None] | None = None,
) -> pd.DataFrame:
    """Label every unique response of ``records`` with each judge; return the new table.

    Args:
        records: A records table (validated here).
        judges: Judges to run; ids must be distinct.
        max_connections: Most judge calls in flight at once.
        judge_contexts: Scenario id -> benchmark judge context, for tables without a
            ``judge_context`` column.
        on_judgment: Called after each judgment (progress display).

    Returns:
        The input rows of other judges, followed by one row per response per judge; rows of a
        judge id that was run again are replaced.
    """
    ids = [j.id for j in judges]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise DeconfoundError(f"judge(s) given twice: {', '.join(sorted(dup))}")
    records = validate(records)
    responses = unique_responses(records)
    inputs = judge_inputs(responses, judge_contexts)

    def describe(i: int) -> str:
        row = responses.iloc[i]
        return ", ".join(f"{k}={row[k]}" for k in RESPONSE_KEY)

    judgments = asyncio.run(
        run_judges(
            judges,
            inputs,
            max_connections=max_connections,
            on_judgment=on_judgment,
            describe=describe,
        )
    )
    base = responses[[c for c in RESPONSE_COLUMNS if c in responses.columns]]
    new_ids: set[str] = set(ids)
    frames = []
    for jid in ids:
        labels = pd.DataFrame([j.to_fields() for j in judgments[jid]])
        new_ids.update(labels["judge"].dropna().astype(str))
        frames.append(pd.concat([base.reset_index(drop=True), labels], axis=1))
    kept = records[~records["judge"].isin(new_ids)]
    return concat_records([kept, *(validate(f) for f in frames)])
