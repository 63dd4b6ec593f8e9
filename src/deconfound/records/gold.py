"""Gold labels: a human-labelled CSV of responses, read strictly and matched to a records table.

Gold labels are the reference judges are calibrated against (``deconfound calibrate``). Every
problem is an input error naming the file, the line and the column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any, Final

import pandas as pd

from deconfound.errors import InputError, not_a_file
from deconfound.records.csv_safe import restore_frame
from deconfound.records.labelkey import resolve_items
from deconfound.records.labels import ENGAGEMENT_VALID
from deconfound.records.schema import RESPONSE_KEY

_TRUE: Final = frozenset({"true", "1", "yes", "t"})
_FALSE: Final = frozenset({"false", "0", "no", "f"})
_SHA256: Final = re.compile(r"[0-9a-f]{64}")


def _cell(rec: Mapping[Hashable, Any], col: str, *, lower: bool = False) -> str:
    """A cell as stripped text, empty when the column is absent or blank."""
    text = str(rec.get(col, "") or "").strip()
    return text.lower() if lower else text


def _gold_row(
    rec: Mapping[Hashable, Any], columns: set[str], path: Path, line: str
) -> dict[str, Any]:
    """One CSV row checked and typed; every error names the file, ``line`` and the column."""

    def bad(message: str, field: str) -> InputError:
        return InputError(message, path=path, location=line, field=field)

    row: dict[str, Any] = {}
    for col in ("scenario_id", "condition"):
        if not (v := _cell(rec, col)):
            raise bad("value is required", col)
        row[col] = v
    ep = _cell(rec, "epoch") or "1"
    try:
        row["epoch"] = int(ep)
    except ValueError as exc:
        raise bad(f"expected a whole number, got {ep!r}", "epoch") from exc
    for col in ("model", "study"):
        row[col] = _cell(rec, col) or None
    eng = _cell(rec, "engagement", lower=True)
    if eng == "missing":
        eng = ""  # no answer was there to label (the reference corpus marks empty answers so)
    if eng and eng not in ENGAGEMENT_VALID:
        raise bad(f"{eng!r} is not one of {', '.join(ENGAGEMENT_VALID)}", "engagement")
    row["gold_engagement"] = eng or None

    def boolean(col: str) -> bool | None:
        text = _cell(rec, col, lower=True)
        if text and text not in _TRUE | _FALSE:
            raise bad(f"expected true/false, got {text!r}", col)
        return None if not text else text in _TRUE

    row["gold_ic"] = boolean("ic")
    if "in_role" in columns:
        row["gold_in_role"] = boolean("in_role")
    if prob := _cell(rec, "inclusion_probability"):
        try:
            row["inclusion_probability"] = float(prob)
        except ValueError:
            row["inclusion_probability"] = math.nan
        if not 0 < row["inclusion_probability"] <= 1:
            raise bad(f"expected a number in (0, 1], got {prob!r}", "inclusion_probability")
    elif "inclusion_probability" in columns:
        row["inclusion_probability"] = 1.0
    if "stratum" in columns:
        row["stratum"] = _cell(rec, "stratum") or None
    if "response_sha256" in columns:
        digest = _cell(rec, "response_sha256", lower=True)
        if digest and not _SHA256.fullmatch(digest):
            raise bad(f"expected 64 hex digits, got {digest!r}", "response_sha256")
        row["response_sha256"] = digest or None
    return row


def read_gold(path: Path, key: Path | None = None) -> pd.DataFrame:
    """Read and check a gold-label CSV; errors name the file, line and column.

    Columns: scenario_id, condition, epoch (optional, default 1), model and study (optional),
    and gold labels ``engagement`` (refusal/partial/engaged) and/or ``ic`` (true/false); a blank
    label means "not labelled", and so does engagement ``missing`` (the answer was empty).
    Optional ``response_sha256``: the digest of the text that was labelled, so a label is never
    applied to a different text that shares its key. Optional ``in_role`` (true/false) on
    refusals and partials gives the narrow refusal construct gold labels too
    (docs/codebook.md). Optional ``inclusion_probability`` (in (0, 1]) and ``stratum`` describe a
    stratified gold sample. A labelling-page export (or label sheet) names items by
    ``item`` key instead; the key file (``key``, or the one it names) maps them back.
    """
    if not path.is_file():
        raise not_a_file(path, "a gold-label CSV")
    try:
        # a gold file may start from our disagreements CSV: undo its formula neutralisation
        raw = restore_frame(pd.read_csv(path, dtype=str, keep_default_na=False))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=path) from exc
    except Exception as exc:
        raise InputError(f"cannot read CSV: {exc}", path=path) from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    if "item" in raw.columns and "scenario_id" not in raw.columns:
        raw = resolve_items(raw, path, key)
    for col in ("scenario_id", "condition"):
        if col not in raw.columns:
            raise InputError(f"missing required column {col!r}", path=path, location="line 1")
    if not {"engagement", "ic"} & set(raw.columns):
        raise InputError(
            "no gold label column: add 'engagement' and/or 'ic'", path=path, location="line 1"
        )
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
    columns = set(raw.columns)
    for i, rec in enumerate(raw.to_dict("records")):
        line = f"line {i + 2}"
        row = _gold_row(rec, columns, path, line)
        ident = (row["study"], row["model"], row["scenario_id"], row["condition"], row["epoch"])
        if ident in seen:
            raise InputError(
                f"duplicate gold row (same as line {seen[ident]})", path=path, location=line
            )
        seen[ident] = i + 2
        row["line"] = i + 2
        rows.append(row)
    if not rows:
        raise InputError("no gold rows", path=path)
    return pd.DataFrame(rows)


def ignore_rows(
    gold: pd.DataFrame, unwanted: pd.Series, column: str, what: str, notices: list[str]
) -> pd.DataFrame:
    """Drop the gold rows ``unwanted`` marks; a notice says how many and which ``column``
    values they named ("3 gold row(s) for {what} ignored: a, b")."""
    n = int(unwanted.sum())
    if n:
        names = ", ".join(sorted(set(gold.loc[unwanted, column].astype(str))))
        notices.append(f"{n} gold row(s) for {what} ignored: {names}")
    return gold[~unwanted]


def match_gold(
    gold: pd.DataFrame, df: pd.DataFrame, gold_path: Path
) -> tuple[pd.DataFrame, list[str]]:
    """Attach each gold row to exactly one response (study, model) of the records table.

    Rows whose ``study`` or ``model`` names one the records do not hold are ignored, with a
    notice (one gold file may label several studies: the reference corpus holds twelve models).
    Errors name the gold file and line: no matching response, or responses of several
    study/model pairs (add ``model`` and ``study`` columns to choose), or no row left at all.
    """
    notices: list[str] = []
    for col in ("model", "study"):
        other = gold[col].notna() & ~gold[col].astype(str).isin(set(df[col].astype(str)))
        gold = ignore_rows(gold, other, col, f"a {col} the records do not hold", notices)
    if not len(gold):
        raise InputError(
            "no gold row is for a model and study of the records: " + "; ".join(notices),
            path=gold_path,
        )
    responses = df.drop_duplicates(list(RESPONSE_KEY))[list(RESPONSE_KEY)].copy()
    responses["epoch"] = responses["epoch"].astype(int)
    for col in ("study", "model", "scenario_id", "condition"):
        responses[col] = responses[col].astype(str)
    index: dict[tuple[str, str, int], list[tuple[str, str]]] = {}
    for st, mo, sc, co, ep in zip(
        responses["study"].tolist(),
        responses["model"].tolist(),
        responses["scenario_id"].tolist(),
        responses["condition"].tolist(),
        responses["epoch"].tolist(),
        strict=True,
    ):
        index.setdefault((str(sc), str(co), int(ep)), []).append((str(st), str(mo)))
    matched: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in gold.to_dict("records")
    ]
    for rec in records:
        cands = index.get((rec["scenario_id"], rec["condition"], rec["epoch"]), [])
        cands = [
            c
            for c in cands
            if (rec["study"] is None or c[0] == rec["study"])
            and (rec["model"] is None or c[1] == rec["model"])
        ]
        line = f"line {rec['line']}"
        if not cands:
            raise InputError(
                f"no response in the records for scenario {rec['scenario_id']!r}, condition "
                f"{rec['condition']!r}, epoch {rec['epoch']}",
                path=gold_path,
                location=line,
            )
        if len(cands) > 1:
            raise InputError(
                f"matches responses of {len(cands)} study/model pairs "
                f"({', '.join(f'{s}/{m}' for s, m in cands)}); add 'model' (and 'study') columns",
                path=gold_path,
                location=line,
            )
        matched.append({**rec, "study": cands[0][0], "model": cands[0][1]})
    return pd.DataFrame(matched), notices
