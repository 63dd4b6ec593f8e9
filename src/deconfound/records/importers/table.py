"""Importer for generic tables (CSV, JSON Lines, Parquet) with a column mapping.

For results from any other runner: ``--map response=answer,condition=arm`` renames the file's
``answer`` column to the records' ``response`` and so on. What the file does not provide is filled
in with documented defaults, so a minimal file needs only ``condition``, the scenario, and the
response text:

=====================  =====================================================================
column                 default when absent
=====================  =====================================================================
``study``              the ``study`` argument, else the file name without its extension
``model``              the ``model`` argument, else ``"unknown"``
``epoch``              1 (a second row for the same response is then a duplicate-key error)
``judge``              ``"imported"``
``scenario_id``        derived from ``source_task_id`` when that is ``"<Category>_<i>"``
``category``           derived from ``source_task_id`` likewise
``response_status``    ``"ok"`` when ``response`` is present, else ``"missing"``
=====================  =====================================================================

A boolean ``refusal`` column (map it with ``refusal=<your column>``) is turned into
``engagement`` (refusal / engaged) when the file has no ``engagement`` column of its own.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import pandas as pd

from deconfound.data.instrumentaleval import parse_task_id
from deconfound.data.scenario import scenario_id
from deconfound.errors import InputError, not_a_file
from deconfound.jsonl import iter_jsonl
from deconfound.records.csv_safe import restore_frame
from deconfound.records.io import format_of
from deconfound.records.schema import COLUMN_BY_NAME, KEY, concat_records, validate

DEFAULT_JUDGE: Final = "imported"
DEFAULT_MODEL: Final = "unknown"
DEFAULT_EPOCH: Final = 1
#: Mapping targets that are not schema columns but are converted on import.
PSEUDO_COLUMNS: Final = ("refusal",)


def parse_mapping(spec: str | None) -> dict[str, str]:
    """Parse ``"response=answer,condition=arm"`` into ``{"response": "answer", ...}``."""
    mapping: dict[str, str] = {}
    if not spec:
        return mapping
    for part in spec.split(","):
        if not part.strip():
            continue
        target, sep, source = part.partition("=")
        target, source = target.strip(), source.strip()
        if not sep or not target or not source:
            raise InputError(
                f"bad mapping {part.strip()!r}; write records_column=your_column", field="mapping"
            )
        if target not in COLUMN_BY_NAME and target not in PSEUDO_COLUMNS:
            raise InputError(
                f"{target!r} is not a records column; columns are "
                f"{', '.join(COLUMN_BY_NAME)} (and {', '.join(PSEUDO_COLUMNS)})",
                field="mapping",
            )
        if target in mapping:
            raise InputError(f"{target!r} is mapped twice", field="mapping")
        mapping[target] = source
    return mapping


def _read_jsonl(path: Path, text: str) -> pd.DataFrame:
    return pd.DataFrame([obj for _, obj in iter_jsonl(text, path)])


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV / JSONL / Parquet file as raw columns (text kept as text; schema casts later)."""
    p = Path(path)
    if not p.is_file():
        raise not_a_file(p, "a table (.csv, .jsonl or .parquet)")
    fmt = format_of(p)
    if fmt == "parquet":
        try:
            return pd.read_parquet(p)
        except Exception as exc:
            raise InputError(f"cannot read Parquet file ({exc})", path=p) from exc
    data = p.read_bytes()
    if not data.strip():
        raise InputError("empty file", path=p)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=p) from exc
    if fmt == "jsonl":
        return _read_jsonl(p, text)
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except Exception as exc:
        raise InputError(f"cannot read CSV file ({exc})", path=p) from exc
    return restore_frame(raw)  # a CSV we wrote: undo its spreadsheet-formula neutralisation


