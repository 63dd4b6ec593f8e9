"""The Typer application every CLI module registers its verbs on."""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TextIO, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from deconfound.errors import (
    INPUT_ERROR_EXIT_CODE,
    DataNotice,
    DeconfoundError,
    InputError,
    not_a_file,
)

#: Verbs in the order a study flows through them; `deconfound --help` lists them so.
PIPELINE_ORDER = (
    "scenarios",
    "run",
    "fetch",
    "import",
    "summary",
    "judge",
    "agreement",
    "calibrate",
    "analyze",
    "bounds",
    "report",
)


class _PipelineGroup(TyperGroup):
    """Lists verbs in pipeline order (Typer would list sub-apps such as `scenarios` last)."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = list(self.commands)
        return sorted(
            names, key=lambda n: PIPELINE_ORDER.index(n) if n in PIPELINE_ORDER else len(names)
        )


app = typer.Typer(
    cls=_PipelineGroup,
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
    # Plain help and usage errors: Rich panels cut option help to fit 80 columns, read "[epoch]"
    # in a help text as markup and drop it, and hard-wrap a path in an error message.
    rich_markup_mode=None,
)

# soft_wrap: a line of text (a message, a path) is never broken by a newline at the console width;
# the terminal wraps it for display and a copied path stays whole. Tables still fit the width.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")

_default_showwarning = warnings.showwarning


def _show_notice(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Print a :class:`DataNotice` as one ``notice:`` line; other warnings as Python shows them."""
    if issubclass(category, DataNotice):
        err_console.print(f"notice: {message}", markup=False, highlight=False)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


def _version(value: bool) -> None:
    if value:
        from deconfound import __version__

        console.print(f"deconfound {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    # Runs before every verb: data notices become one clean line from here on.
    warnings.showwarning = _show_notice


def load_json(path: Path, what: str) -> Any:
    """Parse a JSON file, reporting the file and line of a syntax error."""
    if not path.is_file():
        raise not_a_file(path, f"the {what} JSON")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg}", path=path, location=f"line {exc.lineno}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", path=path) from exc


def user_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn :class:`DeconfoundError` into a one-line message and its exit code (no traceback).

    The code is 2 (bad input) unless the error class sets ``exit_code`` (1: incomplete work that
    running again later finishes, e.g. a lock held by another process).
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DeconfoundError as exc:
            err_console.print(
                f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False
            )
            raise typer.Exit(getattr(exc, "exit_code", INPUT_ERROR_EXIT_CODE)) from exc

    return wrapper
