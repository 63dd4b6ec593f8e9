"""Inspect logs -> the records table (one row per response per judge).

A study's log directory can hold several logs per task: a log left ``started`` by a killed run,
a ``-recovered`` log rebuilt from Inspect's sample buffer, failed attempts an eval set retried,
and the final successful log (inspect-notes §12). Reading them all would duplicate responses, so
for each task only its newest successful log is used (or, if it has none, its newest log, so a
partial run still shows what it produced).

Judge labels come from scores whose metadata carries ``LABELS_KEY`` (``records.labels``).
A response with no judge labels still gets a row (judge ``"none"``, labels null) so it is never
lost from the table; a configured judge with no label for a response (e.g. the sample errored)
gets a row with ``engagement = "missing"`` (the judges' own convention for a response they were
not given).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd
from inspect_ai.event import ModelEvent, SpanBeginEvent
from inspect_ai.log import EvalLog, EvalSample, read_eval_log
from inspect_ai.model import ModelOutput

from deconfound.errors import InputError
from deconfound.records.labels import LABELS_KEY, REASONING_FLAGS
from deconfound.records.schema import empty_records, validate

#: Judge id of the row a response gets when no judge labelled it.
NO_JUDGE: Final = "none"
#: Task metadata block written by ``deconfound.run.task`` (kept in sync by name, not import, so
#: reading logs never imports the runner).
TASK_METADATA_KEY: Final = "deconfound"
_LABEL_FIELDS: Final = (
    "judge_version",
    "engagement",
    "ic",
    "ic_evidence",
    "benchmark_decision",
    "refusal_kind",
    *REASONING_FLAGS,
    "confidence",
    "judge_explanation",
    "judge_raw",
)
_NOT_LOGS: Final = frozenset({"logs.json", "eval-set.json", "listing.json", "manifest.json"})


@dataclass(frozen=True)
class TaskLog:
    """The log chosen for one task, with what its header says.

    Args:
        path: The log file.
        study: Study name (from deconfound's task metadata, else the given default).
        model: Model as written in the study (else Inspect's model name).
        condition: Condition name (else the task's ``condition`` argument or its name).
        status: Inspect's log status: success, started, error, cancelled.
        samples: Completed samples in the log header's results (None when unknown).
        smoke: The model is a local smoke model.
        superseded: Other logs of the same task that were ignored.
        planned: Samples the task was asked for (dataset samples x epochs; None when unknown).
    """

    path: Path
    study: str
    model: str
    condition: str
    status: str
    samples: int | None
    smoke: bool
    superseded: tuple[Path, ...] = ()
    planned: int | None = None


def _log_files(paths: Iterable[Path]) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            found = False
            for f in sorted(p.rglob("*")):
                hidden = any(part.startswith(".") for part in f.relative_to(p).parts)
                if f.suffix in {".eval", ".json"} and f.name not in _NOT_LOGS and not hidden:
                    found = True
                    yield f
            if not found:
                raise InputError("no Inspect logs (.eval or .json) in this folder", path=p)
        elif p.is_file():
            yield p
        else:
            raise InputError("no such log file or directory", path=p)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def _created(log: EvalLog) -> datetime:
    try:
        created = datetime.fromisoformat(log.eval.created)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def _meta(log: EvalLog) -> dict[str, Any]:
    block = (log.eval.metadata or {}).get(TASK_METADATA_KEY)
    return block if isinstance(block, dict) else {}


def _identity(log: EvalLog, default_study: str | None) -> tuple[str, str, str]:
    meta = _meta(log)
    args = log.eval.task_args or {}
    study = meta.get("study") or default_study or log.eval.task
    model = meta.get("model_spec") or log.eval.model
    condition = meta.get("condition") or args.get("condition") or log.eval.task
    return str(study), str(model), str(condition)


def _planned(log: EvalLog) -> int | None:
    """Samples the task was asked for: dataset samples (or the limit) times epochs."""
    n = log.eval.dataset.samples
    if n is None:
        return None
    limit = log.eval.config.limit
    if isinstance(limit, int):
        n = min(n, limit)
    elif isinstance(limit, tuple | list) and len(limit) == 2:
        n = max(0, min(n, int(limit[1])) - int(limit[0]))
    return n * (log.eval.config.epochs or 1)


def latest_task_logs(paths: Sequence[Path], *, study: str | None = None) -> list[TaskLog]:
    """Pick each task's newest successful log (else its newest log) from files or directories.

    Args:
        paths: Log files and/or directories (searched recursively).
        study: Study name for logs not written by deconfound (default: the task name).
    """
    groups: dict[tuple[str, str, str], list[tuple[EvalLog, Path]]] = {}
    for f in _log_files(paths):
        try:
            header = read_eval_log(str(f), header_only=True)
        except FileNotFoundError:
            continue  # removed since it was listed: a running eval set replaced it
        except Exception as exc:  # not a log, or a log too damaged to read
            if f.suffix == ".eval":
                raise InputError(f"cannot read Inspect log: {exc}", path=f) from exc
            continue
        groups.setdefault(_identity(header, study), []).append((header, f))
    chosen: list[TaskLog] = []
    for key, logs in groups.items():
        # Inspect's timestamps have one-second resolution; the file time breaks ties.
        logs.sort(key=lambda lf: (_created(lf[0]), _mtime(lf[1])), reverse=True)
        success = [lf for lf in logs if lf[0].status == "success"]
        header, path = (success or logs)[0]
        results = header.results
        chosen.append(
            TaskLog(
                path=path,
                study=key[0],
                model=key[1],
                condition=key[2],
                status=header.status,
                samples=results.completed_samples if results is not None else None,
                smoke=bool(_meta(header).get("smoke", False)),
                superseded=tuple(p for _, p in logs if p != path),
                planned=_planned(header),
            )
        )
    chosen.sort(key=lambda t: (t.study, t.model, t.condition))
    return chosen


def _input_text(sample: EvalSample) -> str:
    if isinstance(sample.input, str):
        return sample.input
    return "\n\n".join(m.text for m in sample.input if m.role == "user")


def _subject_output(sample: EvalSample) -> ModelOutput | None:
    """The output of the last model call made while solving (not while scoring), if any.

    Why not ``sample.output``: Inspect 0.3.285 rebuilds a crash-recovered sample's output from
    the last model event in its transcript, which for an LLM-judged sample is the judge's call;
    after a resumed run the "response" would then be the judge's JSON. The transcript's spans say
    which model calls belong to scorers, so the subject's answer can be read back exactly.
    """
    scoring: set[str] = set()
    last: ModelOutput | None = None
    for event in sample.events:
        if isinstance(event, SpanBeginEvent):
            if event.type in {"scorers", "scorer"} or (event.parent_id in scoring):
                scoring.add(event.id)
        elif isinstance(event, ModelEvent) and event.span_id not in scoring:
            last = event.output
    return last


def _status_and_response(sample: EvalSample) -> tuple[str, str | None]:
    if sample.error is not None:
        return "error", None
    output = _subject_output(sample) or sample.output
    if output is None or not output.choices:
        return "missing", None
    return "ok", output.completion


def _labels(sample: EvalSample) -> dict[str, dict[str, Any]]:
    """Judge label fields by scorer name, for every score that carries them."""
    out: dict[str, dict[str, Any]] = {}
    for name, score in (sample.scores or {}).items():
        fields = (score.metadata or {}).get(LABELS_KEY)
        if isinstance(fields, dict) and fields.get("judge"):
            out[name] = fields
    return out


@dataclass(frozen=True)
class _Configured:
    """A judge the task ran as a scorer (from deconfound's task metadata)."""

    scorer: str
    judge: str
    version: str | None


def _configured(log: EvalLog) -> list[_Configured]:
    """Configured judges, named as their labels name them.

    A judge bound to a model role may name itself after the model it ran on (e.g. ``rubric@grader``
    labels as ``rubric:<model>``); a response it could not label (an errored sample) must get a
    row under that same name, so the name is taken from the labels it did write.
    """
    out: list[_Configured] = []
    for j in _meta(log).get("judges", []):
        if not isinstance(j, dict) or not j.get("id"):
            continue
        scorer = str(j.get("scorer") or j["id"])
        seen = next(
            (
                str(labels[scorer]["judge"])
                for labels in (_labels(s) for s in log.samples or [])
                if scorer in labels
            ),
            str(j["id"]),
        )
        version = j.get("version")
        out.append(_Configured(scorer, seen, str(version) if version is not None else None))
    return out


def _sample_rows(
    sample: EvalSample, task: TaskLog, judges: list[_Configured]
) -> Iterator[dict[str, Any]]:
    meta = sample.metadata or {}
    status, response = _status_and_response(sample)
    base = {
        "study": task.study,
        "model": task.model,
        "condition": task.condition,
        "scenario_id": str(meta.get("scenario_id") or sample.id),
        "source_task_id": meta.get("source_task_id"),
        "category": meta.get("category") or meta.get("task_type"),
        "epoch": sample.epoch,
        "prompt": _input_text(sample),
        "response": response,
        "response_status": status,
        "smoke_model": task.smoke,
    }
    labels = _labels(sample)
    filled: list[dict[str, Any]] = []
    for j in judges:
        # A judge is not called on a missing or errored response; say so rather than leave a gap.
        unlabelled = {
            "judge": j.judge,
            "judge_version": j.version,
            "engagement": "missing" if status != "ok" else None,
        }
        filled.append(labels.pop(j.scorer, unlabelled))
    filled.extend(labels.values())  # labels from scorers added after the run
    for fields in filled or [{"judge": NO_JUDGE}]:
        row = dict(base)
        row["judge"] = fields["judge"]
        for f in _LABEL_FIELDS:
            row[f] = fields.get(f)
        yield row


def import_inspect_logs(paths: Sequence[Path], *, study: str | None = None) -> pd.DataFrame:
    """Build a validated records table from Inspect logs (files or directories).

    Args:
        paths: Log files and/or log directories.
        study: Study name for logs not written by deconfound (default: the task name).

    Returns:
        One row per (study, model, condition, scenario, epoch, judge), validated with
        :func:`deconfound.records.validate`. Error samples have ``response_status="error"``.
    """
    rows: list[dict[str, Any]] = []
    for task in latest_task_logs(paths, study=study):
        try:
            log = read_eval_log(str(task.path))
        except FileNotFoundError as exc:
            raise InputError(
                "the log was removed while being read: is a run still writing this log "
                "directory? Import it when the run has finished",
                path=task.path,
            ) from exc
        judges = _configured(log)
        for sample in log.samples or []:
            rows.extend(_sample_rows(sample, task, judges))
    if not rows:
        return empty_records()
    df = pd.DataFrame(rows)
    if df["category"].isna().any():
        bad = df.loc[df["category"].isna(), "scenario_id"].iloc[0]
        raise InputError(
            f"sample {bad!r} has no 'category' in its metadata",
            path=", ".join(str(p) for p in paths),
            field="category",
        )
    return validate(df, source="inspect logs")
