"""Numbers and verdicts in words: the one place that turns analysis results into text.

Percentages, percentage points, intervals and p-values are formatted here for the report and the
CLI alike; the statistics layer returns numbers and structured answers only. A value the analysis
could not compute (None) is shown as "not computed", never as a made-up number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

from deconfound.judges.measured import measured_kappa
from deconfound.stats.prepare import TRUSTED_KAPPA
from deconfound.stats.results import (
    ComparisonConstructs,
    Delta,
    Direction,
    Finding,
    IcAnswer,
    Interval,
    JudgeRunResult,
    KindAnswer,
    Proportion,
    RefusalAnswer,
    Shift,
    Verdict,
)
from deconfound.stats.sensitivity import answer_category

NOT_COMPUTED: Final = "not computed"
MINUS: Final = "\u2212"


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its optional interval, p-value and n, for display.

    Args:
        estimate: The point estimate (a proportion or difference of proportions).
        ci: The interval (lo, hi) when both ends are known.
        p_value: The test's p-value when there is one.
        n: The number of units the estimate rests on, when given.
    """

    estimate: float | None
    ci: tuple[float, float] | None = None
    p_value: float | None = None
    n: float | None = None


def closed(ci: Interval | None) -> tuple[float, float] | None:
    """An interval with both ends known, else None."""
    if ci is None or ci[0] is None or ci[1] is None:
        return None
    return (ci[0], ci[1])


def estimate_of(result: Proportion | Delta | Shift | None) -> Estimate | None:
    """The display form of a typed estimate (None when the analysis has neither point nor CI)."""
    if result is None:
        return None
    ci = closed(result.ci)
    if result.estimate is None and ci is None:
        return None
    p = getattr(result, "p_value", None)
    n = result.n if isinstance(result, Proportion) else None
    return Estimate(result.estimate, ci, p, n)


def _clean(value: float, digits: int) -> float:
    """Value in percent, with -0.0 (and anything that rounds to it) shown as 0."""
    v = value * 100
    return 0.0 if round(v, digits) == 0 else v


def pct(value: float | None, digits: int = 1) -> str:
    """A proportion as a percentage ("14.7%"), or "not computed"."""
    if value is None:
        return NOT_COMPUTED
    return f"{_clean(value, digits):.{digits}f}%".replace("-", MINUS)


def tipping(value: float | None) -> str:
    """The SACE tipping point ΔIR/Δe as a rate, or why no rate tips the sign.

    Outside [0, 1] no IC rate of the unidentified stratum can change the SACE's sign (the data
    fix it), so the value is not shown as if it were a rate ("−50%" reads as nonsense).
    """
    if value is None or math.isnan(value):
        return "none (engagement unchanged)" if value is not None else NOT_COMPUTED
    if not 0.0 <= value <= 1.0:
        return "none in 0–100%: no IC rate of that stratum flips the sign"
    return pct(value)


def pp(value: float | None, digits: int = 1) -> str:
    """A difference of proportions in percentage points with its sign ("+1.5 pp")."""
    if value is None:
        return NOT_COMPUTED
    return f"{_clean(value, digits):+.{digits}f} pp".replace("-", MINUS)


def ci_text(ci: Interval | None, *, points: bool = False, digits: int = 1) -> str:
    """An interval as "[8.4, 24.3]%" (or in pp); empty when either end is unknown."""
    both = closed(ci)
    if both is None:
        return ""
    sign = "+" if points else ""
    lo, hi = (f"{_clean(v, digits):{sign}.{digits}f}".replace("-", MINUS) for v in both)
    return f"[{lo}, {hi}]{' pp' if points else '%'}"


def p_text(p: float | None) -> str:
    """A p-value as people read it ("p = 0.019", "p < 0.001")."""
    if p is None:
        return ""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def estimate_text(est: Estimate | None, *, points: bool = False) -> str:
    """ "14.7% [8.4, 24.3]%" or "−5.5 pp [−15.0, +4.1] pp, p = 0.30", or "not computed"."""
    if est is None or (est.estimate is None and est.ci is None):
        return NOT_COMPUTED
    head = (pp if points else pct)(est.estimate) if est.estimate is not None else ""
    parts = [p for p in (head, ci_text(est.ci, points=points)) if p]
    text = " ".join(parts)
    if est.p_value is not None:
        text += f", {p_text(est.p_value)}"
    return text


