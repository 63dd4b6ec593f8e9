"""CLI verbs: ``deconfound analyze`` (records → analysis JSON) and ``deconfound bounds``
(published aggregate numbers → what they can support)."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from deconfound.cli._app import app, console, err_console, load_json, user_errors
from deconfound.cli._options import (
    BOOTSTRAP_REPLICATES,
    Bootstrap,
    EngagementJudge,
    GoldKey,
    IcJudge,
    IcSensitivity,
    IcSpecificity,
    JsonOut,
    OptionalGoldCsv,
    ReasoningJudge,
    RecordsArg,
    Seed,
    flags_in_errors,
)
from deconfound.errors import InputError
from deconfound.provenance import output_provenance
from deconfound.records.coverage import coverage_warnings
from deconfound.records.gold import read_gold
from deconfound.records.io import atomic_write_text, read_records
from deconfound.report.format import (
    CONSTRUCTS,
    ci_text,
    estimate_text,
    judge_validity,
    p_text,
    pct,
    pp,
    tipping,
)
from deconfound.report.view import ConditionView, read_comparisons, read_conditions
from deconfound.report.writing import write_analysis, write_model_analyses
from deconfound.stats.aggregate import AggregateBounds, ArmAggregate, aggregate_bounds
from deconfound.stats.analysis import analyze_records
from deconfound.stats.calibration import Calibration, CalibrationError, JudgeRates
from deconfound.stats.contract import to_jsonable
from deconfound.stats.results import Analysis, Comparison


class PartialAs(StrEnum):
    """How partial refusals count."""

    engaged = "engaged"
    refusal = "refusal"


def dumps(obj: Any) -> str:
    """Strict JSON (no NaN) of a result dict or object."""
    return json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _load_calibration(
    path: Path | None, ic_se: float | None, ic_sp: float | None
) -> Calibration | None:
    """The calibration of ``--calibration`` and ``--ic-se``/``--ic-sp``, validated."""
    if (ic_se is None) != (ic_sp is None):
        raise InputError("give both --ic-se and --ic-sp", field="--ic-se")
    ic_default = None
    if ic_se is not None and ic_sp is not None:
        if ic_se + ic_sp <= 1:
            raise InputError("--ic-se + --ic-sp must exceed 1", field="--ic-se")
        ic_default = JudgeRates(ic_se, ic_sp)
    data = load_json(path, "calibration (deconfound calibrate --json)") if path else {}
    try:
        cal = Calibration.from_json(data, ic_default)
    except CalibrationError as exc:
        raise InputError(exc.reason, path=path, field=exc.field) from exc
    return cal or None


def _summary(analysis: Analysis) -> None:
    """The analysis as terminal tables, read from the report's view objects (the HTML report's
    figures and words, so the two never disagree)."""
    conditions = read_conditions(analysis, None)
    j = analysis.judges
    console.print(
        f"[bold]Model[/] {escape(analysis.model)} — engagement judge "
        f"[cyan]{escape(j.engagement)}[/], IC judge [cyan]{escape(j.ic)}[/], reasoning judge "
        f"[cyan]{escape(str(j.reasoning))}[/]; partial counts as "
        f"{analysis.settings.partial_as}"
    )
    t = Table(title="Per condition (95% CI, scenario-clustered)")
    for col in (
        "condition",
        "scenarios",
        "IR",
        "refusal",
        "IC | engaged",
        "n engaged",
        "invalid",
        "conflicts",
    ):
        t.add_column(col)
    for c in conditions:
        t.add_row(
            escape(c.name),
            c.n_scenarios,
            estimate_text(c.ir),
            estimate_text(c.refusal),
            estimate_text(c.ir_engaged),
            c.n_engaged,
            c.n_invalid,
            c.n_conflicts,
        )
    console.print(t)
    _constructs_table(conditions)
    views = read_comparisons(analysis, conditions)
    for comp, view in zip(analysis.comparisons, views, strict=True):
        ct = Table(
            title=f"{escape(comp.treatment)} vs {escape(comp.baseline)} "
            f"({comp.n_scenarios} paired scenarios)"
        )
        ct.add_column("quantity")
        ct.add_column("estimate")
        ct.add_column("95% CI / bounds")
        ct.add_column("p")
        for label, d in (("ΔIR", comp.delta_ir), ("Δrefusal", comp.delta_refusal)):
            ct.add_row(label, pp(d.estimate), ci_text(d.ci, points=True), p_text(d.p_value))
        be = comp.both_engaged
        ct.add_row(
            f"IC, engaged in both (n={be.n_scenarios})",
            pp(be.difference),
            ci_text(be.ci, points=True),
            p_text(be.mcnemar_p),
        )
        dec = comp.decomposition
        ct.add_row(
            "ΔIR from refusal shift",
            pp(dec.refusal_part),
            ci_text(dec.refusal_part_ci, points=True),
            "",
        )
        ct.add_row(
            "ΔIR from engaged behaviour",
            pp(dec.behaviour_part),
            ci_text(dec.behaviour_part_ci, points=True),
            "",
        )
        sb = comp.sace_bounds
        ct.add_row("SACE bounds (pooled)", "", ci_text(sb.pooled, points=True), "")
        ct.add_row("  Imbens–Manski 95% CI", "", ci_text(sb.ci, points=True), "")
        ct.add_row("SACE bounds (scenario-level)", "", ci_text(sb.scenario, points=True), "")
        ct.add_row("Manski bounds", "", ci_text(comp.manski_bounds, points=True), "")
        ct.add_row("monotonicity violations", view.monotonicity_violations, "", "")
        ct.add_row("tipping point", view.tipping_point, "", "")
        console.print(ct)
        if comp.judge_sensitivity:
            _sensitivity_table(comp)
        if comp.ppi is not None:
            _ppi_table(analysis, comp)
        for item in view.verdict:
            answer, detail = escape(item.answer), escape(item.detail)
            console.print(f"[bold]{item.question}:[/] {answer} — {detail}")
        if comp.constructs is not None:
            for cl in view.constructs:
                mark = "" if cl.agree is not False else " [yellow](constructs disagree)[/]"
                console.print(
                    f"  {cl.question}: broad {escape(cl.broad)} · narrow {escape(cl.narrow)}{mark}"
                )
            console.print(escape(view.constructs_text))


def _constructs_table(conditions: list[ConditionView]) -> None:
    """Refusal and IC among engaged under the broad and the narrow refusal construct (the
    report's constructs table; the broad figures are the analysis' own)."""
    shown = [c for c in conditions if c.has_constructs]
    if not shown:
        return
    t = Table(title="Refusal constructs (docs/codebook.md): " + "; ".join(CONSTRUCTS.values()))
    for col in (
        "condition",
        "refusal broad",
        "refusal narrow",
        "IC | engaged broad",
        "IC | engaged narrow",
    ):
        t.add_column(col)
    for c in shown:
        t.add_row(
            escape(c.name),
            estimate_text(c.refusal),
            estimate_text(c.narrow_refusal) if c.narrow_measured else "not measured",
            estimate_text(c.ir_engaged),
            estimate_text(c.narrow_ir_engaged) if c.narrow_measured else "not measured",
        )
    console.print(t)
    for note in sorted({c.narrow_note for c in shown if c.narrow_note}):
        console.print(f"narrow construct {escape(note)}")


def _sensitivity_table(comp: Comparison) -> None:
    """One row per judge pair: Δrefusal, ΔIR, both-engaged difference, SACE bounds, answers."""
    t = Table(title="Judge sensitivity (one judge changed at a time; * = the analysis' judges)")
    for col in ("engagement / IC judge", "Δrefusal", "ΔIR", "both engaged", "SACE bounds"):
        t.add_column(col)
    t.add_column("refusal answer")
    for r in comp.judge_sensitivity or []:
        t.add_row(
            escape(f"{r.engagement_judge} / {r.ic_judge}{' *' if r.chosen else ''}"),
            f"{pp(r.delta_refusal.estimate)} {ci_text(r.delta_refusal.ci, points=True)}",
            f"{pp(r.delta_ir.estimate)} {ci_text(r.delta_ir.ci, points=True)}",
            pp(r.both_engaged.difference),
            ci_text(r.sace_bounds.pooled, points=True) or "not computed",
            r.answers["refusal_changed"].replace("_", " "),
        )
    console.print(t)


def _ppi_table(analysis: Analysis, comp: Comparison) -> None:
    """Judge alone, PPI++ and gold only, side by side, for the comparison's differences."""
    assert comp.ppi is not None
    t = Table(title="With gold labels: PPI++ beside the judge alone and the gold labels alone")
    for col in ("quantity", "judge alone", "PPI++", "gold only", "n gold"):
        t.add_column(col)
    judge_only = {
        "delta_refusal": comp.delta_refusal,
        "delta_ir": comp.delta_ir,
        "delta_ir_engaged": comp.delta_ir_engaged,
    }
    for key, label in (
        ("delta_refusal", "Δrefusal"),
        ("delta_ir", "ΔIR"),
        ("delta_ir_engaged", "ΔIR among engaged"),
    ):
        est = getattr(comp.ppi, key)
        raw = judge_only[key]
        gold = est.gold_only
        t.add_row(
            label,
            "not computed" if raw is None else f"{pp(raw.estimate)} {ci_text(raw.ci, points=True)}",
            f"{pp(est.estimate)} {ci_text(est.ci, points=True)}"
            if est.estimate is not None
            else f"not computed ({escape(est.reason or '')})",
            "" if gold is None else f"{pp(gold.estimate)} {ci_text(gold.ci, points=True)}",
            str(est.n_gold),
        )
    console.print(t)
    if analysis.gold is not None:
        acc = "; ".join(
            f"{escape(c)}: n {g.n}, engagement accuracy {pct(g.engagement_accuracy, 0)}"
            for c, g in analysis.gold.by_condition.items()
        )
        console.print(f"gold labels: {acc}", highlight=False)


