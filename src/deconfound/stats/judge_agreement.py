"""How far the judges of a records table agree: every judge pair, per label view and group.

A judge can err differently across conditions (an ethics prompt changes response style), so the
table is computed for all conditions together and for each one. Grouped by model instead, the
same table measures a judge against reference labels model by model (judge ``reference`` of the
corpus in benchmarks/corpus), the way the project's judge-validity figures are given.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Final

import pandas as pd

from deconfound.records.schema import RESPONSE_KEY
from deconfound.stats.agreement import AgreementResult, agreement, krippendorff_alpha, prevalence
from deconfound.stats.contract import JsonResult
from deconfound.stats.label_views import VIEWS, LabelView

ALL_GROUP: Final = "(all conditions)"
#: Columns the responses may be grouped by, and the name of the group holding all of them. Per
#: model is how a judge is measured against reference labels (the corpus's views are per model).
GROUP_BY: Final = {"condition": ALL_GROUP, "model": "(all models)", "study": "(all studies)"}

Bounds = tuple[float | None, float | None]


@dataclass(frozen=True)
class PairAgreement:
    """Two judges' agreement on the responses both labelled (figures rounded to 6 places; None
    where undefined, e.g. kappa when expected agreement is 1)."""

    judge_a: str
    judge_b: str
    n: int
    categories: list[str]
    observed: float | None
    cohen_kappa: float | None
    gwet_ac1: float | None
    krippendorff_alpha: float | None
    pabak: float | None
    prevalence_a: dict[str, float | None]
    prevalence_b: dict[str, float | None]
    confusion: dict[str, dict[str, int]]
    kappa_ci: Bounds | None
    ac1_ci: Bounds | None

    @classmethod
    def of(cls, judge_a: str, judge_b: str, res: AgreementResult) -> PairAgreement:
        def ci(bounds: tuple[float, float] | None) -> Bounds | None:
            return None if bounds is None else (_rounded(bounds[0]), _rounded(bounds[1]))

        return cls(
            judge_a=judge_a,
            judge_b=judge_b,
            n=res.n,
            categories=[str(c) for c in res.categories],
            observed=_rounded(res.observed),
            cohen_kappa=_rounded(res.cohen_kappa),
            gwet_ac1=_rounded(res.gwet_ac1),
            krippendorff_alpha=_rounded(res.krippendorff_alpha),
            pabak=_rounded(res.pabak),
            prevalence_a={str(k): _rounded(v) for k, v in res.prevalence_a.items()},
            prevalence_b={str(k): _rounded(v) for k, v in res.prevalence_b.items()},
            confusion=res.confusion.to_dict(),
            kappa_ci=ci(res.kappa_ci),
            ac1_ci=ci(res.ac1_ci),
        )


@dataclass(frozen=True)
class GroupAgreement:
    """One group of responses (all conditions, or one condition) under one label view."""

    n_responses: int
    prevalence: dict[str, dict[str, float | None]]
    n_labelled: dict[str, int]
    krippendorff_alpha_all_judges: float | None
    pairs: dict[str, PairAgreement]


@dataclass(frozen=True)
class ViewAgreement:
    """One label view: the column it reads, the judges that label it, and its groups."""

    column: str
    judges: list[str]
    groups: dict[str, GroupAgreement]


@dataclass(frozen=True)
class AgreementReport(JsonResult):
    """``deconfound agreement --json``: the records it read, the bootstrap size and every view.

    ``labels`` maps a view name to its :class:`ViewAgreement`; groups are all responses (named
    as in ``GROUP_BY``) then each value of the ``by`` column, pairs are named
    ``"<judge_a> vs <judge_b>"``.
    """

    records: str
    n_boot: int
    labels: dict[str, ViewAgreement]
    by: str = "condition"


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


def _rounded(v: float | None) -> float | None:
    return None if v is None or math.isnan(v) else round(float(v), 6)


def _group(
    g: pd.DataFrame, judges: list[str], view: LabelView, n_boot: int, seed: int
) -> GroupAgreement:
    """Prevalence, all-judge alpha and every pair's agreement within one group of responses."""
    values = {j: _cells(g[j]) for j in judges}
    pairs: dict[str, PairAgreement] = {}
    for ja, jb in itertools.combinations(judges, 2):
        res: AgreementResult = agreement(
            values[ja],
            values[jb],
            categories=view.categories,
            clusters=g["scenario_id"].astype(str).tolist(),
            n_boot=n_boot,
            seed=seed,
        )
        pairs[f"{ja} vs {jb}"] = PairAgreement.of(ja, jb, res)
    units = [list(row) for row in zip(*values.values(), strict=True)]
    alpha = krippendorff_alpha(units, view.categories)
    return GroupAgreement(
        n_responses=len(g),
        prevalence={
            j: {str(k): _rounded(v) for k, v in prevalence(values[j], view.categories).items()}
            for j in judges
        },
        n_labelled={j: sum(v is not None for v in values[j]) for j in judges},
        krippendorff_alpha_all_judges=_rounded(alpha),
        pairs=pairs,
    )


