"""Assemble the report: one self-contained HTML file, figures (PNG/SVG/PDF) and tables (CSV).

Everything is built in a temporary folder beside ``out_dir`` and moved into place only when the
whole report has been produced, so a failure never leaves a half-written report.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Final

import jinja2
import matplotlib.pyplot as plt
import pandas as pd
from markupsafe import Markup

from deconfound.errors import InputError
from deconfound.records.csv_safe import write_csv
from deconfound.records.schema import RESPONSE_KEY, validate
from deconfound.report import figures as figs
from deconfound.report.explorer import (
    STATES,
    JudgeChoice,
    ScenarioRow,
    build_rows,
    normalise_state,
    state_counts,
    state_label,
)
from deconfound.report.explorer_data import encode_blocks, explorer_blocks
from deconfound.report.format import (
    Estimate,
    ci_text,
    closed,
    count_text,
    estimate_text,
    pct,
)
from deconfound.report.view import (
    ESTIMANDS,
    ComparisonView,
    ConditionView,
    Line,
    condition_prompts,
    read_comparisons,
    read_conditions,
)
from deconfound.scratch import scratch_prefix, sweep_stale
from deconfound.stats.judge_agreement import AgreementReport
from deconfound.stats.results import Analysis

REPORT_NAME: Final = "report.html"
_PACKAGES: Final = (
    "deconfound",
    "inspect-ai",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "matplotlib",
    "jinja2",
)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("deconfound.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["state_label"] = state_label
    env.globals["fmt"] = estimate_text
    env.globals["cell"] = estimate_cell
    return env


def estimate_cell(est: Estimate | None) -> Markup:
    """A table cell's estimate and interval as two unbreakable pieces.

    The cell may wrap between them (never inside "[16.5, 36.0]%"), so an eleven-column summary
    fits a 1280-px screen instead of hiding its last columns behind a scrollbar.
    """
    if est is None or est.estimate is None or est.p_value is not None:
        return Markup('<span class="nb">{}</span>').format(estimate_text(est))
    interval = ci_text(est.ci)
    head = Markup('<span class="nb">{}</span>').format(pct(est.estimate))
    if not interval:
        return head
    return head + Markup(' <span class="nb ci">{}</span>').format(interval)


def _asset(name: str) -> str:
    return (resources.files("deconfound.report") / "templates" / name).read_text(encoding="utf-8")


def script_json(data: Any) -> Markup:
    """JSON safe to place inside ``<script type="application/json">``: no ``<``, ``>`` or ``&``
    survives literally, so no text can close the script element or open a new one."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, esc)
    return Markup(text)


def _versions() -> list[str]:
    out = []
    for name in _PACKAGES:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return out


def _flat(data: Any, prefix: str = "") -> list[Line]:
    """Provenance as label/value lines (nested keys joined with " · "; lists joined)."""
    if isinstance(data, Mapping):
        out: list[Line] = []
        for key, value in data.items():
            out.extend(_flat(value, f"{prefix} · {key}" if prefix else str(key)))
        return out
    if isinstance(data, list | tuple):
        if all(not isinstance(v, Mapping | list | tuple) for v in data):
            return [Line(prefix, ", ".join(str(v) for v in data))]
        out = []
        for i, value in enumerate(data):
            out.extend(_flat(value, f"{prefix} [{i + 1}]"))
        return out
    return [Line(prefix, "" if data is None else str(data))]


def _measured_judges(records: pd.DataFrame) -> list[str]:
    """Summaries of the shipped leave-one-model-out kappa of the judges in the records."""
    from deconfound.judges.measured import measured_kappa

    out = []
    pairs = records.dropna(subset=["judge"])[["judge", "judge_version"]].drop_duplicates()
    for judge, version in sorted(
        (str(j), None if pd.isna(v) else str(v)) for j, v in pairs.itertuples(index=False)
    ):
        m = measured_kappa(judge, version)
        if m is not None:
            out.append(m.summary())
    return out