@app.command("analyze")
@user_errors
def analyze(
    records: RecordsArg,
    baseline: str = typer.Option(..., "--baseline", help="Baseline condition (exact name)."),
    treatment: list[str] = typer.Option(
        ..., "--treatment", help="Treatment condition; repeat for several."
    ),
    json_out: Path | None = typer.Option(
        None, "--json", help="Analysis JSON to write (default with --report: DIR/analysis.json)."
    ),
    model: list[str] = typer.Option(
        [],
        "--model",
        help="Model (needed if the table holds several); repeat it to compare models.",
        show_default=False,
    ),
    all_models: bool = typer.Option(
        False, "--all-models", help="Analyse every model in the table and compare them."
    ),
    partial_as: PartialAs = typer.Option(
        PartialAs.engaged, "--partial-as", help="Count partial refusals as engaged or refusal."
    ),
    engagement_judge: EngagementJudge = None,
    ic_judge: IcJudge = None,
    reasoning_judge: ReasoningJudge = None,
    bootstrap: Bootstrap = BOOTSTRAP_REPLICATES,
    seed: Seed = 0,
    calibration: Path | None = typer.Option(
        None,
        "--calibration",
        help='Judge Se/Sp JSON {"<judge>": {"refusal"|"ic": {"sensitivity", "specificity", '
        '"n_pos", "n_neg"}}} for Rogan-Gladen correction.',
    ),
    ic_se: IcSensitivity = None,
    ic_sp: IcSpecificity = None,
    report: Path | None = typer.Option(
        None, "--report", help="Write the HTML report, figures and tables into this folder."
    ),
    gold: OptionalGoldCsv = None,
    gold_key: GoldKey = None,
) -> None:
    """Refusal-controlled analysis of one model's conditions (the analysis JSON, the report).

    With several models (--model repeated, or --all-models) each model is analysed on its own
    (OUT.<model>.json, and a report per model) and --json OUT gets the cross-model comparison:
    each model's effects side by side and whether the effect differs between models.
    """
    if json_out is None:
        if report is None:
            raise InputError(
                "nothing to write: give --json FILE, --report DIR, or both", field="--json"
            )
        json_out = report / "analysis.json"
    cal = _load_calibration(calibration, ic_se, ic_sp)
    gold_rows = read_gold(gold, gold_key) if gold is not None else None
    table = read_records(records)
    models = list(dict.fromkeys(model))
    if all_models:
        if models:
            raise InputError("give --model or --all-models, not both", field="--all-models")
        models = sorted(str(m) for m in table["model"].dropna().unique())
    options: dict[str, Any] = {
        "partial_as": partial_as.value,
        "engagement_judge": engagement_judge,
        "ic_judge": ic_judge,
        "reasoning_judge": reasoning_judge,
        "n_boot": bootstrap,
        "seed": seed,
    }
    if len(models) > 1:
        if gold is not None or cal:
            raise InputError(
                "--gold and calibration apply to one model's analysis; "
                "run analyze once per model with --model M",
                field="--gold" if gold is not None else "--calibration",
            )
        with flags_in_errors():
            _analyze_models(
                table,
                models,
                records=records,
                baseline=baseline,
                treatments=treatment,
                json_out=json_out,
                report=report,
                options=options,
            )
        return
    try:
        with flags_in_errors():
            analysis = analyze_records(
                table,
                baseline=baseline,
                treatments=treatment,
                model=models[0] if models else None,
                calibration=cal,
                gold=gold_rows,
                **options,
            )
    except InputError as exc:
        # a gold row's line, or the gold file as a whole: name the file
        about_gold = exc.location is not None or exc.field == "gold"
        if gold is None or exc.path is not None or not about_gold:
            raise
        field = None if exc.field == "gold" else exc.field
        raise InputError(exc.message, path=gold, location=exc.location, field=field) from exc
    for warning in coverage_warnings(
        table, [baseline, *treatment], model=models[0] if models else str(table["model"].iloc[0])
    ):
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    inputs = {"records": records}
    if calibration is not None:
        inputs["calibration"] = calibration
    if gold is not None:
        inputs["gold"] = gold
    if analysis.gold is not None:
        for notice in analysis.gold.notices:
            err_console.print(f"[yellow]notice:[/] {escape(notice)}", highlight=False)
    _summary(analysis)
    j = analysis.judges
    console.print(
        escape(judge_validity(table, j.engagement, j.ic, gold=gold is not None)), highlight=False
    )
    _, html = write_analysis(analysis, table, inputs, json_out=json_out, report_dir=report)
    console.print(f"wrote {escape(str(json_out))}")
    if html is not None:
        console.print(f"wrote {escape(str(html))}")


