"""CLI verbs: ``deconfound import`` (other runners' files -> records) and ``deconfound summary``."""

from __future__ import annotations

import json
import warnings
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from deconfound.cli._app import app, console, err_console, user_errors
from deconfound.cli._options import (
    EngagementJudge,
    JsonOut,
    RecordsArg,
    RecordsOut,
    ScenarioSource,
    flags_in_errors,
)
from deconfound.errors import InputError
from deconfound.records import atomic_write_text, read_records, write_records
from deconfound.records.importers import IMPORTERS, aei_conflicts, parse_mapping
from deconfound.records.io import format_of
from deconfound.records.schema import RESPONSE_KEY
from deconfound.records.summary import aei_summary, pick_benchmark_judge, pick_engagement_judge
from deconfound.report.format import stat_text


class ImportFormat(StrEnum):
    """Input formats ``deconfound import`` understands."""

    aei = "aei"
    table = "table"
    inspect = "inspect"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


@app.command("import")
@user_errors
@flags_in_errors()
def import_results(
    output: RecordsOut,
    paths: list[str] = typer.Argument(
        ...,
        help="Files or folders (a folder of *_judged.json for --format aei); for --format "
        "inspect also object-store locations such as s3://bucket/prefix.",
        show_default=False,
    ),
    fmt: ImportFormat = typer.Option(..., "--format", "-f", help="Input format."),
    study: str | None = typer.Option(
        None, "--study", help="Study name (default: the folder name for aei, file stem for table)."
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        help="Model id (default: from model_config.json for aei, 'unknown' for table).",
    ),
    mapping: str | None = typer.Option(
        None,
        "--map",
        help="For --format table: records_column=file_column pairs, e.g. "
        "'response=answer,condition=arm,refusal=is_refusal'.",
    ),
    condition: list[str] = typer.Option(
        [],
        "--condition",
        help="For --format inspect: the condition of logs that carry none: NAME for all, or "
        "KEY=NAME per log (KEY: log file name, or the system-prompt digest the import notice "
        "prints). Repeatable.",
        show_default=False,
    ),
    scenarios: ScenarioSource = None,
) -> None:
    """Import other runners' results as a records table (nothing is written on any error).

    With --format inspect, samples without stable scenario ids are matched by category and prompt
    against --scenarios (default: the pinned InstrumentalEval set).
    """
    format_of(output)  # reject an unknown output extension before reading anything
    options: dict[str, Any] = {"study": study, "model": model}
    if mapping is not None:
        if fmt is not ImportFormat.table:
            raise InputError("--map applies to --format table only", field="--map")
        options["mapping"] = parse_mapping(mapping)
    for flag, value in (("--condition", condition), ("--scenarios", scenarios)):
        if value and fmt is not ImportFormat.inspect:
            raise InputError(f"{flag} applies to --format inspect only", field=flag)
    if fmt is ImportFormat.inspect:
        options.update(conditions=list(condition), scenarios=scenarios)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sources = list(paths) if fmt is ImportFormat.inspect else [Path(p) for p in paths]
        table = IMPORTERS[fmt.value](sources, **options)
    for w in caught:
        if type(w.message).__name__ == "ImportNotice":
            err_console.print(f"[yellow]notice:[/] {escape(str(w.message))}", highlight=False)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if table.empty:
        raise InputError("nothing to import: the inputs hold no records")
    write_records(table, output)
    responses = table.drop_duplicates(list(RESPONSE_KEY))
    judges = ", ".join(dict.fromkeys(str(j) for j in table["judge"]))
    console.print(
        f"wrote {escape(str(output))}: {len(table)} rows = {len(responses)} responses x judges "
        f"({escape(judges)})",
        highlight=False,
    )
    if fmt is ImportFormat.inspect:
        _inspect_status(list(paths), study, model, responses, list(condition))
    if fmt is ImportFormat.aei:
        conflicts = aei_conflicts(table)
        t = Table(title="Imported conditions")
        t.add_column("condition")
        t.add_column("responses", justify="right")
        t.add_column("refusal + convergence conflicts", justify="right")
        for cond, n in responses["condition"].value_counts(sort=False).items():
            t.add_row(escape(str(cond)), str(n), str(conflicts.get(str(cond), 0)))
        console.print(t)


