"""What the report shows, read from the typed analysis (and a study manifest) into small objects.

Reading only: each field is an estimate the analysis computed, or ``None`` when it did not, which
the template renders as "not computed". Sentences in the summary are assembled from these numbers
(``deconfound.report.format``); the only judgement the report adds is which estimand each number
answers and what it assumes, which is fixed by the method (docs/statistics.md), not by the data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from deconfound.report.figures import ForestRow
from deconfound.report.format import (
    NOT_COMPUTED,
    ConstructLine,
    Estimate,
    ci_text,
    closed,
    construct_lines,
    constructs_sentence,
    count_text,
    estimate_of,
    estimate_text,
    p_text,
    pct,
    pp,
    tipping,
    verdict_lines,
)
from deconfound.report.values import estimate, interval, number
from deconfound.stats.contract import to_jsonable
from deconfound.stats.results import (
    Analysis,
    BothEngaged,
    Comparison,
    ConditionResult,
    JudgeDelta,
    JudgeRunResult,
    PPIEstimate,
    Verdict,
)

#: The estimand each comparison figure answers, and what it needs (statistics.md §0, §2).
ESTIMANDS: Final = {
    "delta_ir": (
        "Composite-strategy effect on headline IR (refusal counted as no IC)",
        "randomisation of conditions over scenarios (holds by design)",
    ),
    "delta_refusal": ("Effect on the refusal rate", "randomisation (holds by design)"),
    "both_engaged": (
        "Paired IC difference among scenarios engaged under both conditions",
        "equals the always-engager effect only if engagement is (near-)deterministic per scenario",
    ),
    "sace": (
        "Principal-stratum effect among always-engagers (SACE), Lee / Zhang–Rubin sharp bounds",
        "monotonicity: the treatment never turns a refusal into engagement",
    ),
    "manski": (
        "Hypothetical effect had the model been forced to engage (Manski worst-case bounds)",
        "none beyond randomisation; hence nearly uninformative",
    ),
    "decomposition": (
        "Descriptive split of ΔIR into a refusal-shift part and an engaged-behaviour part",
        "descriptive only: the engaged populations differ between conditions",
    ),
}


@dataclass(frozen=True)
class Line:
    """A labelled value for a definition list or table: ``label``, ``text`` and an optional note."""

    label: str
    text: str
    note: str = ""


@dataclass
class ConditionView:
    """Per-condition summary numbers read from ``analysis.conditions.<name>``."""

    name: str
    ir: Estimate | None
    refusal: Estimate | None
    partial: Estimate | None
    ir_engaged: Estimate | None
    ir_benchmark: Estimate | None
    n_conflicts: str
    n_scenarios: str
    n_responses: str
    n_invalid: str
    n_engaged: str
    prompt: str | None
    prompt_source: str
    refusal_kinds: dict[str, Estimate]
    reasoning_flags: dict[str, Estimate]
    categories: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    correction: list[Line] = field(default_factory=list)
    kinds_share: float | None = None
    flags_share: float | None = None
    kinds_judge: str | None = None
    ppi: list[Line] = field(default_factory=list)
    #: Refusal and IC among engaged under the narrow construct (None: not measured).
    has_constructs: bool = False
    narrow_measured: bool = False
    narrow_refusal: Estimate | None = None
    narrow_ir_engaged: Estimate | None = None
    narrow_note: str = ""


@dataclass
class VerdictItem:
    """One answer in a comparison's verdict (from the analysis' verdict object)."""

    question: str
    answer: str
    detail: str
    figures: str
    estimand: str
    assumption: str


@dataclass
class ComparisonView:
    """One baseline-vs-treatment comparison."""

    index: int
    baseline: str
    treatment: str
    delta_ir: Estimate | None
    delta_refusal: Estimate | None
    both_engaged: BothEngaged | None
    both_engaged_est: Estimate | None
    transitions: dict[str, int]
    decomposition: list[Line]
    sace_pooled: tuple[float, float] | None
    sace_scenario: tuple[float, float] | None
    sace_ci: tuple[float, float] | None
    monotonicity_violations: str
    tipping_point: str
    manski: tuple[float, float] | None
    delta_ir_engaged: Estimate | None
    sace_scenario_ci: tuple[float, float] | None
    principal_ignorability: float | None
    trimmed_stratum: Estimate | None
    sace_details: list[Line]
    power: list[Line]
    reasoning_shift: list[Line]
    verdict_headline: str
    verdict: list[VerdictItem]
    glance: list[Line]
    forest_rows: list[ForestRow]
    judge_rows: list[list[str]] = field(default_factory=list)
    judge_forest: list[ForestRow] = field(default_factory=list)
    ppi: list[Line] = field(default_factory=list)
    #: Each verdict question under the broad and narrow refusal constructs, and the sentence
    #: saying whether they agree (empty for analyses written before the constructs existed).
    constructs: list[ConstructLine] = field(default_factory=list)
    constructs_text: str = ""
    constructs_disagree: bool = False

    @property
    def title(self) -> str:
        """ "treatment vs baseline"."""
        return f"{self.treatment} vs {self.baseline}"


def _label(key: str) -> str:
    return key.replace("_", " ")


def _numbers(data: Any, *, prefix: str = "", unit: str = "pp") -> Iterator[Line]:
    """Flatten nested numbers/estimates into labelled lines (decomposition, reasoning shifts)."""
    if isinstance(data, Mapping):
        est = estimate(data) if ("estimate" in data or "ci" in data) else None
        if est is not None:
            yield Line(prefix or "value", estimate_text(est, points=unit == "pp"))
            return
        for key, value in data.items():
            if str(key).endswith("_ci") and str(key)[:-3] in data:
                continue
            if f"{key}_ci" in data and number(value) is not None:
                paired = Estimate(number(value), interval(data[f"{key}_ci"]))
                label = f"{prefix} · {_label(key)}" if prefix else _label(key)
                yield Line(label, estimate_text(paired, points=unit == "pp"))
                continue
            yield from _numbers(
                value, prefix=f"{prefix} · {_label(key)}" if prefix else _label(key), unit=unit
            )
        return
    if isinstance(data, Sequence) and not isinstance(data, str):
        if data and all(isinstance(v, str) for v in data):
            yield Line(prefix, ", ".join(data))
            return
        iv = interval(data)
        if iv is not None and not prefix.endswith(("counts", "count")):
            yield Line(prefix, ci_text(iv, points=unit == "pp"))
            return
        for i, value in enumerate(data):
            yield from _numbers(value, prefix=f"{prefix} [{i + 1}]", unit=unit)
        return
    n = number(data)
    key = prefix.rsplit("·", 1)[-1].strip()
    if n is not None:
        if key.startswith("n ") or key == "n" or "count" in key or "violations" in key:
            yield Line(prefix, count_text(n))
        elif key.endswith(("p value", " p")) or key in ("p", "p value"):
            yield Line(prefix, p_text(n))
        elif key in ("alpha", "target power", "critical value") or key.startswith("power "):
            yield Line(prefix, f"{n:.3g}")
        elif "share" in key or "weight" in key or key.startswith(("mde", "tipping")):
            yield Line(prefix, pct(n))
        else:
            yield Line(prefix, pp(n) if unit == "pp" else pct(n))
    elif isinstance(data, str):
        yield Line(prefix, data)
    elif isinstance(data, bool):
        yield Line(prefix, "yes" if data else "no")


def _estimates(data: Mapping[str, Any]) -> dict[str, Estimate]:
    out: dict[str, Estimate] = {}
    for key, value in data.items():
        est = estimate_of(value)
        if est is not None:
            out[str(key)] = est
    return out


def condition_prompts(
    analysis: Analysis, manifest: Mapping[str, Any] | None
) -> dict[str, tuple[str, str]]:
    """Each condition's prompt text verbatim, with where it came from.

    Looks in the study manifest first (``conditions`` as a mapping or a list of objects with a
    ``name``, as ``deconfound run`` writes it), then in the analysis' provenance. Keys tried:
    ``system_prompt``, ``prompt``, ``system``, ``template``, ``text``; a non-empty
    ``user_prefix``, ``user_suffix`` or ``solver`` follows under its own bracketed heading.
    """
    found: dict[str, tuple[str, str]] = {}
    sources = [
        ("study manifest", manifest or {}),
        ("analysis provenance", analysis.provenance or {}),
    ]
    for source, container in sources:
        conds = container.get("conditions") if isinstance(container, Mapping) else None
        items: list[tuple[str, Any]] = []
        if isinstance(conds, Mapping):
            items = [(str(k), v) for k, v in conds.items()]
        elif isinstance(conds, Sequence) and not isinstance(conds, str):
            items = [(str(c.get("name")), c) for c in conds if isinstance(c, Mapping)]
        for name, value in items:
            if name in found:
                continue
            if isinstance(value, str):
                found[name] = (value, source)
                continue
            if not isinstance(value, Mapping):
                continue
            for key in ("system_prompt", "prompt", "system", "template", "text"):
                text = value.get(key)
                if isinstance(text, str):
                    found[name] = (text, source)
                    break
            extras = {
                key: str(value[key])
                for key in ("user_prefix", "user_suffix", "solver")
                if isinstance(value.get(key), str) and value[key]
            }
            if extras:
                base, where = found.get(name, ("", source))
                parts = [base] if base else []
                parts += [f"[{key.replace('_', ' ')}]\n{text}" for key, text in extras.items()]
                found[name] = ("\n\n".join(parts), where)
    return found


def _condition_view(name: str, c: ConditionResult, prompt: tuple[str | None, str]) -> ConditionView:
    cats = [
        (
            cat,
            {
                "ir": estimate_text(estimate_of(cv.ir)),
                "refusal": estimate_text(estimate_of(cv.refusal)),
                "ir_engaged": estimate_text(estimate_of(cv.ir_engaged)),
            },
        )
        for cat, cv in c.by_category.categories.items()
    ]
    k = c.constructs
    narrow = k.narrow if k is not None else None
    return ConditionView(
        has_constructs=k is not None,
        narrow_measured=narrow is not None,
        narrow_refusal=estimate_of(narrow.refusal) if narrow is not None else None,
        narrow_ir_engaged=estimate_of(narrow.ir_engaged) if narrow is not None else None,
        narrow_note=(k.note or "") if k is not None else "",
        name=name,
        ir=estimate_of(c.ir),
        refusal=estimate_of(c.refusal),
        partial=estimate_of(c.partial),
        ir_engaged=estimate_of(c.ir_engaged),
        ir_benchmark=estimate_of(c.ir_benchmark),
        n_conflicts=count_text(sum(c.conflicts.values())),
        n_scenarios=count_text(c.n_scenarios),
        n_responses=count_text(c.n_responses),
        n_invalid=count_text(c.n_invalid),
        n_engaged=count_text(c.n_engaged),
        prompt=prompt[0],
        prompt_source=prompt[1],
        refusal_kinds=_estimates(c.refusal_kinds),
        reasoning_flags=_estimates(c.reasoning_flags),
        categories=cats,
        correction=list(_numbers(to_jsonable(c.judge_correction), unit="pct"))
        if c.judge_correction is not None
        else [],
        kinds_share=c.refusal_kinds_coverage.share if c.refusal_kinds_coverage else None,
        flags_share=c.reasoning_flags_coverage.share if c.reasoning_flags_coverage else None,
        kinds_judge=c.refusal_kinds_coverage.judge if c.refusal_kinds_coverage else None,
        ppi=_condition_ppi(c),
    )


_PPI_LABELS: Final = {
    "refusal": "refusal",
    "partial": "partial",
    "ir": "headline IR",
    "ir_engaged": "IR among engaged",
    "delta_refusal": "Δrefusal",
    "delta_ir": "ΔIR",
    "delta_ir_engaged": "ΔIR among engaged",
}


def _ppi_line(label: str, est: PPIEstimate, judge: Estimate | None, points: bool) -> Line:
    """ "PPI++ x [ci] · gold only y [ci] · judge alone z [ci]" for one estimand."""
    if est.estimate is None:
        return Line(label, f"not computed ({est.reason or 'no gold labels'})", "")
    ppi = estimate_text(Estimate(est.estimate, closed(est.ci)), points=points)
    gold = (
        estimate_text(Estimate(est.gold_only.estimate, closed(est.gold_only.ci)), points=points)
        if est.gold_only is not None
        else NOT_COMPUTED
    )
    lam = ", ".join(f"{v:.2f}" for v in est.lambdas or [] if v is not None)
    return Line(
        label,
        f"PPI++ {ppi} · gold only {gold} · judge alone {estimate_text(judge, points=points)}",
        f"{est.n_gold} gold labels; lambda {lam}",
    )


def _condition_ppi(c: ConditionResult) -> list[Line]:
    if c.ppi is None:
        return []
    judge = {"refusal": c.refusal, "partial": c.partial, "ir": c.ir, "ir_engaged": c.ir_engaged}
    return [
        _ppi_line(_PPI_LABELS[k], getattr(c.ppi, k), estimate_of(judge[k]), False) for k in judge
    ]


def _comparison_ppi(comp: Comparison) -> list[Line]:
    if comp.ppi is None:
        return []
    judge = {
        "delta_refusal": comp.delta_refusal,
        "delta_ir": comp.delta_ir,
        "delta_ir_engaged": comp.delta_ir_engaged,
    }
    return [
        _ppi_line(_PPI_LABELS[k], getattr(comp.ppi, k), estimate_of(judge[k]), True) for k in judge
    ]


def _judge_rows(comp: Comparison) -> list[list[str]]:
    """The judge-sensitivity table: one row per (engagement, IC) judge pair."""
    rows = []
    for r in comp.judge_sensitivity or []:
        rows.append(
            [
                r.engagement_judge + (" (analysis)" if r.chosen else ""),
                r.ic_judge,
                estimate_text(estimate_of_pair(r.delta_refusal), points=True),
                estimate_text(estimate_of_pair(r.delta_ir), points=True),
                pp(r.both_engaged.difference),
                ci_text(r.sace_bounds.pooled, points=True) or NOT_COMPUTED,
                r.answers.get("refusal_changed", NOT_COMPUTED).replace("_", " "),
                r.answers.get("ic_among_engagers_changed", NOT_COMPUTED).replace("_", " "),
            ]
        )
    return rows


def estimate_of_pair(d: JudgeDelta) -> Estimate | None:
    """A judge run's difference for display."""
    if d.estimate is None and closed(d.ci) is None:
        return None
    return Estimate(d.estimate, closed(d.ci), d.p_value)


