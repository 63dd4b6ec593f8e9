"""CSV that survives any text and cannot run in a spreadsheet.

Model responses are untrusted text. Two things go wrong when they land in a CSV:

- **Row breaks.** Python's CSV writer quotes a field only for the characters of its line
  terminator; with pandas' default ``\\n`` a bare ``\\r`` is written unquoted, and every CSV
  reader (pandas included) then sees two rows. Writing RFC 4180 line ends (``\\r\\n``) makes the
  writer quote any field holding ``\\r`` or ``\\n``, so text with quotes, line breaks or NUL
  round-trips.
- **Formula injection.** Spreadsheets evaluate a cell that begins with ``=``, ``+``, ``-`` or
  ``@`` (also tab and carriage return, and the full-width forms of the four). Every text cell we
  write that begins with one of these, or with the apostrophe itself, gets a leading apostrophe
  (OWASP "CSV injection"); a spreadsheet shows the text, not a result.

The apostrophe is undone when deconfound reads its own CSVs (:func:`restore_text`): a cell
starting with an apostrophe followed by a trigger character or a second apostrophe loses the
first one. Because the apostrophe itself is escaped on writing, the mapping is one-to-one and the
round trip is exact. Numeric columns are never touched (``-0.05`` stays a number).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Final

import pandas as pd

#: First characters a spreadsheet may evaluate as a formula.
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_ESCAPE: Final = "'"
_NEEDS_ESCAPE: Final = (*FORMULA_TRIGGERS, _ESCAPE)
#: RFC 4180 record separator; also makes the writer quote fields holding a bare ``\r``.
LINE_TERMINATOR: Final = "\r\n"


def neutralise_text(value: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would evaluate (or that starts with one)."""
    return _ESCAPE + value if value.startswith(_NEEDS_ESCAPE) else value


def restore_text(value: str) -> str:
    """Undo :func:`neutralise_text` (exactly; other text is returned unchanged)."""
    if value.startswith(_ESCAPE) and value[1:].startswith(_NEEDS_ESCAPE):
        return value[1:]
    return value


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series.dtype) or series.dtype == object


def _starts(col: pd.Series, prefixes: tuple[str, ...]) -> pd.Series:
    """Which cells are text starting with one of ``prefixes`` (False for non-text cells)."""
    try:
        hit = col.str.startswith(prefixes, na=False)
    except AttributeError:  # an object column without text (e.g. all booleans)
        hit = None
    if hit is None or hit.dtype != bool:  # mixed objects: test cell by cell
        return col.map(lambda v: isinstance(v, str) and v.startswith(prefixes)).astype(bool)
    return hit.astype(bool)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell neutralised; numbers, booleans and nulls unchanged."""
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if _is_text(col):
            hit = _starts(col, _NEEDS_ESCAPE)
            if hit.any():
                out[name] = col.astype(object).where(~hit, _ESCAPE + col[hit].astype(str))
    return out


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`neutralise_frame` on a frame read with every column as text."""
    out = frame.copy()
    escaped = tuple(_ESCAPE + c for c in _NEEDS_ESCAPE)
    for name in out.columns:
        col = out[name]
        if _is_text(col):
            hit = _starts(col, escaped)
            if hit.any():
                out[name] = col.astype(object).where(~hit, col[hit].astype(str).str[1:])
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as RFC 4180 CSV (UTF-8, ``\\r\\n``) with formula cells neutralised."""
    neutralise_frame(frame).to_csv(
        path,
        index=False,
        lineterminator=LINE_TERMINATOR,
        quoting=csv.QUOTE_MINIMAL,
        encoding="utf-8",
    )