def _analyze_models(
    table: Any,
    models: list[str],
    *,
    records: Path,
    baseline: str,
    treatments: list[str],
    json_out: Path,
    report: Path | None,
    options: dict[str, Any],
) -> None:
    """Each model on its own, then the cross-model comparison of every treatment (printed)."""
    written = write_model_analyses(
        table,
        models,
        records=records,
        baseline=baseline,
        treatments=treatments,
        json_out=json_out,
        report_dir=report,
        options=options,
    )
    for cm, page in written:
        _cross_summary(cm)
        if page is not None:
            console.print(f"wrote {escape(str(page))}")
    console.print(f"wrote {escape(str(json_out))} and {len(models)} per-model analyses")


def _cross_summary(cm: Any) -> None:
    t = Table(title=f"{escape(cm.treatment)} vs {escape(cm.baseline)}, by model")
    for col in ("model", "scenarios", "Δ refusal", "Δ IR", "Δ IC both engaged", "SACE bounds"):
        t.add_column(col)
    for m in cm.models:
        lo, hi = m.sace_bounds
        t.add_row(
            escape(m.model) + (" (smoke)" if m.smoke else ""),
            str(m.n_scenarios),
            f"{pp(m.delta_refusal)} {ci_text(m.delta_refusal_ci, points=True)}",
            f"{pp(m.delta_ir)} {ci_text(m.delta_ir_ci, points=True)}",
            f"{pp(m.both_engaged_ic_difference)} {ci_text(m.both_engaged_ic_ci, points=True)}",
            f"[{pp(lo)}, {pp(hi)}]",
        )
    console.print(t)
    for name, test in (("refusal", cm.refusal), ("IC among engaged", cm.ic_engaged)):
        stat = "n/a" if test.statistic is None else f"{test.statistic:.2f}"
        console.print(
            f"effect differs between models ({name})? Wald χ² = {stat}, df = {test.df}, "
            f"{p_text(test.p_value) or 'p n/a'} ({test.n_models} models, {test.n_scenarios} "
            "scenarios, scenario-clustered)"
        )


