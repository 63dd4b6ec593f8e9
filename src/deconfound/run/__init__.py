"""Run a study on Inspect AI: study file -> one task per (model, condition) -> eval set -> records.

``load_study`` parses and validates a study file; ``run_study`` runs or resumes it in a fixed log
directory and writes ``records.parquet`` and ``manifest.json`` beside the logs.
"""

from deconfound.run.runner import GivenScenarios, RunResult, run_study
from deconfound.run.study import (
    Condition,
    Generation,
    PromptPart,
    ScenarioSpec,
    Study,
    load_study,
    parse_study,
)
from deconfound.run.task import build_task

__all__ = [
    "Condition",
    "Generation",
    "GivenScenarios",
    "PromptPart",
    "RunResult",
    "ScenarioSpec",
    "Study",
    "build_task",
    "load_study",
    "parse_study",
    "run_study",
]
