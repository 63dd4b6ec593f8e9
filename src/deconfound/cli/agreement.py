"""CLI verbs ``agreement`` and ``calibrate``: how far judges agree, and how wrong each one is.

``agreement`` compares every pair of judges in a records table, per label and per condition,
because a judge can err differently across conditions (an ethics prompt changes response style).
``calibrate`` measures each judge's sensitivity and specificity against a human-labelled set, the
input ``analyze --calibration`` uses for Rogan–Gladen correction.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from deconfound.cli._app import app, console, err_console, user_errors
from deconfound.errors import InputError, not_a_file
from deconfound.records import read_records
from deconfound.records.csv_safe import restore_frame, write_csv
from deconfound.records.io import atomic_path, atomic_write_text
from deconfound.records.labelkey import resolve_items
from deconfound.records.labels import ENGAGEMENT_VALID
from deconfound.records.schema import RESPONSE_KEY
from deconfound.stats.agreement import (
    AgreementResult,
    agreement,
    krippendorff_alpha,
    prevalence,
    sensitivity_specificity,
)


@dataclass(frozen=True)
class LabelView:
    """One way of reading a label column for agreement.

    Args:
        name: View name used on the command line and in outputs.
        column: Records column it reads.
        categories: The categories of the view, in display order.
        mapping: Maps a raw value to a category, or None when the value carries no label.
        derive: Builds the view's values from the whole table, for a view that reads more than
            one column (``column`` then only names it in outputs).
    """

    name: str
    column: str
    categories: tuple[str, ...]
    mapping: Callable[[Any], str | None]
    derive: Callable[[pd.DataFrame], pd.Series] | None = None


def _engagement(v: Any) -> str | None:
    return v if isinstance(v, str) and v in ENGAGEMENT_VALID else None


def _bool_view(true: str, false: str) -> Callable[[Any], str | None]:
    def f(v: Any) -> str | None:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return None
        return true if bool(v) else false

    return f


def _from_engagement(table: dict[str, str]) -> Callable[[Any], str | None]:
    def f(v: Any) -> str | None:
        e = _engagement(v)
        return None if e is None else table[e]

    return f


def _narrow_refusal(df: pd.DataFrame) -> pd.Series:
    """Refusal under the codebook's narrow construct: a refusal or partial that steps out of the
    role. A decline without an ``in_role`` label has no narrow label (None), never a guess."""
    out: list[str | None] = []
    for e, r in zip(df["engagement"].tolist(), df["in_role"].tolist(), strict=True):
        if e == "engaged":
            out.append("not_refusal")
        elif e in ("refusal", "partial") and isinstance(r, bool | np.bool_):
            out.append("not_refusal" if r else "refusal")
        else:
            out.append(None)
    return pd.Series(out, index=df.index, dtype=object)


def _decision(v: Any) -> str | None:
    return v if isinstance(v, str) and v in ("convergence", "no_convergence") else None


VIEWS: Final[dict[str, LabelView]] = {
    v.name: v
    for v in (
        LabelView("engagement", "engagement", ENGAGEMENT_VALID, _engagement),
        LabelView(
            "engagement-binary",
            "engagement",
            ("refusal", "not_refusal"),
            _from_engagement(
                {"refusal": "refusal", "partial": "not_refusal", "engaged": "not_refusal"}
            ),
        ),
        LabelView(
            "refusal-or-partial",
            "engagement",
            ("refusal_or_partial", "engaged"),
            _from_engagement(
                {
                    "refusal": "refusal_or_partial",
                    "partial": "refusal_or_partial",
                    "engaged": "engaged",
                }
            ),
        ),
        LabelView("ic", "ic", ("ic", "no_ic"), _bool_view("ic", "no_ic")),
        LabelView(
            "in_role", "in_role", ("in_role", "out_of_role"), _bool_view("in_role", "out_of_role")
        ),
        LabelView(
            "narrow-refusal",
            "narrow_refusal",
            ("refusal", "not_refusal"),
            lambda v: v if isinstance(v, str) else None,
            derive=_narrow_refusal,
        ),
        LabelView(
            "benchmark_decision",
            "benchmark_decision",
            ("convergence", "no_convergence"),
            _decision,
        ),
    )
}
ALL_GROUP: Final = "(all conditions)"


def _wide(df: pd.DataFrame, view: LabelView) -> pd.DataFrame:
    """One row per response, one column per judge, values mapped through the view."""
    mapped = df[[*RESPONSE_KEY, "judge"]].copy()
    raw = view.derive(df) if view.derive is not None else df[view.column].astype(object)
    mapped["value"] = [view.mapping(v) for v in raw.tolist()]
    mapped = mapped[mapped["value"].notna()]
    if mapped.empty:
        return pd.DataFrame()
    wide = mapped.pivot(index=list(RESPONSE_KEY), columns="judge", values="value")
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


def _cells(series: pd.Series) -> list[str | None]:
    return [None if pd.isna(v) else str(v) for v in series.tolist()]


def agreement_report(
    df: pd.DataFrame, labels: list[str], *, n_boot: int = 1000, seed: int = 0
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Pairwise agreement per label view and per condition, plus the disagreeing responses.

    Args:
        df: A validated records table (long format, one row per response per judge).
        labels: View names (keys of ``VIEWS``); views with fewer than two judges are skipped.
        n_boot: Scenario-cluster bootstrap resamples for kappa/AC1 intervals (0 = none).
        seed: Bootstrap seed.

    Returns:
        (report dict, disagreements frame). The report maps each view to its judges and, for
        all conditions together and for each condition, per-judge prevalence, Krippendorff's
        alpha over all judges, and every judge pair's :class:`AgreementResult` as a dict.
    """
    report: dict[str, Any] = {}
    disagreements: list[pd.DataFrame] = []
    for name in labels:
        view = VIEWS[name]
        wide = _wide(df, view)
        judges = [c for c in wide.columns if c not in RESPONSE_KEY]
        if len(judges) < 2:
            continue
        groups: dict[str, pd.DataFrame] = {ALL_GROUP: wide}
        for cond in sorted(wide["condition"].unique(), key=str):
            groups[str(cond)] = wide[wide["condition"] == cond]
        out_groups: dict[str, Any] = {}
        for gname, g in groups.items():
            values = {j: _cells(g[j]) for j in judges}
            pairs: dict[str, Any] = {}
            for ja, jb in itertools.combinations(judges, 2):
                res: AgreementResult = agreement(
                    values[ja],
                    values[jb],
                    categories=view.categories,
                    clusters=g["scenario_id"].astype(str).tolist(),
                    n_boot=n_boot,
                    seed=seed,
                )
                pairs[f"{ja} vs {jb}"] = {"judge_a": ja, "judge_b": jb, **res.to_dict()}
            units = [list(row) for row in zip(*values.values(), strict=True)]
            alpha = krippendorff_alpha(units, view.categories)
            out_groups[gname] = {
                "n_responses": len(g),
                "prevalence": {
                    j: {
                        k: (None if math.isnan(v) else round(v, 6))
                        for k, v in prevalence(values[j], view.categories).items()
                    }
                    for j in judges
                },
                "n_labelled": {j: sum(v is not None for v in values[j]) for j in judges},
                "krippendorff_alpha_all_judges": None if math.isnan(alpha) else round(alpha, 6),
                "pairs": pairs,
            }
        report[name] = {"column": view.column, "judges": judges, "groups": out_groups}
        labelled = wide[judges].notna().sum(axis=1) >= 2
        distinct = wide[judges].nunique(axis=1, dropna=True) > 1
        dis = wide[labelled & distinct].copy()
        if len(dis):
            dis.insert(0, "label", name)
            dis = dis.rename(columns={j: f"judge:{j}" for j in judges})
            disagreements.append(dis)
    frame = pd.concat(disagreements, ignore_index=True) if disagreements else pd.DataFrame()
    if len(frame):
        responses = df.drop_duplicates(list(RESPONSE_KEY))[[*RESPONSE_KEY, "response"]]
        frame = frame.merge(responses, on=list(RESPONSE_KEY), how="left")
        frame["response"] = frame["response"].astype("string").str.slice(0, 400)
    return report, frame


