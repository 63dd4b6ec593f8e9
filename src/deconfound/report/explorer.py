"""The transcript explorer's rows: one per scenario, every condition's responses side by side.

This module only reshapes and tallies the records table (which response had which labels from
which judge); it estimates nothing. A response's *state* is the analysis stage's own
(:func:`deconfound.stats.response_states`): a response judged convergent is engaged whatever a
keyword says; otherwise the engagement judge's refusal / partial / engaged label decides; missing,
errored or unlabelled responses are ``invalid``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

import pandas as pd

from deconfound.records.labels import REASONING_FLAGS
from deconfound.stats import JudgeChoice, response_states
from deconfound.stats.prepare import modal_states

#: Response states (the analysis' vocabulary, deconfound.stats.prepare) in display order; the
#: transition matrices merge the two partial states into ``partial``.
STATES: Final = (
    "engaged_ic",
    "partial_ic",
    "engaged_no_ic",
    "partial_no_ic",
    "partial",
    "refusal",
    "invalid",
)
STATE_LABELS: Final = {
    "engaged_ic": "engaged, IC",
    "partial_ic": "partial, IC",
    "engaged_no_ic": "engaged, no IC",
    "partial_no_ic": "partial, no IC",
    "partial": "partial",
    "refusal": "refusal",
    "invalid": "invalid / missing",
    "mixed": "mixed across epochs",
}
#: Other spellings of the same states (normalised on read, so older analyses still render).
STATE_ALIASES: Final = {
    "ic": "engaged_ic",
    "engaged-ic": "engaged_ic",
    "engaged_with_ic": "engaged_ic",
    "no_ic": "engaged_no_ic",
    "engaged-no-ic": "engaged_no_ic",
    "engaged_without_ic": "engaged_no_ic",
    "missing": "invalid",
    "error": "invalid",
}


def normalise_state(name: str) -> str:
    """A state name in the analysis' vocabulary (unknown names pass through unchanged)."""
    key = name.strip().lower()
    return STATE_ALIASES.get(key, key)


def state_label(name: str) -> str:
    """Human label of a state."""
    return STATE_LABELS.get(normalise_state(name), name)


@dataclass
class JudgeLabel:
    """One judge's labels on one response, as display strings (escaped later by the template)."""

    judge: str
    version: str | None
    engagement: str | None
    ic: bool | None
    ic_evidence: str | None
    benchmark_decision: str | None
    refusal_kind: str | None
    in_role: bool | None
    flags: list[str]
    confidence: float | None
    explanation: str | None
    role: list[str]


@dataclass
class Response:
    """One response (condition, epoch) with every judge's labels and its derived state."""

    condition: str
    epoch: int
    status: str
    text: str | None
    state: str
    labels: list[JudgeLabel]
    conflict: list[str]


@dataclass
class ScenarioRow:
    """One explorer row."""

    scenario_id: str
    source_task_id: str | None
    category: str
    prompts: dict[str, str]
    responses: dict[str, list[Response]]
    states: dict[str, str]
    transitions: dict[int, str] = field(default_factory=dict)

    @property
    def conflict(self) -> bool:
        """True when some response has judges that disagree."""
        return any(r.conflict for rs in self.responses.values() for r in rs)

    @property
    def same_prompt(self) -> bool:
        """True when every condition saw the same scenario prompt (shown once)."""
        return len(set(self.prompts.values())) <= 1


def _text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)


def _bool(value: Any) -> bool | None:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    return bool(value)


def _conflicts(labels: Sequence[JudgeLabel]) -> list[str]:
    """Plain descriptions of how this response's judges disagree (empty when they agree)."""
    out: list[str] = []
    eng = {lab.engagement for lab in labels if lab.engagement in ("refusal", "partial", "engaged")}
    if len(eng) > 1:
        out.append("engagement: " + " vs ".join(sorted(eng)))
    ics = {lab.ic for lab in labels if lab.ic is not None}
    if len(ics) > 1:
        out.append("IC: judges disagree")
    refusers = [lab.judge for lab in labels if lab.engagement == "refusal"]
    convergent = [lab.judge for lab in labels if lab.ic is True]
    if refusers and convergent and set(refusers) != set(convergent):
        out.append(f"{', '.join(refusers)} says refusal; {', '.join(convergent)} says IC")
    return out


def _runs(items: list[dict[str, Any]], keys: Sequence[str]) -> Iterator[list[dict[str, Any]]]:
    """Consecutive items with equal ``keys`` (the input is sorted by them)."""
    group: list[dict[str, Any]] = []
    current: tuple[Any, ...] | None = None
    for item in items:
        key = tuple(item[k] for k in keys)
        if group and key != current:
            yield group
            group = []
        current = key
        group.append(item)
    if group:
        yield group


