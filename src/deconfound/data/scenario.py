"""The scenario: one adversarial prompt, its category and the judge's category context."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def category_slug(category: str) -> str:
    """Lower-case, hyphenated form of a category name: 'Evading Shutdown' -> 'evading-shutdown'."""
    slug = re.sub(r"[^a-z0-9]+", "-", category.strip().lower()).strip("-")
    if not slug:
        raise ValueError(f"category {category!r} has no letters or digits to build an id from")
    return slug


def scenario_id(category: str, index: int) -> str:
    """Stable id ``<category-slug>-<nn>``; ``index`` is the 1-based row in the category file."""
    if index < 1:
        raise ValueError(f"scenario index is 1-based, got {index}")
    return f"{category_slug(category)}-{index:02d}"


@dataclass(frozen=True)
class Scenario:
    """One scenario.

    Args:
        id: Stable id, ``<category-slug>-<nn>`` for InstrumentalEval.
        category: Category name as in the source (e.g. "Evading Shutdown").
        prompt: The text the subject model sees as the user turn.
        judge_context: Category-specific context the benchmark gives its judge.
        source_task_id: Id in the source numbering (InstrumentalEval: "<Category>_<i>").
        metadata: Anything else the source carried.
    """

    id: str
    category: str
    prompt: str
    judge_context: str = ""
    source_task_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
