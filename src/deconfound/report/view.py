"""What the report shows, read from the analysis JSON (and a study manifest) into small objects.

Reading only: each field is an estimate the analysis computed, or ``None`` when it did not, which
the template renders as "not computed". Sentences in the summary are assembled from these numbers;
the only judgement the report adds is which estimand each number answers and what it assumes,
which is fixed by the method (docs/statistics.md), not by the data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from deconfound.report.figures import ForestRow
from deconfound.report.values import (
    Estimate,
    ci_text,
    count_text,
    dig,
    estimate,
    estimate_text,
    interval,
    number,
    p_text,
    pct,
    pp,
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
    both_engaged: Mapping[str, Any] | None
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


def _estimates(data: Any) -> dict[str, Estimate]:
    out: dict[str, Estimate] = {}
    if isinstance(data, Mapping):
        for key, value in data.items():
            est = estimate(value)
            if est is not None:
                out[str(key)] = est
    return out


def condition_prompts(
    analysis: Mapping[str, Any], manifest: Mapping[str, Any] | None
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
        ("analysis provenance", analysis.get("provenance") or {}),
        ("analysis", analysis),
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
            if isinstance(value, str) and source != "analysis":
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


def _conflict_count(value: Any) -> str:
    if isinstance(value, Mapping):
        counts = [number(v) for v in value.values()]
        return count_text(sum(n for n in counts if n is not None))
    return count_text(value)


def read_conditions(
    analysis: Mapping[str, Any], manifest: Mapping[str, Any] | None
) -> list[ConditionView]:
    """The conditions in the analysis, in its order."""
    prompts = condition_prompts(analysis, manifest)
    out: list[ConditionView] = []
    conds = analysis.get("conditions")
    if not isinstance(conds, Mapping):
        return out
    for name, c in conds.items():
        if not isinstance(c, Mapping):
            continue
        ir_eng = estimate(c.get("ir_engaged"))
        n_eng = c.get("n_engaged", dig(c, "ir_engaged", "n"))
        prompt, source = prompts.get(str(name), (None, ""))
        cats = []
        by_cat = dig(c, "by_category", "categories")
        if not isinstance(by_cat, Mapping):
            by_cat = c.get("categories")
        if isinstance(by_cat, Mapping):
            for cat, cv in by_cat.items():
                if isinstance(cv, Mapping):
                    cats.append(
                        (
                            str(cat),
                            {
                                k: estimate_text(estimate(cv.get(k)))
                                for k in ("ir", "refusal", "ir_engaged")
                            },
                        )
                    )
        out.append(
            ConditionView(
                name=str(name),
                ir=estimate(c.get("ir")),
                refusal=estimate(c.get("refusal")),
                partial=estimate(c.get("partial")),
                ir_engaged=ir_eng,
                ir_benchmark=estimate(c.get("ir_benchmark")),
                n_conflicts=_conflict_count(c.get("conflicts")),
                n_scenarios=count_text(c.get("n_scenarios")),
                n_responses=count_text(c.get("n_responses")),
                n_invalid=count_text(c.get("n_invalid")),
                n_engaged=count_text(n_eng),
                prompt=prompt,
                prompt_source=source,
                refusal_kinds=_estimates(c.get("refusal_kinds")),
                reasoning_flags=_estimates(c.get("reasoning_flags")),
                categories=cats,
                correction=list(_numbers(c["judge_correction"], unit="pct"))
                if c.get("judge_correction") is not None
                else [],
            )
        )
    return out


def _verdict(value: Any) -> tuple[str, list[VerdictItem]]:
    """Headline and items of a verdict object, whatever its exact shape.

    Items are ``{question: {answer, text, estimate, ci, p_value, assumption, estimand}}``; without
    a ``summary`` string the headline lists the short answers ("refusal changed: no clear
    change · ...").
    """
    if isinstance(value, str):
        return value, []
    if not isinstance(value, Mapping):
        return "", []
    headline = ""
    for key in ("summary", "headline", "text", "verdict"):
        if isinstance(value.get(key), str):
            headline = value[key]
            break
    items = []
    for key, item in value.items():
        if isinstance(item, str) and item == headline:
            continue
        if isinstance(item, str):
            items.append(VerdictItem(_label(key), item, "", "", "", ""))
        elif isinstance(item, Mapping):
            answer = str(item.get("answer", item.get("conclusion", "")))
            detail = next(
                (str(item[k]) for k in ("text", "statement", "summary", "detail") if k in item),
                "",
            )
            est = estimate(item)
            points = "rate" not in key and "level" not in key
            figures = estimate_text(est, points=points) if est else ""
            bounds = interval(item.get("bounds"))
            if bounds is not None:
                figures += f"{'; ' if figures else ''}bounds {ci_text(bounds, points=True)}"
            assumption = item.get("assumption", item.get("assumptions", ""))
            if isinstance(assumption, Sequence) and not isinstance(assumption, str):
                assumption = "; ".join(str(a) for a in assumption)
            items.append(
                VerdictItem(
                    _label(str(item.get("question", key))),
                    answer,
                    detail,
                    figures,
                    str(item.get("estimand", "")),
                    str(assumption or ""),
                )
            )
    if not headline and items:
        headline = " · ".join(f"{v.question}: {v.answer}" for v in items if v.answer)
    return headline, items


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
    be = c.both_engaged or {}
    if c.both_engaged is not None:
        base_ic = estimate(be.get("baseline_ic"))
        treat_ic = estimate(be.get("treatment_ic"))
        lines.append(
            Line(
                f"Both engaged (n = {count_text(be.get('n_scenarios'))} scenarios)",
                f"IC {pct(base_ic.estimate if base_ic else None)} → "
                f"{pct(treat_ic.estimate if treat_ic else None)}; difference "
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


def read_comparisons(
    analysis: Mapping[str, Any], conditions: Sequence[ConditionView]
) -> list[ComparisonView]:
    """The comparisons in the analysis, in its order."""
    conds = {c.name: c for c in conditions}
    out: list[ComparisonView] = []
    comps = analysis.get("comparisons")
    if not isinstance(comps, Sequence):
        return out
    for i, comp in enumerate(comps):
        if not isinstance(comp, Mapping):
            continue
        be = comp.get("both_engaged") if isinstance(comp.get("both_engaged"), Mapping) else None
        be_est = None
        if be is not None:
            be_est = estimate(
                {
                    "estimate": be.get("difference"),
                    "ci": be.get("ci"),
                    "p_value": be.get("mcnemar_p", be.get("p_value")),
                }
            )
            if be_est is None:
                be_est = estimate(be.get("difference"))
        raw_sace = comp.get("sace_bounds")
        sace: Mapping[str, Any] = raw_sace if isinstance(raw_sace, Mapping) else {}
        tip = sace.get("tipping_point")
        tip_est = estimate(tip)
        tip_text = (
            pct(tip_est.estimate) if tip_est and tip_est.estimate is not None else "not computed"
        )
        transitions = {}
        if isinstance(comp.get("transitions"), Mapping):
            for k, v in comp["transitions"].items():
                n = number(v)
                if n is not None and "->" in str(k):
                    transitions[str(k)] = int(n)
        headline, verdict = _verdict(comp.get("verdict"))
        view = ComparisonView(
            index=i,
            baseline=str(comp.get("baseline")),
            treatment=str(comp.get("treatment")),
            delta_ir=estimate(comp.get("delta_ir")),
            delta_refusal=estimate(comp.get("delta_refusal")),
            both_engaged=be,
            both_engaged_est=be_est,
            transitions=transitions,
            decomposition=list(_numbers(comp.get("decomposition")))
            if comp.get("decomposition") is not None
            else [],
            sace_pooled=interval(sace.get("pooled")),
            sace_scenario=interval(sace.get("scenario")),
            sace_ci=interval(sace.get("ci")),
            monotonicity_violations=count_text(
                dig(sace, "monotonicity_violations", "count")
                if isinstance(sace.get("monotonicity_violations"), Mapping)
                else sace.get("monotonicity_violations")
            ),
            tipping_point=tip_text,
            manski=interval(comp.get("manski_bounds")),
            delta_ir_engaged=estimate(comp.get("delta_ir_engaged")),
            sace_scenario_ci=interval(sace.get("scenario_ci")),
            principal_ignorability=number(sace.get("principal_ignorability")),
            trimmed_stratum=estimate(sace.get("trimmed_stratum_ic")),
            sace_details=list(_numbers(sace)) if sace else [],
            power=list(_numbers(comp.get("power"))) if comp.get("power") is not None else [],
            reasoning_shift=list(_numbers(comp.get("reasoning_shift")))
            if comp.get("reasoning_shift") is not None
            else [],
            verdict_headline=headline,
            verdict=verdict,
            glance=[],
            forest_rows=[],
        )
        view.glance = _glance(view, conds)
        view.forest_rows = _forest_rows(view)
        out.append(view)
    return out


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
