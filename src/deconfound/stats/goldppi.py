"""Prediction-powered headline figures from a judged study and a gold-label file.

Turns per-response states (from the chosen judges) and gold labels into :mod:`stats.ppi` arms,
per condition and per comparison: refusal, partial, IR and IR among engaged, and the paired
Δrefusal, ΔIR and ΔIR-among-engaged. Each figure comes twice: PPI++ (judge on every response,
rectified by the gold labels of the same condition, power-tuned λ) and gold only (λ = 0, no judge
information at all). Stratified gold samples are weighted by their inclusion probabilities.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from deconfound.errors import InputError
from deconfound.records.gold import ignore_rows
from deconfound.stats.ppi import PPIArm, PPIResult, ppi_paired_difference, ppi_ratio
from deconfound.stats.prepare import PartialAs

#: Condition-level estimands: name → (numerator, denominator or None for a proportion).
CONDITION_ESTIMANDS = {
    "refusal": ("refusal", None),
    "partial": ("partial", None),
    "ir": ("ic", None),
    "ir_engaged": ("ic", "engaged"),
}
#: Comparison estimands → the condition estimand they difference.
COMPARISON_ESTIMANDS = {
    "delta_refusal": "refusal",
    "delta_ir": "ir",
    "delta_ir_engaged": "ir_engaged",
}
_GOLD_KEY = ("condition", "scenario_id", "epoch")


@dataclass(frozen=True)
class GoldFigure:
    """One estimand with a gold file: PPI++ and gold-only, or why it is missing."""

    ppi: PPIResult | None
    gold_only: PPIResult | None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the PPI figure's fields plus ``gold_only`` (and ``reason`` when null)."""
        if self.ppi is None or self.gold_only is None:
            return {
                "estimate": None,
                "ci": [None, None],
                "se": None,
                "n_gold": 0,
                "method": "not computed",
                "reason": self.reason,
            }
        g = self.gold_only.to_dict()
        gold_only = {k: g[k] for k in ("estimate", "ci", "se", "n_gold", "method")}
        return {**self.ppi.to_dict(), "gold_only": gold_only}


@dataclass(frozen=True)
class GoldAnalysis:
    """PPI++ figures per condition and comparison, plus what the gold labels say of the judges.

    Attributes:
        conditions: ``{condition: {estimand: GoldFigure}}``.
        comparisons: ``{treatment: {estimand: GoldFigure}}`` (each against the baseline).
        summary: ``{n, n_ignored, n_on_invalid, by_condition: {condition: {n, accuracy...}}}``.
        notices: Plain-words notes (ignored rows, missing IC gold, ...).
    """

    conditions: dict[str, dict[str, GoldFigure]]
    comparisons: dict[str, dict[str, GoldFigure]]
    summary: dict[str, Any]
    notices: list[str] = field(default_factory=list)


def _judge_values(states: pd.DataFrame, partial_as: PartialAs) -> pd.DataFrame:
    s = states["state"].to_numpy()
    partial = np.isin(s, ["partial_ic", "partial_no_ic"])
    ic = np.isin(s, ["engaged_ic", "partial_ic"])
    if partial_as == "engaged":
        refusal = s == "refusal"
    else:
        refusal = (s == "refusal") | (s == "partial_no_ic")
    valid = s != "invalid"
    return pd.DataFrame(
        {
            "f_refusal": refusal.astype(float),
            "f_partial": partial.astype(float),
            "f_engaged": (valid & ~refusal).astype(float),
            "f_ic": ic.astype(float),
            "valid": valid,
        },
        index=states.index,
    )


def _gold_values(gold: pd.DataFrame, partial_as: PartialAs) -> pd.DataFrame:
    """Gold labels as 0/1/NaN per estimand label (IC of a refusal is 0: the benchmark's rule)."""
    eng = gold["gold_engagement"].astype(object).to_numpy()
    icv = gold["gold_ic"].astype(object).to_numpy()
    n = len(gold)
    out = {k: np.full(n, np.nan) for k in ("y_refusal", "y_partial", "y_engaged", "y_ic")}
    for i in range(n):
        e = eng[i] if isinstance(eng[i], str) else None
        ic = (
            None
            if icv[i] is None or (isinstance(icv[i], float) and math.isnan(icv[i]))
            else bool(icv[i])
        )
        if e is None:
            continue
        out["y_partial"][i] = float(e == "partial")
        if e == "refusal":
            out["y_refusal"][i], out["y_engaged"][i], out["y_ic"][i] = 1.0, 0.0, 0.0
            continue
        if e == "partial" and partial_as == "refusal":
            if ic is None:
                continue  # refusal or engaged depends on the missing IC label
            out["y_refusal"][i] = float(not ic)
            out["y_engaged"][i] = float(ic)
            out["y_ic"][i] = float(ic)
            continue
        out["y_refusal"][i], out["y_engaged"][i] = 0.0, 1.0
        if ic is not None:
            out["y_ic"][i] = float(ic)
    return pd.DataFrame(out, index=gold.index)


