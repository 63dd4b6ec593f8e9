"""Options shared by several verbs, declared once (Typer ``Annotated`` aliases), one default each.

A verb that takes records, a bootstrap size, a seed or judge-choice options uses these aliases, so
the flag, its default, its bounds and its help text cannot drift apart between verbs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Final

import typer

from deconfound.errors import InputError

#: Bootstrap replicates unless a verb is told otherwise (scenario-cluster resamples in analyze and
#: agreement, parametric draws in bounds).
BOOTSTRAP_REPLICATES: Final = 2000
#: Fewest replicates accepted: fewer give no usable standard error or percentile interval.
BOOTSTRAP_MIN: Final = 10

RecordsArg = Annotated[
    Path,
    typer.Argument(help="Records table (.parquet, .csv or .jsonl).", show_default=False),
]
Bootstrap = Annotated[
    int,
    typer.Option(
        "--bootstrap",
        min=BOOTSTRAP_MIN,
        help="Bootstrap replicates for the intervals (scenario clusters; parametric in bounds).",
    ),
]
RecordsOut = Annotated[
    Path,
    typer.Option(
        "--output",
        "-o",
        help="Records table to write (.parquet, .csv or .jsonl).",
        show_default=False,
    ),
]
Seed = Annotated[
    int,
    typer.Option(
        "--seed",
        help="Random seed (bootstrap, permutation tests, sampling): same seed, same numbers.",
    ),
]
JsonOut = Annotated[Path | None, typer.Option("--json", help="Also write the results as JSON.")]
EngagementJudge = Annotated[
    str | None, typer.Option("--engagement-judge", help="Judge that defines engagement.")
]
IcJudge = Annotated[str | None, typer.Option("--ic-judge", help="Judge that defines IC.")]
ScenarioSource = Annotated[
    str | None,
    typer.Option(
        "--scenarios",
        help="Scenario source: a directory, a file, or 'instrumentaleval' (the pinned set).",
    ),
]
ReasoningJudge = Annotated[
    str | None,
    typer.Option("--reasoning-judge", help="Judge that defines refusal kinds and reasoning flags."),
]
IcSensitivity = Annotated[
    float | None, typer.Option("--ic-se", min=0.0, max=1.0, help="IC judge sensitivity.")
]
IcSpecificity = Annotated[
    float | None, typer.Option("--ic-sp", min=0.0, max=1.0, help="IC judge specificity.")
]
_GOLD: Final = typer.Option(
    "--gold",
    help="Gold-label CSV (scenario_id, condition, [epoch], [model], [study], engagement and/or "
    "ic; docs/labels.md) or a labelling-page export.",
    show_default=False,
)
GoldCsv = Annotated[Path, _GOLD]
OptionalGoldCsv = Annotated[Path | None, _GOLD]
GoldKey = Annotated[
    Path | None,
    typer.Option(
        "--gold-key",
        help="Key file of a labelling-page export (default: the one it names, found beside it).",
    ),
]

#: Argument names of the library calls → the flag a CLI user sets them with (for error messages).
FLAGS: Final = {
    "model": "--model",
    "treatments": "--treatment",
    "treatment": "--treatment",
    "models": "--model",
    "conditions": "--condition",
    "mapping": "--map",
    "baseline": "--baseline",
    "partial_as": "--partial-as",
    "n_boot": "--bootstrap",
    "engagement_judge": "--engagement-judge",
    "ic_judge": "--ic-judge",
    "reasoning_judge": "--reasoning-judge",
}


@contextmanager
def flags_in_errors() -> Iterator[None]:
    """Name the command-line flag, not the library argument, in an input error from a call."""
    try:
        yield
    except InputError as exc:
        if exc.field in FLAGS:
            exc.field = FLAGS[exc.field]
        raise
