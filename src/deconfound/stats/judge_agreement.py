"""How far the judges of a records table agree: every judge pair, per label view and condition.

A judge can err differently across conditions (an ethics prompt changes response style), so the
table is computed for all conditions together and for each one.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Final

import pandas as pd

from deconfound.records.schema import RESPONSE_KEY
from deconfound.stats.agreement import AgreementResult, agreement, krippendorff_alpha, prevalence
from deconfound.stats.label_views import VIEWS, LabelView

ALL_GROUP: Final = "(all conditions)"


def _wide(df: pd.DataFrame, view: LabelView) -> pd.DataFrame:
    """One row per response, one column per judge, values mapped through the view."""
    mapped = df[[*RESPONSE_KEY, "judge"]].copy()
    mapped["value"] = view.values(df)
    mapped = mapped[mapped["value"].notna()]
    if mapped.empty:
        return pd.DataFrame()
    wide = mapped.pivot(index=list(RESPONSE_KEY), columns="judge", values="value")
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


def _cells(series: pd.Series) -> list[str | None]:
    return [None if pd.isna(v) else str(v) for v in series.tolist()]


def _rounded(v: float) -> float | None:
    return None if math.isnan(v) else round(v, 6)


def _group(
    g: pd.DataFrame, judges: list[str], view: LabelView, n_boot: int, seed: int
) -> dict[str, Any]:
    """Prevalence, all-judge alpha and every pair's agreement within one group of responses."""
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
    return {
        "n_responses": len(g),
        "prevalence": {
            j: {k: _rounded(v) for k, v in prevalence(values[j], view.categories).items()}
            for j in judges
        },
        "n_labelled": {j: sum(v is not None for v in values[j]) for j in judges},
        "krippendorff_alpha_all_judges": _rounded(alpha),
        "pairs": pairs,
    }


def _disagreements(wide: pd.DataFrame, judges: list[str], name: str) -> pd.DataFrame:
    labelled = wide[judges].notna().sum(axis=1) >= 2
    distinct = wide[judges].nunique(axis=1, dropna=True) > 1
    dis = wide[labelled & distinct].copy()
    if len(dis):
        dis.insert(0, "label", name)
        dis = dis.rename(columns={j: f"judge:{j}" for j in judges})
    return dis


def agreement_report(
    df: pd.DataFrame, labels: list[str], *, n_boot: int = 2000, seed: int = 0
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
    unknown = [n for n in labels if n not in VIEWS]
    if unknown:
        raise ValueError(f"labels: unknown view(s) {unknown}; views are {', '.join(VIEWS)}")
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
        report[name] = {
            "column": view.column,
            "judges": judges,
            "groups": {g: _group(frame, judges, view, n_boot, seed) for g, frame in groups.items()},
        }
        dis = _disagreements(wide, judges, name)
        if len(dis):
            disagreements.append(dis)
    frame = pd.concat(disagreements, ignore_index=True) if disagreements else pd.DataFrame()
    if len(frame):
        responses = df.drop_duplicates(list(RESPONSE_KEY))[[*RESPONSE_KEY, "response"]]
        frame = frame.merge(responses, on=list(RESPONSE_KEY), how="left")
        frame["response"] = frame["response"].astype("string").str.slice(0, 400)
    return report, frame