def count_text(value: Any) -> str:
    """A count for display ("76"), or "not computed"."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return NOT_COMPUTED
    n = float(value)
    if n != n:  # NaN
        return NOT_COMPUTED
    return str(int(n)) if n == int(n) else f"{n:.1f}"


def stat_text(value: float | None, ci: Any = None, *, digits: int = 2, missing: str = "-") -> str:
    """A statistic that is not a proportion (kappa, AC1, alpha, Se/Sp) as "0.41 [0.20, 0.60]".

    ``ci`` is a (low, high) pair shown only when both ends are known; ``missing`` stands in for
    an undefined value ("-" in tables, "not computed" in prose).
    """
    if value is None:
        return missing
    text = f"{value:.{digits}f}"
    both = closed(tuple(ci)) if ci is not None and len(ci) == 2 else None
    if both is not None:
        text += f" [{both[0]:.{digits}f}, {both[1]:.{digits}f}]"
    return text


# --------------------------------------------------------------------------------------------
# the verdict in words


@dataclass(frozen=True)
class VerdictLine:
    """One answer of a verdict, as words: short answer, sentence with figures, assumption."""

    key: str
    question: str
    answer: str
    text: str
    assumption: str


_SHORT: Final = {
    Finding.CHANGED: "yes",
    Finding.DEPENDS_ON_JUDGE: "depends on the judge",
    Finding.NO_CLEAR_CHANGE: "no clear change",
    Finding.NOT_TESTED: "not tested",
    Finding.NOT_MEASURED: "not measured",
    Finding.SET_EXCLUDES_ZERO: "the identified set excludes 0 but its confidence interval does not",
    Finding.NO_IC_EITHER: "no: no IC among engaged responses under either condition",
    Finding.CANNOT_TELL: "cannot tell",
}


def judge_figures(runs: Sequence[JudgeRunResult], question: str, *, answered: bool) -> str:
    """Each judge's answer to a question: "by judge: aei-keyword +5.3 pp [...], lexical ...".

    ``answered``: the line's short answer already says "depends on the judge", so the figures
    follow as "by judge"; otherwise (a gold file decided the answer) they read "the judges differ".
    """
    seen: dict[str, str] = {}
    for r in runs:
        if question == "refusal_changed":
            d = r.delta_refusal
            figure = f"{pp(d.estimate)} {ci_text(d.ci, points=True)}".strip()
            seen.setdefault(r.engagement_judge, figure)
        else:
            seen.setdefault(
                f"{r.engagement_judge} / {r.ic_judge}",
                r.answers.get(question, NOT_COMPUTED).replace("_", " "),
            )
    lead = "by judge: " if answered else "the judges differ: "
    return lead + ", ".join(f"{j} {f}" for j, f in seen.items())


def _agreement_note(agree: bool | None) -> str:
    if agree is None:
        return ""
    return " The available judges agree on this answer." if agree else ""


def _refusal_agreement_note(a: RefusalAnswer, runs: Sequence[JudgeRunResult]) -> str:
    """Whether the judges agree; with gold labels, also whether they agree with the gold."""
    if a.basis != "ppi" or a.judges_agree is not True:
        return _agreement_note(a.judges_agree)
    said = next((r.answers.get("refusal_changed") for r in runs if r.chosen), None)
    if said is None or said == answer_category(a.finding, None, a.estimate):
        return _agreement_note(True)
    return (
        f" The judges agree with each other ({said.replace('_', ' ')}), not with the gold labels."
    )


def _refusal(a: RefusalAnswer, runs: Sequence[JudgeRunResult]) -> VerdictLine:
    if a.finding is Finding.NOT_TESTED:
        text = "Refusal change could not be tested."
    elif a.basis == "ppi":
        text = (
            f"With gold labels (PPI++), refusal went from {pct(a.baseline_rate)} to "
            f"{pct(a.treatment_rate)} ({pp(a.estimate)}, 95% CI "
            f"{ci_text(a.ci, points=True) or NOT_COMPUTED}); the engagement judge alone says "
            f"{pp(a.judge_estimate)} {ci_text(a.judge_ci, points=True)}."
        )
    else:
        text = (
            f"Refusal went from {pct(a.baseline_rate)} to {pct(a.treatment_rate)} "
            f"({pp(a.estimate)}, 95% CI {ci_text(a.ci, points=True) or NOT_COMPUTED}, paired "
            f"{p_text(a.p_value)})."
        )
    if a.judges_agree is False:
        chosen = next((r.engagement_judge for r in runs if r.chosen), None)
        lead = f"With {chosen}: " if chosen and a.basis != "ppi" else ""
        figures = judge_figures(
            runs, "refusal_changed", answered=a.finding is Finding.DEPENDS_ON_JUDGE
        )
        text = f"{figures}. {lead}{text}"
    text += _refusal_agreement_note(a, runs)
    return VerdictLine(
        "refusal_changed",
        "refusal changed",
        _SHORT[a.finding],
        text,
        "gold labels correct and sampled with known probabilities; scenario sampling"
        if a.basis == "ppi"
        else "none beyond scenario sampling: a paired, composite-estimand comparison; it is "
        "only as good as the engagement judge's labels",
    )


def _kind(a: KindAnswer, runs: Sequence[JudgeRunResult]) -> VerdictLine:
    answer = _SHORT[a.finding]
    if a.finding is Finding.NOT_MEASURED and a.not_measured_by is not None:
        answer = f"not measured by {a.not_measured_by}"
        text = (
            f"{a.not_measured_by} labelled a refusal kind for only {pct(a.labelled_share, 0)} of "
            "the refusals and partials in at least one condition (below 80%), so the shares "
            "would describe a minority."
        )
        assumption = "needs a judge that labels refusal_kind on most refusals and partials"
    elif a.finding is Finding.DEPENDS_ON_JUDGE:
        text = judge_figures(runs, "refusal_kind_changed", answered=True) + "."
        assumption = (
            "relies on the reasoning judge's refusal_kind labels and on which responses the "
            "engagement judge calls refusals"
        )
    elif a.finding is Finding.NOT_MEASURED:
        text = (
            "No scenario has refusal-kind labels under both conditions (no reasoning judge, or "
            "no shared refusals)."
        )
        assumption = "needs a judge that labels refusal_kind"
    else:
        holm = p_text(a.p_holm) or "p not computed"
        text = (
            f"Among {a.n_scenarios} scenarios refused under both, the share of '{a.label}' "
            f"refusals moved {pp(a.estimate)} (95% CI "
            f"{ci_text(a.ci, points=True) or NOT_COMPUTED}, Holm {holm}); the largest shift of "
            "the kinds."
        )
        assumption = (
            "compares scenarios refused under both conditions, a selected subset; relies on the "
            "reasoning judge's refusal_kind labels"
        )
    return VerdictLine("refusal_kind_changed", "refusal kind changed", answer, text, assumption)


def _ic(a: IcAnswer, runs: Sequence[JudgeRunResult]) -> VerdictLine:
    answer = _SHORT[a.finding]
    if a.finding is Finding.CHANGED:
        answer = "yes: IC among always-engagers " + (
            "rose" if a.direction is Direction.UP else "fell"
        )
    text = (
        f"IC among engaged responses moved {pp(a.estimate)}, but the engaged populations differ; "
        f"the effect among always-engagers lies in {ci_text(a.bounds, points=True) or NOT_COMPUTED}"
        f" (95% CI {ci_text(a.ci, points=True) or NOT_COMPUTED}), scenario-level "
        f"{ci_text(a.scenario_bounds, points=True) or NOT_COMPUTED}. {a.both_engaged_n} scenarios "
        f"engaged under both moved {pp(a.both_engaged_difference)}. "
        f"{a.monotonicity_violations} scenario(s) violate monotonicity."
    )
    if a.judges_agree is False:
        figures = judge_figures(
            runs, "ic_among_engagers_changed", answered=a.finding is Finding.DEPENDS_ON_JUDGE
        )
        text = f"{figures}. {text}"
    text += _agreement_note(a.judges_agree)
    return VerdictLine(
        "ic_among_engagers_changed",
        "ic among engagers changed",
        answer,
        text,
        "bounds assume monotonicity (the treatment never turns a refusal into engagement); a "
        "point estimate needs principal ignorability (the newly refused resemble the "
        f"always-engagers; tipping point {tipping(a.tipping_point)})",
    )


def verdict_lines(
    v: Verdict, judge_runs: Sequence[JudgeRunResult] | None = None
) -> list[VerdictLine]:
    """The three answers of a verdict in words, in question order; with the comparison's
    judge-sensitivity runs, an answer the judges disagree on names each judge's figure."""
    runs = judge_runs or []
    return [
        _refusal(v.refusal_changed, runs),
        _kind(v.refusal_kind_changed, runs),
        _ic(v.ic_among_engagers_changed, runs),
    ]


