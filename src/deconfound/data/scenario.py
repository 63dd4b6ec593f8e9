"""The scenario: one adversarial prompt, its category and the judge's category context."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

#: Characters a scenario id may use. Ids become Inspect sample ids, and so archive member names
#: in the ``.eval`` log (``samples/<id>_epoch_<n>.json``): no slashes, backslashes, colons or
#: control characters, and no leading dot (``../../outside/x`` must not become a path).
SAFE_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.,()+#-]{0,127}$")


def scenario_id_problem(sid: str) -> str | None:
    """Why ``sid`` cannot be a scenario id, or None when it can."""
    if SAFE_ID.match(sid):
        return None
    return (
        f"scenario id {sid!r} is not allowed: ids start with a letter or digit and use only "
        "letters, digits, spaces and . _ - , ( ) + # (at most 128 characters), because they "
        "become file names inside the run's logs"
    )


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