def _methods(
    analysis: Analysis,
    comparisons: Sequence[ComparisonView],
    judges: JudgeChoice,
    records: pd.DataFrame,
    agreement_present: bool,
) -> list[str]:
    """Paragraphs that say what was computed, from the analysis' own settings."""
    settings = analysis.settings
    paras = []
    n_scen = records["scenario_id"].nunique()
    epochs = records.groupby(["condition", "scenario_id"])["epoch"].nunique()
    k = (
        f"{int(epochs.min())}–{int(epochs.max())}"
        if epochs.min() != epochs.max()
        else str(int(epochs.max()) if len(epochs) else 0)
    )
    paras.append(
        f"Unit of inference: the scenario ({n_scen} scenarios, {k} epoch(s) per scenario and "
        "condition). Epochs are repeated draws within a scenario; every interval shown is "
        "clustered by scenario, as computed by the analysis."
    )
    described = [
        f"cluster-bootstrap replicates: {settings.bootstrap}",
        f"random seed: {settings.seed}",
        f"confidence level: {settings.confidence}",
        f"partial responses counted as: {settings.partial_as}",
        f"permutation-test draws: {settings.permutations}",
        f"inference target: {settings.inference_target}",
    ]
    paras.append("Settings of the analysis — " + "; ".join(described) + ".")
    tests = []
    if any(c.delta_ir and c.delta_ir.p_value is not None for c in comparisons):
        tests.append("paired scenario-level tests for ΔIR and Δrefusal (p-values as reported)")
    if any(c.both_engaged is not None for c in comparisons):
        tests.append("McNemar test on scenarios engaged under both conditions")
    if any(c.sace_pooled is not None for c in comparisons):
        tests.append(
            "Lee / Zhang–Rubin sharp bounds for the always-engager effect with an "
            "Imbens–Manski interval for the identified set, a monotonicity check and a "
            "tipping point"
        )
    if any(c.manski is not None for c in comparisons):
        tests.append("Manski worst-case bounds for the forced-engagement effect")
    if any(c.decomposition for c in comparisons):
        tests.append(
            "a symmetric (Kitagawa / Das Gupta) decomposition of ΔIR, with both "
            "sequential orders where given"
        )
    if tests:
        paras.append("Computed per comparison: " + "; ".join(tests) + ".")
    jv = (
        records.dropna(subset=["judge"])
        .groupby("judge")["judge_version"]
        .agg(lambda s: ", ".join(sorted({str(v) for v in s.dropna()})) or "unversioned")
    )
    paras.append(
        f"Judges: engagement from {judges.engagement or 'none'}, IC from {judges.ic or 'none'}"
        + (f", reasoning labels from {judges.reasoning}" if judges.reasoning else "")
        + (
            " (" + "; ".join(f"{k}: {v}" for k, v in judges.reasons.items()) + ")"
            if judges.reasons
            else ""
        )
        + ". Judges present in the records: "
        + "; ".join(f"{j} ({v})" for j, v in jv.items())
        + (
            ". Judge agreement is reported above."
            if agreement_present
            else ". Judge agreement was not computed for this report."
        )
    )
    measured = _measured_judges(records)
    if measured:
        paras.append(
            "Measured agreement of judges with careful reading (shipped with deconfound; "
            "each corpus model scored by a judge fitted without it, or by labels nothing was "
            "fitted to): " + " ".join(f"{m}." for m in measured)
        )
    paras.append(
        "The report computes no statistics: it reads every estimate, interval and test "
        "from the analysis; the response-state bars and explorer are tallies of the "
        "records table. Report software: " + ", ".join(_versions()) + "."
    )
    return paras