def narrow_gold(gold: pd.DataFrame) -> tuple[pd.DataFrame | None, str | None]:
    """Gold rows under the narrow refusal construct, or None and why the file cannot give them.

    The mapping is :func:`~deconfound.stats.prepare.narrow_states`' applied to gold labels: an
    in-role refusal or partial is engagement (without IC unless the gold says IC), an
    out-of-role partial without IC is a refusal, and a decline without an ``in_role`` label
    cannot be placed (its engagement label is dropped, never guessed).
    """
    if "gold_in_role" not in gold.columns:
        return None, "the gold file has no in_role column"
    eng = gold["gold_engagement"].astype(object)
    role = gold["gold_in_role"].astype(object)
    ic = gold["gold_ic"].astype(object)
    declined = eng.isin(["refusal", "partial"]).to_numpy(bool)
    inside = declined & (role == True).to_numpy(bool)  # noqa: E712
    outside = declined & (role == False).to_numpy(bool)  # noqa: E712
    if declined.any() and not (inside | outside).any():
        return None, "the gold file gives no in_role label on its refusals and partials"
    ic_true = (ic == True).to_numpy(bool)  # noqa: E712
    out = gold.copy()
    new_eng = eng.to_numpy(dtype=object).copy()
    new_ic = ic.to_numpy(dtype=object).copy()
    new_eng[inside] = "engaged"
    new_ic[inside & ~ic_true] = False
    new_eng[outside & (eng == "partial").to_numpy(bool) & ~ic_true] = "refusal"
    new_eng[declined & ~(inside | outside)] = None
    out["gold_engagement"] = new_eng
    out["gold_ic"] = new_ic
    return out, None


def _for_this_analysis(
    states: pd.DataFrame,
    gold: pd.DataFrame,
    conditions: Sequence[str],
    model: str | None,
) -> tuple[pd.DataFrame, int, list[str]]:
    """The gold rows about this analysis' model, studies and conditions; the rest ignored.

    A gold file may hold several models' or studies' labels (the reference corpus does); rows
    for others are ignored with a notice. A file none of whose rows is for this analysis is an
    error: every figure would silently rest on zero gold labels.
    """
    notices: list[str] = []
    g = gold
    if model is not None and "model" in g.columns:
        other = g["model"].notna() & (g["model"] != model)
        g = ignore_rows(g, other, "model", "model(s) not in this analysis", notices)
    if "study" in g.columns:
        studies = set(states["study"].astype(str))
        other = g["study"].notna() & ~g["study"].isin(studies)
        g = ignore_rows(g, other, "study", "study(ies) not in this analysis", notices)
    other = ~g["condition"].isin(list(conditions))
    g = ignore_rows(g, other, "condition", "condition(s) not in this analysis", notices)
    if len(gold) and not len(g):
        about = [f"conditions {', '.join(map(repr, conditions))}"]
        about.append(f"study {', '.join(sorted(set(states['study'].astype(str))))}")
        if model is not None:
            about.insert(0, f"model {model}")
        raise InputError(
            f"none of the {len(gold)} gold rows is for this analysis ({'; '.join(about)}): "
            + "; ".join(notices)
            + ". Check the model, study and condition names (a 'study' or 'model' column that "
            "names another study or model excludes the row; leave it out to match any)",
            field="gold",
        )
    return g.copy(), len(gold) - len(g), notices


def _check_digests(merged: pd.DataFrame, responses: pd.DataFrame) -> None:
    """A gold label whose ``response_sha256`` is not its response's text is an error."""
    given = merged[merged["response_sha256"].notna()]
    if not len(given):
        return
    texts = responses.drop_duplicates([*_GOLD_KEY, "study"])[[*_GOLD_KEY, "study", "response"]]
    texts = texts.assign(epoch=texts["epoch"].astype(int))
    both = given.merge(
        texts, left_on=[*_GOLD_KEY, "study_rec"], right_on=[*_GOLD_KEY, "study"], how="left"
    )
    for row in both.itertuples(index=False):
        text = row.response if isinstance(row.response, str) else ""
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != row.response_sha256:
            raise InputError(
                f"the gold label was made on another text: response_sha256 differs from the "
                f"records' response for scenario {row.scenario_id!r}, condition "
                f"{row.condition!r}, epoch {row.epoch}",
                location=f"line {row.line}" if "line" in both.columns else None,
                field="response_sha256",
            )


