"""The study file: what to run (scenarios x conditions x models x epochs) and how to judge it.

A study is a TOML file. Every path in it is relative to the file itself, so a study and its prompt
files travel together. Unknown keys are errors (a typo must not silently drop a setting), and every
error names the file and the key at fault. See docs/studies.md.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from deconfound.errors import InputError

#: Scenario source meaning "the pinned InstrumentalEval download".
INSTRUMENTALEVAL = "instrumentaleval"

_TOP_KEYS = {
    "name",
    "description",
    "models",
    "epochs",
    "max_connections",
    "log_dir",
    "retry_attempts",
    *(
        "batch",
        "max_tasks",
        "max_samples",
        "adaptive_connections",
        "cost_limit",
        "model_cost_config",
        "token_limit",
        "fail_on_error",
        "retry_on_error",
        "retry_wait",
        "retry_connections",
        "max_retries",
        "timeout",
        "attempt_timeout",
        "log_realtime",
    ),
    "scenarios",
    "generation",
    "judges",
    "conditions",
}
#: Keys of a ``batch = { ... }`` table: the fields of Inspect's ``BatchConfig``.
BATCH_KEYS = frozenset(
    {"size", "max_size", "send_delay", "tick", "max_batches", "max_consecutive_check_failures"}
)
_SCENARIO_KEYS = {"source", "categories", "limit", "cache_dir", "local_copy"}
_GENERATION_KEYS = {"temperature", "max_tokens", "seed"}
_JUDGE_KEYS = {"use", "roles"}
_CONDITION_KEYS = {"system", "user_prefix", "user_suffix", "solver", "solver_args", "description"}
_SOLVER_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class PromptPart:
    """One piece of a condition's system prompt.

    Args:
        text: The text, verbatim.
        source: The file it came from as written in the study, or ``"inline"``.
    """

    text: str
    source: str = "inline"


@dataclass(frozen=True)
class Condition:
    """An experimental condition: what surrounds every scenario prompt.

    Args:
        name: Condition name, as it appears in the records.
        system: Ordered system-prompt parts, joined by a blank line.
        user_prefix: Text put before the scenario prompt in the user turn.
        user_suffix: Text put after the scenario prompt in the user turn.
        solver: Optional ``module:function`` of an Inspect solver factory that replaces the plain
            ``generate()`` step (it must generate); used for stateful set-ups such as a memory that
            accumulates across scenarios. It runs after the system prompt is in place.
        solver_args: Keyword arguments for the solver factory.
        description: Free text for the report.
    """

    name: str
    system: tuple[PromptPart, ...] = ()
    user_prefix: str = ""
    user_suffix: str = ""
    solver: str | None = None
    solver_args: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def system_prompt(self) -> str:
        """The full system prompt as sent (empty when the condition has none)."""
        return "\n\n".join(p.text for p in self.system)

    def user_prompt(self, scenario_prompt: str) -> str:
        """The user turn for one scenario: prefix, scenario prompt, suffix (blank-line joined)."""
        return "\n\n".join(t for t in (self.user_prefix, scenario_prompt, self.user_suffix) if t)

    def fingerprint(self) -> dict[str, Any]:
        """Everything that changes what the model sees (for identities and the manifest)."""
        return {
            "name": self.name,
            "system_prompt": self.system_prompt,
            "system_parts": [{"source": p.source, "text": p.text} for p in self.system],
            "user_prefix": self.user_prefix,
            "user_suffix": self.user_suffix,
            "solver": self.solver,
            "solver_args": dict(self.solver_args),
        }


@dataclass(frozen=True)
class ScenarioSpec:
    """Where scenarios come from.

    Args:
        source: ``"instrumentaleval"`` (pinned download) or a directory/file path.
        categories: Keep only these categories (None keeps all).
        limit: Keep at most this many scenarios (None keeps all).
        cache_dir: Download cache for the pinned dataset (None: the user cache).
        local_copy: With the pinned source, a directory of the same CSVs to use instead of the
            download when it exists (offline machines, CI); its digests are checked and recorded.
    """

    source: str = INSTRUMENTALEVAL
    categories: tuple[str, ...] | None = None
    limit: int | None = None
    cache_dir: Path | None = None
    local_copy: Path | None = None


@dataclass(frozen=True)
class Generation:
    """Generation settings for the subject models (None leaves the provider default)."""

    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None


@dataclass(frozen=True)
class RunOptions:
    """How Inspect runs the study's eval set (None everywhere leaves Inspect's default).

    Args:
        batch: Send requests through the providers' batch APIs (about half the price, slower):
            True, a batch size, or a table of Inspect ``BatchConfig`` fields.
        max_tasks: Tasks (model x condition) run at once.
        max_samples: Samples in flight at once per task.
        adaptive_connections: Let Inspect raise and lower connections with rate limits; used
            only for models with no fixed ``max_connections``. None: on when the study fixes no
            ``max_connections`` and no ``batch`` (see ``deconfound.run.runner.run_defaults``);
            False keeps Inspect's fixed per-provider default.
        cost_limit: Stop a sample when its model cost passes this many dollars (Inspect needs
            prices for every model: ``model_cost_config``).
        model_cost_config: A YAML or JSON file of model prices (Inspect's format).
        token_limit: Stop a sample when it passes this many tokens.
        fail_on_error: Fail a task on any sample error (True), never (False), on this share of
            samples (0 < x < 1) or on this many samples (a whole number >= 1).
        retry_on_error: Retry an errored sample this many times.
        retry_wait: Seconds to wait before the eval set retries failed tasks.
        retry_connections: Share of connections kept on an eval-set retry (0 < x <= 1).
        max_retries: Retries of one model call (rate limits, transient errors).
        timeout: Seconds before a model call (with its retries) gives up.
        attempt_timeout: Seconds before one attempt of a model call gives up.
        log_realtime: Keep Inspect's realtime sample buffer, so ``inspect view`` shows samples
            while they run (deconfound turns it off by default: it costs CPU per sample).
    """

    batch: bool | int | Mapping[str, Any] | None = None
    max_tasks: int | None = None
    max_samples: int | None = None
    adaptive_connections: bool | None = None
    cost_limit: float | None = None
    model_cost_config: str | None = None
    token_limit: int | None = None
    fail_on_error: bool | float | None = None
    retry_on_error: int | None = None
    retry_wait: float | None = None
    retry_connections: float | None = None
    max_retries: int | None = None
    timeout: int | None = None
    attempt_timeout: int | None = None
    log_realtime: bool | None = None

    def eval_set_args(self) -> dict[str, Any]:
        """The settings as ``inspect_ai.eval_set`` keyword arguments (unset ones left out)."""
        out = {k: v for k, v in vars(self).items() if v is not None}
        if isinstance(out.get("batch"), Mapping):
            from inspect_ai.model import BatchConfig

            out["batch"] = BatchConfig(**dict(out["batch"]))
        return out


@dataclass(frozen=True)
class Study:
    """A parsed, validated study.

    Args:
        name: Study name (the records' ``study`` column); defaults to the file's stem.
        conditions: Conditions in file order.
        models: Model specs (Inspect model strings, or ``local/...`` for the keyless path).
        scenarios: Scenario source and filters.
        epochs: Samples per (model, condition, scenario).
        generation: Generation settings.
        judges: Judge specs (see ``deconfound.judges.registry``).
        judge_roles: Inspect model roles for LLM judges, e.g. ``{"grader": "openai/gpt-4o"}``.
        max_connections: Concurrent connections per model (None: Inspect's default).
        model_connections: Concurrent connections of particular models (overrides
            ``max_connections`` for them).
        retry_attempts: Eval-set retries of failed tasks (None: Inspect's default).
        options: Further eval-set settings (batch mode, limits, retries).
        log_dir: Where logs, records and manifest go (None: ``runs/<name>``); a ``str`` when
            it is an object-store URI such as ``s3://bucket/prefix``.
        path: The study file (None for studies built in code).
        sha256: Digest of the study file's bytes.
        description: Free text for the report.
    """

    name: str
    conditions: tuple[Condition, ...]
    models: tuple[str, ...]
    scenarios: ScenarioSpec = ScenarioSpec()
    epochs: int = 1
    generation: Generation = Generation()
    judges: tuple[str, ...] = ()
    judge_roles: Mapping[str, str] = field(default_factory=dict)
    max_connections: int | None = None
    model_connections: Mapping[str, int] = field(default_factory=dict)
    retry_attempts: int | None = None
    options: RunOptions = RunOptions()
    log_dir: Path | str | None = None
    path: Path | None = None
    sha256: str | None = None
    description: str = ""

    def resolved_log_dir(self) -> Path | str:
        """The log directory to use: the configured one or ``runs/<name>``."""
        return self.log_dir if self.log_dir is not None else Path("runs") / self.name

    def with_overrides(
        self,
        *,
        limit: int | None = None,
        categories: Sequence[str] | None = None,
        log_dir: Path | str | None = None,
        epochs: int | None = None,
        models: Sequence[str] | None = None,
        max_connections: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Study:
        """A copy with command-line overrides applied (None or empty leaves a setting alone).

        ``options`` holds eval-set settings by study-file key (``max_samples``, ``batch``, ...),
        checked as the study file's are.
        """
        where = "command line"
        run_options = self.options
        if options:
            given = {k: v for k, v in options.items() if v is not None}
            merged = {k: v for k, v in vars(self.options).items() if v is not None} | given
            run_options = _run_options(merged, Path(where))
        scen = self.scenarios
        if limit is not None:
            scen = replace(scen, limit=_positive(limit, where, "--limit"))
        if categories:
            scen = replace(scen, categories=tuple(categories))
        return replace(
            self,
            scenarios=scen,
            log_dir=_log_dir(log_dir, Path.cwd()) if log_dir is not None else self.log_dir,
            epochs=_positive(epochs, where, "--epochs") if epochs is not None else self.epochs,
            models=tuple(models) if models else self.models,
            max_connections=(
                _positive(max_connections, where, "--max-connections")
                if max_connections is not None
                else self.max_connections
            ),
            options=run_options,
        )


def _positive(value: object, path: str | Path, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"expected a whole number >= 1, got {value!r}", path=path, field=key)
    return value


def _str(value: object, path: Path, key: str, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        raise InputError(f"expected non-empty text, got {value!r}", path=path, field=key)
    return value


def _str_list(value: object, path: Path, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise InputError("expected a non-empty list of strings", path=path, field=key)
    return tuple(_str(v, path, f"{key}[{i}]") for i, v in enumerate(value))


def _table(value: object, path: Path, key: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError("expected a table", path=path, field=key)
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InputError(
            f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
            path=path,
            field=f"{key}.{unknown[0]}" if key else unknown[0],
        )
    return value


def _number(value: object, path: Path, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"expected a number, got {value!r}", path=path, field=key)
    return float(value)


def _prompt_part(value: object, base: Path, path: Path, key: str) -> PromptPart:
    if isinstance(value, dict):
        if set(value) == {"text"}:
            return PromptPart(_str(value["text"], path, f"{key}.text"), "inline")
        if set(value) == {"file"}:
            value = value["file"]
        else:
            raise InputError(
                'a prompt part is a file path, { file = "..." } or { text = "..." }',
                path=path,
                field=key,
            )
    rel = _str(value, path, key)
    file = base / rel
    if not file.is_file():
        raise InputError(
            f"no such prompt file {rel!r} (paths are relative to the study file; "
            'for inline text write { text = "..." })',
            path=path,
            field=key,
        )
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"prompt file {rel!r} is not UTF-8 text", path=path, field=key) from exc
    text = text.strip("\n")
    if not text.strip():
        raise InputError(f"prompt file {rel!r} is empty", path=path, field=key)
    return PromptPart(text, rel)


def _condition(name: str, value: object, base: Path, path: Path) -> Condition:
    key = f"conditions.{name}"
    if not _NAME.match(name):
        raise InputError(
            "condition names use letters, digits, '.', '_' and '-' and start with a letter or "
            "digit",
            path=path,
            field=key,
        )
    table = _table(value, path, key, _CONDITION_KEYS)
    raw_system = table.get("system", [])
    if isinstance(raw_system, str | dict):
        raw_system = [raw_system]
    if not isinstance(raw_system, list):
        raise InputError("expected a list of prompt parts", path=path, field=f"{key}.system")
    parts = tuple(
        _prompt_part(v, base, path, f"{key}.system[{i}]") for i, v in enumerate(raw_system)
    )
    solver = table.get("solver")
    if solver is not None and not (isinstance(solver, str) and _SOLVER_REF.match(solver)):
        raise InputError(
            f"expected 'package.module:function', got {solver!r}", path=path, field=f"{key}.solver"
        )
    solver_args = table.get("solver_args", {})
    if not isinstance(solver_args, dict):
        raise InputError("expected a table", path=path, field=f"{key}.solver_args")
    if solver_args and solver is None:
        raise InputError("solver_args given without a solver", path=path, field=f"{key}.solver")
    return Condition(
        name=name,
        system=parts,
        user_prefix=_str(table.get("user_prefix", ""), path, f"{key}.user_prefix", empty_ok=True),
        user_suffix=_str(table.get("user_suffix", ""), path, f"{key}.user_suffix", empty_ok=True),
        solver=solver,
        solver_args=solver_args,
        description=_str(table.get("description", ""), path, f"{key}.description", empty_ok=True),
    )


def _scenarios(value: object, base: Path, path: Path) -> ScenarioSpec:
    table = _table(value, path, "scenarios", _SCENARIO_KEYS)
    source = _str(table.get("source", INSTRUMENTALEVAL), path, "scenarios.source")
    source = INSTRUMENTALEVAL if source.lower() == INSTRUMENTALEVAL else str(base / source)
    categories = (
        _str_list(table["categories"], path, "scenarios.categories")
        if "categories" in table
        else None
    )
    limit = _positive(table["limit"], path, "scenarios.limit") if "limit" in table else None
    cache_dir = (
        base / _str(table["cache_dir"], path, "scenarios.cache_dir")
        if "cache_dir" in table
        else None
    )
    local_copy = (
        base / _str(table["local_copy"], path, "scenarios.local_copy")
        if "local_copy" in table
        else None
    )
    if local_copy is not None and source != INSTRUMENTALEVAL:
        raise InputError(
            'local_copy only applies to source = "instrumentaleval"',
            path=path,
            field="scenarios.local_copy",
        )
    return ScenarioSpec(
        source=source,
        categories=categories,
        limit=limit,
        cache_dir=cache_dir,
        local_copy=local_copy,
    )


def _generation(value: object, path: Path) -> Generation:
    table = _table(value, path, "generation", _GENERATION_KEYS)
    temperature = (
        _number(table["temperature"], path, "generation.temperature")
        if "temperature" in table
        else None
    )
    if temperature is not None and temperature < 0:
        raise InputError("temperature must be >= 0", path=path, field="generation.temperature")
    max_tokens = (
        _positive(table["max_tokens"], path, "generation.max_tokens")
        if "max_tokens" in table
        else None
    )
    seed = table.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InputError(
            f"expected a whole number, got {seed!r}", path=path, field="generation.seed"
        )
    return Generation(temperature=temperature, max_tokens=max_tokens, seed=seed)


def _judges(value: object, path: Path) -> tuple[tuple[str, ...], dict[str, str]]:
    table = _table(value, path, "judges", _JUDGE_KEYS)
    use = _str_list(table["use"], path, "judges.use") if "use" in table else ()
    if len(set(use)) != len(use):
        raise InputError("a judge is listed twice", path=path, field="judges.use")
    roles_raw = table.get("roles", {})
    if not isinstance(roles_raw, dict):
        raise InputError("expected a table of role = model", path=path, field="judges.roles")
    roles = {r: _str(m, path, f"judges.roles.{r}") for r, m in roles_raw.items()}
    return use, roles


def parse_study(data: Mapping[str, Any], *, path: Path, sha256: str | None = None) -> Study:
    """Validate a study's parsed TOML; ``path`` anchors relative paths and error messages."""
    base = path.parent
    table = _table(dict(data), path, "", _TOP_KEYS)
    name = _str(table.get("name", path.stem), path, "name")
    if not _NAME.match(name):
        raise InputError(
            "study names use letters, digits, '.', '_' and '-'", path=path, field="name"
        )
    if "models" not in table:
        raise InputError(
            "a study needs models = [...] (Inspect model strings)", path=path, field="models"
        )
    models = _str_list(table["models"], path, "models")
    if len(set(models)) != len(models):
        raise InputError("a model is listed twice", path=path, field="models")
    conds_raw = table.get("conditions")
    if not isinstance(conds_raw, dict) or not conds_raw:
        raise InputError(
            "a study needs at least one [conditions.<name>] table", path=path, field="conditions"
        )
    conditions = tuple(_condition(n, v, base, path) for n, v in conds_raw.items())
    judges, roles = _judges(table.get("judges", {}), path)
    return Study(
        name=name,
        description=_str(table.get("description", ""), path, "description", empty_ok=True),
        conditions=conditions,
        models=models,
        scenarios=_scenarios(table.get("scenarios", {}), base, path),
        epochs=_positive(table.get("epochs", 1), path, "epochs"),
        generation=_generation(table.get("generation", {}), path),
        judges=judges,
        judge_roles=roles,
        max_connections=(
            None
            if table.get("max_connections") is None or isinstance(table["max_connections"], dict)
            else _positive(table["max_connections"], path, "max_connections")
        ),
        model_connections=_model_connections(table.get("max_connections"), models, path),
        options=_run_options(table, path),
        retry_attempts=(
            _non_negative(table["retry_attempts"], path, "retry_attempts")
            if "retry_attempts" in table
            else None
        ),
        log_dir=_log_dir(_str(table["log_dir"], path, "log_dir"), base)
        if "log_dir" in table
        else None,
        path=path,
        sha256=sha256,
    )


def _model_connections(value: object, models: Sequence[str], path: Path) -> dict[str, int]:
    """``max_connections = { "<model>" = n, ... }``: connections per model of the study."""
    if not isinstance(value, dict):
        return {}
    out: dict[str, int] = {}
    for model, n in value.items():
        key = f"max_connections.{model}"
        if model not in models:
            raise InputError(
                f"{model!r} is not one of the study's models ({', '.join(models)})",
                path=path,
                field=key,
            )
        out[model] = _positive(n, path, key)
    return out


def _fraction(value: object, path: Path, key: str, *, one_ok: bool) -> float:
    x = _number(value, path, key)
    if not (0 < x < 1 or (one_ok and x == 1)):
        raise InputError(
            f"expected a number in (0, {'1]' if one_ok else '1)'}, got {value!r}",
            path=path,
            field=key,
        )
    return x


def _batch(value: object, path: Path) -> bool | int | dict[str, Any]:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _positive(value, path, "batch")
    if isinstance(value, dict):
        table = _table(value, path, "batch", set(BATCH_KEYS))
        return {
            k: _positive_number(v, path, f"batch.{k}")
            if k in ("send_delay", "tick")
            else _positive(v, path, f"batch.{k}")
            for k, v in table.items()
        }
    raise InputError(
        f"expected true/false, a batch size or a table of {', '.join(sorted(BATCH_KEYS))}; "
        f"got {value!r}",
        path=path,
        field="batch",
    )


def _fail_on_error(value: object, path: Path) -> bool | float:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(_positive(value, path, "fail_on_error"))
    x = _number(value, path, "fail_on_error")
    if not 0 < x < 1:
        raise InputError(
            f"expected true/false, a share in (0, 1) or a whole number of samples; got {value!r}",
            path=path,
            field="fail_on_error",
        )
    return x


def _run_options(table: Mapping[str, Any], path: Path) -> RunOptions:
    """The eval-set settings of a study table (or of command-line overrides)."""

    def get(key: str, check: Any) -> Any:
        return check(table[key]) if table.get(key) is not None else None

    def nonneg_number(key: str) -> Any:
        def check(v: object) -> float:
            x = _number(v, path, key)
            if x < 0:
                raise InputError(f"expected a number >= 0, got {v!r}", path=path, field=key)
            return x

        return check

    def flag(key: str) -> Any:
        def check(v: object) -> bool:
            if not isinstance(v, bool):
                raise InputError(f"expected true or false, got {v!r}", path=path, field=key)
            return v

        return check

    return RunOptions(
        batch=get("batch", lambda v: _batch(v, path)),
        max_tasks=get("max_tasks", lambda v: _positive(v, path, "max_tasks")),
        max_samples=get("max_samples", lambda v: _positive(v, path, "max_samples")),
        adaptive_connections=get("adaptive_connections", flag("adaptive_connections")),
        cost_limit=get("cost_limit", lambda v: _positive_number(v, path, "cost_limit")),
        model_cost_config=get("model_cost_config", lambda v: _file(v, path, "model_cost_config")),
        token_limit=get("token_limit", lambda v: _positive(v, path, "token_limit")),
        fail_on_error=get("fail_on_error", lambda v: _fail_on_error(v, path)),
        retry_on_error=get("retry_on_error", lambda v: _non_negative(v, path, "retry_on_error")),
        retry_wait=get("retry_wait", nonneg_number("retry_wait")),
        retry_connections=get(
            "retry_connections", lambda v: _fraction(v, path, "retry_connections", one_ok=True)
        ),
        max_retries=get("max_retries", lambda v: _non_negative(v, path, "max_retries")),
        timeout=get("timeout", lambda v: _positive(v, path, "timeout")),
        attempt_timeout=get("attempt_timeout", lambda v: _positive(v, path, "attempt_timeout")),
        log_realtime=get("log_realtime", flag("log_realtime")),
    )


def _file(value: object, path: Path, key: str) -> str:
    """A file named relative to the study file; must exist."""
    name = Path(_str(value, path, key)).expanduser()
    full = name if name.is_absolute() else path.parent / name
    if not full.is_file():
        raise InputError(f"no such file: {value!r}", path=path, field=key)
    return str(full)


def _positive_number(value: object, path: Path, key: str) -> float:
    x = _number(value, path, key)
    if x <= 0:
        raise InputError(f"expected a number > 0, got {value!r}", path=path, field=key)
    return x


def _log_dir(value: str | Path, base: Path) -> Path | str:
    """A local folder (relative to ``base``) or an object-store URI, kept as text."""
    from deconfound.records.locations import is_remote

    if is_remote(value):
        return str(value)
    p = Path(value)
    return p if p.is_absolute() or base == Path.cwd() else base / p


def _non_negative(value: object, path: Path, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"expected a whole number >= 0, got {value!r}", path=path, field=key)
    return value


def load_study(path: str | Path) -> Study:
    """Read and validate a study file.

    Raises:
        InputError: naming the file and, for TOML syntax errors, the line; for bad values, the key.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("no such study file", path=p)
    raw = p.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError("the study file is not UTF-8 text", path=p) from exc
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        raise InputError(
            f"not valid TOML: {exc}", path=p, location=f"line {m.group(1)}" if m else None
        ) from exc
    return parse_study(data, path=p, sha256=hashlib.sha256(raw).hexdigest())