def _judge_forest(comp: Comparison) -> list[ForestRow]:
    """Δrefusal and ΔIR (estimate ± CI) under each judge pair, for the forest plot."""
    rows: list[ForestRow] = []
    runs = comp.judge_sensitivity or []
    seen: set[str] = set()
    for r in runs:
        if r.engagement_judge in seen:
            continue
        seen.add(r.engagement_judge)
        rows.append(
            ForestRow(
                f"Δrefusal · {r.engagement_judge}",
                r.delta_refusal.estimate,
                closed(r.delta_refusal.ci),
            )
        )
    for r in runs:
        rows.append(
            ForestRow(
                f"ΔIR · {r.engagement_judge} / {r.ic_judge}",
                r.delta_ir.estimate,
                closed(r.delta_ir.ci),
            )
        )
    if comp.ppi is not None and comp.ppi.delta_refusal.estimate is not None:
        rows.insert(
            0,
            ForestRow(
                "Δrefusal · PPI++ with gold labels",
                comp.ppi.delta_refusal.estimate,
                closed(comp.ppi.delta_refusal.ci),
            ),
        )
    return rows


def read_conditions(analysis: Analysis, manifest: Mapping[str, Any] | None) -> list[ConditionView]:
    """The conditions in the analysis, in its order."""
    prompts = condition_prompts(analysis, manifest)
    return [
        _condition_view(name, c, prompts.get(name, (None, "")))
        for name, c in analysis.conditions.items()
    ]


