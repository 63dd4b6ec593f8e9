"""Run a study: one Inspect eval set per study, resumable, then records and a manifest.

Each (model, condition) is one Inspect task over the same scenarios. All tasks go into a single
``eval_set`` with a fixed log directory, so running the same study again resumes: tasks that
finished are returned as they are, failed or killed tasks are retried and their finished samples
reused (inspect-notes §5, §12). The model-call cache lives under the log directory as a backstop,
so even a sample whose result was lost with a killed process is not paid for twice.

Completion is judged from the logs, never from Inspect's return value or exit code: every task's
newest log must have status ``success`` and hold one sample per (scenario, epoch).
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import pandas as pd
from inspect_ai import Epochs, eval_set
from inspect_ai.model import GenerateConfig, Model, get_model

from deconfound.data.scenario import Scenario, category_slug
from deconfound.errors import InputError
from deconfound.judges.base import Judge
from deconfound.records.inspect_logs import TaskLog, import_inspect_logs, latest_task_logs
from deconfound.records.io import write_records
from deconfound.records.locations import Location, as_location, join, write_via_local
from deconfound.run.lock import guard_log_dir
from deconfound.run.manifest import build_manifest, write_manifest
from deconfound.run.study import INSTRUMENTALEVAL, Study
from deconfound.run.task import EPOCH_REDUCER, build_task

RECORDS_FILE: Final = "records.parquet"
MANIFEST_FILE: Final = "manifest.json"
#: Model-call cache inside the log directory (hidden, so log readers skip it).
CACHE_DIR: Final = ".inspect-cache"

Display = Literal["full", "conversation", "rich", "plain", "log", "none"]


class ScenarioSource(Protocol):
    """What the runner needs from a scenario set (``deconfound.data.ScenarioSet`` fits)."""

    @property
    def scenarios(self) -> list[Scenario]: ...
    @property
    def source(self) -> str: ...
    @property
    def digests(self) -> dict[str, str]: ...
    @property
    def pinned(self) -> bool: ...


@dataclass(frozen=True)
class GivenScenarios:
    """Scenarios handed to :func:`run_study` directly (tests, notebooks)."""

    scenarios: list[Scenario]
    source: str = "given"
    digests: dict[str, str] = field(default_factory=dict)
    pinned: bool = False


@dataclass(frozen=True)
class RunResult:
    """What a run left behind.

    Args:
        log_dir: The Inspect log directory (the eval set).
        records_path: The records table (``records.parquet`` in the log directory).
        manifest_path: The provenance manifest (``manifest.json`` in the log directory).
        complete: Every task succeeded with one sample per (scenario, epoch).
        tasks: The log chosen for each task, with its status.
        rows: Rows written to the records table.
        problems: Why the run is incomplete (empty when complete).
    """

    log_dir: Location
    records_path: Location
    manifest_path: Location
    complete: bool
    tasks: tuple[TaskLog, ...] = ()
    rows: int = 0
    problems: tuple[str, ...] = ()


def load_study_scenarios(study: Study) -> ScenarioSource:
    """Load the study's scenarios through ``deconfound.data.load_scenarios``."""
    from deconfound.data import load_scenarios

    spec = study.scenarios
    source: str | Path | None = None if spec.source == INSTRUMENTALEVAL else spec.source
    if source is None and spec.local_copy is not None and spec.local_copy.is_dir():
        source = spec.local_copy
    loaded: ScenarioSource = load_scenarios(
        source,
        cache_dir=spec.cache_dir,
        categories=list(spec.categories) if spec.categories else None,
        limit=spec.limit,
    )
    return loaded


def _filter(given: ScenarioSource, study: Study) -> ScenarioSource:
    """Apply the study's category filter and limit to directly given scenarios."""
    spec = study.scenarios
    keep = list(given.scenarios)
    if spec.categories:
        wanted = {category_slug(c) for c in spec.categories}
        keep = [s for s in keep if category_slug(s.category) in wanted]
    if spec.limit is not None:
        keep = keep[: spec.limit]
    return GivenScenarios(keep, given.source, dict(given.digests), given.pinned)