def _num(x: float, fmt: str, missing: str = "not identified") -> str:
    """Format a number, or say why there is none (NaN: no engaged responses, or no test)."""
    return missing if x is None or math.isnan(x) else fmt.format(x)


def _bounds_text(out: AggregateBounds) -> str:
    """The ``bounds`` summary lines; NaN quantities print as "not identified" or "n/a"."""
    dec = out.decomposition
    lo, hi = out.sace_bounds
    clo, chi = out.sace_bounds_ci
    mlo, mhi = out.manski_bounds
    if math.isnan(lo):
        sace = f"SACE bounds: {out.sace_bounds_method}"
        split = "split not identified (an arm has no engaged responses)"
    else:
        sace = (
            f"SACE bounds (monotonicity) [{100 * lo:+.2f}, {100 * hi:+.2f}] pp; Imbens–Manski "
            f"95% CI [{100 * clo:+.2f}, {100 * chi:+.2f}] pp"
        )
        split = (
            f"refusal shift {100 * dec.refusal_part:+.2f} pp + engaged behaviour "
            f"{100 * dec.behaviour_part:+.2f} pp (symmetric split)"
        )
    tip = out.tipping_point
    tip_text = (
        f"tipping point {tipping(tip)} ({escape(out.tipping_point_stratum)})"
        if not math.isnan(tip)
        else f"tipping point: none ({escape(out.tipping_point_stratum)})"
    )
    mde = out.power.mde_unpaired
    mde_text = "not reachable at this n" if math.isnan(mde) else f"{100 * mde:.1f} pp"
    return (
        f"ΔIR {100 * out.delta_ir.estimate:+.2f} pp (unpaired p = "
        f"{_num(out.delta_ir.p_value, '{:.3g}', 'n/a')}) = {split}\n{sace}\n{tip_text}\n"
        f"Manski bounds [{100 * mlo:+.2f}, {100 * mhi:+.2f}] pp; unpaired MDE for IR {mde_text}"
    )


