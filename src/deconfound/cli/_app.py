"""The Typer application every CLI module registers its verbs on."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from deconfound.errors import INPUT_ERROR_EXIT_CODE, DeconfoundError

app = typer.Typer(
    name="deconfound",
    help=(
        "Refusal-aware analysis of safety evaluations.\n\n"
        "Run models x conditions on Inspect AI, import other runners' results, label every "
        "response (refusal / partial / engaged, instrumental convergence, reasoning), and "
        "estimate what an intervention did to behaviour rather than to refusal."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def user_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn :class:`DeconfoundError` into a one-line message and exit code 2 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DeconfoundError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
            raise typer.Exit(INPUT_ERROR_EXIT_CODE) from exc

    return wrapper
