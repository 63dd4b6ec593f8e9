"""Reading and writing the records table as Parquet, CSV or JSON Lines, without loss.

Writes are atomic (a temporary file beside the target, then a rename) so an error never leaves a
half-written file or destroys the previous one. CSV is RFC 4180 with spreadsheet formulas
neutralised (``deconfound.records.csv_safe``); reading undoes the neutralisation exactly.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from deconfound.errors import InputError, not_a_file
from deconfound.jsonl import iter_jsonl
from deconfound.locking import LockHolder, file_lock, lock_path_beside
from deconfound.records.csv_safe import restore_frame, write_csv
from deconfound.records.schema import COLUMN_BY_NAME, merge_judged, validate
from deconfound.scratch import scratch_prefix, sweep_stale

FORMATS = ("parquet", "csv", "jsonl")


def format_of(path: str | Path) -> str:
    """The table format implied by a file name (``.parquet``, ``.csv``, ``.jsonl``/``.json``)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {
        "pq": "parquet",
        "parquet": "parquet",
        "csv": "csv",
        "jsonl": "jsonl",
        "ndjson": "jsonl",
    }.get(suffix)
    if fmt is None:
        raise InputError(
            "unknown table format; use a .parquet, .csv or .jsonl file name", path=path
        )
    return fmt


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target)  # scratch a killed writer left behind
    fd, tmp = tempfile.mkstemp(prefix=scratch_prefix(target), suffix=".tmp", dir=target.parent)
    os.close(fd)
    # mkstemp creates 0600; give the final file the mode an ordinary open() would (umask applied).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write text atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _jsonable(v: object) -> object:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and pd.isna(v):
        return None
    if hasattr(v, "item"):
        return v.item()  # numpy scalar
    return v


def _write_jsonl(df: pd.DataFrame, path: Path) -> None:
    cols = list(df.columns)
    with path.open("w", encoding="utf-8") as fh:
        for row in df.itertuples(index=False, name=None):
            rec = {c: _jsonable(v) for c, v in zip(cols, row, strict=True)}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> pd.DataFrame:
    text = path.read_text(encoding="utf-8")
    return pd.DataFrame([obj for _, obj in iter_jsonl(text, path)])


def _read_csv(path: Path) -> pd.DataFrame:
    # Read everything as text; the schema casts. Empty fields are null. Cells we neutralised
    # against spreadsheet formulas on writing get their text back (see csv_safe).
    df = restore_frame(pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]))
    # An ok response that was empty text round-trips as null in CSV: restore it.
    if {"response", "response_status"} <= set(df.columns):
        empty_ok = df["response"].isna() & (df["response_status"] == "ok")
        df.loc[empty_ok, "response"] = ""
    return df


def _read_parquet(path: Path) -> pd.DataFrame:
    # One open file handle for the whole read: given a path, pyarrow may stat and open the file
    # separately, and a writer's atomic replace in between mixes two files' bytes ("Invalid column
    # metadata", "Page was smaller than expected"). An open handle keeps reading the old file.
    with path.open("rb") as fh:
        return pd.read_parquet(fh)


_READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    "parquet": _read_parquet,
    "csv": _read_csv,
    "jsonl": _read_jsonl,
}


def read_records(path: str | Path) -> pd.DataFrame:
    """Read and validate a records table; errors name the file, record and field."""
    p = Path(path)
    if not p.is_file():
        expected = "a records table (.parquet, .csv or .jsonl)"
        if (p / "records.parquet").is_file():  # a run's log directory
            expected += f"; this folder holds {p / 'records.parquet'}"
        raise not_a_file(p, expected)
    fmt = format_of(p)
    try:
        df = _READERS[fmt](p)
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=p) from exc
    except Exception as exc:  # parser errors from pandas/pyarrow
        raise InputError(f"cannot read {fmt} table: {exc}", path=p) from exc
    return validate(df, source=str(p))


def write_records(df: pd.DataFrame, path: str | Path) -> Path:
    """Validate and write a records table atomically; the format follows the file name."""
    p = Path(path)
    fmt = format_of(p)
    df = validate(df, source=str(p))
    with atomic_path(p) as tmp:
        if fmt == "parquet":
            df.to_parquet(tmp, index=False)
        elif fmt == "csv":
            out = df.copy()
            for name in out.columns:
                col = COLUMN_BY_NAME.get(name)
                if col is not None and col.kind == "bool":
                    out[name] = out[name].map({True: "true", False: "false"}).astype("string")
            write_csv(out, tmp)
        else:
            _write_jsonl(df, tmp)
    return p


def fingerprint(path: str | Path) -> str | None:
    """SHA-256 of a file's bytes (None when it does not exist), to notice a concurrent write."""
    p = Path(path)
    if not p.is_file():
        return None
    h = hashlib.sha256()
    with p.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_merged(
    df: pd.DataFrame,
    path: str | Path,
    judges: Iterable[str],
    *,
    seen: str | None,
    wait: float = 600.0,
    on_wait: Callable[[LockHolder | None], None] | None = None,
) -> tuple[int, bool]:
    """Write a judged table under the lock beside ``path``, merging a concurrent writer's rows.

    Args:
        df: The table to write.
        path: The output table.
        judges: Judge ids whose rows ``df`` brings (see :func:`merge_judged`).
        seen: :func:`fingerprint` of ``path`` before its contents were read (None: absent).
            If the file changed since, someone else wrote it: their rows are merged in.
        wait: Seconds to wait for another writer before giving up (exit 1, nothing written).
        on_wait: Told who holds the lock when we start waiting.

    Returns:
        Rows written, and whether a concurrent write was merged.
    """
    p = Path(path)
    with file_lock(
        lock_path_beside(p),
        what=f"records table {p}",
        wait=wait,
        on_wait=on_wait,
        advice="run again when it has finished (judgments are cached)",
    ):
        merged = p.exists() and fingerprint(p) != seen
        if merged:
            df = merge_judged(read_records(p), df, judges)
        write_records(df, p)
    return len(df), merged
