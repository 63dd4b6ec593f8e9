"""Many models, one question: for which models does an intervention change behaviour?

Each model is analysed on its own (:func:`deconfound.stats.analyze_records`); this module puts
one treatment-vs-baseline comparison of every model side by side and tests whether the effect
differs between models: the treatment x model interaction, on refusal and on IC among engaged
responses.

The test. For model ``m`` and scenario ``s`` let ``d[m, s]`` be the paired within-scenario
difference (treatment minus baseline) of the refusal rate over epochs, or of the IC rate among
engaged responses for scenarios where both arms have an engaged response. ``delta[m]`` is the
mean of ``d[m, s]`` over the model's scenarios. Models share scenarios, so their estimates are
correlated; the covariance of ``delta`` is the scenario-clustered sandwich
``V = G/(G-1) * sum_s u_s u_s'`` with ``u[s, m] = (d[m, s] - delta[m]) / n_m`` (zero where model
``m`` has no value for ``s``) and ``G`` scenarios. The Wald statistic of ``H0: delta[1] = ... =
delta[M]`` is ``W = (C delta)' (C V C')^+ (C delta)`` with ``C`` the ``M - 1`` contrasts against
the first model, referred to a chi-square with ``rank(C V C')`` degrees of freedom. Scenarios
weigh equally (not responses), and with few scenarios per model the chi-square reference is
optimistic (Cameron & Miller 2015); the test is a screen for heterogeneity, the per-model rows
are the findings.

References:
    Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
    Journal of Human Resources 50(2), 317-372.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from scipy import stats as sps

from deconfound.errors import InputError
from deconfound.stats.contract import JsonResult, finite
from deconfound.stats.prepare import PartialAs, response_states, scenario_counts
from deconfound.stats.results import Analysis, Interval

#: Version of the cross-model JSON (independent of the per-model analysis JSON).
CROSS_MODEL_VERSION: Final = 1
METHOD: Final = (
    "Wald test that the paired treatment-minus-baseline difference (scenario mean) is equal "
    "for every model (treatment x model interaction); scenario-clustered sandwich covariance "
    "across models, chi-square reference"
)


@dataclass(frozen=True)
class ModelEffect(JsonResult):
    """One model's treatment-vs-baseline effects, taken from its own analysis."""

    model: str
    n_scenarios: int
    delta_refusal: float | None
    delta_refusal_ci: Interval
    delta_ir: float | None
    delta_ir_ci: Interval
    both_engaged_n: int
    both_engaged_ic_difference: float | None
    both_engaged_ic_ci: Interval
    sace_bounds: Interval
    sace_ci: Interval
    smoke: bool


@dataclass(frozen=True)
class ModelDifference(JsonResult):
    """One model's scenario-mean paired difference as the heterogeneity test sees it."""

    model: str
    estimate: float | None
    se: float | None
    n_scenarios: int


@dataclass(frozen=True)
class Heterogeneity(JsonResult):
    """Does the treatment effect on one outcome differ between models?"""

    outcome: str
    statistic: float | None
    df: int
    p_value: float | None
    n_models: int
    n_scenarios: int
    models: list[ModelDifference]
    excluded: dict[str, str]
    method: str


@dataclass(frozen=True)
class CrossModel(JsonResult):
    """Every model's comparison of one treatment with the baseline, and the heterogeneity tests."""

    version: int
    baseline: str
    treatment: str
    models: list[ModelEffect]
    refusal: Heterogeneity
    ic_engaged: Heterogeneity

    def dumps(self) -> str:
        """The cross-model JSON text (indented, UTF-8, no NaN)."""
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@dataclass(frozen=True)
class CrossModelIndex(JsonResult):
    """What ``deconfound analyze`` writes for several models: where each model's analysis is,
    and the cross-model comparison of every treatment."""

    version: int
    analyses: dict[str, str]
    comparisons: list[CrossModel]

    def dumps(self) -> str:
        """The JSON text (indented, UTF-8, no NaN)."""
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _effect(analysis: Analysis, treatment: str, smoke: bool) -> ModelEffect:
    comp = next((c for c in analysis.comparisons if c.treatment == treatment), None)
    if comp is None:
        raise InputError(
            f"the analysis of {analysis.model!r} has no comparison with {treatment!r}",
            field="treatment",
        )
    be = comp.both_engaged
    return ModelEffect(
        model=analysis.model,
        n_scenarios=comp.n_scenarios,
        delta_refusal=comp.delta_refusal.estimate,
        delta_refusal_ci=comp.delta_refusal.ci,
        delta_ir=comp.delta_ir.estimate,
        delta_ir_ci=comp.delta_ir.ci,
        both_engaged_n=be.n_scenarios,
        both_engaged_ic_difference=be.difference,
        both_engaged_ic_ci=be.ci,
        sace_bounds=comp.sace_bounds.pooled,
        sace_ci=comp.sace_bounds.ci,
        smoke=smoke,
    )