def _disagreements(wide: pd.DataFrame, judges: list[str], name: str) -> pd.DataFrame:
    labelled = wide[judges].notna().sum(axis=1) >= 2
    distinct = wide[judges].nunique(axis=1, dropna=True) > 1
    dis = wide[labelled & distinct].copy()
    if len(dis):
        dis.insert(0, "label", name)
        dis = dis.rename(columns={j: f"judge:{j}" for j in judges})
    return dis


def agreement_report(
    df: pd.DataFrame,
    labels: list[str],
    *,
    by: str = "condition",
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[dict[str, ViewAgreement], pd.DataFrame]:
    """Pairwise agreement per label view and per group, plus the disagreeing responses.

    Args:
        df: A validated records table (long format, one row per response per judge).
        labels: View names (keys of ``VIEWS``); views with fewer than two judges are skipped.
        by: The column that forms the groups (a key of ``GROUP_BY``): ``condition`` shows a
            judge erring differently under an intervention; ``model`` measures a judge against
            reference labels model by model, as the reference corpus's figures are given.
        n_boot: Scenario-cluster bootstrap resamples for kappa/AC1 intervals (0 = none).
        seed: Bootstrap seed.

    Returns:
        (views, disagreements frame). Each view labelled by two or more judges maps to its
        :class:`ViewAgreement`: for all responses together and for each value of ``by``,
        per-judge prevalence, Krippendorff's alpha over all judges and every judge pair's
        agreement.
    """
    if by not in GROUP_BY:
        raise ValueError(f"by: {by!r} is not a grouping column; use one of {', '.join(GROUP_BY)}")
    unknown = [n for n in labels if n not in VIEWS]
    if unknown:
        raise ValueError(f"labels: unknown view(s) {unknown}; views are {', '.join(VIEWS)}")
    report: dict[str, ViewAgreement] = {}
    disagreements: list[pd.DataFrame] = []
    for name in labels:
        view = VIEWS[name]
        wide = _wide(df, view)
        judges = [c for c in wide.columns if c not in RESPONSE_KEY]
        if len(judges) < 2:
            continue
        groups: dict[str, pd.DataFrame] = {GROUP_BY[by]: wide}
        for value in sorted(wide[by].unique(), key=str):
            groups[str(value)] = wide[wide[by] == value]
        report[name] = ViewAgreement(
            view.column,
            judges,
            {g: _group(frame, judges, view, n_boot, seed) for g, frame in groups.items()},
        )
        dis = _disagreements(wide, judges, name)
        if len(dis):
            disagreements.append(dis)
    frame = pd.concat(disagreements, ignore_index=True) if disagreements else pd.DataFrame()
    if len(frame):
        responses = df.drop_duplicates(list(RESPONSE_KEY))[[*RESPONSE_KEY, "response"]]
        frame = frame.merge(responses, on=list(RESPONSE_KEY), how="left")
        frame["response"] = frame["response"].astype("string").str.slice(0, 400)
    return report, frame
