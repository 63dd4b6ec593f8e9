"""One Inspect task per (model, condition), over the same scenarios with stable sample ids.

The condition's system prompt is inserted verbatim (no ``str.format`` templating, unlike Inspect's
``system_message``: scenario text and prompts may contain braces) and recorded verbatim in the task
metadata under :data:`TASK_METADATA_KEY`, so logs alone suffice to build records and reports.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Final

from inspect_ai import Epochs, Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.log import HeadlineMetric
from inspect_ai.model import ChatMessageSystem, Model
from inspect_ai.solver import Generate, Solver, TaskState, generate, solver

from deconfound.data.scenario import Scenario, scenario_id_problem
from deconfound.errors import InputError
from deconfound.judges.base import Judge
from deconfound.judges.scorers import judge_labels, judge_scorer, scorer_name
from deconfound.run.study import Condition, Study

#: Key of deconfound's block in an Inspect task's metadata.
TASK_METADATA_KEY: Final = "deconfound"
#: Epoch reducer: judge scorers return dicts of 0/1 indicators, so "mean" gives per-scenario rates
#: and never turns categorical labels into 0 (inspect-notes trap 3).
EPOCH_REDUCER: Final = "mean"


@solver
def condition_prompt(system_prompt: str) -> Solver:
    """Insert the condition's system prompt verbatim as the first message.

    Args:
        system_prompt: The full system prompt; nothing is inserted when empty.
    """

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if system_prompt:
            state.messages.insert(0, ChatMessageSystem(content=system_prompt))
        return state

    return solve


@contextmanager
def _study_dir_on_path(study: Study) -> Iterator[None]:
    """Let a study import a solver module that sits beside the study file."""
    if study.path is None:
        yield
        return
    folder = str(study.path.parent.resolve())
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        with suppress(ValueError):
            sys.path.remove(folder)


def load_solver(condition: Condition, study: Study) -> Solver:
    """Import and build a condition's custom solver (``module:function`` + ``solver_args``).

    The study file's folder is searched first, so a solver module can live beside the study.
    """
    assert condition.solver is not None
    where = f"conditions.{condition.name}.solver"
    module_name, _, attr = condition.solver.partition(":")
    try:
        with _study_dir_on_path(study):
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(
            f"cannot import solver module {module_name!r}: {exc}", path=study.path, field=where
        ) from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise InputError(
            f"{condition.solver!r} is not a callable in {module_name}", path=study.path, field=where
        )
    try:
        built = factory(**dict(condition.solver_args))
    except TypeError as exc:
        raise InputError(
            f"cannot build solver {condition.solver!r}: {exc}",
            path=study.path,
            field=f"conditions.{condition.name}.solver_args",
        ) from exc
    if not callable(built):
        raise InputError(
            f"{condition.solver!r} did not return an Inspect solver", path=study.path, field=where
        )
    return built


def scenario_sample(scenario: Scenario, condition: Condition, study_name: str) -> Sample:
    """The Inspect sample for one scenario under one condition (id = scenario id)."""
    return Sample(
        id=scenario.id,
        input=condition.user_prompt(scenario.prompt),
        metadata={
            "study": study_name,
            "scenario_id": scenario.id,
            "category": scenario.category,
            "condition": condition.name,
            "judge_context": scenario.judge_context,
            "source_task_id": scenario.source_task_id,
            "scenario_prompt": scenario.prompt,
            "scenario_metadata": dict(scenario.metadata),
        },
    )


def scorer_names(judges: Sequence[Judge]) -> list[str]:
    """Distinct Inspect scorer names for the judges (metric prefixes must not collide)."""
    names: list[str] = []
    for judge in judges:
        base = scorer_name(judge)
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names


def task_identity(
    condition: Condition, scenarios: Sequence[Scenario], judges: Sequence[Judge]
) -> str:
    """Digest of everything that defines a task's results beyond what Inspect hashes itself.

    Used as the task version, so an edited prompt, scenario set or judge list can never silently
    reuse the logs of a different configuration in the same log directory.
    """
    payload = {
        "condition": condition.fingerprint(),
        "scenarios": [[s.id, s.prompt, s.category, s.judge_context] for s in scenarios],
        "judges": [[j.id, j.version] for j in judges],
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return "dc-" + hashlib.sha256(blob).hexdigest()[:16]


def build_task(
    study: Study,
    condition: Condition,
    scenarios: Sequence[Scenario],
    *,
    model: Model | None,
    model_spec: str | None,
    smoke: bool = False,
    judges: Sequence[Judge] = (),
) -> Task:
    """The Inspect task for one (model, condition).

    Args:
        study: The study (its name and epochs are used).
        condition: The condition.
        scenarios: Scenarios in a fixed order (shared by every task of the study).
        model: The subject model, bound to the task so each (model, condition) is its own task
            (None: the model given to ``inspect eval``).
        model_spec: The model as written in the study (the records' ``model``; None: the
            model Inspect records).
        smoke: The model is a local smoke model (plumbing only, never findings).
        judges: Judges, each run as an Inspect scorer (ids, versions and scorer names are
            recorded so the log reader can give every configured judge a row per response).
    """
    for s in scenarios:  # also for scenarios handed over directly, not only loaded from files
        if (problem := scenario_id_problem(s.id)) is not None:
            raise InputError(problem, path=study.path, field="scenarios")
    names = scorer_names(judges)
    steps: list[Solver] = [condition_prompt(condition.system_prompt)]
    steps.append(load_solver(condition, study) if condition.solver else generate())
    meta: dict[str, Any] = {
        "study": study.name,
        **({"model_spec": model_spec} if model_spec is not None else {}),
        "smoke": smoke,
        "judges": [
            {"id": j.id, "version": j.version, "scorer": name}
            for j, name in zip(judges, names, strict=True)
        ],
        **condition.fingerprint(),
        "condition": condition.name,
    }
    del meta["name"]
    return Task(
        dataset=MemoryDataset(
            [scenario_sample(s, condition, study.name) for s in scenarios],
            name=f"{study.name}-scenarios",
        ),
        solver=steps,
        scorer=[
            judge_scorer(j, name=n, group_by="category") for j, n in zip(judges, names, strict=True)
        ]
        or None,
        epochs=Epochs(study.epochs, EPOCH_REDUCER),
        model=model,
        name=condition.name,
        version=task_identity(condition, scenarios, judges),
        metadata={TASK_METADATA_KEY: meta},
        headline_metric=headline_metric(judges[0], names[0]) if judges else None,
    )


def headline_metric(judge: Judge, name: str) -> HeadlineMetric:
    """The number a log listing shows: the first judge's refusal rate (or convergence rate).

    Refusal, not the IC rate, because the point of a deconfound run is that a change in the
    headline IC rate cannot be read without the change in refusals beside it.
    """
    key = "convergence" if "engagement" not in judge_labels(judge) else "refusal"
    return HeadlineMetric(scorer=name, score=f"{name}_{key}", metric="mean")
