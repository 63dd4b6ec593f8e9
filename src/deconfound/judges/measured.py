"""Judges' measured agreement with the reference corpus, shipped as package data.

``benchmarks/offline_judge.py`` writes ``data/measured_kappa.json``: for each keyless judge (its
id and version), Cohen's kappa per corpus model and view, each model scored by a judge fitted or
tuned without it (leave-one-model-out). A cell where the model's reference labels have one class
only (llama-4-maverick's refusals are all in role) has no kappa: it is stored as null with the
reference's class counts under ``undefined``, and read as "not measured", never as 0. The
report's methods section prints it, so a reader sees how far the judge that produced the figures
agrees with careful reading on models it never saw.
A judge whose version differs from the measured one gets no figures: they would not be its own.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Final

MEASURED_FILE: Final = "measured_kappa.json"
#: Views printed in summaries, with their short names.
SUMMARY_VIEWS: Final = (
    ("refusal_vs_not", "refusal vs not"),
    ("refusal_or_partial_vs_engaged", "refusal-or-partial vs engaged"),
    ("ic", "IC"),
    ("in_role_among_ref_refusal_partial", "in_role"),
)


@dataclass(frozen=True)
class ViewRange:
    """One view of a measured judge across its held-out models.

    ``kappa`` holds the models with a kappa; ``undefined`` the models whose reference has one
    class there; ``unmeasured`` any other model without a figure. A range is ``complete`` only
    when every held-out model has a kappa: an undefined cell is never read as passing.
    """

    view: str
    kappa: dict[str, float]
    undefined: tuple[str, ...]
    unmeasured: tuple[str, ...]
    pooled: float | None

    @property
    def worst(self) -> float | None:
        return min(self.kappa.values()) if self.kappa else None

    @property
    def best(self) -> float | None:
        return max(self.kappa.values()) if self.kappa else None

    @property
    def complete(self) -> bool:
        return bool(self.kappa) and not self.undefined and not self.unmeasured


@dataclass(frozen=True)
class MeasuredKappa:
    """One judge version's leave-one-model-out kappa: ``kappa[model][view]`` (and "pooled").

    ``undefined[model][view]`` holds the reference's class counts of the cells whose reference
    has one class: kappa is undefined there (its value is None in ``kappa``).
    """

    judge: str
    version: str
    corpus: str
    kappa: dict[str, dict[str, float | None]]
    undefined: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    @property
    def models(self) -> list[str]:
        return sorted(m for m in self.kappa if m != "pooled")

    def is_undefined(self, model: str, view: str) -> bool:
        """Whether the reference of ``model`` has one class on ``view`` (no kappa exists)."""
        return view in self.undefined.get(model, {})

    def view_range(self, view: str) -> ViewRange:
        """The held-out models' kappa on ``view``, split into measured, undefined, unmeasured."""
        got: dict[str, float] = {}
        undefined: list[str] = []
        unmeasured: list[str] = []
        for model in self.models:
            value = self.kappa[model].get(view)
            if self.is_undefined(model, view):
                undefined.append(model)
            elif value is None:
                unmeasured.append(model)
            else:
                got[model] = float(value)
        pooled = self.kappa.get("pooled", {}).get(view)
        pooled_kappa = None if pooled is None else float(pooled)
        return ViewRange(view, got, tuple(undefined), tuple(unmeasured), pooled_kappa)

    def summary(self) -> str:
        """One sentence: per view, the range over held-out models and the pooled value; models
        whose reference has one class on a view are named as undefined, never counted as 0."""
        parts = []
        for view, name in SUMMARY_VIEWS:
            r = self.view_range(view)
            if not r.kappa and not r.undefined:
                continue
            text = (
                f"{name} {r.worst:.2f}–{r.best:.2f}"
                if r.worst is not None and r.best is not None
                else f"{name} not measured"
            )
            notes = [f"pooled {r.pooled:.2f}"] if r.pooled is not None else []
            notes += [f"{m} undefined (reference has one class)" for m in r.undefined]
            parts.append(text + (f" ({', '.join(notes)})" if notes else ""))
        return (
            f"{self.judge} ({self.version}): Cohen's κ against the reference corpus on models "
            f"it was never fitted on ({self.corpus}; {len(self.models)} held-out models), "
            + "; ".join(parts)
        )


@functools.cache
def _text() -> str:
    # read once per process: analyze looks judges up once per label and per sensitivity rerun
    return (
        resources.files("deconfound.judges")
        .joinpath("data", MEASURED_FILE)
        .read_text(encoding="utf-8")
    )


def _load() -> dict[str, Any]:
    out: dict[str, Any] = json.loads(_text())  # parsed per call: callers get their own dicts
    return out


def _same_version(a: str, b: str) -> bool:
    if a == b:
        return True
    base_a, _, tag_a = a.partition("+")
    base_b, _, tag_b = b.partition("+")
    return base_a == base_b and (not tag_a or not tag_b or tag_a == tag_b)


def measured_kappa(judge: str, version: str | None = None) -> MeasuredKappa | None:
    """The shipped measurement of ``judge`` (None if absent or made for another version)."""
    entry = _load().get("judges", {}).get(judge)
    # "+codebook-1" style tags are compared too when both sides carry one
    if entry is None or (version is not None and not _same_version(version, entry["version"])):
        return None
    return MeasuredKappa(
        judge,
        str(entry["version"]),
        str(entry["corpus"]),
        entry["kappa"],
        entry.get("undefined", {}),
    )