def _verdict(
    verdict: Verdict | None, runs: Sequence[JudgeRunResult] | None = None
) -> tuple[str, list[VerdictItem]]:
    """Headline and items of a comparison's verdict, in words (``format.verdict_lines``)."""
    if verdict is None:
        return "", []
    items = [
        VerdictItem(line.question, line.answer, line.text, "", "", line.assumption)
        for line in verdict_lines(verdict, runs)
    ]
    return " · ".join(f"{v.question}: {v.answer}" for v in items), items


def _glance(c: ComparisonView, conds: Mapping[str, ConditionView]) -> list[Line]:
    """The comparison's numbers in reading order, each with its estimand and assumption."""
    b, t = conds.get(c.baseline), conds.get(c.treatment)

    def arrow(attr: str) -> str:
        eb = getattr(b, attr) if b else None
        et = getattr(t, attr) if t else None
        return f"{pct(eb.estimate if eb else None)} → {pct(et.estimate if et else None)}"

    lines = [
        Line(
            "Headline IR",
            f"{arrow('ir')}; ΔIR {estimate_text(c.delta_ir, points=True)}",
            " — ".join(ESTIMANDS["delta_ir"]),
        ),
        Line(
            "Refusal rate",
            f"{arrow('refusal')}; Δ {estimate_text(c.delta_refusal, points=True)}",
            " — ".join(ESTIMANDS["delta_refusal"]),
        ),
        Line(
            "IC among engaged",
            arrow("ir_engaged")
            + (
                f"; Δ {estimate_text(c.delta_ir_engaged, points=True)}"
                if c.delta_ir_engaged
                else ""
            ),
            "descriptive: the engaged populations differ between conditions (not causal)",
        ),
    ]
    be = c.both_engaged
    if be is not None:
        lines.append(
            Line(
                f"Both engaged (n = {count_text(be.n_scenarios)} scenarios)",
                f"IC {pct(be.baseline_ic)} → {pct(be.treatment_ic)}; difference "
                f"{estimate_text(c.both_engaged_est, points=True)}",
                " — ".join(ESTIMANDS["both_engaged"]),
            )
        )
    else:
        lines.append(Line("Both engaged", "not computed", ESTIMANDS["both_engaged"][0]))
    lines.append(
        Line(
            "Always-engager effect (SACE)",
            f"pooled bounds {ci_text(c.sace_pooled, points=True) or 'not computed'}"
            + (
                f"; scenario-level {ci_text(c.sace_scenario, points=True)}"
                if c.sace_scenario
                else ""
            )
            + (f"; identified-set 95% CI {ci_text(c.sace_ci, points=True)}" if c.sace_ci else "")
            + f"; monotonicity violations: {c.monotonicity_violations}"
            + f"; tipping point: {c.tipping_point}"
            + (
                f"; point estimate under principal ignorability: {pp(c.principal_ignorability)}"
                if c.principal_ignorability is not None
                else ""
            )
            + (
                "; baseline IC of the newly refused (paired data): "
                + estimate_text(c.trimmed_stratum)
                if c.trimmed_stratum
                else ""
            ),
            " — ".join(ESTIMANDS["sace"]),
        )
    )
    lines.append(
        Line(
            "Forced-engagement effect",
            f"Manski bounds {ci_text(c.manski, points=True) or 'not computed'}",
            " — ".join(ESTIMANDS["manski"]),
        )
    )
    return lines


