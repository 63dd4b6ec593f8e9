"""CLI verbs: scenarios (filled in by the foundation issue)."""

import typer

from deconfound.cli._app import app

scenarios_app = typer.Typer(help="Inspect scenario sources.", no_args_is_help=True)
app.add_typer(scenarios_app, name="scenarios")