def paired_differences(
    records: pd.DataFrame,
    analysis: Analysis,
    treatment: str,
    partial_as: PartialAs = "engaged",
) -> dict[str, pd.Series]:
    """Per-scenario paired differences (treatment - baseline) of one model, by outcome.

    ``refusal``: refusal share among valid responses, scenarios valid in both arms;
    ``ic_engaged``: IC share among engaged responses, scenarios with an engaged response in both.
    The judges are the ones the model's analysis chose.
    """
    mine = records[records["model"] == analysis.model]
    counts = scenario_counts(response_states(mine, analysis.judges), partial_as=partial_as)
    out: dict[str, pd.Series] = {}
    arms = {}
    for arm in (analysis.baseline, treatment):
        if arm not in counts.index.get_level_values("condition"):
            raise InputError(
                f"model {analysis.model!r} has no responses in condition {arm!r}",
                field="treatment",
            )
        arms[arm] = counts.xs(arm, level="condition")
    base, treat = arms[analysis.baseline], arms[treatment]
    both = base.index.intersection(treat.index)
    b, t = base.loc[both], treat.loc[both]
    valid = (b["n_valid"] > 0) & (t["n_valid"] > 0)
    out["refusal"] = (t["n_refusal"] / t["n_valid"] - b["n_refusal"] / b["n_valid"])[valid]
    engaged = (b["n_engaged"] > 0) & (t["n_engaged"] > 0)
    out["ic_engaged"] = (t["n_ic"] / t["n_engaged"] - b["n_ic"] / b["n_engaged"])[engaged]
    return out


def heterogeneity_test(outcome: str, differences: Mapping[str, pd.Series]) -> Heterogeneity:
    """Scenario-clustered Wald test that every model's mean paired difference is the same.

    Args:
        outcome: Name of the outcome (for the result).
        differences: Model -> per-scenario paired differences indexed by scenario id.

    Returns:
        The test; ``statistic`` and ``p_value`` are None with fewer than two usable models (a
        model needs two scenarios with a difference).
    """
    excluded: dict[str, str] = {}
    usable: dict[str, pd.Series] = {}
    for model, d in differences.items():
        d = d.dropna()
        if len(d) < 2:
            excluded[model] = f"{len(d)} scenario(s) with a paired difference (2 needed)"
        else:
            usable[model] = d
    names = list(usable)
    scenarios = sorted(set().union(*(set(d.index) for d in usable.values()))) if usable else []
    pos = {s: i for i, s in enumerate(scenarios)}
    g, m = len(scenarios), len(names)
    delta = np.array([usable[k].mean() for k in names], dtype=float)
    u = np.zeros((g, m))
    for j, k in enumerate(names):
        d = usable[k]
        rows = np.array([pos[s] for s in d.index])
        u[rows, j] = (d.to_numpy(dtype=float) - delta[j]) / len(d)
    v = (g / (g - 1)) * (u.T @ u) if g > 1 else np.full((m, m), np.nan)
    per_model = [
        ModelDifference(
            model=k,
            estimate=finite(delta[j]),
            se=finite(np.sqrt(v[j, j])) if g > 1 else None,
            n_scenarios=len(usable[k]),
        )
        for j, k in enumerate(names)
    ]
    statistic: float | None = None
    p_value: float | None = None
    df = 0
    if m >= 2 and g > 1:
        c = np.hstack([-np.ones((m - 1, 1)), np.eye(m - 1)])
        cd = c @ delta
        cvc = c @ v @ c.T
        df = int(np.linalg.matrix_rank(cvc))
        if df > 0:
            w = float(cd @ np.linalg.pinv(cvc) @ cd)
            statistic = finite(w)
            p_value = finite(sps.chi2.sf(w, df))
    return Heterogeneity(
        outcome=outcome,
        statistic=statistic,
        df=df,
        p_value=p_value,
        n_models=m,
        n_scenarios=g,
        models=per_model,
        excluded=excluded,
        method=METHOD,
    )


def cross_model(
    records: pd.DataFrame,
    analyses: Sequence[Analysis],
    *,
    treatment: str | None = None,
    partial_as: PartialAs = "engaged",
) -> CrossModel:
    """Put several models' analyses of the same comparison side by side and test heterogeneity.

    Args:
        records: The validated records table the analyses were made from.
        analyses: One analysis per model, all with the same baseline.
        treatment: The treatment to compare (default: the first treatment of the first analysis).
        partial_as: The partial-refusal convention the analyses used.

    Raises:
        InputError: Fewer than two analyses, or analyses of different baselines.
    """
    if len(analyses) < 2:
        raise InputError("a cross-model comparison needs at least two models", field="models")
    baselines = {a.baseline for a in analyses}
    if len(baselines) != 1:
        raise InputError(
            f"the analyses use different baselines ({', '.join(sorted(baselines))})",
            field="baseline",
        )
    chosen = treatment or analyses[0].treatments[0]
    smoke_models = set(
        records.loc[records["smoke_model"].fillna(False).astype(bool), "model"].astype(str)
    )
    effects = [_effect(a, chosen, a.model in smoke_models) for a in analyses]
    diffs = {a.model: paired_differences(records, a, chosen, partial_as) for a in analyses}
    return CrossModel(
        version=CROSS_MODEL_VERSION,
        baseline=analyses[0].baseline,
        treatment=chosen,
        models=effects,
        refusal=heterogeneity_test("refusal", {k: d["refusal"] for k, d in diffs.items()}),
        ic_engaged=heterogeneity_test("ic_engaged", {k: d["ic_engaged"] for k, d in diffs.items()}),
    )


__all__ = [
    "CROSS_MODEL_VERSION",
    "CrossModel",
    "CrossModelIndex",
    "Heterogeneity",
    "ModelDifference",
    "ModelEffect",
    "cross_model",
    "heterogeneity_test",
    "paired_differences",
]