def _partial_rows(analysis: Analysis) -> list[tuple[str, str, str, str]]:
    """The partial-as-engaged / partial-as-refusal sensitivity figures, as table rows."""
    rows: list[tuple[str, str, str, str]] = []
    for mode, block in analysis.partial_sensitivity.items():
        label = mode.replace("partial_as_", "")
        for cond, rates in block.conditions.items():
            for key in ("ir", "refusal", "ir_engaged"):
                value = getattr(rates, key)
                text = estimate_text(Estimate(value)) if value is not None else "not computed"
                rows.append((label, cond, key.replace("_", " "), text))
        for comp in block.comparisons:
            name = f"{comp.treatment} vs {analysis.baseline}"
            rows.append((label, name, "sace bounds", ci_text(comp.sace_bounds, points=True)))
            d = comp.delta_refusal
            text = estimate_text(Estimate(d), points=True) if d is not None else "not computed"
            rows.append((label, name, "delta refusal", text))
    return rows


def _method_notes(analysis: Analysis) -> list[str]:
    """Every distinct method / test / caveat string the analysis attached to its figures."""
    found: dict[str, None] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in (
                    "method",
                    "test",
                    "ci_method",
                    "definition",
                    "caveat",
                    "note",
                    "transitions_basis",
                    "inference_target",
                ) and isinstance(value, str):
                    found.setdefault(f"{path.split('.')[-1] or 'analysis'}: {value}", None)
                elif key not in ("provenance", "partial_sensitivity", "verdict"):
                    walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for item in node:
                walk(item, path)

    walk(analysis.to_json(), "")
    return list(found)


_AGREEMENT_HEADER: Final = ["judges · label", "p_o", "kappa", "ac1", "alpha", "pabak", "n"]


def _agreement_cell(
    value: float | None, ci: tuple[float | None, float | None] | None = None
) -> str:
    if value is None:
        return "not computed"
    both = closed(ci) if ci is not None else None
    return f"{value:.3f}" + (f" [{both[0]:.2f}, {both[1]:.2f}]" if both else "")


def _agreement(
    agreement: AgreementReport | None,
) -> tuple[list[str], list[list[str]], list[tuple[str, str, float, tuple[float, float] | None]]]:
    """Header, table rows and plot points for judge agreement (``deconfound agreement``'s
    :class:`AgreementReport`): one row per judge pair, label view and group."""
    rows: list[list[str]] = []
    points: list[tuple[str, str, float, tuple[float, float] | None]] = []
    for view, v in (agreement.labels if agreement is not None else {}).items():
        for group, g in v.groups.items():
            for pair, p in g.pairs.items():
                name = f"{pair} · {view} · {group}"
                rows.append(
                    [
                        name,
                        _agreement_cell(p.observed),
                        _agreement_cell(p.cohen_kappa, p.kappa_ci),
                        _agreement_cell(p.gwet_ac1, p.ac1_ci),
                        _agreement_cell(p.krippendorff_alpha),
                        _agreement_cell(p.pabak),
                        count_text(p.n),
                    ]
                )
                for stat, est, ci in (
                    ("kappa", p.cohen_kappa, p.kappa_ci),
                    ("ac1", p.gwet_ac1, p.ac1_ci),
                ):
                    if est is not None:
                        points.append((name, stat, est, closed(ci) if ci is not None else None))
    return list(_AGREEMENT_HEADER), rows, points


def _with_unlabelled(
    data: dict[str, dict[str, tuple[float | None, tuple[float, float] | None]]],
    conditions: Sequence[ConditionView],
    which: str,
) -> dict[str, dict[str, tuple[float | None, tuple[float, float] | None]]]:
    """Shares among labelled responses → shares of all, plus an "unlabelled" bar.

    Never a 100% bar built from a minority: when the reasoning judge labelled only part of the
    responses a figure is about, each share is scaled by the labelled fraction and the rest is
    drawn as "unlabelled".
    """
    shares = {c.name: c.kinds_share if which == "kinds" else c.flags_share for c in conditions}
    if not data or all(v is None or v >= 1 for v in shares.values()):
        return data
    out: dict[str, dict[str, tuple[float | None, tuple[float, float] | None]]] = {}
    for label, per in data.items():
        out[label] = {}
        for cond, (est, ci) in per.items():
            f = shares.get(cond)
            if f is None:
                out[label][cond] = (est, ci)
                continue
            out[label][cond] = (
                None if est is None else est * f,
                None if ci is None else (ci[0] * f, ci[1] * f),
            )
    out["unlabelled"] = {
        cond: (1 - f, None) for cond, f in shares.items() if f is not None and f < 1
    }
    return out


