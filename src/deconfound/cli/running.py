"""CLI verb ``deconfound run STUDY.toml``: run or resume a study; write records and manifest."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer
from rich.markup import escape
from rich.table import Table

from deconfound.cli._app import app, console, err_console, user_errors

if TYPE_CHECKING:
    from deconfound.run import RunResult
    from deconfound.run.study import Study

#: Exit code when the run finished but some task is incomplete or errored (input errors are 2).
INCOMPLETE_EXIT_CODE = 1
_DISPLAYS = ("full", "conversation", "rich", "plain", "log", "none")


def _repair(log_dir: str | Path) -> None:
    from deconfound.run.lock import repair

    for damaged, moved in repair(log_dir):
        err_console.print(
            f"[yellow]repair:[/] moved damaged log {escape(str(damaged.path))} "
            f"({escape(damaged.reason)}) to {escape(str(moved))}",
            highlight=False,
        )


@app.command("run")
@user_errors
def run(
    study_file: Path = typer.Argument(..., help="Study file (TOML); see docs/studies.md."),
    limit: int | None = typer.Option(
        None, "--limit", help="Run only the first N scenarios (after the category filter)."
    ),
    category: list[str] | None = typer.Option(
        None, "--category", "-c", help="Only this scenario category (name or slug); repeatable."
    ),
    log_dir: str | None = typer.Option(
        None,
        "--log-dir",
        help="Log directory, local or s3://bucket/prefix; keep it fixed to resume (default: the "
        "study's).",
    ),
    shared: bool = typer.Option(
        False,
        "--shared-log-dir",
        help="Other processes write into the same log directory (e.g. one per model): leave "
        "their logs alone instead of refusing a log directory that holds other tasks.",
    ),
    epochs: int | None = typer.Option(None, "--epochs", help="Samples per scenario."),
    model: list[str] | None = typer.Option(
        None, "--model", "-m", help="Model to run instead of the study's models; repeatable."
    ),
    max_connections: int | None = typer.Option(
        None, "--max-connections", help="Concurrent connections per model."
    ),
    adaptive_connections: bool | None = typer.Option(
        None,
        "--adaptive-connections/--no-adaptive-connections",
        help="Let Inspect adapt connections to rate limits (the default when no "
        "--max-connections is set).",
    ),
    display: str | None = typer.Option(
        None, "--display", help=f"Inspect progress display: {', '.join(_DISPLAYS)}."
    ),
    repair: bool = typer.Option(
        False,
        "--repair",
        help="Move damaged .eval logs aside (renamed *.eval.damaged) before resuming.",
    ),
    batch: bool | None = typer.Option(
        None, "--batch/--no-batch", help="Use the providers' batch APIs (cheaper, slower)."
    ),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Requests per batch."),
    max_tasks: int | None = typer.Option(None, "--max-tasks", help="Tasks run at once."),
    max_samples: int | None = typer.Option(
        None, "--max-samples", help="Samples in flight at once per task."
    ),
    cost_limit: float | None = typer.Option(
        None, "--cost-limit", help="Dollar limit per sample (needs model prices)."
    ),
    token_limit: int | None = typer.Option(None, "--token-limit", help="Token limit per sample."),
    fail_on_error: str | None = typer.Option(
        None,
        "--fail-on-error",
        help="true, false, a share of samples in (0, 1) or a number of samples.",
    ),
    retry_on_error: int | None = typer.Option(
        None, "--retry-on-error", help="Retries of an errored sample."
    ),
    max_retries: int | None = typer.Option(
        None, "--max-retries", help="Retries of one model call."
    ),
) -> None:
    """Run a study (models x conditions x scenarios x epochs) on Inspect AI.

    Running the same command again resumes: finished samples are neither generated nor judged
    again. Writes records.parquet and manifest.json into the log directory. Exits 1 when any task
    is incomplete or errored, or another run holds the log directory; 2 on bad input, including
    a damaged .eval log (rerun with --repair to move it aside and redo only its task).
    """
    from deconfound.errors import InputError
    from deconfound.run import load_study, run_study
    from deconfound.run.runner import Display

    if display is not None and display not in _DISPLAYS:
        raise InputError(f"expected one of {', '.join(_DISPLAYS)}", field="--display")
    study = load_study(study_file).with_overrides(
        limit=limit,
        categories=category,
        log_dir=log_dir,
        epochs=epochs,
        models=model,
        max_connections=max_connections,
        options={
            "batch": batch_size if batch_size is not None and batch is not False else batch,
            "max_tasks": max_tasks,
            "max_samples": max_samples,
            "adaptive_connections": adaptive_connections,
            "cost_limit": cost_limit,
            "token_limit": token_limit,
            "fail_on_error": _fail_on_error(fail_on_error),
            "retry_on_error": retry_on_error,
            "max_retries": max_retries,
        },
    )
    if repair:
        _repair(study.resolved_log_dir())
    result = run_study(
        study,
        display=cast(Display | None, display),
        command=sys.argv,
        eval_set_args={"log_dir_allow_dirty": True} if shared else None,
    )
    table = Table(title=f"Study {escape(study.name)}")
    for col in ("model", "condition", "status", "samples"):
        table.add_column(col)
    for t in result.tasks:
        colour = "green" if t.status == "success" else "red"
        table.add_row(
            escape(t.model),
            escape(t.condition),
            f"[{colour}]{escape(t.status)}[/]",
            "" if t.samples is None else str(t.samples),
        )
    console.print(table)
    console.print(f"records: {escape(str(result.records_path))} ({result.rows} rows)")
    console.print(f"manifest: {escape(str(result.manifest_path))}")
    if result.complete:
        _answer(study, result)
    else:
        for problem in result.problems:
            err_console.print(f"[bold red]incomplete:[/] {escape(problem)}", highlight=False)
        err_console.print(
            "Run the same command again to resume; finished samples are kept.", highlight=False
        )
        raise typer.Exit(INCOMPLETE_EXIT_CODE)


def _answer(study: Study, result: RunResult) -> None:
    """End the run with what it was for: the analysis, the report and the verdict, per model.

    The first condition of the study file is the baseline and every other one a treatment, as
    `deconfound analyze` would be called by hand. Nothing here can undo the run: when the analysis
    cannot be made (one condition, nothing valid to count), the reason and the records stay.
    """
    from deconfound.report.format import verdict_lines
    from deconfound.report.writing import write_run_analyses

    names = [c.name for c in study.conditions]
    if len(names) < 2:
        console.print("one condition: nothing to compare, so no analysis or report")
        return
    log_dir, records_path = result.log_dir, result.records_path
    if not isinstance(log_dir, Path) or not isinstance(records_path, Path):
        console.print(
            "the log directory is on an object store: no analysis or report here; when every "
            "process writing into it is done, run `deconfound import <log dir> --format inspect` "
            "and `deconfound analyze` on the records"
        )
        return
    answers = write_run_analyses(records_path, log_dir, baseline=names[0], treatments=names[1:])
    for a in answers:
        if a.analysis is None:
            err_console.print(
                f"[yellow]no analysis for {escape(a.model)}:[/] {escape(a.error or '')}",
                highlight=False,
            )
            continue
        console.print(f"analysis: {escape(str(a.json_path))}")
        console.print(f"report: {escape(str(a.html))}")
        for comp in a.analysis.comparisons:
            console.print(
                f"[bold]{escape(a.model)}: {escape(comp.treatment)} vs "
                f"{escape(comp.baseline)}[/] ({comp.n_scenarios} paired scenarios)"
            )
            lines = verdict_lines(comp.verdict, comp.judge_sensitivity) if comp.verdict else []
            for line in lines:
                console.print(f"  {line.question}: {escape(line.answer)} — {escape(line.text)}")
    for a in answers:
        if a.smoke:
            console.print(
                f"{escape(a.model)} is a smoke model: these numbers are a plumbing check of the "
                "pipeline, not findings about how capable models behave."
            )


def _fail_on_error(text: str | None) -> bool | int | float | None:
    """``--fail-on-error`` as the study file would hold it (checked there)."""
    if text is None:
        return None
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(lowered) if lowered.isdigit() else float(lowered)
    except ValueError:
        from deconfound.errors import InputError

        raise InputError(
            f"expected true, false or a number, got {text!r}", field="--fail-on-error"
        ) from None
