"""Scenario sources: the pinned InstrumentalEval download, a local directory, custom files."""

from deconfound.data.custom import load_custom
from deconfound.data.instrumentaleval import (
    CATEGORIES,
    CATEGORY_SIZES,
    DigestMismatchWarning,
    ScenarioSet,
    load_directory,
    load_pinned,
    task_scenario_id,
)
from deconfound.data.scenario import Scenario, category_slug, scenario_id
from deconfound.data.sources import load_scenarios, select

__all__ = [
    "CATEGORIES",
    "CATEGORY_SIZES",
    "DigestMismatchWarning",
    "Scenario",
    "ScenarioSet",
    "category_slug",
    "load_custom",
    "load_directory",
    "load_pinned",
    "load_scenarios",
    "scenario_id",
    "select",
    "task_scenario_id",
]
