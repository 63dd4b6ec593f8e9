"""Judge calibration: each judge's sensitivity and specificity, measured and used.

``calibration_report`` measures them against human gold labels (``deconfound calibrate``);
``Calibration`` is what the analysis uses to correct prevalences for judge error (Rogan–Gladen,
``deconfound.stats.correction``). A calibration is validated before any correction: a rate outside
[0, 1] or a judge no better than chance (Se + Sp ≤ 1) cannot correct anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from deconfound.stats.agreement import sensitivity_specificity
from deconfound.stats.label_views import bool_label, engagement_label

#: The labels a calibration may carry: refusal (from the engagement judge) and IC.
LABELS: Final = ("refusal", "ic")


class CalibrationError(ValueError):
    """A calibration that cannot be used; ``field`` locates the bad value (judge.label.key)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.reason = message
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


@dataclass(frozen=True)
class JudgeRates:
    """A judge's sensitivity and specificity for one label, and the gold counts behind them.

    Args:
        sensitivity: P(judge says positive | truly positive).
        specificity: P(judge says negative | truly negative).
        n_pos: Gold positives the sensitivity rests on (None: treat it as known).
        n_neg: Gold negatives the specificity rests on (None: treat it as known).
    """

    sensitivity: float
    specificity: float
    n_pos: float | None = None
    n_neg: float | None = None

    def validate(self, where: str) -> JudgeRates:
        """Raise :class:`CalibrationError` unless both rates are usable for a correction."""
        for key in ("sensitivity", "specificity"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
                raise CalibrationError(
                    f"{key} must be a number in [0, 1], got {v!r}", f"{where}.{key}"
                )
        if self.sensitivity + self.specificity <= 1:
            raise CalibrationError(
                "sensitivity + specificity must exceed 1 (otherwise the judge is no better than "
                "chance and cannot correct a prevalence)",
                where,
            )
        for key in ("n_pos", "n_neg"):
            v = getattr(self, key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or v <= 0):
                raise CalibrationError(
                    f"{key} must be a positive number, got {v!r}", f"{where}.{key}"
                )
        return self


@dataclass(frozen=True)
class Calibration:
    """Judge rates by judge and label, plus IC rates for whichever judge ends up defining IC.

    Args:
        rates: ``{judge: {"refusal" | "ic": JudgeRates}}``.
        ic_default: Rates that apply to the IC judge when ``rates`` has none for it (the CLI's
            ``--ic-se``/``--ic-sp``: the user knows the rates, not yet which judge is chosen).
    """

    rates: Mapping[str, Mapping[str, JudgeRates]] = field(default_factory=dict)
    ic_default: JudgeRates | None = None

    @classmethod
    def from_json(cls, data: Any, ic_default: JudgeRates | None = None) -> Calibration:
        """Read ``{judge: {label: {sensitivity, specificity, [n_pos], [n_neg], ...}}}`` (the
        ``deconfound calibrate --json`` output; its other keys are ignored) and validate it."""
        if not isinstance(data, dict):
            raise CalibrationError("expected an object {judge: {label: {...}}}")
        rates: dict[str, dict[str, JudgeRates]] = {}
        for judge, labels in data.items():
            if not isinstance(labels, dict):
                raise CalibrationError("expected an object of labels", str(judge))
            for label, vals in labels.items():
                where = f"{judge}.{label}"
                if label not in LABELS:
                    raise CalibrationError("label must be 'refusal' or 'ic'", where)
                if not isinstance(vals, dict):
                    raise CalibrationError("expected an object", where)
                rates.setdefault(str(judge), {})[str(label)] = JudgeRates(
                    vals.get("sensitivity"),  # type: ignore[arg-type]  # checked in validate()
                    vals.get("specificity"),  # type: ignore[arg-type]
                    vals.get("n_pos"),
                    vals.get("n_neg"),
                )
        return cls(rates, ic_default).validate()

    def validate(self) -> Calibration:
        """Raise :class:`CalibrationError` naming the first unusable entry; return self."""
        for judge, labels in self.rates.items():
            for label, r in labels.items():
                if label not in LABELS:
                    raise CalibrationError("label must be 'refusal' or 'ic'", f"{judge}.{label}")
                r.validate(f"{judge}.{label}")
        if self.ic_default is not None:
            self.ic_default.validate("ic")
        return self

    def rates_for(self, judge: str, label: str) -> JudgeRates | None:
        """The rates of ``judge`` for ``label``; for IC, the default when none is given."""
        found = self.rates.get(judge, {}).get(label)
        if found is None and label == "ic":
            return self.ic_default
        return found

    def __bool__(self) -> bool:
        return bool(self.rates) or self.ic_default is not None


# --------------------------------------------------------------------------------------------
# measuring a calibration against gold labels


def _rates(pred: list[Any], gold: list[Any], positive: Callable[[Any], bool]) -> dict[str, Any]:
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


def calibration_report(df: pd.DataFrame, gold: pd.DataFrame) -> tuple[dict[str, Any], list[str]]:
    """Sensitivity/specificity of every judge against gold rows, overall and per condition.

    Args:
        df: A validated records table.
        gold: Gold rows matched to responses (``deconfound.records.gold.match_gold``): study,
            model, scenario_id, condition, epoch, gold_engagement, gold_ic.

    Labels: ``refusal`` (engagement == refusal, positive = refusal; partial and engaged are
    negatives) and ``ic`` (positive = IC shown). Judge values outside refusal/partial/engaged
    (invalid, unscored, missing) are not predictions and are left out of n_pos/n_neg.

    Returns:
        (calibration dict shaped ``{judge: {label: {sensitivity, specificity, n_pos, n_neg,
        tp, fn, tn, fp, by_condition: {condition: {...}}}}}``, warnings). A label is left out
        of the top level where sensitivity or specificity is undefined or Se + Sp <= 1, because
        Rogan–Gladen correction cannot use it; a warning says so.
    """
    key = ["study", "model", "scenario_id", "condition", "epoch"]
    rec = df[[*key, "judge", "engagement", "ic"]].copy()
    rec["epoch"] = rec["epoch"].astype(int)
    for col in ("study", "model", "scenario_id", "condition", "judge"):
        rec[col] = rec[col].astype(str)
    out: dict[str, Any] = {}
    warnings: list[str] = []
    specs: list[tuple[str, str, Callable[[Any], Any], Callable[[Any], bool]]] = [
        ("refusal", "gold_engagement", engagement_label, lambda v: v == "refusal"),
        ("ic", "gold_ic", bool_label("1", "0"), lambda v: v in (True, "1")),
    ]
    for judge in sorted(rec["judge"].unique()):
        merged = gold.merge(rec[rec["judge"] == judge], on=key, how="left")
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
            overall = _rates(preds, golds, positive)
            by_cond: dict[str, Any] = {}
            conds = merged["condition"].tolist()
            for cond in sorted(set(conds)):
                idx = [i for i, c in enumerate(conds) if c == cond]
                by_cond[cond] = _rates([preds[i] for i in idx], [golds[i] for i in idx], positive)
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
