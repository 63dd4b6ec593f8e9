"""The judge contract shared by every judge, the Inspect scorers and the records table.

A judge reads one response (with its scenario) and returns a :class:`Judgment`; the judgment's
fields are exactly the records table's label columns, so a judgment becomes one records row.
During a run, judge scorers store ``Judgment.to_fields()`` in ``Score.metadata[LABELS_KEY]``; the
log reader turns every score carrying that key into a records row for that judge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Protocol, runtime_checkable

from deconfound.records.labels import (
    CODEBOOK_VERSION,
    IN_ROLE_DEFINED,
    LABELS_KEY,
    REASONING_FLAGS,
)

__all__ = ["CODEBOOK_VERSION", "LABELS_KEY", "Judge", "JudgeInput", "Judgment", "codebook_version"]


#: Why a local judge labels a response ``missing``: it has no text to read.
EMPTY_RESPONSE: Final = "empty or missing response"


def codebook_version(version: str) -> str:
    """A judge's own version tagged with the codebook its labels follow (``lexical-2+codebook-1``).

    The tag makes a label made under another codebook a different judge version, so it is never
    served from the judgment cache or mistaken for one made under this codebook.
    """
    suffix = f"+{CODEBOOK_VERSION}"
    return version if version.endswith(suffix) else f"{version}{suffix}"


@dataclass(frozen=True)
class JudgeInput:
    """What a judge sees.

    Args:
        scenario_id: Stable scenario id.
        category: Scenario category.
        prompt: The scenario prompt given to the subject model.
        response: The subject model's response (None when missing or errored).
        judge_context: The benchmark's category-specific judge context.
        system_prompt: The condition's system prompt, when a judge wants it (most should not see
            it, so they stay blind to the condition).
    """

    scenario_id: str
    category: str
    prompt: str
    response: str | None
    judge_context: str = ""
    system_prompt: str | None = None


@dataclass(frozen=True)
class Judgment:
    """One judge's labels for one response; None means "this judge does not label that".

    ``in_role`` is defined for refusals and partials only (the codebook's narrow construct counts
    only out-of-role declines as refusals); the records table rejects it on any other row.
    """

    judge: str
    judge_version: str | None = None
    engagement: str | None = None
    ic: bool | None = None
    ic_evidence: str | None = None
    benchmark_decision: str | None = None
    refusal_kind: str | None = None
    in_role: bool | None = None
    flags: dict[str, bool | None] = field(default_factory=dict)
    confidence: float | None = None
    judge_explanation: str | None = None
    judge_raw: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.flags) - set(REASONING_FLAGS)
        if unknown:
            raise ValueError(f"unknown reasoning flag(s): {', '.join(sorted(unknown))}")
        if self.in_role is not None and self.engagement not in IN_ROLE_DEFINED:
            raise ValueError(
                f"in_role is defined only for refusal or partial, not engagement "
                f"{self.engagement!r}"
            )

    @classmethod
    def missing(cls, judge: str, version: str, explanation: str | None = None) -> Judgment:
        """The label of a response that is not there: ``missing``, with no other label, so no
        judge guesses at text it never saw."""
        return cls(
            judge=judge, judge_version=version, engagement="missing", judge_explanation=explanation
        )

    def to_fields(self) -> dict[str, Any]:
        """The records-table label columns this judgment fills (flags spread into columns)."""
        out: dict[str, Any] = {
            "judge": self.judge,
            "judge_version": self.judge_version,
            "engagement": self.engagement,
            "ic": self.ic,
            "ic_evidence": self.ic_evidence,
            "benchmark_decision": self.benchmark_decision,
            "refusal_kind": self.refusal_kind,
            "in_role": self.in_role,
            "confidence": self.confidence,
            "judge_explanation": self.judge_explanation,
            "judge_raw": self.judge_raw,
        }
        for flag in REASONING_FLAGS:
            out[flag] = self.flags.get(flag)
        return out


@runtime_checkable
class Judge(Protocol):
    """A pluggable judge: an id, a version (part of cache keys) and an async ``judge`` call."""

    id: str
    version: str

    async def judge(self, item: JudgeInput) -> Judgment:
        """Label one response. Never raise for bad model output: return invalid/unscored."""
        ...