def _derive_from_task_ids(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    need_id = "scenario_id" not in df.columns
    need_cat = "category" not in df.columns
    if not (need_id or need_cat):
        return df
    if "source_task_id" not in df.columns:
        missing = [c for c, n in (("scenario_id", need_id), ("category", need_cat)) if n]
        raise InputError(
            f"missing column(s) {', '.join(missing)}: map them with --map, or provide "
            "source_task_id as '<Category>_<i>' to derive them",
            path=path,
        )
    ids: list[str] = []
    cats: list[str] = []
    for i, tid in enumerate(df["source_task_id"].tolist()):
        try:
            category, index = parse_task_id(str(tid))
        except ValueError as exc:
            raise InputError(
                f"cannot derive scenario_id/category: {exc}",
                path=path,
                location=f"record {i + 1}",
                field="source_task_id",
            ) from exc
        ids.append(scenario_id(category, index))
        cats.append(category)
    df = df.copy()
    if need_id:
        df["scenario_id"] = ids
    if need_cat:
        df["category"] = cats
    return df


def _refusal_to_engagement(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    if "refusal" not in df.columns:
        return df
    flags = validate_bool(df["refusal"], path)
    df = df.drop(columns=["refusal"])
    if "engagement" not in df.columns:
        df["engagement"] = flags.map({True: "refusal", False: "engaged"}).astype("string")
    return df


_TRUE: Final = frozenset({"true", "1", "yes", "t"})
_FALSE: Final = frozenset({"false", "0", "no", "f"})


def validate_bool(values: pd.Series, path: Path) -> pd.Series:
    """Read a true/false column (bool, 0/1 or text); errors name the record."""
    out: list[bool | None] = []
    for i, v in enumerate(values.tolist()):
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            out.append(None)
        elif isinstance(v, bool):
            out.append(v)
        elif isinstance(v, int | float) and v in (0, 1):
            out.append(bool(v))
        elif isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
            out.append(v.strip().lower() in _TRUE)
        else:
            raise InputError(
                f"expected true/false, got {v!r}",
                path=path,
                location=f"record {i + 1}",
                field="refusal",
            )
    return pd.Series(out, index=values.index, dtype="boolean")


def import_table(
    paths: list[Path],
    *,
    study: str | None = None,
    model: str | None = None,
    mapping: Mapping[str, str] | str | None = None,
) -> pd.DataFrame:
    """Import generic CSV / JSONL / Parquet result tables as one validated records table.

    Args:
        paths: Table files (``.csv``, ``.jsonl``, ``.parquet``).
        study: Study name for files without a ``study`` column (default: the file stem).
        model: Model id for files without a ``model`` column (default: ``"unknown"``).
        mapping: ``{records_column: file_column}`` or ``"response=answer,..."``.
    """
    cols = parse_mapping(mapping) if isinstance(mapping, str) or mapping is None else dict(mapping)
    frames: list[pd.DataFrame] = []
    for raw in paths:
        p = Path(raw)
        df = read_table(p)
        if df.empty:
            raise InputError("the file holds no rows", path=p)
        absent = [src for src in cols.values() if src not in df.columns]
        if absent:
            raise InputError(
                f"mapped column(s) {', '.join(map(repr, absent))} not in the file "
                f"(its columns: {', '.join(map(str, df.columns))})",
                path=p,
            )
        renamed = {src: dst for dst, src in cols.items()}
        # A mapped target replaces a same-named column the file already had.
        clash = [dst for dst in cols if dst in df.columns and dst not in renamed]
        df = df.drop(columns=clash).rename(columns=renamed)
        if "study" not in df.columns:
            df["study"] = study if study is not None else p.stem
        elif study is not None:
            df["study"] = study
        if "model" not in df.columns:
            df["model"] = model if model is not None else DEFAULT_MODEL
        elif model is not None:
            df["model"] = model
        if "epoch" not in df.columns:
            df["epoch"] = DEFAULT_EPOCH
        if "judge" not in df.columns:
            df["judge"] = DEFAULT_JUDGE
        if "response_status" not in df.columns:
            if "response" in df.columns:
                df["response_status"] = df["response"].map(
                    lambda v: "missing" if v is None or v is pd.NA or v != v else "ok"
                )
            else:
                df["response_status"] = "missing"
        df = _derive_from_task_ids(df, p)
        df = _refusal_to_engagement(df, p)
        frames.append(validate(df, source=str(p)))
    if not frames:
        raise InputError("no files to import")
    if len(frames) == 1:
        return frames[0]
    _check_cross_file_duplicates(frames, [Path(p) for p in paths])
    return concat_records(frames)


def _check_cross_file_duplicates(frames: list[pd.DataFrame], paths: list[Path]) -> None:
    """Name the file and record of a key that an earlier file already holds."""
    first: dict[tuple[object, ...], str] = {}
    for frame, path in zip(frames, paths, strict=True):
        for i, key in enumerate(frame[list(KEY)].itertuples(index=False, name=None)):
            if key in first:
                shown = ", ".join(f"{k}={v!r}" for k, v in zip(KEY, key, strict=True))
                raise InputError(
                    f"duplicate row for ({shown}); first in {first[key]}",
                    path=path,
                    location=f"record {i + 1}",
                )
        for i, key in enumerate(frame[list(KEY)].itertuples(index=False, name=None)):
            first.setdefault(key, f"{path} record {i + 1}")


__all__ = ["DEFAULT_EPOCH", "DEFAULT_JUDGE", "DEFAULT_MODEL", "import_table", "parse_mapping"]