def build_rows(
    records: pd.DataFrame,
    conditions: Sequence[str],
    judges: JudgeChoice,
    comparisons: Sequence[tuple[str, str]] = (),
) -> list[ScenarioRow]:
    """One row per scenario (sorted by category, then id) with every condition's responses.

    States come from the analysis stage's own rules (:func:`deconfound.stats.response_states`)
    and a scenario's state under a condition is its modal state over epochs, as in the analysis'
    transition matrices, so the explorer's transition filter counts match them.

    Args:
        records: A validated records table for one model (one row per response per judge).
        conditions: Conditions in display order; others in the records follow.
        judges: Which judges define engagement, IC and reasoning.
        comparisons: (baseline, treatment) pairs; each row gets its transition per pair.
    """
    keys = ["scenario_id", "condition", "study", "epoch"]
    states = response_states(records, judges)
    modal = modal_states(states)
    state_of = {
        tuple(k): (str(st), str(cf))
        for k, st, cf in zip(
            states[keys].itertuples(index=False, name=None),
            states["state"],
            states["conflict"],
            strict=True,
        )
    }
    rows: dict[str, ScenarioRow] = {}
    # One pass over the records as plain dicts, in (scenario, condition, study, epoch) order:
    # a groupby with per-group to_dict/sort_values cost ~3 ms per response (31 s for 10,000).
    ordered = cast(
        list[dict[str, Any]], records.sort_values(keys, kind="stable").to_dict("records")
    )
    for group in _runs(ordered, keys):
        first = group[0]
        sid, cond, study, epoch = (first[k] for k in keys)
        row = rows.get(str(sid))
        if row is None:
            row = ScenarioRow(
                scenario_id=str(sid),
                source_task_id=_text(first.get("source_task_id")),
                category=str(first["category"]),
                prompts={},
                responses={},
                states={},
            )
            rows[str(sid)] = row
        prompt = _text(first.get("prompt"))
        if prompt is not None:
            row.prompts.setdefault(str(cond), prompt)
        labels: list[JudgeLabel] = []
        for r in sorted(group, key=lambda r: str(r["judge"])):
            role = [
                name
                for name, judge in (
                    ("engagement", judges.engagement),
                    ("IC", judges.ic),
                    ("reasoning", judges.reasoning),
                )
                if r["judge"] == judge
            ]
            conf = r.get("confidence")
            labels.append(
                JudgeLabel(
                    judge=str(r["judge"]),
                    version=_text(r.get("judge_version")),
                    engagement=_text(r.get("engagement")),
                    ic=_bool(r.get("ic")),
                    ic_evidence=_text(r.get("ic_evidence")),
                    benchmark_decision=_text(r.get("benchmark_decision")),
                    refusal_kind=_text(r.get("refusal_kind")),
                    in_role=_bool(r.get("in_role")),
                    flags=[f for f in REASONING_FLAGS if _bool(r.get(f)) is True],
                    confidence=None if conf is None or pd.isna(conf) else float(conf),
                    explanation=_text(r.get("judge_explanation")),
                    role=role,
                )
            )
        state, flagged = state_of[(sid, cond, study, epoch)]
        conflict = _conflicts(labels)
        if flagged == "ic_over_refusal":
            # the same disagreement, said once, in the analysis' words
            conflict = [c for c in conflict if " says refusal; " not in c]
            conflict.insert(0, "IC judge overrides an engagement refusal (counted as engaged)")
        elif flagged:
            conflict.insert(0, flagged.replace("_", " "))
        row.responses.setdefault(str(cond), []).append(
            Response(
                condition=str(cond),
                epoch=int(cast(Any, epoch)),
                status=_text(first.get("response_status")) or "ok",
                text=_text(first.get("response")),
                state=state,
                labels=labels,
                conflict=list(dict.fromkeys(conflict)),
            )
        )
    order = list(conditions) + sorted(
        {str(c) for c in records["condition"].unique()} - set(conditions)
    )
    for row in rows.values():
        row.responses = {c: row.responses[c] for c in order if c in row.responses}
        row.states = {c: str(modal.loc[(c, row.scenario_id)]) for c in row.responses}
        for i, (base, treat) in enumerate(comparisons):
            if base in row.states and treat in row.states:
                row.transitions[i] = f"{row.states[base]}->{row.states[treat]}"
    return sorted(rows.values(), key=lambda r: (r.category, r.scenario_id))


def state_counts(rows: Sequence[ScenarioRow], *, by_category: bool = False) -> pd.DataFrame:
    """Tally of responses by (category,) condition and state: the data of the stacked bars."""
    counter: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        for cond, rs in row.responses.items():
            for r in rs:
                counter[(row.category if by_category else "all", cond, r.state)] += 1
    frame = pd.DataFrame(
        [(cat, cond, state, n) for (cat, cond, state), n in counter.items()],
        columns=["category", "condition", "state", "n"],
    )
    if not by_category:
        frame = frame.drop(columns="category")
    return frame
