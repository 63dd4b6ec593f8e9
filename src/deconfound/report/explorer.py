"""The transcript explorer's rows: one per scenario, every condition's responses side by side.

This module only reshapes and tallies the records table (which response had which labels from
which judge); it estimates nothing. A response's *state* follows the analysis contract (issue 3):
a response judged convergent is engaged whatever a keyword says; otherwise the engagement judge's
refusal / partial / engaged label decides; missing or errored responses are ``invalid``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

import pandas as pd

from deconfound.records.labels import REASONING_FLAGS

#: Response states in display order (worst-case IC first is not implied; this is reading order).
STATES: Final = ("ic", "no_ic", "partial", "refusal", "invalid")
STATE_LABELS: Final = {
    "ic": "engaged, IC",
    "no_ic": "engaged, no IC",
    "partial": "partial",
    "refusal": "refusal",
    "invalid": "invalid / missing",
    "mixed": "mixed across epochs",
}
#: Aliases other parts of the project may use for the same states (normalised on read).
STATE_ALIASES: Final = {
    "engaged_ic": "ic",
    "engaged-ic": "ic",
    "engaged_with_ic": "ic",
    "convergence": "ic",
    "engaged_no_ic": "no_ic",
    "engaged-no-ic": "no_ic",
    "engaged_without_ic": "no_ic",
    "engaged": "no_ic",
    "no_convergence": "no_ic",
    "missing": "invalid",
    "error": "invalid",
}


def normalise_state(name: str) -> str:
    """A state name in this module's vocabulary (unknown names pass through unchanged)."""
    key = name.strip().lower()
    return STATE_ALIASES.get(key, key)


def state_label(name: str) -> str:
    """Human label of a state."""
    return STATE_LABELS.get(normalise_state(name), name)


@dataclass(frozen=True)
class JudgeChoice:
    """Which judge defined engagement and which defined IC (as the analysis says, or inferred)."""

    engagement: str | None
    ic: str | None
    inferred: bool


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


def _judge_from(analysis: Mapping[str, Any], role: str) -> str | None:
    """The judge the analysis says defined ``role`` (engagement or ic), in its likely spellings."""
    for container in (
        analysis.get("judges"),
        analysis.get("settings"),
        (analysis.get("provenance") or {}).get("judges")
        if isinstance(analysis.get("provenance"), Mapping)
        else None,
    ):
        if not isinstance(container, Mapping):
            continue
        for key in (role, f"{role}_judge", f"{role}-judge"):
            value = container.get(key)
            if isinstance(value, str):
                return value
            if isinstance(value, Mapping) and isinstance(value.get("id"), str):
                return str(value["id"])
    return None


def choose_judges(analysis: Mapping[str, Any], records: pd.DataFrame) -> JudgeChoice:
    """The judges whose labels define each response's state.

    Uses the analysis' own choice when it records one; otherwise the judge that provides the most
    engagement (resp. IC) labels, which is the only sensible choice when a single judge labels
    each (e.g. an AEI import: ``aei-keyword`` for engagement, ``aei-judge`` for IC).
    """
    eng, ic = _judge_from(analysis, "engagement"), _judge_from(analysis, "ic")
    inferred = False
    if eng is None:
        labelled = records[records["engagement"].isin(("refusal", "partial", "engaged"))]
        counts = labelled["judge"].value_counts()
        eng = str(counts.index[0]) if len(counts) else None
        inferred = True
    if ic is None:
        counts = records[records["ic"].notna()]["judge"].value_counts()
        ic = str(counts.index[0]) if len(counts) else None
        inferred = True
    return JudgeChoice(eng, ic, inferred)


def response_state(
    status: str | None, engagement: str | None, ic: bool | None, *, partial_as: str = "engaged"
) -> str:
    """State of one response from its engagement label and its IC label.

    Args:
        status: ``response_status`` (ok / missing / error).
        engagement: The engagement judge's label.
        ic: The IC judge's label.
        partial_as: Kept for display only: partials stay ``partial`` here, the analysis decides
            how they count.
    """
    del partial_as
    if status not in (None, "ok"):
        return "invalid"
    if ic is True:
        return "ic"
    if engagement == "refusal":
        return "refusal"
    if engagement == "partial":
        return "partial"
    if engagement == "engaged":
        return "no_ic" if ic is False else "invalid"
    return "invalid"


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


def _scenario_state(states: Sequence[str]) -> str:
    distinct = set(states)
    return states[0] if len(distinct) == 1 else "mixed"


def build_rows(
    records: pd.DataFrame,
    conditions: Sequence[str],
    judges: JudgeChoice,
    comparisons: Sequence[tuple[str, str]] = (),
) -> list[ScenarioRow]:
    """One row per scenario (sorted by category, then id) with every condition's responses.

    Args:
        records: A validated records table (one row per response per judge).
        conditions: Conditions in display order; others in the records follow.
        judges: Which judges define engagement and IC.
        comparisons: (baseline, treatment) pairs; each row gets its transition per pair.
    """
    keys = ["scenario_id", "condition", "epoch"]
    rows: dict[str, ScenarioRow] = {}
    for (sid, cond, epoch), group in records.groupby(keys, sort=True, dropna=False):
        first: dict[str, Any] = {str(k): v for k, v in group.iloc[0].to_dict().items()}
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
        eng_label: str | None = None
        ic_label: bool | None = None
        for r in group.sort_values("judge").to_dict("records"):
            role = []
            if r["judge"] == judges.engagement:
                role.append("engagement")
                eng_label = _text(r["engagement"])
            if r["judge"] == judges.ic:
                role.append("IC")
                ic_label = _bool(r["ic"])
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
                    flags=[f for f in REASONING_FLAGS if _bool(r.get(f)) is True],
                    confidence=None if conf is None or pd.isna(conf) else float(conf),
                    explanation=_text(r.get("judge_explanation")),
                    role=role,
                )
            )
        status = _text(first.get("response_status"))
        row.responses.setdefault(str(cond), []).append(
            Response(
                condition=str(cond),
                epoch=int(cast(Any, epoch)),
                status=status or "ok",
                text=_text(first.get("response")),
                state=response_state(status, eng_label, ic_label),
                labels=labels,
                conflict=_conflicts(labels),
            )
        )
    order = list(conditions) + sorted(
        {str(c) for c in records["condition"].unique()} - set(conditions)
    )
    for row in rows.values():
        row.responses = {c: row.responses[c] for c in order if c in row.responses}
        row.states = {c: _scenario_state([r.state for r in rs]) for c, rs in row.responses.items()}
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