def _fmt(v: float | None, ci: list[float | None] | None = None) -> str:
    if v is None:
        return "-"
    s = f"{v:.2f}"
    if ci and ci[0] is not None and ci[1] is not None:
        s += f" [{ci[0]:.2f}, {ci[1]:.2f}]"
    return s


def _agreement_tables(name: str, rep: dict[str, Any]) -> list[Table]:
    first = VIEWS[name].categories[0]
    tables = []
    for gname, g in rep["groups"].items():
        table = Table(title=f"{name} | {escape(gname)}", title_justify="left")
        for col in ("pair", "n", "p_o", "kappa [95% CI]", "AC1 [95% CI]", "alpha", "PABAK"):
            table.add_column(col)
        table.add_column(f"% {first} A/B")
        for pname, p in g["pairs"].items():
            pa, pb = p["prevalence_a"].get(first), p["prevalence_b"].get(first)
            prev = "-" if pa is None or pb is None else f"{100 * pa:.0f}/{100 * pb:.0f}"
            table.add_row(
                escape(pname),
                str(p["n"]),
                _fmt(p["observed"]),
                _fmt(p["cohen_kappa"], p["kappa_ci"]),
                _fmt(p["gwet_ac1"], p["ac1_ci"]),
                _fmt(p["krippendorff_alpha"]),
                _fmt(p["pabak"]),
                prev,
            )
        tables.append(table)
    return tables


