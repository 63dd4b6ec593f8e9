"""CLI verb ``deconfound score``: write judge scores into Inspect logs."""

from __future__ import annotations

import typer
from rich.markup import escape

from deconfound.cli._app import app, console, user_errors
from deconfound.errors import InputError


def _roles(specs: list[str]) -> dict[str, str]:
    roles: dict[str, str] = {}
    for spec in specs:
        role, sep, model = spec.partition("=")
        if not sep or not role.strip() or not model.strip():
            raise InputError(f"expected ROLE=MODEL, got {spec!r}", field="--model-role")
        roles[role.strip()] = model.strip()
    return roles


@app.command("score")
@user_errors
def score(
    paths: list[str] = typer.Argument(
        ..., help="Inspect log files or folders (local, or object-store URIs like s3://...)."
    ),
    judge_specs: list[str] = typer.Option(
        ...,
        "--judge",
        "-j",
        help="Judge spec, repeatable: lexical, offline, rubric@<role>, rubric:<provider/model>, "
        "benchmark@<role>, benchmark:<provider/model>, or a plug-in judge name.",
    ),
    model_role: list[str] = typer.Option(
        [],
        "--model-role",
        help="Inspect model role for LLM judges, ROLE=MODEL (e.g. grader=openai/gpt-4o).",
        show_default=False,
    ),
    output_dir: str | None = typer.Option(
        None, "--output-dir", help="Write scored copies here (default: replace the logs)."
    ),
) -> None:
    """Add judge scores to each task's log (the Inspect viewer and `import` then show them).

    Like `inspect score --action append` with deconfound's judges; a judge already in a log is
    scored again and replaces its earlier scores.
    """
    from deconfound.records.locations import as_location
    from deconfound.run.rescore import score_logs
    from deconfound.run.runner import resolve_judges

    judges = resolve_judges(judge_specs)
    written = score_logs(
        [as_location(p) for p in paths],
        judges,
        model_roles=_roles(model_role),
        output_dir=as_location(output_dir) if output_dir is not None else None,
    )
    for path in written:
        console.print(f"scored {escape(str(path))}", highlight=False)
