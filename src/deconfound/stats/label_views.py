"""Ways of reading a records label column as categories, for judge agreement and calibration.

A view maps each raw value of a column to one of its categories, or to None when the value carries
no label (missing, invalid, unscored): no label is silently mapped to a class.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

from deconfound.records.labels import ENGAGEMENT_VALID


@dataclass(frozen=True)
class LabelView:
    """One way of reading a label column for agreement.

    Args:
        name: View name used on the command line and in outputs.
        column: Records column it reads.
        categories: The categories of the view, in display order.
        mapping: Maps a raw value to a category, or None when the value carries no label.
    """

    name: str
    column: str
    categories: tuple[str, ...]
    mapping: Callable[[Any], str | None]


def engagement_label(v: Any) -> str | None:
    """refusal / partial / engaged, or None for anything else."""
    return v if isinstance(v, str) and v in ENGAGEMENT_VALID else None


def bool_label(true: str, false: str) -> Callable[[Any], str | None]:
    """A mapping of a boolean column to two category names (None stays None)."""

    def f(v: Any) -> str | None:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return None
        return true if bool(v) else false

    return f


def _from_engagement(table: dict[str, str]) -> Callable[[Any], str | None]:
    def f(v: Any) -> str | None:
        e = engagement_label(v)
        return None if e is None else table[e]

    return f


def _decision(v: Any) -> str | None:
    return v if isinstance(v, str) and v in ("convergence", "no_convergence") else None


VIEWS: Final[dict[str, LabelView]] = {
    v.name: v
    for v in (
        LabelView("engagement", "engagement", ENGAGEMENT_VALID, engagement_label),
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
        LabelView("ic", "ic", ("ic", "no_ic"), bool_label("ic", "no_ic")),
        LabelView(
            "benchmark_decision",
            "benchmark_decision",
            ("convergence", "no_convergence"),
            _decision,
        ),
    )
}
