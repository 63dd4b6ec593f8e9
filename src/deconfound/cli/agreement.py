"""CLI verbs ``agreement`` and ``calibrate``: how far judges agree, and how wrong each one is.

``agreement`` compares every pair of judges in a records table, per label and per condition,
because a judge can err differently across conditions (an ethics prompt changes response style).
``calibrate`` measures each judge's sensitivity and specificity against a human-labelled set, the
input ``analyze --calibration`` uses for Rogan–Gladen correction.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from deconfound.cli._app import app, console, err_console, user_errors
from deconfound.cli._options import (
    BOOTSTRAP_REPLICATES,
    Bootstrap,
    GoldCsv,
    GoldKey,
    JsonOut,
    RecordsArg,
    Seed,
)
from deconfound.errors import InputError
from deconfound.records import atomic_path, atomic_write_text, read_records
from deconfound.records.csv_safe import write_csv
from deconfound.records.gold import match_gold, read_gold
from deconfound.report.format import stat_text
from deconfound.stats.calibration import calibration_report
from deconfound.stats.judge_agreement import (
    ALL_GROUP,
    GROUP_BY,
    AgreementReport,
    ViewAgreement,
    agreement_report,
)
from deconfound.stats.label_views import VIEWS


def _agreement_tables(name: str, view: ViewAgreement) -> list[Table]:
    first = VIEWS[name].categories[0]
    tables = []
    for gname, g in view.groups.items():
        table = Table(title=f"{name} | {escape(gname)}", title_justify="left")
        for col in ("pair", "n", "p_o", "kappa [95% CI]", "AC1 [95% CI]", "alpha", "PABAK"):
            table.add_column(col)
        table.add_column(f"% {first} A/B")
        for pname, p in g.pairs.items():
            pa, pb = p.prevalence_a.get(first), p.prevalence_b.get(first)
            prev = "-" if pa is None or pb is None else f"{100 * pa:.0f}/{100 * pb:.0f}"
            table.add_row(
                escape(pname),
                str(p.n),
                stat_text(p.observed),
                stat_text(p.cohen_kappa, p.kappa_ci),
                stat_text(p.gwet_ac1, p.ac1_ci),
                stat_text(p.krippendorff_alpha),
                stat_text(p.pabak),
                prev,
            )
        tables.append(table)
    return tables


@app.command("agreement")
@user_errors
def agreement_cmd(
    records_path: RecordsArg,
    label: list[str] = typer.Option(
        [],
        "--label",
        "-l",
        help="Label view(s): " + ", ".join(VIEWS) + " (default: every view two judges share).",
    ),
    json_out: JsonOut = None,
    disagreements_out: Path | None = typer.Option(
        None, "--disagreements", help="Write the responses on which judges disagree (CSV)."
    ),
    by: str = typer.Option(
        "condition",
        "--by",
        help="Group the responses by " + ", ".join(GROUP_BY) + " (model: measure a judge "
        "against the reference corpus model by model).",
    ),
    n_boot: Bootstrap = BOOTSTRAP_REPLICATES,
    seed: Seed = 0,
) -> None:
    """Agreement between judges: raw agreement, Cohen's kappa, Gwet's AC1, Krippendorff's
    alpha, PABAK and prevalence, per label view and per condition (or model), for every judge
    pair."""
    for name in label:
        if name not in VIEWS:
            raise InputError(f"unknown label view {name!r}; use one of {', '.join(VIEWS)}")
    if by not in GROUP_BY:
        raise InputError(f"--by {by!r}: group by one of {', '.join(GROUP_BY)}", field="by")
    df = read_records(records_path)
    names = label or list(VIEWS)
    report, dis = agreement_report(df, names, by=by, n_boot=n_boot, seed=seed)
    if not report:
        judges = sorted(df["judge"].astype(str).unique())
        raise InputError(
            f"no label is given by two or more judges (judges: {', '.join(judges) or 'none'}); "
            "label the table with another judge first (deconfound judge)",
            path=records_path,
            field=",".join(names) if label else None,
        )
    missing = [n for n in label if n not in report]
    if missing:
        raise InputError(
            f"fewer than two judges label {', '.join(missing)}", path=records_path, field="label"
        )
    payload = AgreementReport(str(records_path), n_boot, report, by=by)
    if json_out is not None:
        text = json.dumps(payload.to_json(), indent=2, ensure_ascii=False)
        atomic_write_text(json_out, text + "\n")
    if disagreements_out is not None:
        with atomic_path(disagreements_out) as tmp:
            write_csv(dis, tmp)  # RFC 4180, spreadsheet formulas neutralised
    for name, rep in report.items():
        for table in _agreement_tables(name, rep):
            console.print(table)
    console.print(f"{len(dis)} disagreeing response-label rows")


@app.command("calibrate")
@user_errors
def calibrate_cmd(
    records_path: RecordsArg,
    gold_path: GoldCsv,
    json_out: Path | None = typer.Option(
        None, "--json", help="Write calibration JSON (input of analyze --calibration)."
    ),
    gold_key: GoldKey = None,
) -> None:
    """Sensitivity and specificity of each judge against human gold labels, overall and per
    condition (refusal vs not, and IC), for Rogan–Gladen correction in analyze."""
    df = read_records(records_path)
    gold, notices = match_gold(read_gold(gold_path, gold_key), df, gold_path)
    cal, warnings = calibration_report(df, gold)
    for w in [*notices, *warnings]:
        err_console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    if not cal:
        raise InputError("no judge could be calibrated against these gold labels", path=gold_path)
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(cal, indent=2, ensure_ascii=False) + "\n")
    table = Table(title=f"calibration against {escape(str(gold_path))}", title_justify="left")
    for col in ("judge", "label", "condition", "sensitivity", "specificity", "n_pos", "n_neg"):
        table.add_column(col)
    for judge, labels in cal.items():
        for label, vals in labels.items():
            rows = [(ALL_GROUP, vals), *vals["by_condition"].items()]
            for cond, v in rows:
                table.add_row(
                    escape(judge),
                    label,
                    escape(cond),
                    stat_text(v["sensitivity"]),
                    stat_text(v["specificity"]),
                    str(v["n_pos"]),
                    str(v["n_neg"]),
                )
    console.print(table)
