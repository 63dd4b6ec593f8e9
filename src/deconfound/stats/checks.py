"""Argument checks for the statistics primitives: every argument before any arithmetic.

A primitive given nonsense (a negative count, a proportion of 1.7, more discordant pairs than
pairs) must refuse with a ``ValueError`` naming the argument and its value, not return a number
(scipy's ``binomtest`` checks its arguments the same way). NaN is accepted only where a primitive
documents it as "undefined" (an arm with no engaged response has no IC rate) and passes it on.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Slack for proportions computed in floating point (0.45 / 0.45 may round above 1).
_EPS = 1e-12


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    return float(value)


def count(name: str, value: Any) -> int:
    """A non-negative integer count (an integral float such as 3.0 is accepted)."""
    ok = not isinstance(value, bool) and (
        isinstance(value, Integral)
        or (isinstance(value, Real) and math.isfinite(float(value)) and float(value).is_integer())
    )
    if not ok or int(value) < 0:
        raise ValueError(f"{name} must be a non-negative integer count, got {value!r}")
    return int(value)


def proportion(name: str, value: Any, *, nan_ok: bool = False, hint: str = "") -> float:
    """A proportion in [0, 1]; NaN only with ``nan_ok`` (meaning "undefined")."""
    v = _real(name, value)
    if math.isnan(v):
        if nan_ok:
            return v
        raise ValueError(f"{name} must be a proportion in [0, 1], got nan")
    if not -_EPS <= v <= 1 + _EPS:
        raise ValueError(f"{name} must be a proportion in [0, 1], got {value!r}{hint}")
    return v


def difference(name: str, value: Any) -> float:
    """A difference of proportions in [−1, 1]."""
    v = _real(name, value)
    if not -1 - _EPS <= v <= 1 + _EPS:
        raise ValueError(f"{name} must be a difference of proportions in [-1, 1], got {value!r}")
    return v


def size(name: str, value: Any, *, minimum: float = 0.0, nan_ok: bool = False) -> float:
    """A (possibly fractional, effective) sample size or scale: finite and ≥ ``minimum``."""
    v = _real(name, value)
    if math.isnan(v) and nan_ok:
        return v
    if not math.isfinite(v) or v < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum:g}, got {value!r}")
    return v


def open_unit(name: str, value: Any) -> float:
    """A level strictly between 0 and 1 (confidence, alpha, power)."""
    v = _real(name, value)
    if not 0 < v < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}")
    return v


def array(
    name: str,
    values: ArrayLike,
    *,
    nonnegative: bool = False,
    unit: bool = False,
    nan_ok: bool = False,
) -> NDArray[np.float64]:
    """A 1-D float array; optionally non-negative or within [0, 1]; NaN only with ``nan_ok``."""
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D array of numbers: {exc}") from exc
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {a.shape}")
    finite = np.isfinite(a)
    bad = ~finite & ~(np.isnan(a) if nan_ok else np.zeros_like(finite))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}[{i}] must be finite, got {float(a[i])!r}")
    low = -_EPS if unit else (0.0 if nonnegative else -np.inf)
    high = 1 + _EPS if unit else np.inf
    with np.errstate(invalid="ignore"):
        out_of_range = finite & ((a < low) | (a > high))
    if out_of_range.any():
        i = int(np.flatnonzero(out_of_range)[0])
        what = "in [0, 1]" if unit else "non-negative"
        raise ValueError(f"{name}[{i}] must be {what}, got {float(a[i])!r}")
    return a


def same_length(**arrays: NDArray[np.float64]) -> int:
    """The common length of aligned arrays (one entry per scenario)."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"len({k}) = {n}" for k, n in lengths.items())
        raise ValueError(f"arrays must be aligned by scenario (same length), got {detail}")
    return next(iter(lengths.values()), 0)


def at_most(name: str, value: float, limit_name: str, limit: float) -> None:
    """``value`` ≤ ``limit`` elementwise (e.g. successes ≤ trials)."""
    if value > limit + _EPS:
        raise ValueError(f"{name} = {value!r} exceeds {limit_name} = {limit!r}")
