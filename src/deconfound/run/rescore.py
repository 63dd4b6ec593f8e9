"""Add judge scores to existing ``.eval`` logs, so a log carries every judgment made of it.

``deconfound judge`` labels a records table; this writes the same judgments into the logs
themselves (through Inspect's ``score`` with ``action="append"``), where the Inspect viewer shows
them and ``deconfound import`` reads them like scores made during the run. Each task's chosen log
is scored (its newest successful one); superseded logs are left alone. A judge already in a log
is scored again and replaces its earlier scores.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from inspect_ai import score
from inspect_ai.log import read_eval_log, write_eval_log
from inspect_ai.model import Model

from deconfound.errors import InputError
from deconfound.judges.base import Judge
from deconfound.judges.scorers import judge_scorer
from deconfound.records.inspect_logs import latest_task_logs
from deconfound.records.locations import Location, is_remote, join
from deconfound.run.task import scorer_names


def score_logs(
    paths: Sequence[Location],
    judges: Sequence[Judge],
    *,
    model_roles: Mapping[str, str | Model] | None = None,
    output_dir: Location | None = None,
) -> list[Location]:
    """Score each task's chosen log with ``judges`` and write it back (or into ``output_dir``).

    Args:
        paths: Log files and/or directories.
        judges: Judges to add, each as a scorer named as ``deconfound run`` would name it.
        model_roles: Inspect model roles for LLM judges (e.g. ``{"grader": "openai/gpt-4o"}``).
        output_dir: Write scored copies here instead of replacing the logs.

    Returns:
        The written log files.
    """
    if not judges:
        raise InputError("give at least one judge", field="--judge")
    tasks = latest_task_logs(paths)
    if not tasks:
        raise InputError("no Inspect logs found", path=", ".join(str(p) for p in paths))
    names = scorer_names(judges)
    written: list[Location] = []
    for task in tasks:
        log = read_eval_log(str(task.path))
        if log.status != "success":
            raise InputError(
                f"log status is {log.status}: finish or resume the run before scoring it",
                path=task.path,
            )
        scored = score(
            log,
            [judge_scorer(j, name=n) for j, n in zip(judges, names, strict=True)],
            action="append",
            model_roles=dict(model_roles) if model_roles else None,
            display="none",
        )
        dest = join(output_dir, task.name) if output_dir is not None else task.path
        if is_remote(dest):
            write_eval_log(scored, str(dest))  # an object store replaces an object in one put
        else:
            dest = Path(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            # Written beside the target then renamed: an interrupted write never leaves half
            # a log.
            tmp = dest.with_name(f".{dest.stem}.scoring{dest.suffix}")
            write_eval_log(scored, str(tmp))
            os.replace(tmp, dest)
        written.append(dest)
    return written
