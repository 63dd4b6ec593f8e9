"""Custom scenario files: CSV or JSON Lines with ``id, category, prompt[, judge_context]``.

For studies beyond InstrumentalEval (new scenarios, paraphrases, other categories). Ids are kept
as written so results can be joined back to the user's own numbering, within a safe character set
(they become file names inside the logs; see ``scenario.SAFE_ID``); any other fields are kept as
scenario metadata.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from deconfound.data.instrumentaleval import ScenarioSet
from deconfound.data.scenario import Scenario, scenario_id_problem
from deconfound.errors import InputError, not_a_file
from deconfound.jsonl import iter_jsonl

REQUIRED: Final = ("id", "category", "prompt")
OPTIONAL: Final = ("judge_context",)
SUFFIXES: Final = (".csv", ".jsonl", ".ndjson")


def _csv_rows(text: str, path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; a scenario file needs "
            f"{', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)})",
            path=path,
            location="line 1",
        )
    line = reader.line_num + 1
    try:
        for row in reader:
            if None in row:
                raise InputError(
                    f"more fields than the {len(header)} header columns",
                    path=path,
                    location=f"line {line}",
                )
            yield line, dict(row)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"not readable CSV ({exc})", path=path, location=f"line {line}") from exc


def _jsonl_rows(text: str, path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    for n, obj in iter_jsonl(text, path):
        missing = [c for c in REQUIRED if c not in obj]
        if missing:
            raise InputError(
                f"missing field(s) {', '.join(missing)}; each scenario needs {', '.join(REQUIRED)}",
                path=path,
                location=f"line {n}",
            )
        yield n, obj


def _text(value: object, *, path: Path, line: int, name: str, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InputError(
            f"expected text, got {value!r}", path=path, location=f"line {line}", field=name
        )
    if required and not value.strip():
        raise InputError("must not be empty", path=path, location=f"line {line}", field=name)
    return value


def load_custom(path: str | Path) -> ScenarioSet:
    """Load a custom scenario file (``.csv`` with a header row, or ``.jsonl``).

    Raises :class:`InputError` naming the file and line for a missing column, an empty id,
    category or prompt, or a duplicate id.
    """
    p = Path(path)
    if not p.is_file():
        raise not_a_file(p, "a .csv or .jsonl scenario file")
    if p.suffix.lower() not in SUFFIXES:
        raise InputError(
            "scenario files must be .csv or .jsonl (or a directory of InstrumentalEval CSVs)",
            path=p,
        )
    data = p.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=p) from exc
    rows = _csv_rows(text, p) if p.suffix.lower() == ".csv" else _jsonl_rows(text, p)
    scenarios: list[Scenario] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        fields = {
            name: _text(row.get(name), path=p, line=line, name=name, required=name in REQUIRED)
            for name in (*REQUIRED, *OPTIONAL)
        }
        sid = fields["id"].strip()
        if (problem := scenario_id_problem(sid)) is not None:
            raise InputError(problem, path=p, location=f"line {line}", field="id")
        if sid in seen:
            raise InputError(
                f"duplicate id {sid!r} (first on line {seen[sid]})",
                path=p,
                location=f"line {line}",
                field="id",
            )
        seen[sid] = line
        extra = {
            k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
            for k, v in row.items()
            if k not in REQUIRED and k not in OPTIONAL and k is not None and v is not None
        }
        scenarios.append(
            Scenario(
                id=sid,
                category=fields["category"].strip(),
                prompt=fields["prompt"],
                judge_context=fields["judge_context"].strip(),
                source_task_id=sid,
                metadata=extra,
            )
        )
    if not scenarios:
        raise InputError("no scenarios in file", path=p)
    return ScenarioSet(
        scenarios=scenarios,
        source=str(p),
        digests={p.name: hashlib.sha256(data).hexdigest()},
        pinned=False,
    )


__all__ = ["load_custom"]