def _match(
    states: pd.DataFrame,
    gold: pd.DataFrame,
    conditions: Sequence[str],
    model: str | None,
    responses: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, int, list[str]]:
    """Attach each gold row to its response; rows of other models, studies, conditions ignored."""
    g, ignored, notices = _for_this_analysis(states, gold, conditions, model)
    g["epoch"] = g["epoch"].astype(int)
    keys = list(_GOLD_KEY)
    resp = states[[*keys, "study"]].copy()
    resp["epoch"] = resp["epoch"].astype(int)
    resp["_row"] = np.arange(len(resp))
    merged = g.merge(resp, on=keys, how="left", suffixes=("", "_rec"))
    if "study" in g.columns and len(merged):
        given = merged["study"].notna()
        merged = merged[~given | (merged["study"] == merged["study_rec"]) | merged["_row"].isna()]
    missing = merged["_row"].isna()
    if missing.any():
        row = merged[missing].iloc[0]
        raise InputError(
            f"gold label for a response the records lack: scenario {row['scenario_id']!r}, "
            f"condition {row['condition']!r}, epoch {int(row['epoch'])}",
            location=f"line {int(row['line'])}" if "line" in row else None,
        )
    if responses is not None and "response_sha256" in merged.columns:
        _check_digests(merged, responses)
    dup = merged["_row"].duplicated()
    if dup.any():
        row = merged[dup].iloc[0]
        raise InputError(
            "gold label matches responses of several studies; add a 'study' column",
            location=f"line {int(row['line'])}" if "line" in row else None,
        )
    return merged, ignored, notices


def _arm(frame: pd.DataFrame, num: str, den: str | None) -> PPIArm:
    return PPIArm(
        clusters=frame["scenario_id"].astype(str).to_numpy(),
        numerator_judge=frame[f"f_{num}"].to_numpy(float),
        numerator_gold=frame[f"y_{num}"].to_numpy(float),
        denominator_judge=None if den is None else frame[f"f_{den}"].to_numpy(float),
        denominator_gold=None if den is None else frame[f"y_{den}"].to_numpy(float),
        weights=frame["w"].to_numpy(float),
    )


def _figure(build: Any, what: str) -> GoldFigure:
    try:
        ppi = build(None)
        gold_only = build(0.0)
    except ValueError as exc:
        return GoldFigure(None, None, f"{what}: {exc}")
    return GoldFigure(ppi, gold_only)