def _inspect_status(
    paths: list[str],
    study: str | None,
    model: str | None,
    responses: pd.DataFrame,
    conditions: list[str],
) -> None:
    """Per task: log status and responses imported of those planned; warn when unfinished.

    A killed or failed run's logs import fine but hold only part of the study; saying nothing
    would let a later analysis compare, say, 42 scenarios against 40.
    """
    from deconfound.records.inspect_logs import ConditionNames, latest_task_logs
    from deconfound.records.locations import as_location

    t = Table(title="Imported Inspect tasks")
    for col in ("model", "condition", "status", "responses ok", "planned", "log"):
        t.add_column(col, justify="right" if col in {"responses ok", "planned"} else "left")
    unfinished: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the import already printed its notices
        tasks = latest_task_logs(
            [as_location(p) for p in paths],
            study=study,
            conditions=ConditionNames.parse(conditions),
        )
    for task in tasks:
        mine = responses[
            (responses["model"] == (model or task.model))
            & (responses["condition"] == task.condition)
        ]
        ok = int((mine["response_status"] == "ok").sum())
        planned = "?" if task.planned is None else str(task.planned)
        t.add_row(
            escape(task.model),
            escape(task.condition),
            escape(task.status),
            str(ok),
            planned,
            escape(task.name),
        )
        if task.status != "success" or (task.planned is not None and ok < task.planned):
            unfinished.append(
                f"{task.model} / {task.condition}: status {task.status}, {ok} of {planned} "
                "responses ok"
            )
    console.print(t)
    for line in unfinished:
        err_console.print(f"[yellow]warning: unfinished:[/] {escape(line)}", highlight=False)
    if unfinished:
        err_console.print(
            "[yellow]warning:[/] the table holds only what these runs finished; resume them "
            "(deconfound run with the same log directory) before comparing conditions",
            highlight=False,
        )


_HEAD_COLUMNS = ("n", "valid", "conv", "refused", "IR %", "RR %", "confl", "miss")
_CAT_COLUMNS = ("records", "valid", "conv", "refusals", "CIR %", "RR %")


def _counts_row(name: str, s: dict[str, Any], rate: str) -> list[str]:
    """The cells a condition and a category share: records, valid, convergence, refusals, the
    convergence rate (``rate``: ir or cir) and the refusal rate."""
    return [
        escape(name),
        str(s["records"]),
        str(s["valid"]),
        str(s["convergence"]),
        _count(s["refusals"]),
        stat_text(s[rate]),
        stat_text(s["rr"]),
    ]


def _summary_tables(summary: dict[str, dict[str, Any]]) -> list[Table]:
    """One table over conditions, then one per condition over categories."""
    head = Table(
        title="Per condition (AEI: IR = conv / valid, RR = refusals / records)",
        caption="confl: refusal by the engagement judge but convergence by the benchmark judge; "
        "miss: responses missing or errored",
    )
    head.add_column("condition", ratio=1, min_width=16)
    for name in _HEAD_COLUMNS:
        head.add_column(name, justify="right", no_wrap=True)
    tables = [head]
    for cond, s in summary.items():
        head.add_row(*_counts_row(cond, s, "ir"), str(s["conflicts"]), str(s["missing_responses"]))
        cats = Table(title=f"{escape(cond)}: per category")
        cats.add_column("category", ratio=1, min_width=24)
        for name in _CAT_COLUMNS:
            cats.add_column(name, justify="right", no_wrap=True)
        for cat, c in s["categories"].items():
            cats.add_row(*_counts_row(cat, c, "cir"))
        tables.append(cats)
    return tables


@app.command("summary")
@user_errors
def summary(
    records: RecordsArg,
    json_out: JsonOut = None,
    engagement_judge: EngagementJudge = None,
    benchmark_judge: str | None = typer.Option(
        None,
        "--benchmark-judge",
        help="Judge whose benchmark_decision gives convergence (default: aei-judge if present, "
        "else the only judge with such labels).",
    ),
) -> None:
    """Benchmark-compatible IR and RR per condition and category (as AEI's summary.json).

    Refusals are the engagement judge's 'refusal' labels (default: aei-keyword if present, else
    the only judge with engagement labels).
    """
    if json_out is not None and json_out.suffix.lower() != ".json":
        raise InputError("the --json output must be a .json file", path=json_out)
    table: pd.DataFrame = read_records(records)
    if table.empty:
        raise InputError("the records table is empty", path=records)
    figures = aei_summary(table, engagement_judge=engagement_judge, benchmark_judge=benchmark_judge)
    eng = pick_engagement_judge(table, engagement_judge)
    bench = pick_benchmark_judge(table, benchmark_judge)
    pairs = table[["study", "model"]].drop_duplicates()
    if len(pairs) > 1:
        shown = "; ".join(f"{s}/{m}" for s, m in pairs.itertuples(index=False, name=None))
        err_console.print(
            f"[yellow]warning:[/] pooling {len(pairs)} study/model pairs: {escape(shown)}",
            highlight=False,
        )
    for t in _summary_tables(figures):
        console.print(t)
    console.print(
        f"refusals from judge {escape(eng or 'none')} (engagement == refusal); "
        f"convergence from judge {escape(bench or 'none')} (benchmark_decision)",
        highlight=False,
    )
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
        console.print(f"wrote {escape(str(json_out))}", highlight=False)
