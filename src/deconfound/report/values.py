"""Tolerant readers for JSON that has no typed loader yet (the judge-agreement results).

The analysis itself is read only through ``Analysis.from_json``; these readers remain for the
agreement JSON given with ``--agreement``, and accept its common spellings (``ci`` or
``[lo, hi]``, ``lower``/``upper``), returning ``None`` when a value is absent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from deconfound.report.format import Estimate


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