def resolve_judges(specs: Sequence[str], *, path: Path | None = None) -> list[Judge]:
    """Resolve judge specs through ``deconfound.judges.registry.resolve_judge``."""
    from deconfound.judges.registry import resolve_judge

    judges = []
    for i, spec in enumerate(specs):
        try:
            judges.append(resolve_judge(spec))
        except InputError as exc:
            raise InputError(exc.message, path=path, field=f"judges.use[{i}]") from exc
    return judges


@contextmanager
def _cache_dir(log_dir: Location) -> Iterator[None]:
    """Point Inspect's model-call cache into the log dir for the run (unless the user set one).

    Not for an object-store log dir: the cache is a local directory (Inspect's default is used).
    """
    if os.environ.get("INSPECT_CACHE_DIR") or not isinstance(log_dir, Path):
        yield
        return
    os.environ["INSPECT_CACHE_DIR"] = str((log_dir / CACHE_DIR).resolve())
    try:
        yield
    finally:
        os.environ.pop("INSPECT_CACHE_DIR", None)


def _resolve_models(specs: Sequence[str], log_dir: Location) -> Any:
    from deconfound.run.local import resolve_models

    # Local servers write their logs into the run directory, so a killed run leaves them there
    # (into a temporary directory when the logs go to an object store).
    return resolve_models(list(specs), log_dir=log_dir if isinstance(log_dir, Path) else None)


def _strip_markup(text: str) -> str:
    return re.sub(r"\[/?[a-z ]+\]", "", text).replace("\n", " ").strip()


def _is_prerequisite(exc: BaseException) -> bool:
    # Inspect's PrerequisiteError lives in a private module; match it by name.
    return type(exc).__name__ == "PrerequisiteError"


def _model(spec: str, *, path: Path | None, key: str, **kwargs: Any) -> Model:
    """``get_model`` with a missing SDK, key or unknown provider reported as bad input.

    Not memoized: Inspect's memo key leaves out settings read from the environment (a provider's
    base URL), so a second study in one process could otherwise reuse a client of the first.
    """
    try:
        return get_model(spec, memoize=False, **kwargs)
    except Exception as exc:
        if _is_prerequisite(exc) or isinstance(exc, ValueError):
            raise InputError(
                f"cannot use model {spec!r}: {_strip_markup(str(exc))}", path=path, field=key
            ) from exc
        raise


def _connections(study: Study, spec: str) -> dict[str, Any]:
    """A model's own connection limit (``max_connections = { "<model>" = n }``), if it has one."""
    n = study.model_connections.get(spec)
    return {"config": GenerateConfig(max_connections=n)} if n is not None else {}