def _comparison_view(
    i: int, comp: Comparison, conds: Mapping[str, ConditionView]
) -> ComparisonView:
    be = comp.both_engaged
    be_ci = closed(be.ci)
    be_est = (
        Estimate(be.difference, be_ci, be.mcnemar_p)
        if be.difference is not None or be_ci is not None
        else None
    )
    sace = comp.sace_bounds
    headline, verdict = _verdict(comp.verdict, comp.judge_sensitivity)
    view = ComparisonView(
        index=i,
        baseline=comp.baseline,
        treatment=comp.treatment,
        delta_ir=estimate_of(comp.delta_ir),
        delta_refusal=estimate_of(comp.delta_refusal),
        both_engaged=be,
        both_engaged_est=be_est,
        transitions=dict(comp.transitions),
        decomposition=list(_numbers(to_jsonable(comp.decomposition))),
        sace_pooled=closed(sace.pooled),
        sace_scenario=closed(sace.scenario),
        sace_ci=closed(sace.ci),
        monotonicity_violations=count_text(sace.monotonicity_violations),
        tipping_point=tipping(sace.tipping_point),
        manski=closed(comp.manski_bounds),
        delta_ir_engaged=estimate_of(comp.delta_ir_engaged),
        sace_scenario_ci=closed(sace.scenario_ci),
        principal_ignorability=sace.principal_ignorability,
        trimmed_stratum=(
            Estimate(sace.trimmed_stratum_ic.estimate, closed(sace.trimmed_stratum_ic.ci))
            if sace.trimmed_stratum_ic.estimate is not None
            or closed(sace.trimmed_stratum_ic.ci) is not None
            else None
        ),
        sace_details=list(_numbers(to_jsonable(sace))),
        power=list(_numbers(to_jsonable(comp.power))),
        reasoning_shift=list(_numbers(to_jsonable(comp.reasoning_shift))),
        verdict_headline=headline,
        verdict=verdict,
        glance=[],
        forest_rows=[],
        judge_rows=_judge_rows(comp),
        judge_forest=_judge_forest(comp),
        ppi=_comparison_ppi(comp),
    )
    view.glance = _glance(view, conds)
    view.forest_rows = _forest_rows(view)
    if comp.constructs is not None:
        view.constructs = construct_lines(comp.constructs) if comp.constructs.narrow else []
        view.constructs_text = constructs_sentence(comp.constructs)
        view.constructs_disagree = any(ln.agree is False for ln in view.constructs)
    return view


def read_comparisons(
    analysis: Analysis, conditions: Sequence[ConditionView]
) -> list[ComparisonView]:
    """The comparisons in the analysis, in its order."""
    conds = {c.name: c for c in conditions}
    return [_comparison_view(i, comp, conds) for i, comp in enumerate(analysis.comparisons)]


def _forest_rows(c: ComparisonView) -> list[ForestRow]:
    def row(label: str, est: Estimate | None) -> ForestRow:
        return ForestRow(label, est.estimate if est else None, est.ci if est else None)

    rows = [
        row("ΔIR (headline)", c.delta_ir),
        row("Δ refusal", c.delta_refusal),
        row("both-engaged IC difference", c.both_engaged_est),
        ForestRow("SACE bounds (pooled)", None, c.sace_ci, c.sace_pooled),
    ]
    if c.sace_scenario is not None:
        rows.append(
            ForestRow("SACE bounds (scenario-level)", None, c.sace_scenario_ci, c.sace_scenario)
        )
    rows.append(ForestRow("Manski bounds", None, None, c.manski))
    return rows