def _reasoning_data(
    conditions: Sequence[ConditionView], attr: str
) -> dict[str, dict[str, tuple[float | None, tuple[float, float] | None]]]:
    data: dict[str, dict[str, tuple[float | None, tuple[float, float] | None]]] = {}
    for c in conditions:
        for label, est in getattr(c, attr).items():
            data.setdefault(label, {})[c.name] = (est.estimate, est.ci)
    return data


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(frame, path)  # RFC 4180, spreadsheet formulas neutralised


def _est_cols(prefix: str, est: Estimate | None) -> dict[str, float | None]:
    return {
        prefix: est.estimate if est else None,
        f"{prefix}_ci_lo": est.ci[0] if est and est.ci else None,
        f"{prefix}_ci_hi": est.ci[1] if est and est.ci else None,
    }


def _tables(
    out: Path,
    conditions: Sequence[ConditionView],
    comparisons: Sequence[ComparisonView],
    rows: Sequence[ScenarioRow],
    counts: pd.DataFrame,
) -> list[Path]:
    """CSV tables of everything the HTML shows, for papers and spreadsheets."""
    written = []
    summary = pd.DataFrame(
        [
            {
                "condition": c.name,
                **_est_cols("ir", c.ir),
                **_est_cols("refusal", c.refusal),
                **_est_cols("partial", c.partial),
                **_est_cols("ir_engaged", c.ir_engaged),
                "n_engaged": c.n_engaged,
                "n_scenarios": c.n_scenarios,
                "n_responses": c.n_responses,
                "n_invalid": c.n_invalid,
            }
            for c in conditions
        ]
    )
    paths = {"summary": summary}
    comp_rows, trans_rows, reasoning_rows = [], [], []
    for c in comparisons:
        comp_rows.append(
            {
                "baseline": c.baseline,
                "treatment": c.treatment,
                **_est_cols("delta_ir", c.delta_ir),
                "delta_ir_p": c.delta_ir.p_value if c.delta_ir else None,
                **_est_cols("delta_refusal", c.delta_refusal),
                "delta_refusal_p": c.delta_refusal.p_value if c.delta_refusal else None,
                "both_engaged_n_scenarios": c.both_engaged.n_scenarios if c.both_engaged else None,
                **_est_cols("both_engaged_difference", c.both_engaged_est),
                "both_engaged_mcnemar_p": c.both_engaged_est.p_value
                if c.both_engaged_est
                else None,
                "sace_pooled_lo": c.sace_pooled[0] if c.sace_pooled else None,
                "sace_pooled_hi": c.sace_pooled[1] if c.sace_pooled else None,
                "sace_scenario_lo": c.sace_scenario[0] if c.sace_scenario else None,
                "sace_scenario_hi": c.sace_scenario[1] if c.sace_scenario else None,
                "sace_ci_lo": c.sace_ci[0] if c.sace_ci else None,
                "sace_ci_hi": c.sace_ci[1] if c.sace_ci else None,
                "monotonicity_violations": c.monotonicity_violations,
                "tipping_point": c.tipping_point,
                "manski_lo": c.manski[0] if c.manski else None,
                "manski_hi": c.manski[1] if c.manski else None,
            }
        )
        for key, n in c.transitions.items():
            a, _, b = key.partition("->")
            trans_rows.append(
                {
                    "baseline": c.baseline,
                    "treatment": c.treatment,
                    "from": a,
                    "to": b,
                    "n_scenarios": n,
                }
            )
    for cv in conditions:
        for kind, table in (
            ("refusal_kind", cv.refusal_kinds),
            ("reasoning_flag", cv.reasoning_flags),
        ):
            for label, est in table.items():
                reasoning_rows.append(
                    {
                        "condition": cv.name,
                        "kind": kind,
                        "label": label,
                        **_est_cols("estimate", est),
                    }
                )
    paths["comparisons"] = pd.DataFrame(comp_rows)
    paths["transitions"] = pd.DataFrame(
        trans_rows, columns=["baseline", "treatment", "from", "to", "n_scenarios"]
    )
    paths["reasoning"] = pd.DataFrame(reasoning_rows)
    paths["response_states"] = counts
    scen = []
    for r in rows:
        rec: dict[str, Any] = {
            "scenario_id": r.scenario_id,
            "category": r.category,
            "source_task_id": r.source_task_id,
            "label_conflict": r.conflict,
        }
        for cond, state in r.states.items():
            rec[f"state[{cond}]"] = state
        scen.append(rec)
    paths["scenarios"] = pd.DataFrame(scen)
    for name, frame in paths.items():
        path = out / "tables" / f"{name}.csv"
        _write_csv(frame, path)
        written.append(path)
    return written


