"""The records table: one row per response per judge.

Long format (see docs/architecture.md): the response fields repeat per judge so several judges sit
side by side without new columns. Every stage writes or reads this table, so its schema is checked
at every boundary and bad input is reported with the record and field at fault.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from deconfound.errors import InputError
from deconfound.records.labels import (
    BENCHMARK_DECISION,
    ENGAGEMENT,
    IN_ROLE_DEFINED,
    REASONING_FLAGS,
    REFUSAL_KIND,
    RESPONSE_STATUS,
)

Kind = Literal["str", "int", "bool", "float"]


@dataclass(frozen=True)
class Column:
    """One column of the records table.

    Args:
        name: Column name.
        kind: Logical type; stored with pandas' nullable dtypes.
        required: Must be present and non-null in every row.
        allowed: The closed vocabulary of a label column.
        doc: What the column means (rendered in docs/records.md).
        default: Value filled in where the column is absent or null (never for labels).
        low: Smallest allowed value of a numeric column.
        high: Largest allowed value of a numeric column.
    """

    name: str
    kind: Kind
    required: bool = False
    allowed: tuple[str, ...] | None = None
    doc: str = ""
    default: bool | None = None
    low: float | None = None
    high: float | None = None


COLUMNS: Final[tuple[Column, ...]] = (
    Column("study", "str", True, doc="study name (a run, or an imported result set)"),
    Column("model", "str", True, doc="subject model id, e.g. anthropic/claude-sonnet-4-5"),
    Column("condition", "str", True, doc="condition name exactly as run or published"),
    Column("scenario_id", "str", True, doc="stable scenario id, e.g. evading-shutdown-09"),
    Column("source_task_id", "str", doc="id in the source files, e.g. 'Evading Shutdown_9'"),
    Column("category", "str", True, doc="scenario category"),
    Column(
        "epoch",
        "int",
        True,
        doc="1-based sample index within (model, condition, scenario)",
        low=1,
        high=2**31 - 1,
    ),
    Column("prompt", "str", doc="the scenario prompt the model saw"),
    Column("response", "str", doc="the model's response text; null when missing or errored"),
    Column("response_status", "str", True, RESPONSE_STATUS, "ok / missing / error"),
    Column("smoke_model", "bool", doc="true for plumbing-only local smoke models", default=False),
    Column("judge", "str", True, doc="judge id: aei-keyword, aei-judge, lexical, rubric:<model>"),
    Column("judge_version", "str", doc="rubric or judge version, part of the cache key"),
    Column(
        "engagement",
        "str",
        False,
        ENGAGEMENT,
        "refusal / partial / engaged / invalid / "
        "unscored / missing; null when this judge does not label engagement",
    ),
    Column("ic", "bool", doc="instrumental convergence shown (partial or engaged responses)"),
    Column("ic_evidence", "str", doc="quoted span supporting the IC label"),
    Column(
        "benchmark_decision",
        "str",
        False,
        BENCHMARK_DECISION,
        "the benchmark's own convergence / no_convergence decision (or invalid / error)",
    ),
    Column("refusal_kind", "str", False, REFUSAL_KIND, "for refusals and partials"),
    Column(
        "in_role",
        "bool",
        doc="refusals and partials only: declined inside the scenario's role (true) or stepped "
        "out of it (false, the narrow construct's refusal); see docs/codebook.md",
    ),
    *(Column(flag, "bool", doc="reasoning flag") for flag in REASONING_FLAGS),
    Column(
        "confidence",
        "float",
        doc="judge's confidence in [0, 1] where it reports one",
        low=0.0,
        high=1.0,
    ),
    Column("judge_explanation", "str", doc="the judge's stated reason"),
    Column("judge_raw", "str", doc="raw judge output, kept for audit"),
)

COLUMN_BY_NAME: Final = {c.name: c for c in COLUMNS}
COLUMN_NAMES: Final = tuple(c.name for c in COLUMNS)
#: One row per response per judge.
KEY: Final = ("study", "model", "condition", "scenario_id", "epoch", "judge")
#: One response (the unit judges label).
RESPONSE_KEY: Final = ("study", "model", "condition", "scenario_id", "epoch")
#: Text columns where an empty string carries no information and is stored as null.
_BLANK_IS_NULL: Final = frozenset(
    c.name for c in COLUMNS if c.kind == "str" and c.name not in {"response", "prompt"}
)

_DTYPES: Final[dict[Kind, str]] = {
    "str": "string",
    "int": "Int64",
    "bool": "boolean",
    "float": "Float64",
}
_TRUE: Final = frozenset({"true", "1", "yes", "t"})
_FALSE: Final = frozenset({"false", "0", "no", "f"})


def empty_records() -> pd.DataFrame:
    """An empty records table with every column and dtype in place."""
    return pd.DataFrame({c.name: pd.Series(dtype=_DTYPES[c.kind]) for c in COLUMNS})


def _record(i: int) -> str:
    return f"record {i + 1}"


def _reject_first(
    bad: pd.Series,
    values: pd.Series,
    source: str | None,
    field: str,
    message: str,
    show: Callable[[Any], str] = repr,
) -> None:
    """Raise an input error at the first flagged row, naming its record number and the field;
    ``{value}`` in ``message`` is that row's value as ``show`` writes it."""
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(
            message.format(value=show(values.iloc[i])),
            path=source,
            location=_record(i),
            field=field,
        )


