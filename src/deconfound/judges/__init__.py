"""Judges: label every response (engagement, IC, refusal kind, reasoning flags).

Judges are addressed by spec strings (:func:`resolve_judge`), run as Inspect scorers during a run
(:func:`judge_scorer`) or over any records table afterwards (:func:`apply_judges`). Heavy imports
(Inspect) are deferred until one of those is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deconfound.judges.base import (
    CODEBOOK_VERSION,
    LABELS_KEY,
    Judge,
    JudgeInput,
    Judgment,
    codebook_version,
)
from deconfound.judges.cache import JudgmentCache

if TYPE_CHECKING:
    from deconfound.judges.apply import apply_judges
    from deconfound.judges.registry import resolve_judge
    from deconfound.judges.scorers import judge_scorer

_LAZY = {
    "resolve_judge": "deconfound.judges.registry",
    "judge_scorer": "deconfound.judges.scorers",
    "apply_judges": "deconfound.judges.apply",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


__all__ = [
    "CODEBOOK_VERSION",
    "LABELS_KEY",
    "Judge",
    "JudgeInput",
    "Judgment",
    "JudgmentCache",
    "apply_judges",
    "codebook_version",
    "judge_scorer",
    "resolve_judge",
]