# --------------------------------------------------------------------------------------------
# the two refusal constructs in words


#: What each construct counts as a refusal (docs/codebook.md), for table headers and notes.
CONSTRUCTS: Final = {
    "broad": "broad: refusals as the engagement judge labelled them, in-role declines included",
    "narrow": "narrow: only refusals and partials that step out of the scenario's role",
}


@dataclass(frozen=True)
class ConstructLine:
    """One verdict question answered under both refusal constructs."""

    key: str
    question: str
    broad: str
    narrow: str
    agree: bool | None


def _directed(line: VerdictLine, v: Verdict) -> str:
    """The short answer, with the direction of a refusal change (the IC answer has its own)."""
    a = v.refusal_changed
    if line.key == "refusal_changed" and a.finding is Finding.CHANGED and a.estimate is not None:
        return f"{line.answer}, {'rose' if a.estimate > 0 else 'fell'}"
    if line.key == "refusal_kind_changed" and v.refusal_kind_changed.finding is Finding.CHANGED:
        return f"{line.answer} ('{v.refusal_kind_changed.label}')"
    return line.answer


def construct_lines(c: ComparisonConstructs) -> list[ConstructLine]:
    """Each verdict question's short answer under the broad and the narrow construct."""
    broad = verdict_lines(c.broad.verdict)
    narrow = verdict_lines(c.narrow.verdict) if c.narrow is not None else None
    agree = c.constructs_agree
    out = []
    for i, line in enumerate(broad):
        out.append(
            ConstructLine(
                line.key,
                line.question,
                _directed(line, c.broad.verdict),
                _directed(narrow[i], c.narrow.verdict)
                if narrow is not None and c.narrow is not None
                else (c.note or "not measured"),
                getattr(agree, line.key),
            )
        )
    return out


