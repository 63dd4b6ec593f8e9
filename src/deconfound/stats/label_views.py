"""Ways of reading a records label column as categories, for judge agreement and calibration.

A view maps each raw value of a column to one of its categories, or to None when the value carries
no label (missing, invalid, unscored): no label is silently mapped to a class.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
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
        derive: Builds the view's values from the whole table, for a view that reads more than
            one column (``column`` then only names it in outputs).
    """

    name: str
    column: str
    categories: tuple[str, ...]
    mapping: Callable[[Any], str | None]
    derive: Callable[[pd.DataFrame], pd.Series] | None = None

    def values(self, df: pd.DataFrame) -> list[str | None]:
        """The view's category (or None) for every row of a records table."""
        raw = self.derive(df) if self.derive is not None else df[self.column].astype(object)
        return [self.mapping(v) for v in raw.tolist()]


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


def _narrow_refusal(df: pd.DataFrame) -> pd.Series:
    """Refusal under the codebook's narrow construct: a refusal or partial that steps out of the
    role. A decline without an ``in_role`` label has no narrow label (None), never a guess."""
    out: list[str | None] = []
    for e, r in zip(df["engagement"].tolist(), df["in_role"].tolist(), strict=True):
        if not isinstance(e, str):  # a judge without engagement labels (null, pd.NA)
            out.append(None)
        elif e == "engaged":
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
            "in_role", "in_role", ("in_role", "out_of_role"), bool_label("in_role", "out_of_role")
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