def _cast_bool(values: pd.Series, name: str, source: str | None) -> pd.Series:
    # Fast paths: already boolean, or an object column of bools and nulls.
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    if pd.api.types.infer_dtype(values, skipna=True) in {"boolean", "empty"}:
        return values.astype("boolean")
    out: list[bool | None] = []
    for i, v in enumerate(values.tolist()):
        if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
            out.append(None)
        elif isinstance(v, bool):
            out.append(v)
        elif isinstance(v, int | float) and v in (0, 1):
            out.append(bool(v))
        elif isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE | {""}:
            s = v.strip().lower()
            out.append(None if s == "" else s in _TRUE)
        else:
            raise InputError(
                f"expected true/false, got {v!r}", path=source, location=_record(i), field=name
            )
    return pd.Series(out, index=values.index, dtype="boolean")


def _check_range(values: pd.Series, numeric: pd.Series, col: Column, source: str | None) -> None:
    """Reject infinities, and values outside the column's [low, high], naming the record."""
    x = numeric.astype("float64")
    bad = x.notna() & ~np.isfinite(x.fillna(0.0))
    what = "a finite number"
    if col.low is not None or col.high is not None:
        low = -np.inf if col.low is None else col.low
        high = np.inf if col.high is None else col.high
        bad |= x.notna() & ((x < low) | (x > high))
        whole = col.kind == "int"
        if col.high is None or (whole and col.high >= 2**31 - 1):
            what = f"a {'whole ' if whole else ''}number of at least {col.low:g}"
        else:
            what = f"a number in [{low:g}, {high:g}]"
    _reject_first(bad, values, source, col.name, f"expected {what}, got {{value}}")


def _check_unicode(values: pd.Series, name: str, source: str | None) -> None:
    """Reject lone surrogates (e.g. JSON ``"\\ud83d"``): no UTF-8 file can hold them."""
    texts = [v for v in values.tolist() if isinstance(v, str)]
    try:
        "".join(texts).encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        return
    for i, v in enumerate(values.tolist()):
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InputError(
                    f"text holds a lone surrogate {v[exc.start]!r} at character {exc.start}, "
                    "which is not valid Unicode; fix the producer or replace it (e.g. with "
                    "U+FFFD) before importing",
                    path=source,
                    location=_record(i),
                    field=name,
                ) from None


