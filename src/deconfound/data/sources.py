"""One entry point for every scenario source: the pinned download, a local directory, a file."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from deconfound.data import instrumentaleval
from deconfound.data.custom import SUFFIXES, load_custom
from deconfound.data.instrumentaleval import ScenarioSet
from deconfound.data.scenario import category_slug
from deconfound.errors import InputError

#: Names that select the pinned upstream download.
PINNED_NAMES = frozenset({"instrumentaleval", "pinned", "upstream"})
#: Environment variable naming a local copy of the pinned files (read instead of downloading).
LOCAL_COPY_ENV = "DECONFOUND_INSTRUMENTALEVAL_DIR"


def load_scenarios(
    source: str | Path | None = None,
    *,
    cache_dir: Path | None = None,
    categories: list[str] | None = None,
    limit: int | None = None,
) -> ScenarioSet:
    """Load scenarios from the pinned benchmark, a local directory or a custom file.

    Args:
        source: ``None`` or ``"instrumentaleval"``: the pinned upstream files (downloaded once
            into the user cache, sha256-verified). A directory: local upstream-format CSVs
            (``Alignment Drift - <Category>.csv``). A ``.csv``/``.jsonl`` file: custom scenarios
            with ``id, category, prompt[, judge_context]``.
        cache_dir: Where the pinned download is cached (default: the per-user cache dir).
        categories: Keep only these categories (names or slugs, e.g. ``evading-shutdown``).
        limit: Keep only the first ``limit`` scenarios (after the category filter), for smoke
            runs.

    Setting the environment variable ``DECONFOUND_INSTRUMENTALEVAL_DIR`` to a directory of the
    six upstream CSVs makes the pinned source read that directory instead of downloading (the
    digests are still compared with the pin and recorded).
    """
    if source is None or (isinstance(source, str) and source.strip().lower() in PINNED_NAMES):
        local = os.environ.get(LOCAL_COPY_ENV, "").strip()
        if local:
            # A user-provided copy of the pinned files (offline machines): digests still checked.
            if not Path(local).expanduser().is_dir():
                raise InputError(f"{LOCAL_COPY_ENV} is set but is not a directory", path=local)
            result = instrumentaleval.load_directory(Path(local).expanduser())
        else:
            result = instrumentaleval.load_pinned(cache_dir)
    else:
        path = Path(source).expanduser()
        if path.is_dir():
            result = instrumentaleval.load_directory(path)
        elif path.is_file() and path.suffix.lower() in SUFFIXES:
            result = load_custom(path)
        elif path.exists():
            raise InputError(
                "a scenario source is a directory of InstrumentalEval CSVs, a .csv or .jsonl "
                "scenario file, or 'instrumentaleval' for the pinned download",
                path=path,
            )
        else:
            raise InputError(
                "no such file or directory (use 'instrumentaleval' for the pinned download)",
                path=path,
            )
    return select(result, categories=categories, limit=limit)


def select(
    scenarios: ScenarioSet, *, categories: list[str] | None = None, limit: int | None = None
) -> ScenarioSet:
    """A subset by category (name or slug) and/or count, keeping source and digests."""
    kept = scenarios.scenarios
    if categories:
        available = {c: category_slug(c) for c in scenarios.categories()}
        wanted: set[str] = set()
        for name in categories:
            match = [c for c, slug in available.items() if name in (c, slug)]
            if not match:
                raise InputError(
                    f"unknown category {name!r}; available: {', '.join(available)}",
                    field="categories",
                )
            wanted.update(match)
        kept = [s for s in kept if s.category in wanted]
    if limit is not None:
        if limit < 1:
            raise InputError(f"limit must be at least 1, got {limit}", field="limit")
        kept = kept[:limit]
    if kept is scenarios.scenarios:
        return scenarios
    return replace(scenarios, scenarios=list(kept))


__all__ = ["PINNED_NAMES", "load_scenarios", "select"]
