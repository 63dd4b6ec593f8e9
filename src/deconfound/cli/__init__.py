"""Command line: thin Typer verbs over the packages (one module per stage registers its verbs)."""

from deconfound.cli import (  # noqa: F401  (imported for their registrations)
    agreement,
    analyze,
    importing,
    judging,
    reporting,
    running,
    scenarios,
)
from deconfound.cli._app import app


def main() -> None:
    """Entry point of the ``deconfound`` command."""
    app()


__all__ = ["app", "main"]