def gold_estimates(
    states: pd.DataFrame,
    gold: pd.DataFrame,
    *,
    baseline: str,
    treatments: Sequence[str],
    partial_as: PartialAs = "engaged",
    confidence: float = 0.95,
    model: str | None = None,
    responses: pd.DataFrame | None = None,
) -> GoldAnalysis:
    """PPI++ and gold-only figures for every condition and comparison.

    Args:
        states: ``stats.prepare.response_states`` of the analysed model and conditions.
        gold: Gold rows (``read_gold`` format: condition, scenario_id, epoch, gold_engagement,
            gold_ic, optional study, inclusion_probability, stratum, line).
        baseline: Baseline condition.
        treatments: Treatment conditions.
        partial_as: The analysis' partial-refusal convention.
        confidence: Two-sided level.
        model: The analysed model: gold rows naming another model are ignored.
        responses: The analysed records (keys, study, response): with them, a gold row's
            ``response_sha256`` is checked against its response's text.
    """
    conditions = [baseline, *treatments]
    merged, ignored, notices = _match(states, gold, conditions, model, responses)
    judge = _judge_values(states, partial_as)
    frame = pd.concat(
        [
            states[["condition", "scenario_id", "epoch"]].reset_index(drop=True),
            judge.reset_index(drop=True),
        ],
        axis=1,
    )
    for k in ("y_refusal", "y_partial", "y_engaged", "y_ic"):
        frame[k] = np.nan
    frame["w"] = 1.0
    yv = _gold_values(merged, partial_as)
    rows = merged["_row"].astype(int).to_numpy()
    for k in yv.columns:
        frame.loc[rows, k] = yv[k].to_numpy()
    if "inclusion_probability" in merged.columns:
        p = pd.to_numeric(merged["inclusion_probability"], errors="coerce").to_numpy(float)
        frame.loc[rows, "w"] = np.where(np.isfinite(p) & (p > 0), 1 / p, 1.0)
    on_invalid = int((~frame.loc[rows, "valid"]).sum())
    if on_invalid:
        notices.append(
            f"{on_invalid} gold label(s) fall on responses the judges left invalid; not used"
        )
    if not merged["gold_ic"].notna().any():
        notices.append("the gold file has no IC labels: IR figures need them and are left out")
    # Calibration groups are whole conditions: the key file knows the sampling stratum of gold
    # items only, not of every response, so over-sampling is undone by the inclusion weights
    # (Hajek within condition), which keeps the estimate unbiased at a small cost in width.
    valid = frame[frame["valid"]].copy()
    # IR needs IC gold on every gold item that is not a refusal: dropping engaged items without
    # an IC label would leave a sample of refusals (IC = 0 by rule) and bias IR down.
    missing_ic = {
        c: int(
            (
                (valid["condition"] == c)
                & valid["y_refusal"].notna()
                & (valid["y_refusal"] == 0)
                & valid["y_ic"].isna()
            ).sum()
        )
        for c in conditions
    }
    ic_reason = {
        c: f"{n} gold label(s) of partial or engaged responses in {c!r} have no IC label; IR "
        "figures need IC on every one"
        for c, n in missing_ic.items()
        if n
    }
    if ic_reason and merged["gold_ic"].notna().any():
        notices.append(
            "IR figures left out: some gold labels of partial or engaged responses lack IC"
        )
    cond_out: dict[str, dict[str, GoldFigure]] = {}
    for c in conditions:
        sub = valid[valid["condition"] == c]
        cond_out[c] = {}
        for name, (num, den) in CONDITION_ESTIMANDS.items():
            if num == "ic" and c in ic_reason:
                cond_out[c][name] = GoldFigure(None, None, ic_reason[c])
                continue

            def build(
                lam: float | None, sub: pd.DataFrame = sub, num: str = num, den: str | None = den
            ) -> PPIResult:
                return ppi_ratio(_arm(sub, num, den), lam=lam, confidence=confidence)

            cond_out[c][name] = _figure(build, f"{c} {name}")
    comp_out: dict[str, dict[str, GoldFigure]] = {}
    base = valid[valid["condition"] == baseline]
    for t in treatments:
        trt = valid[valid["condition"] == t]
        paired = set(base["scenario_id"]) & set(trt["scenario_id"])
        b = base[base["scenario_id"].isin(paired)]
        tr = trt[trt["scenario_id"].isin(paired)]
        comp_out[t] = {}
        for name, cname in COMPARISON_ESTIMANDS.items():
            num, den = CONDITION_ESTIMANDS[cname]
            why = ic_reason.get(baseline) or ic_reason.get(t)
            if num == "ic" and why:
                comp_out[t][name] = GoldFigure(None, None, why)
                continue

            def build_d(
                lam: float | None,
                num: str = num,
                den: str | None = den,
                b: pd.DataFrame = b,
                tr: pd.DataFrame = tr,
            ) -> PPIResult:
                return ppi_paired_difference(
                    _arm(b, num, den), _arm(tr, num, den), lam=lam, confidence=confidence
                )

            comp_out[t][name] = _figure(build_d, f"{t} vs {baseline} {name}")
    summary = _summary(valid, merged, conditions, ignored, on_invalid)
    return GoldAnalysis(cond_out, comp_out, summary, notices)


def _summary(
    valid: pd.DataFrame,
    merged: pd.DataFrame,
    conditions: Sequence[str],
    ignored: int,
    on_invalid: int,
) -> dict[str, Any]:
    by: dict[str, Any] = {}
    for c in conditions:
        sub = valid[(valid["condition"] == c) & valid["y_refusal"].notna()]
        g = merged[merged["condition"] == c]
        judge_eng = np.where(
            sub["f_refusal"] == 1, "refusal", np.where(sub["f_partial"] == 1, "partial", "engaged")
        )
        gold_eng = np.where(
            sub["y_refusal"] == 1, "refusal", np.where(sub["y_partial"] == 1, "partial", "engaged")
        )
        ic_both = sub["y_ic"].notna() & (sub["f_engaged"] == 1) & (sub["y_engaged"] == 1)
        acc_ic = (
            float((sub.loc[ic_both, "f_ic"] == sub.loc[ic_both, "y_ic"]).mean())
            if ic_both.any()
            else None
        )
        pos, neg = sub["y_refusal"] == 1, sub["y_refusal"] == 0
        by[c] = {
            "n": len(g),
            "n_used": len(sub),
            "engagement_accuracy": float((judge_eng == gold_eng).mean()) if len(sub) else None,
            "refusal_sensitivity": float(sub.loc[pos, "f_refusal"].mean()) if pos.any() else None,
            "refusal_specificity": float(1 - sub.loc[neg, "f_refusal"].mean())
            if neg.any()
            else None,
            "ic_accuracy_on_engaged": acc_ic,
            "n_ic_compared": int(ic_both.sum()),
        }
    return {
        "n": len(merged),
        "n_ignored": ignored,
        "n_on_invalid": on_invalid,
        "by_condition": by,
        "accuracy_note": "unweighted agreement of the chosen judges with the gold labels on the "
        "gold items of each condition (over-sampled strata are not re-weighted here)",
    }
