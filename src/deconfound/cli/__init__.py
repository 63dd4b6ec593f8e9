"""Command line: thin Typer verbs over the packages (one module per stage registers its verbs)."""

# Registration order follows the pipeline; `deconfound --help` lists verbs by _app.PIPELINE_ORDER.
# isort: off
from deconfound.cli import (  # noqa: F401  (imported for their registrations)
    scenarios,
    running,
    fetching,
    importing,
    judging,
    labelling,
    scoring,
    agreement,
    analyze,
    reporting,
)

# isort: on
from deconfound.cli._app import app
from deconfound.scratch import exit_cleanly_on_sigterm


def main() -> None:
    """Entry point of the ``deconfound`` command."""
    exit_cleanly_on_sigterm()  # SIGTERM runs finally blocks: no scratch files left behind
    app()


__all__ = ["app", "main"]
