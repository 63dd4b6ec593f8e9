"""Reading numbers out of an analysis JSON, tolerantly, and formatting them for people.

The report never computes a statistic: every estimate, interval and p-value it shows is read from
the analysis. The analysis contract may grow or differ in detail, so these readers accept the
common spellings (``ci`` or ``[lo, hi]``, ``lower``/``upper``) and return ``None`` when a value is
absent, so the report can say "not computed" instead of inventing a number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

NOT_COMPUTED: Final = "not computed"
MINUS: Final = "\u2212"


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its optional interval, p-value and n, exactly as the analysis gave it.

    Args:
        estimate: The point estimate (a proportion or difference of proportions).
        ci: The interval (lo, hi) when the analysis gives one.
        p_value: The test's p-value when the analysis gives one.
        n: The number of units the estimate rests on, when given.
    """

    estimate: float | None
    ci: tuple[float, float] | None = None
    p_value: float | None = None
    n: float | None = None


def number(value: Any) -> float | None:
    """A finite float, or None for null, NaN, booleans and anything non-numeric."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def interval(value: Any) -> tuple[float, float] | None:
    """An interval from ``[lo, hi]``, ``{lo, hi}``, ``{lower, upper}`` or ``{bounds: ...}``."""
    if isinstance(value, Mapping):
        for lo_key, hi_key in (("lo", "hi"), ("lower", "upper"), ("low", "high")):
            if lo_key in value and hi_key in value:
                return interval([value[lo_key], value[hi_key]])
        for key in ("bounds", "interval", "ci"):
            if key in value:
                return interval(value[key])
        return None
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        lo, hi = number(value[0]), number(value[1])
        if lo is not None and hi is not None:
            return (lo, hi)
    return None


def estimate(value: Any) -> Estimate | None:
    """An :class:`Estimate` from a bare number or a ``{estimate, ci, p_value, n}`` object."""
    if (n := number(value)) is not None:
        return Estimate(n)
    if not isinstance(value, Mapping):
        return None
    point = None
    for key in ("estimate", "value", "point", "difference"):
        if key in value and (point := number(value[key])) is not None:
            break
    ci = interval(value.get("ci")) or interval(value.get("interval"))
    p = None
    for key in ("p_value", "p", "mcnemar_p", "pvalue"):
        if (p := number(value.get(key))) is not None:
            break
    size = None
    for key in ("n", "n_engaged", "n_scenarios"):
        if (size := number(value.get(key))) is not None:
            break
    if point is None and ci is None:
        return None
    return Estimate(point, ci, p, size)


def dig(data: Any, *path: str | int) -> Any:
    """``data[path[0]][path[1]]...`` or None when any step is missing."""
    cur = data
    for step in path:
        if isinstance(step, int):
            if (
                isinstance(cur, Sequence)
                and not isinstance(cur, str)
                and -len(cur) <= step < len(cur)
            ):
                cur = cur[step]
            else:
                return None
        elif isinstance(cur, Mapping) and step in cur:
            cur = cur[step]
        else:
            return None
    return cur


def _clean(value: float, digits: int) -> float:
    """Value in percent, with -0.0 (and anything that rounds to it) shown as 0."""
    v = value * 100
    return 0.0 if round(v, digits) == 0 else v


def pct(value: float | None, digits: int = 1) -> str:
    """A proportion as a percentage ("14.7%"), or "not computed"."""
    if value is None:
        return NOT_COMPUTED
    return f"{_clean(value, digits):.{digits}f}%".replace("-", MINUS)


def pp(value: float | None, digits: int = 1) -> str:
    """A difference of proportions in percentage points with its sign ("+1.5 pp")."""
    if value is None:
        return NOT_COMPUTED
    return f"{_clean(value, digits):+.{digits}f} pp".replace("-", MINUS)


def ci_text(ci: tuple[float, float] | None, *, points: bool = False, digits: int = 1) -> str:
    """An interval as "[8.4, 24.3]%" (or in pp); empty when absent."""
    if ci is None:
        return ""
    sign = "+" if points else ""
    lo, hi = (f"{_clean(v, digits):{sign}.{digits}f}".replace("-", MINUS) for v in ci)
    return f"[{lo}, {hi}]{' pp' if points else '%'}"


def p_text(p: float | None) -> str:
    """A p-value as people read it ("p = 0.019", "p < 0.001")."""
    if p is None:
        return ""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def estimate_text(est: Estimate | None, *, points: bool = False) -> str:
    """ "14.7% [8.4, 24.3]%" or "−5.5 pp [−15.0, +4.1] pp, p = 0.30", or "not computed"."""
    if est is None or (est.estimate is None and est.ci is None):
        return NOT_COMPUTED
    head = (pp if points else pct)(est.estimate) if est.estimate is not None else ""
    parts = [p for p in (head, ci_text(est.ci, points=points)) if p]
    text = " ".join(parts)
    if est.p_value is not None:
        text += f", {p_text(est.p_value)}"
    return text


def count_text(value: Any) -> str:
    """A count for display ("76"), or "not computed"."""
    n = number(value)
    if n is None:
        return NOT_COMPUTED
    return str(int(n)) if n == int(n) else f"{n:.1f}"