@app.command("agreement")
@user_errors
def agreement_cmd(
    records_path: Path = typer.Argument(..., help="Records table (.parquet, .csv or .jsonl)."),
    label: list[str] = typer.Option(
        [],
        "--label",
        "-l",
        help="Label view(s): " + ", ".join(VIEWS) + " (default: every view two judges share).",
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Write the full report as JSON."),
    disagreements_out: Path | None = typer.Option(
        None, "--disagreements", help="Write the responses on which judges disagree (CSV)."
    ),
    n_boot: int = typer.Option(
        1000, "--bootstrap", min=0, help="Scenario-cluster bootstrap resamples (0 = no CIs)."
    ),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
) -> None:
    """Agreement between judges: raw agreement, Cohen's kappa, Gwet's AC1, Krippendorff's
    alpha, PABAK and prevalence, per label view and per condition, for every judge pair."""
    for name in label:
        if name not in VIEWS:
            raise InputError(f"unknown label view {name!r}; use one of {', '.join(VIEWS)}")
    df = read_records(records_path)
    names = label or list(VIEWS)
    report, dis = agreement_report(df, names, n_boot=n_boot, seed=seed)
    if not report:
        judges = sorted(df["judge"].astype(str).unique())
        raise InputError(
            f"no label is given by two or more judges (judges: {', '.join(judges) or 'none'}); "
            "label the table with another judge first (deconfound judge)",
            path=records_path,
            field=",".join(names) if label else None,
        )
    missing = [n for n in label if n not in report]
    if missing:
        raise InputError(
            f"fewer than two judges label {', '.join(missing)}", path=records_path, field="label"
        )
    payload = {"records": str(records_path), "n_boot": n_boot, "labels": report}
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    if disagreements_out is not None:
        with atomic_path(disagreements_out) as tmp:
            write_csv(dis, tmp)  # RFC 4180, spreadsheet formulas neutralised
    for name, rep in report.items():
        for table in _agreement_tables(name, rep):
            console.print(table)
    console.print(f"{len(dis)} disagreeing response-label rows")


# --------------------------------------------------------------------------------------------
# calibrate
# --------------------------------------------------------------------------------------------

_GOLD_KEY: Final = ("scenario_id", "condition", "epoch")
_TRUE: Final = frozenset({"true", "1", "yes", "t"})
_FALSE: Final = frozenset({"false", "0", "no", "f"})


def read_gold(path: Path, key: Path | None = None) -> pd.DataFrame:
    """Read and check a gold-label CSV; errors name the file, line and column.

    Columns: scenario_id, condition, epoch (optional, default 1), model and study (optional),
    and gold labels ``engagement`` (refusal/partial/engaged) and/or ``ic`` (true/false); a blank
    label means "not labelled". Optional ``inclusion_probability`` (in (0, 1]) and ``stratum``
    describe a stratified gold sample. A labelling-page export (or label sheet) names items by
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
    for i, rec in enumerate(raw.to_dict("records")):
        line = f"line {i + 2}"
        row: dict[str, Any] = {}
        for col in ("scenario_id", "condition"):
            v = str(rec[col]).strip()
            if not v:
                raise InputError("value is required", path=path, location=line, field=col)
            row[col] = v
        ep = str(rec.get("epoch", "") or "").strip() or "1"
        try:
            row["epoch"] = int(ep)
        except ValueError as exc:
            raise InputError(
                f"expected a whole number, got {ep!r}", path=path, location=line, field="epoch"
            ) from exc
        for col in ("model", "study"):
            v = str(rec.get(col, "") or "").strip()
            row[col] = v or None
        eng = str(rec.get("engagement", "") or "").strip().lower()
        if eng and eng not in ENGAGEMENT_VALID:
            raise InputError(
                f"{eng!r} is not one of {', '.join(ENGAGEMENT_VALID)}",
                path=path,
                location=line,
                field="engagement",
            )
        row["gold_engagement"] = eng or None
        ic = str(rec.get("ic", "") or "").strip().lower()
        if ic and ic not in _TRUE | _FALSE:
            raise InputError(
                f"expected true/false, got {ic!r}", path=path, location=line, field="ic"
            )
        row["gold_ic"] = None if not ic else ic in _TRUE
        prob = str(rec.get("inclusion_probability", "") or "").strip()
        if prob:
            try:
                row["inclusion_probability"] = float(prob)
            except ValueError:
                row["inclusion_probability"] = math.nan
            if not 0 < row["inclusion_probability"] <= 1:
                raise InputError(
                    f"expected a number in (0, 1], got {prob!r}",
                    path=path,
                    location=line,
                    field="inclusion_probability",
                )
        elif "inclusion_probability" in raw.columns:
            row["inclusion_probability"] = 1.0
        if "stratum" in raw.columns:
            row["stratum"] = str(rec.get("stratum", "") or "").strip() or None
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


def _match_gold(gold: pd.DataFrame, df: pd.DataFrame, gold_path: Path) -> pd.DataFrame:
    """Attach each gold row to exactly one response (study, model) of the records table."""
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
    return pd.DataFrame(matched)


def _ss_dict(pred: list[Any], gold: list[Any], positive: Callable[[Any], bool]) -> dict[str, Any]:
    r = sensitivity_specificity(pred, gold, positive=positive)
    return {
        "sensitivity": None if math.isnan(r.sensitivity) else round(r.sensitivity, 6),
        "specificity": None if math.isnan(r.specificity) else round(r.specificity, 6),
        "n_pos": r.n_pos,
        "n_neg": r.n_neg,
        "tp": r.tp,
        "fn": r.fn,
        "tn": r.tn,
        "fp": r.fp,
    }


def calibration_report(
    df: pd.DataFrame, gold: pd.DataFrame, gold_path: Path
) -> tuple[dict[str, Any], list[str]]:
    """Sensitivity/specificity of every judge against the gold rows, overall and per condition.

    Labels: ``refusal`` (engagement == refusal, positive = refusal; partial and engaged are
    negatives) and ``ic`` (positive = IC shown). Judge values outside refusal/partial/engaged
    (invalid, unscored, missing) are not predictions and are left out of n_pos/n_neg.

    Returns:
        (calibration dict shaped ``{judge: {label: {sensitivity, specificity, n_pos, n_neg,
        tp, fn, tn, fp, by_condition: {condition: {...}}}}}``, warnings). A label is left out
        of the top level where sensitivity or specificity is undefined or Se + Sp <= 1, because
        Rogan–Gladen correction cannot use it; a warning says so.
    """
    g = _match_gold(gold, df, gold_path)
    key = ["study", "model", "scenario_id", "condition", "epoch"]
    rec = df[[*key, "judge", "engagement", "ic"]].copy()
    rec["epoch"] = rec["epoch"].astype(int)
    for col in ("study", "model", "scenario_id", "condition", "judge"):
        rec[col] = rec[col].astype(str)
    out: dict[str, Any] = {}
    warnings: list[str] = []
    specs: list[tuple[str, str, Callable[[Any], Any], Callable[[Any], bool]]] = [
        ("refusal", "gold_engagement", _engagement, lambda v: v == "refusal"),
        ("ic", "gold_ic", _bool_view("1", "0"), lambda v: v in (True, "1")),
    ]
    for judge in sorted(rec["judge"].unique()):
        merged = g.merge(rec[rec["judge"] == judge], on=key, how="left")
        entry: dict[str, Any] = {}
        for label, gold_col, to_pred, positive in specs:
            golds = [None if pd.isna(v) else v for v in merged[gold_col].astype(object)]
            if all(v is None for v in golds):
                continue
            column = "engagement" if label == "refusal" else "ic"
            preds = [to_pred(v) for v in merged[column].astype(object).tolist()]
            if label == "ic":
                golds = [None if v is None else bool(v) for v in golds]
                preds = [None if v is None else v == "1" for v in preds]
            overall = _ss_dict(preds, golds, positive)
            by_cond: dict[str, Any] = {}
            conds = merged["condition"].tolist()
            for cond in sorted(set(conds)):
                idx = [i for i, c in enumerate(conds) if c == cond]
                by_cond[cond] = _ss_dict([preds[i] for i in idx], [golds[i] for i in idx], positive)
            se, sp = overall["sensitivity"], overall["specificity"]
            if se is None or sp is None:
                warnings.append(
                    f"{judge} / {label}: not enough gold labels to estimate both rates "
                    f"(n_pos {overall['n_pos']}, n_neg {overall['n_neg']}); left out"
                )
                continue
            if se + sp <= 1:
                warnings.append(
                    f"{judge} / {label}: sensitivity {se:.2f} + specificity {sp:.2f} <= 1 "
                    "(no better than chance); left out, it cannot correct prevalence"
                )
                continue
            entry[label] = {**overall, "by_condition": by_cond}
        if entry:
            out[judge] = entry
    return out, warnings


@app.command("calibrate")
@user_errors
def calibrate_cmd(
    records_path: Path = typer.Argument(..., help="Records table (.parquet, .csv or .jsonl)."),
    gold_path: Path = typer.Option(
        ...,
        "--gold",
        help="Gold-label CSV: scenario_id, condition, [epoch], [model], [study], "
        "engagement and/or ic.",
    ),
    json_out: Path | None = typer.Option(
        None, "--json", help="Write calibration JSON (input of analyze --calibration)."
    ),
    gold_key: Path | None = typer.Option(
        None,
        "--gold-key",
        help="Key file of a labelling-page export (default: the one it names, found beside it).",
    ),
) -> None:
    """Sensitivity and specificity of each judge against human gold labels, overall and per
    condition (refusal vs not, and IC), for Rogan–Gladen correction in analyze."""
    df = read_records(records_path)
    gold = read_gold(gold_path, gold_key)
    cal, warnings = calibration_report(df, gold, gold_path)
    for w in warnings:
        err_console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    if not cal:
        raise InputError("no judge could be calibrated against these gold labels", path=gold_path)
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(cal, indent=2, ensure_ascii=False) + "\n")
    table = Table(title=f"calibration against {escape(str(gold_path))}", title_justify="left")
    for col in ("judge", "label", "condition", "sensitivity", "specificity", "n_pos", "n_neg"):
        table.add_column(col)
    for judge, labels in cal.items():
        for label, vals in labels.items():
            rows = [(ALL_GROUP, vals), *vals["by_condition"].items()]
            for cond, v in rows:
                table.add_row(
                    escape(judge),
                    label,
                    escape(cond),
                    _fmt(v["sensitivity"]),
                    _fmt(v["specificity"]),
                    str(v["n_pos"]),
                    str(v["n_neg"]),
                )
    console.print(table)