@app.command("bounds")
@user_errors
def bounds(
    baseline_ir: float = typer.Option(
        ..., "--baseline-ir", min=0.0, max=100.0, help="Baseline IR in percent."
    ),
    baseline_refusal: float = typer.Option(
        ..., "--baseline-refusal", min=0.0, max=100.0, help="Baseline refusal rate in percent."
    ),
    treatment_ir: float = typer.Option(
        ..., "--treatment-ir", min=0.0, max=100.0, help="Treatment IR in percent."
    ),
    treatment_refusal: float = typer.Option(
        ..., "--treatment-refusal", min=0.0, max=100.0, help="Treatment refusal rate in percent."
    ),
    n: int = typer.Option(..., "--n", min=2, help="Scenarios per arm."),
    json_out: JsonOut = None,
    bootstrap: Bootstrap = BOOTSTRAP_REPLICATES,
    seed: Seed = 0,
    ic_se: IcSensitivity = None,
    ic_sp: IcSpecificity = None,
) -> None:
    """What published aggregate numbers (IR and refusal per arm) can and cannot support."""
    if (ic_se is None) != (ic_sp is None):
        raise InputError("give both --ic-se and --ic-sp", field="--ic-se")
    if ic_se is not None and ic_sp is not None and ic_se + ic_sp <= 1:
        raise InputError("--ic-se + --ic-sp must exceed 1", field="--ic-se")
    for opt, ir, r in (
        ("--baseline-ir", baseline_ir, baseline_refusal),
        ("--treatment-ir", treatment_ir, treatment_refusal),
    ):
        if ir > 100 - r + 1e-9:
            raise InputError(f"IR {ir}% exceeds the engaged share {100 - r}%", field=opt)
    out = aggregate_bounds(
        ArmAggregate(baseline_ir / 100, baseline_refusal / 100),
        ArmAggregate(treatment_ir / 100, treatment_refusal / 100),
        n,
        n_boot=bootstrap,
        seed=seed,
        ic_rates=JudgeRates(ic_se, ic_sp) if ic_se is not None and ic_sp is not None else None,
    )
    b, t = out.baseline, out.treatment
    table = Table(title=f"Aggregate-only analysis (n = {n} per arm, arms independent)")
    table.add_column("quantity")
    table.add_column("baseline")
    table.add_column("treatment")
    table.add_row("IR", pct(b.ir), pct(t.ir))
    table.add_row("refusal", pct(b.refusal), pct(t.refusal))
    table.add_row("IC | engaged", _num(b.ir_engaged, "{:.2%}"), _num(t.ir_engaged, "{:.2%}"))
    table.add_row("engaged n", f"{b.n_engaged:.1f}", f"{t.n_engaged:.1f}")
    console.print(table)
    console.print(_bounds_text(out))
    for w in out.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}")
    if json_out is not None:
        atomic_write_text(json_out, dumps({**out.to_json(), "provenance": output_provenance()}))
        console.print(f"wrote {escape(str(json_out))}")