def run_defaults(study: Study, display: Display | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """Eval-set settings deconfound chooses where Inspect's defaults differ or cost CPU.

    Any setting given in the study file, on the command line or in ``given`` (the eval-set
    arguments already chosen) wins.

    - ``adaptive_connections=True`` when the study fixes no connection count and no batch mode:
      Inspect then scales each model's connections with its rate limits. Inspect 0.3.285 does
      this by default too, but says so nowhere in the log; set explicitly it is recorded in the
      plan's generate config, and does not depend on a default that has changed before. A model
      with its own ``max_connections`` keeps it (Inspect's precedence).
    - ``log_realtime=False``: Inspect's realtime sample buffer (an SQLite database that
      ``inspect view`` reads to show samples while they run) took about 9 ms of CPU per sample,
      a quarter of the runner's CPU (docs/scale.md). A killed run still resumes without paying
      twice: finished samples are flushed to the log every few samples, and the model-call cache
      answers the calls of those that were not. ``log_realtime = true`` brings it back.
    - ``score_display=False`` with ``display="none"``: the running metrics are recomputed over
      every sample so far about once a second, only to be displayed.
    """
    out: dict[str, Any] = {"log_realtime": False}
    fixed = study.max_connections is not None or given.get("max_connections") is not None
    if not fixed and not given.get("batch"):
        out["adaptive_connections"] = True
    if display == "none":
        out["score_display"] = False
    return out


def _check(
    tasks: Sequence[TaskLog],
    records: pd.DataFrame,
    expected: Sequence[tuple[str, str]],
    n_samples: int,
) -> list[str]:
    """Problems that make the run incomplete, read from the logs and the records."""
    problems: list[str] = []
    by_key = {(t.model, t.condition): t for t in tasks}
    for model, condition in expected:
        task = by_key.get((model, condition))
        if task is None:
            problems.append(f"{model} / {condition}: no log")
            continue
        if task.status != "success":
            problems.append(f"{model} / {condition}: log status {task.status} ({task.name})")
        mine = records[(records["model"] == model) & (records["condition"] == condition)]
        done = mine[mine["response_status"] == "ok"].drop_duplicates(["scenario_id", "epoch"])
        if len(done) != n_samples:
            problems.append(
                f"{model} / {condition}: {len(done)} of {n_samples} (scenario, epoch) samples done"
            )
    return problems


@guard_log_dir  # one run per log directory; no resume over damaged logs
def run_study(
    study: Study,
    *,
    log_dir: str | Path | None = None,
    scenarios: ScenarioSource | Sequence[Scenario] | None = None,
    judges: Sequence[Judge] | None = None,
    display: Display | None = None,
    command: Sequence[str] | None = None,
    eval_set_args: Mapping[str, Any] | None = None,
) -> RunResult:
    """Run (or resume) a study and write ``records.parquet`` and ``manifest.json`` beside its logs.

    Args:
        study: The study (command-line overrides already applied).
        log_dir: Log directory (default: the study's, else ``runs/<name>``), local or an
            object-store URI (``s3://bucket/prefix``). Keep it fixed to resume: running again
            skips every finished sample.
        scenarios: Scenarios to use instead of loading the study's source (filters still apply).
        judges: Judges to use instead of resolving the study's judge specs.
        display: Inspect's progress display (default: Inspect's choice for the terminal).
        command: Command line for the manifest (default: ``sys.argv``).
        eval_set_args: Extra keyword arguments for ``inspect_ai.eval_set`` (e.g. ``log_buffer``).

    Returns:
        A :class:`RunResult`; ``complete`` is False when any task is unfinished or errored.
    """
    log_dir = as_location(log_dir if log_dir is not None else study.resolved_log_dir())
    scen_set = _study_scenarios(study, scenarios)
    judge_list, judge_specs = _study_judges(study, judges)
    with _resolve_models(study.models, log_dir) as resolved, _cache_dir(log_dir):
        models_info = [
            {"spec": r.spec, "inspect_model": r.inspect_model, "smoke": r.smoke} for r in resolved
        ]
        roles = {
            role: _model(spec, path=study.path, key=f"judges.roles.{role}")
            for role, spec in study.judge_roles.items()
        }
        tasks = _tasks(study, resolved, list(scen_set.scenarios), judge_list)
        _run_eval_set(study, tasks, log_dir, roles, display, eval_set_args)
    task_logs = [t for t in latest_task_logs([log_dir]) if t.study == study.name]
    records = import_inspect_logs([t.path for t in task_logs])
    expected = [(r["spec"], c.name) for r in models_info for c in study.conditions]
    n_samples = len(scen_set.scenarios) * study.epochs
    problems = _check(task_logs, records, expected, n_samples)
    records_path = write_via_local(
        join(log_dir, RECORDS_FILE), lambda path: write_records(records, path)
    )
    manifest = build_manifest(
        study,
        dataset=_dataset_entry(scen_set),
        models=models_info,
        judges=[
            {"spec": s, "id": j.id, "version": j.version}
            for s, j in zip(judge_specs, judge_list, strict=True)
        ],
        tasks=task_logs,
        complete=not problems,
        records={"path": RECORDS_FILE, "rows": len(records)},
        command=command,
    )
    if problems:
        manifest["problems"] = problems
    manifest_path = write_via_local(
        join(log_dir, MANIFEST_FILE), lambda path: write_manifest(manifest, path)
    )
    return RunResult(
        log_dir=log_dir,
        records_path=records_path,
        manifest_path=manifest_path,
        complete=not problems,
        tasks=tuple(task_logs),
        rows=len(records),
        problems=tuple(problems),
    )


def _study_scenarios(
    study: Study, scenarios: ScenarioSource | Sequence[Scenario] | None
) -> ScenarioSource:
    """The study's scenarios (or the given ones, filtered as the study says): at least one, and
    no id twice."""
    if scenarios is None:
        scen_set = load_study_scenarios(study)
    elif isinstance(scenarios, Sequence):
        scen_set = _filter(GivenScenarios(list(scenarios)), study)
    else:
        scen_set = _filter(scenarios, study)
    ids = [s.id for s in scen_set.scenarios]
    if not ids:
        raise InputError(
            "no scenarios left after the category filter and limit",
            path=study.path,
            field="scenarios",
        )
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"duplicate scenario id {dup!r}", path=study.path, field="scenarios")
    return scen_set


