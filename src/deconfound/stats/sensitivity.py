"""Judge sensitivity: the headline answers under every available judge.

Judges disagree about what a refusal is, and the disagreement can flip a verdict (on the AEI
Sonnet 4.5 study Δrefusal is +5.3 pp with the published keyword flag and −9.2 pp with
``lexical``). So when the records hold more than one engagement (or IC) judge, the main
estimands are recomputed with each of them, one judge changed at a time and the others as chosen,
and each verdict question records whether the judges agree on its answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

import pandas as pd

from deconfound.records.labels import ENGAGEMENT_VALID
from deconfound.stats.prepare import JudgeChoice, _ic_values
from deconfound.stats.results import (
    NO_INTERVAL,
    Comparison,
    Direction,
    Finding,
    JudgeBothEngaged,
    JudgeDelta,
    JudgeRunResult,
    JudgeSace,
    Verdict,
)

#: Verdict questions compared across judges.
QUESTIONS: Final = ("refusal_changed", "refusal_kind_changed", "ic_among_engagers_changed")
#: Answer of a run whose analysis could not be computed (left out of the agreement check).
NOT_COMPUTED: Final = "not computed"


def judge_pairs(records: pd.DataFrame, chosen: JudgeChoice) -> list[tuple[str, str]]:
    """(engagement, IC) judge pairs to run: each available judge with the other one as chosen.

    The chosen pair comes first; only that pair when one judge of each kind labels the records.
    """
    eng = sorted(
        records.loc[records["engagement"].isin(ENGAGEMENT_VALID), "judge"].astype(str).unique()
    )
    ic = sorted(records.loc[_ic_values(records).notna(), "judge"].astype(str).unique())
    pairs = [(chosen.engagement, chosen.ic)]
    pairs += [(e, chosen.ic) for e in eng if e != chosen.engagement]
    pairs += [(chosen.engagement, i) for i in ic if i != chosen.ic]
    return pairs


def answer_category(finding: Finding, direction: Direction | None, estimate: float | None) -> str:
    """A comparable answer: "rose" / "fell" for a change, else the finding's value."""
    if finding is Finding.CHANGED:
        if direction is not None:
            return "rose" if direction is Direction.UP else "fell"
        if estimate is not None:
            return "rose" if estimate > 0 else "fell"
    return finding.value


def answers(comp: Comparison) -> dict[str, str]:
    """The comparable answer of each verdict question under the comparison's own judges.

    Refusal is read from the judge's paired test (not from a verdict a gold file may have
    decided), so the runs compare judges with judges.
    """
    assert comp.verdict is not None
    d = comp.delta_refusal
    refusal = (
        Finding.NOT_TESTED
        if d.p_value is None
        else Finding.CHANGED
        if d.p_value < 0.05
        else Finding.NO_CLEAR_CHANGE
    )
    k = comp.verdict.refusal_kind_changed
    i = comp.verdict.ic_among_engagers_changed
    return {
        "refusal_changed": answer_category(refusal, None, d.estimate),
        "refusal_kind_changed": answer_category(k.finding, None, k.estimate),
        "ic_among_engagers_changed": answer_category(i.finding, i.direction, i.estimate),
    }


def run_result(comp: Comparison, engagement: str, ic: str, chosen: bool) -> JudgeRunResult:
    """The main estimands of one comparison computed with one judge pair."""
    assert comp.verdict is not None
    d, di, be, sb = comp.delta_refusal, comp.delta_ir, comp.both_engaged, comp.sace_bounds
    return JudgeRunResult(
        engagement_judge=engagement,
        ic_judge=ic,
        chosen=chosen,
        delta_refusal=JudgeDelta(d.estimate, d.ci, d.p_value),
        delta_ir=JudgeDelta(di.estimate, di.ci, di.p_value),
        both_engaged=JudgeBothEngaged(be.difference, be.ci, be.n_scenarios),
        sace_bounds=JudgeSace(sb.pooled, sb.ci),
        answers=answers(comp),
    )


def failed_run(engagement: str, ic: str) -> JudgeRunResult:
    """A judge pair whose analysis could not be computed (e.g. too few valid responses)."""
    none = JudgeDelta(None, NO_INTERVAL, None)
    return JudgeRunResult(
        engagement,
        ic,
        False,
        none,
        none,
        JudgeBothEngaged(None, NO_INTERVAL, None),
        JudgeSace(NO_INTERVAL, NO_INTERVAL),
        {q: NOT_COMPUTED for q in QUESTIONS},
    )


#: Answers that say a run could not answer the question: they neither agree nor disagree.
NO_ANSWER: Final = frozenset({NOT_COMPUTED, Finding.NOT_MEASURED.value, Finding.NOT_TESTED.value})


def judges_agree(runs: Sequence[JudgeRunResult], question: str) -> bool | None:
    """True when every run that answers the question answers it alike.

    None with fewer than two answers, or when the analysis' own judges give none (a verdict of
    "not measured" is not made more certain by other judges agreeing among themselves).
    """
    if any(r.chosen and r.answers.get(question, NOT_COMPUTED) in NO_ANSWER for r in runs):
        return None
    got = [
        r.answers[question] for r in runs if r.answers.get(question, NOT_COMPUTED) not in NO_ANSWER
    ]
    if len(got) < 2:
        return None
    return len(set(got)) == 1


def with_agreement(verdict: Verdict, runs: Sequence[JudgeRunResult]) -> Verdict:
    """The verdict with ``judges_agree`` set, and "depends on the judge" where they disagree.

    A refusal answer based on gold labels (PPI) keeps its finding: the gold labels settle what
    the judges cannot.
    """
    agree = {q: judges_agree(runs, q) for q in QUESTIONS}

    def finding(current: Finding, q: str) -> Finding:
        return Finding.DEPENDS_ON_JUDGE if agree[q] is False else current

    r = verdict.refusal_changed
    refusal = replace(
        r,
        judges_agree=agree["refusal_changed"],
        finding=r.finding if r.basis == "ppi" else finding(r.finding, "refusal_changed"),
    )
    k = verdict.refusal_kind_changed
    kind = replace(
        k,
        judges_agree=agree["refusal_kind_changed"],
        finding=finding(k.finding, "refusal_kind_changed"),
    )
    i = verdict.ic_among_engagers_changed
    ic = replace(
        i,
        judges_agree=agree["ic_among_engagers_changed"],
        finding=finding(i.finding, "ic_among_engagers_changed"),
        direction=None if agree["ic_among_engagers_changed"] is False else i.direction,
    )
    return Verdict(refusal, kind, ic)