def _transition_states(comp: ComparisonView) -> list[str]:
    seen = {normalise_state(s) for k in comp.transitions for s in k.split("->")}
    order = [s for s in (*STATES, "mixed") if s in seen]
    return order + sorted(seen - set(order))


Saver = Callable[[Any, str, str, str], figs.FigureFile]


def _state_figures(
    save: Saver, counts: pd.DataFrame, counts_cat: pd.DataFrame, display: list[str], judge_note: str
) -> list[figs.FigureFile]:
    """Response-state bars by condition (and by category when there are several)."""
    state_figures = [
        save(
            figs.states_by_condition(counts, display),
            "states_by_condition",
            "Response states by condition",
            "Share of responses in each state per condition; numbers in the bars are "
            f"response counts (a tally of the records; {judge_note}).",
        ),
    ]
    if counts_cat["category"].nunique() > 1:
        state_figures.append(
            save(
                figs.states_by_category(counts_cat, display),
                "states_by_category",
                "Response states by category and condition",
                "As above, split by scenario category (descriptive: categories have few "
                "scenarios).",
            )
        )
    return state_figures


def _comparison_figures(
    save: Saver, comparisons: Sequence[ComparisonView]
) -> dict[int, list[figs.FigureFile]]:
    """Per comparison: the forest plot and, when counted, the transition heatmap."""
    comparison_figures: dict[int, list[figs.FigureFile]] = {}
    for c in comparisons:
        slug = f"comparison{c.index + 1}"
        items = [
            save(
                figs.forest(c.forest_rows, f"{c.treatment} vs {c.baseline}"),
                f"{slug}_forest",
                "Forest plot",
                "Points: estimates with 95% CIs (thin lines). Thick bars: identified sets "
                "(bounds); "
                "the thin line on the pooled SACE row is the identified set's 95% CI. All "
                "values from the analysis, in percentage points.",
            )
        ]
        if c.judge_forest:
            items.append(
                save(
                    figs.forest(c.judge_forest, "Δrefusal and ΔIR by judge"),
                    f"{slug}_judges",
                    "Judge sensitivity",
                    "The same differences computed with each available judge (one judge changed "
                    "at a time), with 95% CIs; with a gold file, the PPI++ Δrefusal on top. "
                    "Values from the analysis, in percentage points.",
                )
            )
        if c.transitions:
            states = _transition_states(c)
            norm: dict[str, int] = {}
            for k, n in c.transitions.items():
                a, _, b = k.partition("->")
                key = f"{normalise_state(a)}->{normalise_state(b)}"
                norm[key] = norm.get(key, 0) + n
            items.append(
                save(
                    figs.transition_heatmap(norm, c.baseline, c.treatment, states),
                    f"{slug}_transitions",
                    "Scenario transitions",
                    "Scenarios by state under the baseline (rows) and the treatment (columns), "
                    "as counted by the analysis. Off-diagonal cells are scenarios that changed.",
                )
            )
        comparison_figures[c.index] = items
    return comparison_figures


