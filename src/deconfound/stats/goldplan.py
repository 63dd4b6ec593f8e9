"""How many gold labels a study needs: ``deconfound label --plan``.

Reads the judge-only uncertainty of Δrefusal and ΔIR-among-engaged from the records
(scenario-clustered), and the judge's likely error rate from how often the available judges
disagree, then applies :func:`deconfound.stats.sampling.plan_gold_sample`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from deconfound.records.labels import ENGAGEMENT_VALID
from deconfound.records.schema import RESPONSE_KEY
from deconfound.stats.intervals import paired_ratio_difference
from deconfound.stats.prepare import response_states, scenario_counts, select_judges
from deconfound.stats.sampling import GoldPlan, plan_gold_sample


@dataclass(frozen=True)
class JudgeError:
    """A judge's error rate the plan assumes, and where it comes from (observed or assumed).

    A named pair rather than a tuple: the CLI prints both parts and must not swap them.
    """

    rate: float
    source: str


@dataclass(frozen=True)
class StudyPlan:
    """Gold sample sizes for one comparison.

    Attributes:
        baseline: Baseline condition.
        treatment: Treatment condition.
        engagement_judge: Judge whose labels PPI would rectify (engagement).
        ic_judge: Judge whose labels PPI would rectify (IC).
        refusal_error: Assumed engagement-judge error rate and its source.
        ic_error: Assumed IC-judge error rate and its source.
        rows: One :class:`GoldPlan` per estimand and half-width.
    """

    baseline: str
    treatment: str
    engagement_judge: str
    ic_judge: str
    refusal_error: JudgeError
    ic_error: JudgeError
    rows: list[GoldPlan]


def _disagreement(records: pd.DataFrame, column: str, mapping: dict[object, str]) -> float | None:
    """Share of responses labelled by ≥ 2 judges on which they disagree (None if < 2 judges)."""
    vals = records[[*RESPONSE_KEY, "judge", column]].copy()
    vals["v"] = vals[column].astype(object).map(lambda v: mapping.get(v))
    vals = vals[vals["v"].notna()]
    if vals["judge"].nunique() < 2:
        return None
    per = vals.groupby(list(RESPONSE_KEY))["v"].agg(["nunique", "size"])
    per = per[per["size"] >= 2]
    if per.empty:
        return None
    return float((per["nunique"] > 1).mean())


def _judge_error(observed: float | None, assumed: float, kind: str) -> JudgeError:
    """The observed disagreement between ``kind`` judges, or ``assumed`` when only one labels."""
    if observed is not None:
        return JudgeError(observed, f"observed disagreement between {kind} judges")
    return JudgeError(assumed, f"assumed: only one {kind} judge")


def plan_for_records(
    records: pd.DataFrame,
    *,
    baseline: str,
    treatment: str,
    half_widths: Sequence[float] = (0.05, 0.075, 0.10),
    error_rate: float = 0.15,
) -> StudyPlan:
    """Gold labels needed for target CI half-widths of Δrefusal and ΔIR-among-engaged.

    ``records`` must hold one model. The error rate of each judge is taken as the observed
    disagreement between the judges that label it (a conservative proxy: two judges that
    disagree on d of the responses cannot both be wrong on fewer than d/2); with one judge,
    ``error_rate`` is assumed and said so.
    """
    sub = records[records["condition"].isin([baseline, treatment])]
    judges = select_judges(sub)
    states = response_states(sub, judges)
    counts = scenario_counts(states)
    c0 = counts.xs(baseline, level="condition")
    c1 = counts.xs(treatment, level="condition")
    assert isinstance(c0, pd.DataFrame) and isinstance(c1, pd.DataFrame)
    common = c0.index.intersection(c1.index)
    c0, c1 = c0.loc[common], c1.loc[common]

    def col(c: pd.DataFrame, k: str) -> np.ndarray:
        return c[k].to_numpy(dtype=float)

    dref = paired_ratio_difference(
        col(c0, "n_refusal"), col(c0, "n_valid"), col(c1, "n_refusal"), col(c1, "n_valid")
    )
    dic = paired_ratio_difference(
        col(c0, "n_ic"), col(c0, "n_engaged"), col(c1, "n_ic"), col(c1, "n_engaged")
    )
    refusal = {"refusal": "refusal", "partial": "not", "engaged": "not"}
    ref_d = _disagreement(sub, "engagement", {k: refusal[k] for k in ENGAGEMENT_VALID})
    ic_d = _disagreement(sub, "ic", {True: "ic", False: "no_ic"})
    ref_err = _judge_error(ref_d, error_rate, "engagement")
    ic_err = _judge_error(ic_d, error_rate, "IC")
    v = col(c0, "n_valid").sum() + col(c1, "n_valid").sum()
    r = (col(c0, "n_refusal").sum() + col(c1, "n_refusal").sum()) / v if v else 0.5
    m = col(c0, "n_engaged").sum() + col(c1, "n_engaged").sum()
    p = (col(c0, "n_ic").sum() + col(c1, "n_ic").sum()) / m if m else 0.5
    rows = plan_gold_sample(
        estimand="delta_refusal",
        half_widths=half_widths,
        judge_variance=float(dref.se**2) if np.isfinite(dref.se) else 0.0,
        outcome_variance=r * (1 - r),
        judge_error_rate=ref_err.rate,
        error_source=ref_err.source,
    )
    rows += plan_gold_sample(
        estimand="delta_ir_engaged",
        half_widths=half_widths,
        judge_variance=float(dic.se**2) if np.isfinite(dic.se) else 0.0,
        outcome_variance=p * (1 - p),
        judge_error_rate=ic_err.rate,
        share=max(1 - r, 1e-3),
        error_source=ic_err.source,
    )
    return StudyPlan(baseline, treatment, judges.engagement, judges.ic, ref_err, ic_err, rows)