def _cast(values: pd.Series, col: Column, source: str | None) -> pd.Series:
    if col.kind == "bool":
        return _cast_bool(values, col.name, source)
    if col.kind == "str":
        if not pd.api.types.is_string_dtype(values.dtype) or pd.api.types.infer_dtype(
            values, skipna=True
        ) not in {"string", "empty"}:
            bad = values.map(
                lambda v: (
                    not (
                        v is None
                        or v is pd.NA
                        or isinstance(v, str)
                        or (isinstance(v, float) and pd.isna(v))
                    )
                )
            )
            _reject_first(bad, values, source, col.name, "expected text, got {value}")
        _check_unicode(values, col.name, source)
        out = values.astype("string")
        if col.name in _BLANK_IS_NULL:
            out = out.mask(out == "")
        return out
    numeric = pd.to_numeric(values, errors="coerce")
    bad = numeric.isna() & values.notna() & (values.astype("string") != "")
    _reject_first(bad, values, source, col.name, "expected a number, got {value}")
    _check_range(values, numeric, col, source)
    if col.kind == "int":
        frac = numeric.notna() & (numeric != numeric.round())
        _reject_first(frac, values, source, col.name, "expected a whole number, got {value}")
        return numeric.astype("Int64")
    return numeric.astype("Float64")


def validate(df: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Check and normalise a records table; return a new frame in the canonical column order.

    Missing optional columns are added as null; extra columns are kept after the schema columns.
    Raises :class:`InputError` naming the record (1-based row) and field for a missing required
    column, a null required value, a value of the wrong type, a label outside its vocabulary, or a
    duplicate (study, model, condition, scenario_id, epoch, judge) key.
    """
    missing = [c.name for c in COLUMNS if c.required and c.name not in df.columns]
    if missing:
        raise InputError(
            f"missing required column(s) {', '.join(missing)}; a records table needs "
            f"{', '.join(c.name for c in COLUMNS if c.required)}",
            path=source,
        )
    df = df.reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    for col in COLUMNS:
        if col.name not in df.columns:
            fill = pd.NA if col.default is None else col.default
            out[col.name] = pd.Series(fill, index=df.index, dtype=_DTYPES[col.kind])
            continue
        series = _cast(df[col.name], col, source)
        if col.default is not None:
            series = series.fillna(col.default)
        if col.required and series.isna().any():
            i = int(series.isna().to_numpy().nonzero()[0][0])
            raise InputError("value is required", path=source, location=_record(i), field=col.name)
        if col.allowed is not None:
            bad = series.notna() & ~series.isin(col.allowed)
            allowed = ", ".join(col.allowed)
            _reject_first(bad, series, source, col.name, "{value} is not one of " + allowed)
        out[col.name] = series
    result = pd.DataFrame(out)
    _check_in_role(result, source)
    for extra in df.columns:
        if extra not in COLUMN_BY_NAME:
            if df[extra].dtype == object or pd.api.types.is_string_dtype(df[extra].dtype):
                _check_unicode(df[extra], str(extra), source)
            result[extra] = df[extra]
    dup = result.duplicated(list(KEY), keep="first")
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        key = ", ".join(f"{k}={result[k].iloc[i]!r}" for k in KEY)
        raise InputError(f"duplicate row for ({key})", path=source, location=_record(i))
    return result


def _check_in_role(df: pd.DataFrame, source: str | None) -> None:
    """``in_role`` only on refusals and partials: elsewhere it has no meaning under the codebook,
    and a value there would silently move a response between the broad and narrow constructs."""
    bad = df["in_role"].notna() & ~df["engagement"].isin(IN_ROLE_DEFINED).fillna(False)
    _reject_first(
        bad,
        df["engagement"],
        source,
        "in_role",
        "in_role is defined only for refusal or partial rows; this row's engagement is {value} "
        "(leave in_role empty)",
        show=lambda e: "null" if pd.isna(e) else repr(e),
    )


def concat_records(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Stack validated tables (e.g. several judges' labels) and re-validate the keys."""
    parts = [f for f in frames if len(f)]
    if not parts:
        return empty_records()
    return validate(pd.concat(parts, ignore_index=True))


def merge_judged(current: pd.DataFrame, ours: pd.DataFrame, judges: Iterable[str]) -> pd.DataFrame:
    """Merge a freshly judged table into what another writer left in the same file.

    Rows of ``judges`` come from ``ours`` (they replace ``current``'s rows of those judges); every
    other row of either table is kept, ``current``'s version first. Nothing either writer added
    is lost.
    """
    names = set(judges)
    mine = ours["judge"].isin(names)
    merged = pd.concat(
        [current[~current["judge"].isin(names)], ours[mine], ours[~mine]], ignore_index=True
    )
    return validate(merged.drop_duplicates(list(KEY), keep="first"))