def _reasoning_figures(
    save: Saver, conditions: Sequence[ConditionView], order: list[str]
) -> tuple[list[figs.FigureFile], list[str]]:
    """Refusal-kind and reasoning-flag figures, or notes saying why there are none."""
    reasoning_figures, reasoning_notes = [], []
    kinds = _with_unlabelled(_reasoning_data(conditions, "refusal_kinds"), conditions, "kinds")
    flags = _with_unlabelled(_reasoning_data(conditions, "reasoning_flags"), conditions, "flags")
    thin = [
        f"{c.name}: {c.kinds_judge} labelled a kind for {round(100 * c.kinds_share)}% of refusals "
        "and partials"
        for c in conditions
        if c.kinds_share is not None and c.kinds_share < 1
    ]
    if thin:
        reasoning_notes.append(
            "Refusal kinds are shares of all refusals and partials; the 'unlabelled' bar is the "
            "part the reasoning judge gave no kind (" + "; ".join(thin) + "). Below 80% the "
            "verdict says the kind is not measured."
        )
    if kinds:
        reasoning_figures.append(
            save(
                figs.grouped_estimates(
                    kinds, order, "Kinds of refusal by condition", "% of refusals and partials"
                ),
                "refusal_kinds",
                "Refusal kinds",
                "Distribution of refusal kind among refusals and partials, with scenario-clustered "
                "95% CIs from the analysis.",
            )
        )
    else:
        reasoning_notes.append(
            "Refusal kinds: not computed (no judge in this analysis labels the kind of refusal)."
        )
    if flags:
        reasoning_figures.append(
            save(
                figs.grouped_estimates(
                    flags,
                    order,
                    "Reasoning flags among engaged responses",
                    "% of engaged responses",
                ),
                "reasoning_flags",
                "Reasoning flags",
                "Rate of each reasoning flag among engaged responses, with scenario-clustered "
                "95% CIs from the analysis.",
            )
        )
    else:
        reasoning_notes.append(
            "Reasoning flags among engaged responses: not computed (no judge "
            "in this analysis sets reasoning flags)."
        )
    return reasoning_figures, reasoning_notes


def _agreement_section(
    save: Saver, agreement: AgreementReport | None
) -> tuple[list[str], list[list[str]], list[figs.FigureFile], str]:
    """Judge-agreement table, plot and note: (header, rows, figures, note)."""
    header, agreement_rows, points = _agreement(agreement)
    agreement_figures, agreement_note = [], ""
    if points:
        agreement_figures.append(
            save(
                figs.agreement_plot(points),
                "judge_agreement",
                "Judge agreement",
                "Chance-corrected agreement between judges (from the agreement results), with CIs "
                "where given.",
            )
        )
    if not agreement_rows:
        agreement_note = (
            "Judge agreement: not computed. Run `deconfound agreement` and pass its "
            "JSON with --agreement, or include it in the analysis."
        )
    return header, agreement_rows, agreement_figures, agreement_note


def _explorer_data(
    analysis: Analysis,
    manifest: Mapping[str, Any] | None,
    display: list[str],
    comparisons: Sequence[ComparisonView],
    rows: Sequence[ScenarioRow],
) -> tuple[list[dict[str, Any]], dict[int, str], list[str], list[dict[str, Any]]]:
    """What the transcript explorer needs: prompts, comparison names, row tokens, filters."""
    prompts = condition_prompts(analysis, manifest)
    explorer_conditions = [
        {
            "name": c,
            "prompt": prompts.get(c, (None, ""))[0],
            "source": prompts.get(c, (None, ""))[1],
        }
        for c in display
    ]
    comparisons_short = {c.index: f"{c.baseline} → {c.treatment}" for c in comparisons}
    row_tokens = [" ".join(f"{i}:{t}" for i, t in r.transitions.items()) for r in rows]
    transition_options = []
    for c in comparisons:
        tally: dict[str, int] = {}
        for r in rows:
            if c.index in r.transitions:
                tally[r.transitions[c.index]] = tally.get(r.transitions[c.index], 0) + 1
        for t, n in sorted(tally.items(), key=lambda kv: -kv[1]):
            a, _, b = t.partition("->")
            transition_options.append(
                {
                    "value": f"{c.index}:{t}",
                    "label": f"{c.baseline} → {c.treatment}: {state_label(a)} → {state_label(b)}",
                    "count": n,
                }
            )
    return explorer_conditions, comparisons_short, row_tokens, transition_options


