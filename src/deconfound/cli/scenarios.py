"""CLI verbs: ``deconfound scenarios list`` — what a scenario source holds."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from deconfound.cli._app import app, console, user_errors
from deconfound.data import category_slug, load_scenarios

scenarios_app = typer.Typer(
    help="Inspect scenario sources.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.command("list")
@user_errors
def list_scenarios(
    source: str | None = typer.Option(
        None,
        "--source",
        "-s",
        help="'instrumentaleval' (pinned download, the default), a directory of "
        "'Alignment Drift - <Category>.csv' files, or a custom .csv/.jsonl scenario file.",
    ),
    category: list[str] | None = typer.Option(
        None, "--category", "-c", help="Only this category (name or slug); repeatable."
    ),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir", help="Cache for the pinned download (default: user cache dir)."
    ),
    ids: bool = typer.Option(False, "--ids", help="Also list every scenario id."),
    digests: bool = typer.Option(False, "--digests", help="Show the sha256 of each file read."),
) -> None:
    """Count the scenarios per category in a source."""
    result = load_scenarios(source, cache_dir=cache_dir, categories=category or None)
    table = Table(title=f"Scenarios in {escape(result.source)}")
    table.add_column("category")
    table.add_column("slug", style="dim")
    table.add_column("scenarios", justify="right")
    for name, count in result.categories().items():
        table.add_row(escape(name), escape(category_slug(name)), str(count))
    table.add_section()
    table.add_row("total", "", str(len(result)), style="bold")
    console.print(table)
    console.print(
        "pinned upstream files: "
        + ("yes" if result.pinned else "no (digests recorded in provenance)"),
        highlight=False,
    )
    if digests:
        dt = Table(title="sha256 of the files read")
        dt.add_column("file")
        dt.add_column("sha256")
        for name, digest in result.digests.items():
            dt.add_row(escape(name), digest)
        console.print(dt)
    if ids:
        it = Table(title="Scenario ids")
        it.add_column("id")
        it.add_column("source task id")
        it.add_column("prompt (start)")
        for s in result.scenarios:
            start = " ".join(s.prompt.split())[:60]
            it.add_row(escape(s.id), escape(s.source_task_id or ""), escape(start))
        console.print(it)