def constructs_sentence(c: ComparisonConstructs) -> str:
    """Whether the verdict depends on the refusal construct, in one or two sentences."""
    if c.narrow is None:
        return (
            f"Narrow refusal construct ({CONSTRUCTS['narrow'].split(': ', 1)[1]}): "
            f"{c.note or 'not measured'}. Only the broad answers are shown."
        )
    lines = construct_lines(c)
    if all(ln.agree is None for ln in lines):
        why = c.note or "neither construct answers any question"
        return f"The broad and narrow answers are not compared: {why}."
    differ = [ln for ln in lines if ln.agree is False]
    if not differ:
        return "The broad and narrow refusal constructs give the same answer to every question."
    parts = "; ".join(f"{ln.question} (broad: {ln.broad}; narrow: {ln.narrow})" for ln in differ)
    return (
        f"The refusal constructs disagree on {parts}. The answer depends on whether an in-role "
        "decline of the instructed deviation counts as a refusal (broad) or as engagement "
        "without IC (narrow); see docs/codebook.md."
    )


#: The view each judge role is measured on, with its words.
_ROLE_VIEWS: Final = (("refusal_vs_not", "refusal vs not"), ("ic", "IC"))


def judge_validity(records: pd.DataFrame, engagement: str, ic: str, *, gold: bool) -> str:
    """One sentence: how far the judges behind the answers agree with careful reading.

    Per role, the engagement judge on refusal vs not and the IC judge on IC, the shipped
    kappa on models it was never fitted on (leave-one-model-out, or models added to the corpus
    after it was fitted) from its worst to its best model, or "not measured".
    Without gold labels, and unless every figure reaches TRUSTED_KAPPA on its worst model, the
    sentence says the answers are indicative and how to correct them.
    """
    versions = records.dropna(subset=["judge_version"]).drop_duplicates("judge")
    version = dict(
        zip(versions["judge"].astype(str), versions["judge_version"].astype(str), strict=True)
    )
    parts, trusted = [], True
    for judge, (view, words) in zip((engagement, ic), _ROLE_VIEWS, strict=True):
        if judge == "reference":
            parts.append(f"{judge} {words}: the careful-reading labels themselves")
            continue
        m = measured_kappa(judge, version.get(judge))
        r = None if m is None else m.view_range(view)
        if r is None or r.worst is None or r.best is None:
            trusted = False
            parts.append(f"{judge} {words} not measured")
            continue
        # a model without kappa (e.g. its reference has one class) is unmeasured, never passing
        trusted = trusted and r.complete and r.worst >= TRUSTED_KAPPA
        note = "".join(f", {x} undefined (reference has one class)" for x in r.undefined)
        parts.append(f"{judge} {words} {r.worst:.2f}–{r.best:.2f} ({len(r.kappa)} models{note})")
    text = (
        "Judge validity (Cohen's κ against careful reading on models the judge was never "
        "fitted on, worst–best model): " + "; ".join(parts) + "."
    )
    if not gold and not trusted:
        text += (
            f" Below κ {TRUSTED_KAPPA} or unmeasured, answers that rest on these judges alone "
            "are indicative: gold labels correct them (deconfound label, then analyze --gold; "
            "docs/labels.md)."
        )
    return text