def _provenance_lines(analysis: Analysis, manifest: Mapping[str, Any] | None) -> list[Line]:
    """The analysis provenance and the study manifest (less its prompts) as labelled lines."""
    provenance = _flat(analysis.provenance or {})
    if isinstance(manifest, Mapping):
        provenance += [
            Line(f"manifest · {ln.label}", ln.text)
            for ln in _flat({k: v for k, v in manifest.items() if k != "conditions"})
        ]
    return provenance


def _render(
    analysis: Analysis,
    records: pd.DataFrame,
    out: Path,
    manifest: Mapping[str, Any] | None,
    agreement: AgreementReport | None,
    formats: Sequence[str],
) -> Path:
    def save(fig: Any, name: str, title: str, caption: str) -> figs.FigureFile:
        return figs.save(fig, out / "figures", name, title, caption, formats)

    conditions = read_conditions(analysis, manifest)
    comparisons = read_comparisons(analysis, conditions)
    judges = analysis.judges
    order = [c.name for c in conditions]
    record_conds = [str(c) for c in records["condition"].drop_duplicates()]
    display = order + [c for c in record_conds if c not in order]
    pairs = [(c.baseline, c.treatment) for c in comparisons]
    rows = build_rows(records, display, judges, pairs)
    counts = state_counts(rows)
    counts_cat = state_counts(rows, by_category=True)
    judge_note = f"engagement: {judges.engagement or 'none'}; IC: {judges.ic or 'none'}"

    state_figures = _state_figures(save, counts, counts_cat, display, judge_note)

    comparison_figures = _comparison_figures(save, comparisons)
    reasoning_figures, reasoning_notes = _reasoning_figures(save, conditions, order)
    header, agreement_rows, agreement_figures, agreement_note = _agreement_section(save, agreement)

    table_paths = _tables(out, conditions, comparisons, rows, counts)

    explorer_conditions, comparisons_short, row_tokens, transition_options = _explorer_data(
        analysis, manifest, display, comparisons, rows
    )
    provenance = _provenance_lines(analysis, manifest)
    models = sorted({str(m) for m in records["model"].dropna().unique()})
    studies = sorted({str(s) for s in records["study"].dropna().unique()})
    smoke = bool(records["smoke_model"].fillna(False).any()) or bool(
        (analysis.provenance or {}).get("smoke_model")
    )
    js = _asset("report.js")
    script_hash = "sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode()
    n_scen = records["scenario_id"].nunique()
    n_responses = len(records.drop_duplicates(list(RESPONSE_KEY)))
    all_figures = [f for f in state_figures + reasoning_figures + agreement_figures]
    all_figures += [f for items in comparison_figures.values() for f in items]
    files = sorted(str(p.relative_to(out)) for f in all_figures for p in f.files.values())
    files += sorted(str(p.relative_to(out)) for p in table_paths)

    html = (
        _env()
        .get_template("report.html.j2")
        .render(
            title=", ".join(studies) or "study",
            subtitle=f"model(s): {', '.join(models)} · {_conditions_text(order, display)} · "
            f"scenarios: {n_scen} · responses: {n_responses}",
            smoke=smoke,
            n_scenarios_text=f"{n_scen} scenarios in the records",
            partial_rows=_partial_rows(analysis),
            conditions=conditions,
            comparisons=comparisons,
            comparison_figures=comparison_figures,
            state_figures=state_figures,
            reasoning_figures=reasoning_figures,
            reasoning_notes=reasoning_notes,
            agreement_header=header,
            agreement_rows=agreement_rows,
            agreement_figures=agreement_figures,
            agreement_note=agreement_note,
            explorer_conditions=explorer_conditions,
            judges=judges,
            categories=sorted({r.category for r in rows}),
            n_conflict_rows=sum(r.conflict for r in rows),
            rows=rows,
            methods=_methods(analysis, comparisons, judges, records, bool(agreement_rows)),
            method_notes=sorted({n.split(": ", 1)[1] for n in _method_notes(analysis)}),
            estimands={k: v for k, v in ESTIMANDS.items()},
            provenance=provenance,
            files=files,
            data_json=script_json({"transitions": transition_options}),
            explorer_data=encode_blocks(
                explorer_blocks(rows, display, row_tokens, comparisons_short)
            ),
            css=Markup(_asset("report.css")),
            js=Markup(js),
            script_hash=script_hash,
        )
    )
    path = out / REPORT_NAME
    path.write_text(html, encoding="utf-8")
    return path


