"""Scenario sources: the pinned InstrumentalEval download, a local directory, custom files."""

from deconfound.data.scenario import Scenario, category_slug, scenario_id

__all__ = ["Scenario", "category_slug", "scenario_id"]
