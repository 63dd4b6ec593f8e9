"""Inspect logs -> the records table (one row per response per judge).

A study's log directory can hold several logs per task: a log left ``started`` by a killed run,
a ``-recovered`` log rebuilt from Inspect's sample buffer, failed attempts an eval set retried,
and the final successful log (inspect-notes §12). Reading them all would duplicate responses, so
for each task only its newest successful log is used (or, if it has none, its newest log, so a
partial run still shows what it produced).

Judge labels come from scores whose metadata carries ``LABELS_KEY`` (written by
``deconfound.judges``' scorers; the key lives in ``records.labels`` so this reader never imports
the judges). A log written before a label existed (e.g. ``in_role``) reads it as null.
A response with no judge labels still gets a row (judge ``"none"``, labels null) so it is never
lost from the table; a configured judge with no label for a response (e.g. the sample errored)
gets a row with ``engagement = "missing"`` (the judges' own convention for a response they were
not given).

Logs written by other tasks (e.g. the ``inspect_evals`` ``instrumentaleval`` task) are read too:

- a score shaped like InstrumentalEval's grader (a ``{convergence, no_convergence, invalid}``
  dict, or a ``DECISION:`` line in its answer) becomes ``benchmark_decision`` under a judge named
  after the scorer;
- samples without a ``scenario_id`` whose category is an InstrumentalEval category are matched to
  the scenario set by category and prompt, so ids are the stable ``<category>-<nn>`` ones and
  line up with our own runs (non-matches are reported, never guessed);
- one task name run with different configurations (a changed system prompt, say) is never
  collapsed to its newest log: each configuration becomes its own condition, named by the
  caller's mapping or else by a short digest of its system prompt, with an :class:`ImportNotice`.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd
from inspect_ai.event import ModelEvent, SpanBeginEvent
from inspect_ai.log import EvalLog, EvalSample, list_eval_logs, read_eval_log
from inspect_ai.model import ModelOutput

from deconfound.data.instrumentaleval import CATEGORIES as IE_CATEGORIES
from deconfound.data.instrumentaleval import ScenarioSet
from deconfound.data.scenario import Scenario, category_slug
from deconfound.errors import InputError
from deconfound.records.labels import LABELS_KEY, REASONING_FLAGS
from deconfound.records.locations import Location, as_location, name_of
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
    "in_role",
    *REASONING_FLAGS,
    "confidence",
    "judge_explanation",
    "judge_raw",
)
_NOT_LOGS: Final = frozenset({"logs.json", "eval-set.json", "listing.json", "manifest.json"})
#: Keys of an InstrumentalEval-style grader score (inspect_evals ``instrumentaleval``).
_DECISION_KEYS: Final = ("convergence", "no_convergence", "invalid")
_DECISION_LINE: Final = re.compile(r"DECISION\s*:\s*\**\s*([a-z_]+)", re.IGNORECASE)
_IE_SLUGS: Final = frozenset(category_slug(c) for c in IE_CATEGORIES)
#: Length of the digests that name unnamed configurations.
DIGEST_CHARS: Final = 8


class ImportNotice(UserWarning):
    """A choice the importer made that the user may want to make otherwise (the CLI prints it)."""


@dataclass(frozen=True)
class ConditionNames:
    """How to name the condition of logs that do not carry one.

    Args:
        default: Name for every log without a condition (only when its task ran with one
            configuration: a single name cannot tell several configurations apart).
        by_key: Per-log names: a key is a log file's name, stem or full path, or a prefix (at
            least 4 characters) of a configuration's system-prompt digest as the import notice
            prints it.
    """

    default: str | None = None
    by_key: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, specs: Sequence[str]) -> ConditionNames:
        """Read ``--condition`` values: ``NAME`` or ``KEY=NAME`` (repeatable)."""
        default: str | None = None
        by_key: dict[str, str] = {}
        for spec in specs:
            key, sep, name = spec.rpartition("=")
            name = name.strip()
            if not name:
                raise InputError(f"empty condition name in {spec!r}", field="conditions")
            if not sep:
                if default is not None:
                    raise InputError(
                        f"two default condition names ({default!r}, {name!r}); name each log "
                        "with KEY=NAME (KEY: log file name or system-prompt digest)",
                        field="conditions",
                    )
                default = name
                continue
            key = key.strip()
            if not key:
                raise InputError(f"empty key in {spec!r}", field="conditions")
            if key in by_key and by_key[key] != name:
                raise InputError(f"{key!r} is named twice", field="conditions")
            by_key[key] = name
        return cls(default, by_key)

    def lookup(self, path: Location, digests: Sequence[str]) -> str | None:
        """The name given for a log (by file) or a configuration (by digest prefix), if any."""
        name = name_of(path)
        for key in (name, name.rsplit(".", 1)[0], str(path)):
            if key in self.by_key:
                return self.by_key[key]
        hits = {
            name
            for key, name in self.by_key.items()
            if len(key) >= 4 and any(d.startswith(key) for d in digests)
        }
        if len(hits) > 1:
            raise InputError(
                f"log {name} matches several --condition keys ({', '.join(sorted(hits))})",
                path=path,
                field="conditions",
            )
        return hits.pop() if hits else None


@dataclass(frozen=True)
class TaskLog:
    """The log chosen for one task, with what its header says.

    Args:
        path: The log file (a ``Path``, or a ``str`` URI for an object store).
        study: Study name (from deconfound's task metadata, else the given default).
        model: Model as written in the study (else Inspect's model name).
        condition: Condition name (else the task's ``condition`` argument or its name).
        status: Inspect's log status: success, started, error, cancelled.
        samples: Completed samples in the log header's results (None when unknown).
        smoke: The model is a local smoke model.
        superseded: Other logs of the same task that were ignored.
        planned: Samples the task was asked for (dataset samples x epochs; None when unknown).
    """

    path: Location
    study: str
    model: str
    condition: str
    status: str
    samples: int | None
    smoke: bool
    superseded: tuple[Location, ...] = ()
    planned: int | None = None

    @property
    def name(self) -> str:
        """The log's file name."""
        return name_of(self.path)


def _log_files(paths: Iterable[Location]) -> Iterator[tuple[Location, float]]:
    """Log files under the given files and folders, with their modification times (seconds).

    Object-store locations are listed through Inspect's ``list_eval_logs`` (fsspec); local ones
    by walking the folder, which also finds JSON logs and skips hidden folders.
    """
    for given in paths:
        loc = as_location(given)
        if isinstance(loc, str):
            if loc.endswith((".eval", ".json")):
                yield loc, 0.0
                continue
            try:
                infos = list_eval_logs(loc, recursive=True)
            except Exception as exc:  # no such bucket, no credentials, ...
                raise InputError(f"cannot list Inspect logs: {exc}", path=loc) from exc
            listed = [i for i in infos if name_of(i.name) not in _NOT_LOGS]
            if not listed:
                raise InputError("no Inspect logs (.eval or .json) at this location", path=loc)
            for info in listed:
                yield info.name, info.mtime or 0.0
            continue
        p = loc
        if p.is_dir():
            found = False
            for f in sorted(p.rglob("*")):
                hidden = any(part.startswith(".") for part in f.relative_to(p).parts)
                if f.suffix in {".eval", ".json"} and f.name not in _NOT_LOGS and not hidden:
                    found = True
                    yield f, _mtime(f)
            if not found:
                raise InputError("no Inspect logs (.eval or .json) in this folder", path=p)
        elif p.is_file():
            yield p, _mtime(p)
        else:
            raise InputError("no such log file or directory", path=p)


def _mtime(path: Path) -> float:
    """Modification time in seconds (0 for a file removed since it was listed)."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _created(log: EvalLog) -> datetime:
    try:
        created = datetime.fromisoformat(log.eval.created)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def _meta(log: EvalLog) -> dict[str, Any]:
    block = (log.eval.metadata or {}).get(TASK_METADATA_KEY)
    return block if isinstance(block, dict) else {}


def _system_prompt(log: EvalLog) -> str | None:
    """The system prompt a foreign task's plan inserts (``system_message`` steps), if any."""
    parts = [
        str(step.params.get("template"))
        for step in (log.plan.steps if log.plan else [])
        if step.solver.split("/")[-1] == "system_message" and step.params.get("template")
    ]
    return "\n\n".join(parts) if parts else None


def _digest(payload: Any) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def _config_digest(log: EvalLog) -> str:
    """What makes two runs of one task name different experiments: the plan and task args."""
    steps = [[s.solver, s.params] for s in (log.plan.steps if log.plan else [])]
    return _digest({"steps": steps, "task_args": log.eval.task_args or {}})


@dataclass
class _Found:
    """One log header with the identity the importer gives it."""

    log: EvalLog
    path: Location
    mtime: float
    study: str
    model: str
    condition: str | None  # None until named (foreign logs)
    config: str = ""  # configuration digest (foreign logs)
    prompt_digest: str = ""  # system-prompt digest, else the configuration digest

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.study, self.model, str(self.condition), self.config


def _found(log: EvalLog, path: Location, mtime: float, default_study: str | None) -> _Found:
    meta = _meta(log)
    study = str(meta.get("study") or default_study or log.eval.task)
    model = str(meta.get("model_spec") or log.eval.model)
    if meta:  # written by deconfound: the study names the condition
        condition = str(meta.get("condition") or log.eval.task)
        return _Found(log, path, mtime, study, model, condition)
    config = _config_digest(log)
    system = _system_prompt(log)
    prompt_digest = _digest(system) if system is not None else config
    return _Found(log, path, mtime, study, model, None, config, prompt_digest)


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


def _name_foreign(found: list[_Found], names: ConditionNames) -> None:
    """Give every foreign log a condition; distinct configurations never share one silently."""
    configs: dict[str, dict[str, list[_Found]]] = {}
    for f in found:
        if f.condition is None:
            configs.setdefault(f.log.eval.task, {}).setdefault(f.config, []).append(f)
    for task, by_config in configs.items():
        several = len(by_config) > 1
        unnamed: list[tuple[str, list[_Found]]] = []
        for group in by_config.values():
            for f in group:
                args = f.log.eval.task_args or {}
                given = names.lookup(f.path, [f.prompt_digest, f.config])
                if given is None and args.get("condition"):
                    given = str(args["condition"])
                if given is None and not several:
                    given = names.default or task
                f.condition = given
            if any(f.condition is None for f in group):
                short = group[0].prompt_digest[:DIGEST_CHARS]
                taken = {g[0].prompt_digest[:DIGEST_CHARS] for _, g in unnamed}
                if short in taken:  # same system prompt, other settings: use the whole config
                    short = group[0].config[:DIGEST_CHARS]
                for f in group:
                    if f.condition is None:
                        f.condition = f"{task}-{short}"
                unnamed.append((short, group))
        if unnamed:
            if names.default is not None:
                raise InputError(
                    f"task {task!r} ran with {len(by_config)} configurations (different system "
                    "prompts or settings), so one --condition name cannot name them; name each "
                    "with --condition KEY=NAME (KEY: "
                    + ", ".join(short for short, _ in unnamed)
                    + ", or a log file name)",
                    field="conditions",
                )
            shown = "; ".join(
                f"{group[0].condition!r} ({', '.join(sorted({name_of(f.path) for f in group}))})"
                for _, group in unnamed
            )
            warnings.warn(
                f"task {task!r} ran with {len(by_config)} configurations (system prompt or "
                f"settings differ); each is its own condition: {shown}. Name them with "
                f"--condition {unnamed[0][0]}=NAME (one per configuration).",
                ImportNotice,
                stacklevel=3,
            )


def latest_task_logs(
    paths: Sequence[Location],
    *,
    study: str | None = None,
    conditions: ConditionNames | None = None,
) -> list[TaskLog]:
    """Pick each task's newest successful log (else its newest log) from files or directories.

    Args:
        paths: Log files and/or directories (searched recursively).
        study: Study name for logs not written by deconfound (default: the task name).
        conditions: Condition names for logs that carry none (default: the task name, or a
            system-prompt digest when one task name ran with several configurations).
    """
    found: list[_Found] = []
    for file, mtime in _log_files(paths):
        try:
            header = read_eval_log(str(file), header_only=True)
        except FileNotFoundError:
            continue  # removed since it was listed: a running eval set replaced it
        except Exception as exc:  # not a log, or a log too damaged to read
            if str(file).endswith(".eval"):
                raise InputError(f"cannot read Inspect log: {exc}", path=file) from exc
            continue
        found.append(_found(header, file, mtime, study))
    _name_foreign(found, conditions or ConditionNames())
    groups: dict[tuple[str, str, str, str], list[_Found]] = {}
    for f in found:
        groups.setdefault(f.key, []).append(f)
    clash: dict[tuple[str, str, str], list[_Found]] = {}
    for key, group in groups.items():
        clash.setdefault(key[:3], []).append(group[0])
    for (_, model, condition), heads in clash.items():
        if len(heads) > 1:
            raise InputError(
                f"logs of different configurations would all be condition {condition!r} of "
                f"model {model!r} ({', '.join(name_of(h.path) for h in heads)}); name them apart "
                "with --condition KEY=NAME",
                field="conditions",
            )
    chosen: list[TaskLog] = []
    for key, group in groups.items():
        # Inspect's timestamps have one-second resolution; the file time breaks ties.
        group.sort(key=lambda f: (_created(f.log), f.mtime), reverse=True)
        success = [f for f in group if f.log.status == "success"]
        best = (success or group)[0]
        results = best.log.results
        chosen.append(
            TaskLog(
                path=best.path,
                study=key[0],
                model=key[1],
                condition=key[2],
                status=best.log.status,
                samples=results.completed_samples if results is not None else None,
                smoke=bool(_meta(best.log).get("smoke", False)),
                superseded=tuple(f.path for f in group if f.path != best.path),
                planned=_planned(best.log),
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


def benchmark_decision_of(value: Any, answer: str | None) -> str | None:
    """The decision in an InstrumentalEval-style grader score, or None if it is not one.

    The ``inspect_evals`` scorer's value is a dict of 0/1 over ``convergence``,
    ``no_convergence`` and ``invalid`` (invalid: the grade had no readable decision); its answer
    is the raw grade with a ``DECISION:`` line. The dict decides; the answer is read only when
    the value is not such a dict. A dict with no key set, or several, is ``invalid``.
    """
    if isinstance(value, dict):
        if not {"convergence", "no_convergence"} <= set(value):
            return None
        on = [k for k in _DECISION_KEYS if _truthy(value.get(k))]
        return on[0] if len(on) == 1 else "invalid"
    if isinstance(answer, str):
        found = {m.group(1).lower() for m in _DECISION_LINE.finditer(answer)}
        if found:
            one = len(found) == 1 and found <= {"convergence", "no_convergence"}
            return found.pop() if one else "invalid"
    return None


def _truthy(v: Any) -> bool:
    try:
        return float(v) > 0
    except (TypeError, ValueError):
        return False


def _labels(sample: EvalSample) -> dict[str, dict[str, Any]]:
    """Judge label fields by scorer name, for every score that carries them."""
    out: dict[str, dict[str, Any]] = {}
    for name, score in (sample.scores or {}).items():
        fields = (score.metadata or {}).get(LABELS_KEY)
        if isinstance(fields, dict) and fields.get("judge"):
            out[name] = fields
            continue
        decision = benchmark_decision_of(score.value, score.answer)
        if decision is not None:
            out[name] = {
                "judge": name,
                "benchmark_decision": decision,
                "ic": {"convergence": True, "no_convergence": False}.get(decision),
                "judge_explanation": score.explanation,
                "judge_raw": score.answer,
            }
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


def _normal(text: str) -> str:
    return " ".join(text.split())


class ScenarioMatcher:
    """Stable scenario ids for samples that carry none, by category and prompt.

    Other runners number InstrumentalEval's samples 1..76 in file order (``inspect_evals`` gives
    no ids), which breaks as soon as a category filter, a limit or another row order is used.
    Matching the category and the prompt text (whitespace-normalised) against the scenario set
    gives the ``<category>-<nn>`` ids our own runs use, whatever the order.

    Args:
        load: Returns the scenario set to match against; called once, on first need, so logs
            that carry ids (or are not InstrumentalEval) never trigger a download.
    """

    def __init__(self, load: Callable[[], ScenarioSet]) -> None:
        self._load = load
        self._index: dict[tuple[str, str], Scenario] | None = None
        self.unmatched: list[str] = []

    def applies(self, meta: Mapping[str, Any], category: Any) -> bool:
        """True for a sample with no scenario id whose category is an InstrumentalEval one."""
        if meta.get("scenario_id") or not isinstance(category, str) or not category.strip():
            return False
        try:
            return category_slug(category.removeprefix("Alignment Drift - ")) in _IE_SLUGS
        except ValueError:
            return False

    def match(self, category: str, prompt: str) -> Scenario | None:
        """The scenario with this category and prompt, or None."""
        if self._index is None:
            self._index = {
                (category_slug(s.category), _normal(s.prompt)): s for s in self._load().scenarios
            }
        slug = category_slug(category.removeprefix("Alignment Drift - "))
        return self._index.get((slug, _normal(prompt)))


def _sample_rows(
    sample: EvalSample, task: TaskLog, judges: list[_Configured], matcher: ScenarioMatcher | None
) -> Iterator[dict[str, Any]]:
    meta = sample.metadata or {}
    status, response = _status_and_response(sample)
    prompt = _input_text(sample)
    category = meta.get("category") or meta.get("task_type")
    scenario_id = str(meta.get("scenario_id") or sample.id)
    source_task_id = meta.get("source_task_id")
    if matcher is not None and matcher.applies(meta, category):
        found = matcher.match(str(category), prompt)
        if found is None:
            # Kept (never dropped) under an id that cannot collide with a real scenario's.
            scenario_id = f"{category_slug(str(category))}-unmatched-{sample.id}"
            matcher.unmatched.append(f"{task.name} sample {sample.id} ({category})")
        else:
            scenario_id, category = found.id, found.category
            source_task_id = source_task_id or found.source_task_id
    base = {
        "study": task.study,
        "model": task.model,
        "condition": task.condition,
        "scenario_id": scenario_id,
        "source_task_id": source_task_id,
        "category": category,
        "epoch": sample.epoch,
        "prompt": prompt,
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
    # A judge scored twice (re-scored after the run): its later labels replace the earlier.
    by_judge = {str(f["judge"]): f for f in filled}
    for fields in list(by_judge.values()) or [{"judge": NO_JUDGE}]:
        row = dict(base)
        row["judge"] = fields["judge"]
        for f in _LABEL_FIELDS:
            row[f] = fields.get(f)
        yield row


def _pinned_scenarios() -> ScenarioSet:
    from deconfound.data.sources import load_scenarios

    return load_scenarios(None)


def import_inspect_logs(
    paths: Sequence[Location],
    *,
    study: str | None = None,
    conditions: ConditionNames | None = None,
    scenarios: Callable[[], ScenarioSet] | None = None,
) -> pd.DataFrame:
    """Build a validated records table from Inspect logs (files or directories).

    Args:
        paths: Log files and/or log directories, local or on an object store (``s3://...``).
        study: Study name for logs not written by deconfound (default: the task name).
        conditions: Condition names for logs that carry none (see :class:`ConditionNames`).
        scenarios: Loads the scenario set that samples without ids are matched against
            (default: the pinned InstrumentalEval set; only loaded when needed).

    Returns:
        One row per (study, model, condition, scenario, epoch, judge), validated with
        :func:`deconfound.records.validate`. Error samples have ``response_status="error"``.
    """
    matcher = ScenarioMatcher(scenarios or _pinned_scenarios)
    rows: list[dict[str, Any]] = []
    for task in latest_task_logs(paths, study=study, conditions=conditions):
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
            rows.extend(_sample_rows(sample, task, judges, matcher))
    if matcher.unmatched:
        shown = "; ".join(matcher.unmatched[:5])
        more = f" and {len(matcher.unmatched) - 5} more" if len(matcher.unmatched) > 5 else ""
        warnings.warn(
            f"{len(matcher.unmatched)} sample(s) match no scenario of the scenario set by "
            f"category and prompt, kept under '<category>-unmatched-<id>' ids: {shown}{more}",
            ImportNotice,
            stacklevel=2,
        )
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
