"""deconfound's task and judges as registered Inspect pieces, for ``inspect eval`` and ``score``.

Loaded through the ``inspect_ai`` entry point (``deconfound.run.providers`` imports it), so the
Inspect CLI finds them by name without a task file::

    inspect eval deconfound/instrumentaleval --model openai/gpt-4o -T condition=ethics \\
        -T prompt_files=prompts/ethics.md -T judges=lexical --epochs 5
    inspect eval deconfound/instrumentaleval -T study=study.toml -T condition=ethics ...
    inspect score LOG.eval --scorer deconfound/judge -S judge=lexical --action append

The task is the one ``deconfound run`` builds (same samples, ids, metadata and scorers), so
``deconfound import --format inspect`` reads its logs exactly like a study's own.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from inspect_ai import Task, task
from inspect_ai.scorer import Scorer, mean, scorer, stderr

from deconfound.errors import InputError
from deconfound.judges.base import Judge
from deconfound.judges.scorers import judge_scorer, scorer_name
from deconfound.run.study import Condition, PromptPart, ScenarioSpec, Study, load_study
from deconfound.run.task import build_task

#: Metrics for registered judge scorers: their value keys depend on the judge, so a glob.
_EVERY_KEY: Final = {"*": [mean(), stderr()]}
#: Judge used when neither the task arguments nor the study name one (keyless, offline).
DEFAULT_JUDGE = "lexical"


def _names(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """A task argument given as a list or as comma-separated text (``-T judges=a,b``)."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [i.strip() for i in items if i.strip()]


def _prompt_parts(files: list[str], text: str | None) -> tuple[PromptPart, ...]:
    parts: list[PromptPart] = []
    for f in files:
        path = Path(f).expanduser()
        try:
            parts.append(PromptPart(text=path.read_text(encoding="utf-8").strip(), source=f))
        except OSError as exc:
            raise InputError(f"cannot read prompt file: {exc.strerror}", path=path) from exc
    if text:
        parts.append(PromptPart(text=text))
    return tuple(parts)


def _judges(specs: list[str]) -> list[Judge]:
    from deconfound.run.runner import resolve_judges

    return resolve_judges(specs)


def _study_condition(study: Study, condition: str) -> Condition:
    for c in study.conditions:
        if c.name == condition:
            return c
    raise InputError(
        f"no condition {condition!r}; the study has {', '.join(c.name for c in study.conditions)}",
        path=study.path,
        field="condition",
    )


@task
def instrumentaleval(
    condition: str = "baseline",
    study: str | None = None,
    prompt_files: str | list[str] | None = None,
    system_prompt: str | None = None,
    scenarios: str = "instrumentaleval",
    categories: str | list[str] | None = None,
    limit: int | None = None,
    epochs: int | None = None,
    judges: str | list[str] | None = None,
    study_name: str | None = None,
) -> Task:
    """One condition of a refusal-aware InstrumentalEval study, as an Inspect task.

    Args:
        condition: Condition name (with ``study``: one of the study's conditions).
        study: A study file; its condition, scenarios, filters, epochs and judges are used
            unless given here too.
        prompt_files: Files whose texts, joined by a blank line, form the system prompt.
        system_prompt: System prompt text (after any ``prompt_files``).
        scenarios: Scenario source: ``instrumentaleval`` (pinned), a directory or a file.
        categories: Keep only these categories (names or slugs; comma-separated or a list).
        limit: Keep only the first ``limit`` scenarios.
        epochs: Samples per scenario (default: the study's, else 1).
        judges: Judge specs run as scorers (default: the study's, else ``lexical``). LLM judges
            such as ``rubric`` use the ``grader`` role: ``--model-role grader=<model>``.
        study_name: The records' ``study`` (default: the study's name, else
            ``instrumentaleval``).
    """
    from deconfound.run.runner import load_study_scenarios

    if study is not None:
        base = load_study(study)
        cond = _study_condition(base, condition)
        extra = _prompt_parts(_names(prompt_files), system_prompt)
        if extra:
            cond = replace(cond, system=cond.system + extra)
    else:
        cond = Condition(name=condition, system=_prompt_parts(_names(prompt_files), system_prompt))
        base = Study(
            name=study_name or "instrumentaleval",
            conditions=(cond,),
            models=(),
            scenarios=ScenarioSpec(source=scenarios),
            judges=(DEFAULT_JUDGE,),
        )
    spec = base.scenarios
    if study is None or scenarios != "instrumentaleval":
        spec = ScenarioSpec(source=scenarios, cache_dir=spec.cache_dir, local_copy=spec.local_copy)
    cats = _names(categories)
    changes: dict[str, Any] = {}
    if cats or limit is not None:
        changes["scenarios"] = ScenarioSpec(
            source=spec.source,
            categories=tuple(cats) if cats else spec.categories,
            limit=limit if limit is not None else spec.limit,
            cache_dir=spec.cache_dir,
            local_copy=spec.local_copy,
        )
    else:
        changes["scenarios"] = spec
    if study_name:
        changes["name"] = study_name
    if epochs is not None:
        changes["epochs"] = epochs
    base = replace(base, **changes)
    judge_specs = _names(judges) or list(base.judges) or [DEFAULT_JUDGE]
    return build_task(
        base,
        cond,
        list(load_study_scenarios(base).scenarios),
        model=None,
        model_spec=None,
        judges=_judges(judge_specs),
    )


@scorer(metrics=_EVERY_KEY)
def judge(
    judge: str = DEFAULT_JUDGE, name: str | None = None, group_by: str | None = None
) -> Scorer:
    """Any deconfound judge as a scorer (``inspect score LOG --scorer deconfound/judge``).

    Args:
        judge: Judge spec (``lexical``, ``offline``, ``rubric`` for the ``grader`` role,
            ``rubric:<provider/model>``, ``benchmark``, ...).
        name: Scorer name and metric prefix (default: from the judge id).
        group_by: Sample metadata key to report rates per group of (e.g. ``category``).
    """
    return _scorer(judge, name, group_by)


def _scorer(spec: str, name: str | None = None, group_by: str | None = None) -> Scorer:
    (resolved,) = _judges([spec])
    return judge_scorer(resolved, name=name or scorer_name(resolved), group_by=group_by)


@scorer(metrics=_EVERY_KEY)
def lexical() -> Scorer:
    """The keyless lexical refusal judge as a scorer."""
    return _scorer("lexical")


@scorer(metrics=_EVERY_KEY)
def rubric(model_role: str = "grader") -> Scorer:
    """The refusal-aware rubric judge on a model role (``--model-role grader=<model>``)."""
    return _scorer(f"rubric@{model_role}")


@scorer(metrics=_EVERY_KEY)
def benchmark(model_role: str = "grader") -> Scorer:
    """The InstrumentalEval-style DECISION/REASON judge on a model role."""
    return _scorer(f"benchmark@{model_role}")
