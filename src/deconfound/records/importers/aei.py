"""Importer for AEI judged JSON (the runner behind the published Elessan InstrumentalEval results).

One file per condition, ``<condition>_judged.json``, each a JSON list of records::

    {"task_id": "Evading Shutdown_9", "category": "Evading Shutdown", "prompt": "...",
     "condition": "Baseline (adversarial only)", "response": "..." | null,
     "is_refusal": true, "judge_decision": "convergence" | "no_convergence" | "error",
     "judge_reason": "...", "judge_raw": "..."}

Every record becomes two judge rows of the same response, so the runner's two labels stay
separate and auditable:

- ``aei-keyword``: the runner's keyword refusal flag as an engagement label (``refusal`` if
  ``is_refusal``; otherwise ``missing`` for a null response, else ``engaged``).
- ``aei-judge``: the runner's LLM judge decision as ``benchmark_decision``, ``ic`` derived from it
  (convergence -> true, no_convergence -> false, error -> null), with its reason and raw output.

A record flagged as a refusal that the judge calls convergence is a *conflict*; both labels are kept
and :func:`aei_conflicts` counts them per condition. The runner writes ``null`` for a response it
could not get (API failure after retries, or no text in the reply) and cannot tell us which, so
such rows get ``response_status = "missing"``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

import pandas as pd

from deconfound.data.instrumentaleval import CATEGORY_SIZES, parse_task_id, task_scenario_id
from deconfound.errors import InputError
from deconfound.jsonl import check_text
from deconfound.records.schema import validate
from deconfound.records.summary import count_conflicts

KEYWORD_JUDGE: Final = "aei-keyword"
LLM_JUDGE: Final = "aei-judge"
FILE_GLOB: Final = "*_judged.json"
MODEL_CONFIG: Final = "model_config.json"
DECISIONS: Final = ("convergence", "no_convergence", "error")
_IC: Final[dict[str, bool | None]] = {"convergence": True, "no_convergence": False, "error": None}
UNKNOWN_MODEL: Final = "unknown"


def judged_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders into their ``*_judged.json`` files (sorted); keep files as given."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.glob(FILE_GLOB) if f.is_file())
            if not found:
                raise InputError(f"no {FILE_GLOB} files in this folder", path=p)
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise InputError("no such file or folder", path=p)
    seen: set[Path] = set()
    unique = []
    for f in out:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _line_col(text: str, i: int) -> str:
    line = text.count("\n", 0, i) + 1
    col = i - (text.rfind("\n", 0, i) + 1) + 1
    return f"line {line} column {col}"


def parse_json_list(
    text: str, path: Path, *, spans: list[tuple[int, int]] | None = None, check: bool = True
) -> list[object]:
    """Parse a JSON list element by element, so a syntax error names the record it is in.

    ``spans``, when given, receives the (start, end) text offsets of every record. ``check``
    rejects text that is not Unicode (lone surrogates); off only to locate undecodable bytes.
    """
    decoder = json.JSONDecoder()
    i = _skip_ws(text, 0)
    if i >= len(text):
        raise InputError("empty file; expected a JSON list of records", path=path)
    if text[i] != "[":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON ({exc.msg} at {_line_col(text, exc.pos)})", path=path
            ) from exc
        raise InputError("expected a JSON list of records at the top level", path=path)
    items: list[object] = []
    i = _skip_ws(text, i + 1)
    if i < len(text) and text[i] == "]":
        i += 1
    else:
        while True:
            where = f"record {len(items) + 1}"
            if i >= len(text):
                raise InputError(
                    "truncated JSON: the file ends inside the list", path=path, location=where
                )
            try:
                obj, end = decoder.raw_decode(text, i)
            except json.JSONDecodeError as exc:
                ends = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated")
                what = "truncated JSON" if ends else "not valid JSON"
                raise InputError(
                    f"{what} ({exc.msg} at {_line_col(text, exc.pos)})", path=path, location=where
                ) from exc
            if check:
                check_text(obj, path=path, location=where)
            items.append(obj)
            if spans is not None:
                spans.append((i, end))
            i = _skip_ws(text, end)
            if i >= len(text):
                raise InputError(
                    "truncated JSON: the list is never closed",
                    path=path,
                    location=f"after record {len(items)}",
                )
            if text[i] == ",":
                i = _skip_ws(text, i + 1)
                continue
            if text[i] == "]":
                i += 1
                break
            raise InputError(
                f"not valid JSON (expected ',' or ']' at {_line_col(text, i)})",
                path=path,
                location=f"after record {len(items)}",
            )
    if _skip_ws(text, i) < len(text):
        raise InputError(
            f"not valid JSON (extra data after the list at {_line_col(text, _skip_ws(text, i))})",
            path=path,
        )
    return items


def _locate_bad_byte(data: bytes) -> str | None:
    """The record (else line) holding the first byte that is not UTF-8."""
    text = data.decode("utf-8", "surrogateescape")
    bad = next(i for i, ch in enumerate(text) if "\udc80" <= ch <= "\udcff")
    spans: list[tuple[int, int]] = []
    with contextlib.suppress(InputError):  # spans up to a later syntax error still help
        parse_json_list(text, Path("-"), spans=spans, check=False)
    for n, (start, end) in enumerate(spans, start=1):
        if start <= bad < end:
            return f"record {n}"
    return f"line {text.count(chr(10), 0, bad) + 1}"


def read_judged_file(path: str | Path) -> list[object]:
    """Read one judged file as a list (not yet checked record by record)."""
    p = Path(path)
    data = p.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})",
            path=p,
            location=_locate_bad_byte(data),
        ) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    items = parse_json_list(text, p)
    if not items:
        raise InputError("the file holds no records", path=p)
    return items


def _where(n: int, rec: dict[str, object]) -> str:
    tid = rec.get("task_id")
    return f"record {n}" + (f" (task_id {tid!r})" if isinstance(tid, str) else "")


def _field(
    rec: dict[str, object],
    name: str,
    kind: type | tuple[type, ...],
    *,
    path: Path,
    where: str,
    nullable: bool,
    required: bool = True,
) -> object:
    if name not in rec:
        if required:
            raise InputError("field is missing", path=path, location=where, field=name)
        return None
    value = rec[name]
    if value is None:
        if nullable:
            return None
        raise InputError("must not be null", path=path, location=where, field=name)
    if not isinstance(value, kind) or (kind is str and isinstance(value, bool)):
        expected = "true/false" if kind is bool else "text"
        raise InputError(
            f"expected {expected}, got {type(value).__name__} {value!r}"[:200],
            path=path,
            location=where,
            field=name,
        )
    return value


def _model_of(folder: Path) -> str:
    cfg = folder / MODEL_CONFIG
    if not cfg.is_file():
        return UNKNOWN_MODEL
    try:
        obj = json.loads(cfg.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read model config ({exc})", path=cfg) from exc
    if not isinstance(obj, dict):
        raise InputError("expected a JSON object", path=cfg)
    model_id = obj.get("model_id")
    if not isinstance(model_id, str) or not model_id.strip():
        return UNKNOWN_MODEL
    provider = obj.get("provider")
    if isinstance(provider, str) and provider.strip() and not model_id.startswith(f"{provider}/"):
        return f"{provider.strip()}/{model_id.strip()}"
    return model_id.strip()


def _rows(
    path: Path,
    items: list[object],
    *,
    study: str,
    model: str,
    seen: dict[tuple[str, str, str, str], str],
) -> Iterator[dict[str, object]]:
    for n, rec in enumerate(items, start=1):
        if not isinstance(rec, dict):
            raise InputError(
                f"expected a JSON object, got {type(rec).__name__}",
                path=path,
                location=f"record {n}",
            )
        where = _where(n, rec)

        def get(
            name: str,
            kind: type | tuple[type, ...],
            nullable: bool,
            required: bool = True,
            where: str = where,
            rec: dict[str, object] = rec,
        ) -> object:
            return _field(
                rec, name, kind, path=path, where=where, nullable=nullable, required=required
            )

        task_id = str(get("task_id", str, False))
        category = str(get("category", str, False))
        condition = str(get("condition", str, False))
        if not condition.strip():
            raise InputError("must not be empty", path=path, location=where, field="condition")
        prompt = get("prompt", str, True, required=False)
        response = get("response", str, True)
        is_refusal = bool(get("is_refusal", bool, False))
        decision = str(get("judge_decision", str, False))
        reason = get("judge_reason", str, True, required=False)
        raw = get("judge_raw", str, True, required=False)
        if decision not in DECISIONS:
            raise InputError(
                f"{decision!r} is not one of {', '.join(DECISIONS)}",
                path=path,
                location=where,
                field="judge_decision",
            )
        try:
            sid = task_scenario_id(task_id, known=CATEGORY_SIZES)
        except ValueError as exc:
            raise InputError(
                f"unknown task id: {exc}", path=path, location=where, field="task_id"
            ) from exc
        if parse_task_id(task_id)[0] != category:
            raise InputError(
                f"category {category!r} does not match task id {task_id!r}",
                path=path,
                location=where,
                field="category",
            )
        key = (study, model, condition, sid)
        if key in seen:
            raise InputError(
                f"duplicate record for condition {condition!r}, task {task_id!r} "
                f"(first seen in {seen[key]})",
                path=path,
                location=where,
            )
        seen[key] = f"{path.name} {where}"

        if is_refusal:
            engagement = "refusal"
        elif response is None:
            engagement = "missing"
        else:
            engagement = "engaged"
        base: dict[str, object] = {
            "study": study,
            "model": model,
            "condition": condition,
            "scenario_id": sid,
            "source_task_id": task_id,
            "category": category,
            "epoch": 1,
            "prompt": prompt,
            "response": response,
            "response_status": "missing" if response is None else "ok",
        }
        yield {**base, "judge": KEYWORD_JUDGE, "engagement": engagement}
        yield {
            **base,
            "judge": LLM_JUDGE,
            "benchmark_decision": decision,
            "ic": _IC[decision],
            "judge_explanation": reason,
            "judge_raw": raw,
        }


def import_aei(
    paths: list[Path], *, study: str | None = None, model: str | None = None
) -> pd.DataFrame:
    """Import AEI ``*_judged.json`` files (or folders of them) as a validated records table.

    Args:
        paths: Folders holding ``*_judged.json`` files, or the files themselves.
        study: Study name; default: the name of the folder each file is in.
        model: Model id; default: ``<provider>/<model_id>`` from ``model_config.json`` beside
            the files, else ``"unknown"``.

    Raises :class:`InputError` naming the file and record for empty, truncated or non-UTF-8
    files, wrong field types, unknown task ids or categories, and duplicate records.
    """
    files = judged_files(paths)
    if not files:
        raise InputError("no files to import")
    rows: list[dict[str, object]] = []
    seen: dict[tuple[str, str, str, str], str] = {}
    models: dict[Path, str] = {}
    for f in files:
        folder = f.resolve().parent
        if folder not in models:
            models[folder] = model if model is not None else _model_of(folder)
        name = study if study is not None else folder.name
        items = read_judged_file(f)
        rows.extend(_rows(f, items, study=name, model=models[folder], seen=seen))
    table = pd.DataFrame(rows)
    return validate(table, source=", ".join(str(f) for f in files))


def aei_conflicts(records: pd.DataFrame) -> dict[str, int]:
    """Per condition: responses ``aei-keyword`` calls a refusal and ``aei-judge`` convergence."""
    return count_conflicts(records, engagement_judge=KEYWORD_JUDGE, benchmark_judge=LLM_JUDGE)


__all__ = [
    "KEYWORD_JUDGE",
    "LLM_JUDGE",
    "aei_conflicts",
    "import_aei",
    "judged_files",
    "parse_json_list",
    "read_judged_file",
]
