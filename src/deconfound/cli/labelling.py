"""CLI verb ``deconfound label``: a blind gold-label sample as a page (or sheet) plus its key,
or, with ``--plan``, how many gold labels a study needs."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from deconfound.cli._app import app, console, user_errors
from deconfound.cli._options import EngagementJudge, RecordsArg, Seed
from deconfound.errors import InputError
from deconfound.records.io import read_records
from deconfound.report.labelling import STRATA, draw_label_sample, write_label_files
from deconfound.stats.goldplan import plan_for_records


class SheetFormat(StrEnum):
    """What ``label`` writes."""

    html = "html"
    csv = "csv"


def _plan(
    records_path: Path,
    baseline: str | None,
    treatment: list[str],
    half_widths: list[float],
    error_rate: float,
    model: str | None,
) -> None:
    df = read_records(records_path)
    models = sorted(df["model"].astype(str).unique())
    if model is None and len(models) > 1:
        raise InputError(f"the table holds {len(models)} models; choose one with --model")
    if model is not None:
        df = df[df["model"].astype(str) == model]
    conds = sorted(df["condition"].astype(str).unique())
    if baseline is None:
        raise InputError(f"--plan needs --baseline (conditions: {'; '.join(conds)})")
    for c in [baseline, *treatment]:
        if c not in conds:
            raise InputError(f"condition {c!r} not in the table (conditions: {'; '.join(conds)})")
    for t in treatment or [c for c in conds if c != baseline]:
        plan = plan_for_records(
            df, baseline=baseline, treatment=t, half_widths=half_widths, error_rate=error_rate
        )
        table = Table(
            title=f"gold labels needed: {escape(t)} vs {escape(baseline)} "
            f"(judges: engagement {escape(plan.engagement_judge)}, IC {escape(plan.ic_judge)})",
            title_justify="left",
        )
        for col in ("estimand", "95% CI half-width", "PPI++ (n gold)", "gold only (n)"):
            table.add_column(col)
        for row in plan.rows:
            table.add_row(
                row.estimand,
                f"±{100 * row.half_width:.1f} pp",
                "more scenarios needed" if row.n_ppi is None else str(row.n_ppi),
                str(row.n_gold_only),
            )
        console.print(table)
        ref_err, ic_err = plan.refusal_error, plan.ic_error
        console.print(
            f"engagement judge error {ref_err.rate:.3f} ({escape(ref_err.source)}); "
            f"IC judge error {ic_err.rate:.3f} ({escape(ic_err.source)}). "
            "Planning figures (PPI at lambda = 1, gold split evenly over the two conditions): "
            "a guide, not a guarantee.",
            highlight=False,
        )


@app.command("label")
@user_errors
def label_cmd(
    records_path: RecordsArg,
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Page (or sheet) to write; its key file goes beside it."
    ),
    n: int = typer.Option(100, "--n", min=1, help="Number of responses to label."),
    seed: Seed = 0,
    strata: list[str] = typer.Option(
        [],
        "--strata",
        help="Stratify by any of " + ", ".join(STRATA) + " (default: all that apply).",
    ),
    fmt: SheetFormat = typer.Option(
        SheetFormat.html, "--format", help="html: a blind labelling page; csv: a sheet."
    ),
    model: str | None = typer.Option(None, "--model", help="Model to sample (if several)."),
    condition: list[str] = typer.Option(
        [], "--condition", help="Conditions to sample from (default all)."
    ),
    engagement_judge: EngagementJudge = None,
    plan: bool = typer.Option(
        False, "--plan", help="Print how many gold labels give a target CI half-width instead."
    ),
    baseline: str | None = typer.Option(None, "--baseline", help="Baseline (with --plan)."),
    treatment: list[str] = typer.Option(
        [], "--treatment", help="Treatment(s) (with --plan; default all others)."
    ),
    half_width: list[float] = typer.Option(
        [0.05, 0.075, 0.10], "--half-width", help="Target 95% CI half-widths (with --plan)."
    ),
    error_rate: float = typer.Option(
        0.15,
        "--error-rate",
        min=0.0,
        max=1.0,
        help="Judge error rate assumed when only one judge labels (with --plan).",
    ),
) -> None:
    """Blind gold labelling: a stratified random sample of responses as one self-contained page
    (no condition, prompt or judge label shown; keyboard shortcuts; progress kept in the
    browser; Export gives a gold CSV for calibrate and analyze --gold), with a key file beside
    it. With --plan, the number of gold labels needed instead."""
    if plan:
        _plan(records_path, baseline, treatment, half_width, error_rate, model)
        return
    if out is None:
        raise InputError("give the page to write with --out (e.g. -o labels.html)")
    df = read_records(records_path)
    sample = draw_label_sample(
        df,
        n=n,
        seed=seed,
        strata=strata or STRATA,
        model=model,
        conditions=condition or None,
        engagement_judge=engagement_judge,
    )
    page, key = write_label_files(sample, out, fmt=fmt.value)
    console.print(
        f"wrote {escape(str(page))} ({len(sample.items)} items, sample {sample.sample_id}) and "
        f"its key {escape(str(key))}: keep the key beside the page and out of the labeller's "
        f"sight. Stratified by {', '.join(sample.strata) or 'nothing'}.",
        highlight=False,
    )