def _conditions_text(analysed: Sequence[str], shown: Sequence[str]) -> str:
    """How many conditions were compared; the records may hold more (shown, not analysed)."""
    text = f"conditions: {len(analysed)} analysed"
    if len(shown) > len(analysed):
        text += f" ({len(shown)} in the records)"
    return text


def build_report(
    analysis: Analysis,
    records: pd.DataFrame,
    out_dir: Path,
    *,
    manifest: Mapping[str, Any] | None = None,
    agreement: AgreementReport | None = None,
    figure_formats: Sequence[str] = figs.FORMATS,
) -> Path:
    """Write the HTML report, figures and tables for an analysis into ``out_dir``.

    Args:
        analysis: The typed analysis (``analyze_records``, or ``Analysis.from_json`` of the
            ``deconfound analyze --json`` file).
        records: The records table the analysis was computed from (validated here).
        out_dir: Output folder; created if missing. Existing files of the same names are replaced.
        manifest: The study manifest (for the condition prompts, verbatim), if available.
        agreement: Judge agreement (``deconfound agreement``'s result, or
            ``AgreementReport.from_json`` of its JSON).
        figure_formats: Which of png, svg, pdf to write per figure (svg always: it is inlined).

    Returns:
        The path of the HTML report.
    """
    if not isinstance(analysis, Analysis):
        raise TypeError(
            f"build_report needs an Analysis (Analysis.from_json reads the JSON), got "
            f"{type(analysis).__name__}"
        )
    records = validate(records)
    if records.empty:
        raise InputError("the records table is empty; nothing to report")
    model = analysis.model
    if records["model"].nunique() > 1:
        if model not in set(records["model"]):
            raise InputError(
                f"the analysis is of model {model!r}, which the records do not have", field="model"
            )
        records = records[records["model"] == model].reset_index(drop=True)
    missing = set(analysis.conditions) - {str(c) for c in records["condition"].unique()}
    if missing:
        raise InputError(
            f"the analysis has condition(s) {', '.join(sorted(map(str, missing)))} that are not "
            "in the records table; pass the records the analysis was computed from",
            field="condition",
        )
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(out_dir)  # hidden folders of a killed earlier build
    tmp = Path(tempfile.mkdtemp(prefix=scratch_prefix(out_dir), dir=out_dir.parent))
    try:
        with plt.rc_context(figs.RC):  # type: ignore[arg-type]
            _render(analysis, records, tmp, manifest, agreement, figure_formats)
        out_dir.mkdir(parents=True, exist_ok=True)
        for src in sorted(tmp.rglob("*")):
            if src.is_file():
                dst = out_dir / src.relative_to(tmp)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir / REPORT_NAME