def _study_judges(study: Study, judges: Sequence[Judge] | None) -> tuple[list[Judge], list[str]]:
    """The judges (the given ones, or the study's specs resolved) and the spec of each."""
    if judges is None:
        return resolve_judges(study.judges, path=study.path), list(study.judges)
    return list(judges), [j.id for j in judges]


def _tasks(
    study: Study, resolved: Sequence[Any], scen: list[Scenario], judges: list[Judge]
) -> list[Any]:
    """One Inspect task per (model, condition), each model bound once with its own settings."""
    tasks = []
    for i, r in enumerate(resolved):
        model = _model(
            r.inspect_model,
            path=study.path,
            key=f"models[{i}]",
            base_url=r.base_url,
            **_connections(study, r.spec),
            **dict(r.model_args),
        )
        for condition in study.conditions:
            tasks.append(
                build_task(
                    study,
                    condition,
                    scen,
                    model=model,
                    model_spec=r.spec,
                    smoke=r.smoke,
                    judges=judges,
                )
            )
    return tasks


def _eval_set_settings(
    study: Study, eval_set_args: Mapping[str, Any] | None, display: Display | None
) -> dict[str, Any]:
    """Generation settings, then the caller's eval-set arguments over the study's run options,
    over deconfound's own defaults (:func:`run_defaults`)."""
    gen = study.generation
    config = {
        "temperature": gen.temperature,
        "max_tokens": gen.max_tokens,
        "seed": gen.seed,
        "max_connections": study.max_connections,
    }
    settings: dict[str, Any] = {k: v for k, v in config.items() if v is not None}
    extra: dict[str, Any] = dict(eval_set_args or {})
    for key, value in study.options.eval_set_args().items():
        extra.setdefault(key, value)
    if study.retry_attempts is not None:
        extra.setdefault("retry_attempts", study.retry_attempts)
    for key, value in run_defaults(study, display, extra).items():
        extra.setdefault(key, value)
    return {**settings, **extra}


def _run_eval_set(
    study: Study,
    tasks: list[Any],
    log_dir: Location,
    roles: Mapping[str, Model],
    display: Display | None,
    eval_set_args: Mapping[str, Any] | None,
) -> None:
    """Run every task in one eval set; a log dir of another configuration is bad input."""
    try:
        # In a copy of the caller's context: an eval leaves its generate config (cache=True
        # included) active in the context it ran in, which would make later model calls in
        # the same process (a notebook, a second study) silently use the model-call cache.
        contextvars.copy_context().run(
            eval_set,
            tasks,
            log_dir=str(log_dir),
            model_roles=dict(roles) or None,
            cache=True,
            # Also given here (not only on the tasks) so that eval_set sees a log with fewer
            # epochs than asked for as unfinished and runs only the missing ones.
            epochs=Epochs(study.epochs, EPOCH_REDUCER),
            display=display,
            metadata={"deconfound_study": study.name},
            **_eval_set_settings(study, eval_set_args, display),
        )
    except Exception as exc:
        if not _is_prerequisite(exc):
            raise
        message = _strip_markup(str(exc))
        if "not associated with a task" in message:
            message += (
                " — the log directory holds a run of a different configuration (changed "
                "prompts, scenarios, models, judges or generation settings); use a new "
                "--log-dir"
            )
        raise InputError(message, path=log_dir) from exc


def _dataset_entry(scen_set: ScenarioSource) -> dict[str, Any]:
    """What the manifest records of the scenarios: source, pin, digests, ids and categories."""
    scen = list(scen_set.scenarios)
    return {
        "source": scen_set.source,
        "pinned": scen_set.pinned,
        "digests": dict(scen_set.digests),
        "scenarios": len(scen),
        "scenario_ids": [s.id for s in scen],
        "categories": sorted({s.category for s in scen}),
    }
