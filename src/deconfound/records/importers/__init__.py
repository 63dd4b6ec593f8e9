"""Importers: other runners' result files -> a validated records table.

``IMPORTERS`` maps a format name (the CLI's ``--format``) to a function taking a list of paths
and that format's keyword options and returning a validated table. The Inspect importer is
loaded lazily because it pulls in ``inspect_ai.analysis`` and lives in its own module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import pandas as pd

from deconfound.records.importers.aei import aei_conflicts, import_aei
from deconfound.records.importers.table import import_table, parse_mapping
from deconfound.records.schema import validate

INSPECT_MODULE: Final = "deconfound.records.inspect_logs"


def import_inspect(
    paths: Sequence[str | Path],
    *,
    study: str | None = None,
    model: str | None = None,
    conditions: Sequence[str] = (),
    scenarios: str | Path | None = None,
) -> pd.DataFrame:
    """Import Inspect ``.eval`` logs via ``deconfound.records.inspect_logs`` (loaded on use).

    ``study`` is passed on (the name for logs that do not carry one); ``model``, when given,
    replaces the model read from the logs. ``conditions`` are ``--condition`` values (``NAME``
    or ``KEY=NAME``) for logs that carry no condition; ``scenarios`` is the scenario source that
    samples without stable ids are matched against (default: the pinned InstrumentalEval set).
    """
    module = importlib.import_module(INSPECT_MODULE)  # loads inspect_ai only when used
    from deconfound.records.locations import as_location

    files = [as_location(p) for p in paths]
    options: dict[str, Any] = {"conditions": module.ConditionNames.parse(list(conditions))}
    if study is not None:
        options["study"] = study
    if scenarios is not None:
        from deconfound.data.sources import load_scenarios

        options["scenarios"] = lambda: load_scenarios(scenarios)
    table: pd.DataFrame = module.import_inspect_logs(files, **options)
    if model is not None:
        table = table.assign(model=model)
    return validate(table)


#: Format name -> importer(paths, *, study=None, model=None, <the format's own options>) ->
#: records table. Each importer takes only its own options (the CLI passes ``mapping`` to
#: ``table`` only, ``conditions`` and ``scenarios`` to ``inspect`` only).
IMPORTERS: Final[dict[str, Callable[..., pd.DataFrame]]] = {
    "aei": import_aei,
    "table": import_table,
    "inspect": import_inspect,
}

__all__ = [
    "IMPORTERS",
    "aei_conflicts",
    "import_aei",
    "import_inspect",
    "import_table",
    "parse_mapping",
]
