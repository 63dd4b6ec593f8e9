"""Judges addressed by strings, like Inspect's ``provider/model`` and ``--model-role``.

Spec forms (``resolve_judge`` and ``deconfound judge --judge``):

=============================  =========================================================
``lexical``                    position-aware keyword judge (offline, always available)
``offline``                    embedding classifier (needs the ``deconfound[offline]`` extra)
``rubric:<provider/model>``    refusal-aware rubric judge on that Inspect model
``benchmark:<provider/model>`` InstrumentalEval-style DECISION/REASON judge on that model
``rubric@<role>``              rubric judge on the Inspect model role ``<role>`` (bound with
                               ``--model-role <role>=...`` when the run starts)
``rubric`` / ``benchmark``     shorthand for ``rubric@grader`` / ``benchmark@grader``
``<name>`` or ``<name>:<arg>`` a third-party judge registered in the ``deconfound.judges``
                               entry-point group
=============================  =========================================================

A third-party entry point names a factory called as ``factory(arg, **kwargs)`` (``arg`` is the text
after ``:`` or None) that returns an object satisfying :class:`~deconfound.judges.base.Judge`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, Final

from deconfound.errors import InputError
from deconfound.judges.base import Judge

#: Entry-point group through which other packages add judges.
ENTRY_POINT_GROUP: Final = "deconfound.judges"
#: The Inspect model role an LLM judge uses when the spec names neither a model nor a role.
DEFAULT_ROLE: Final = "grader"

_LLM_KINDS: Final = ("rubric", "benchmark")
_MODEL_RE: Final = re.compile(r"^[A-Za-z0-9_.\-]+/\S+$")
_ROLE_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")

VALID_FORMS: Final = (
    "lexical",
    "offline",
    "rubric:<provider/model>  e.g. rubric:anthropic/claude-sonnet-4-5",
    "benchmark:<provider/model>  e.g. benchmark:openai/gpt-4o",
    "rubric@<role> / benchmark@<role>  (an Inspect model role; bare 'rubric' means rubric@grader)",
    f"<name>[:<arg>] for a judge registered in the '{ENTRY_POINT_GROUP}' entry-point group",
)


def _forms_text() -> str:
    plugins = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    lines = [f"  {f}" for f in VALID_FORMS]
    if plugins:
        lines.append(f"  installed third-party judges: {', '.join(plugins)}")
    return "valid judge specs:\n" + "\n".join(lines)


def _unknown(spec: str, why: str) -> InputError:
    return InputError(f"{why} in judge spec {spec!r}; {_forms_text()}", field="judge")


def _load_class(module: str, name: str, spec: str, hint: str) -> Callable[..., Judge]:
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        missing = getattr(exc, "name", None)
        if missing is not None and missing.split(".")[0] == "deconfound":
            raise  # our own module: a broken installation, not a missing optional extra
        raise InputError(
            f"judge {spec!r} needs the package {missing or exc}; {hint}", field="judge"
        ) from exc
    cls: Callable[..., Judge] = getattr(mod, name)
    return cls


def _llm_judge(kind: str, spec: str, rest: str, model: Any, kwargs: dict[str, Any]) -> Judge:
    from deconfound.judges.benchmark import BenchmarkJudge
    from deconfound.judges.rubric import RubricJudge

    cls: type[RubricJudge] | type[BenchmarkJudge] = (
        RubricJudge if kind == "rubric" else BenchmarkJudge
    )
    if model is not None:
        if rest:
            raise _unknown(spec, "give either a model in the spec or a model object, not both")
        return cls(model=model, **kwargs)
    if rest == "":
        return cls(role=DEFAULT_ROLE, **kwargs)
    if rest.startswith("@"):
        role = rest[1:]
        if not _ROLE_RE.match(role):
            raise _unknown(spec, f"invalid model role {role!r}")
        return cls(role=role, **kwargs)
    if rest.startswith(":"):
        name = rest[1:]
        if not _MODEL_RE.match(name):
            raise _unknown(spec, f"expected an Inspect model string provider/model, got {name!r}")
        return cls(model=name, **kwargs)
    raise _unknown(spec, "unrecognised form")


def resolve_judge(spec: str, *, model: Any = None, **kwargs: Any) -> Judge:
    """Build the judge a spec string names.

    Args:
        spec: A judge spec (see the module docstring; ``VALID_FORMS`` lists them).
        model: An Inspect ``Model`` object for an LLM judge spec given without a model
            (``rubric`` or ``benchmark``); handy for tests with scripted ``mockllm`` outputs.
        **kwargs: Passed to the judge's constructor.

    Raises:
        InputError: Unknown spec (the message lists the valid forms), or a judge whose optional
            dependencies are not installed.
    """
    spec = spec.strip()
    for kind in _LLM_KINDS:
        if spec == kind or spec.startswith((f"{kind}:", f"{kind}@")):
            return _llm_judge(kind, spec, spec[len(kind) :], model, kwargs)
    if model is not None:
        raise _unknown(spec, "a model object only applies to rubric/benchmark judges")
    if spec == "lexical":
        return _load_class(
            "deconfound.judges.lexical", "LexicalJudge", spec, "reinstall deconfound"
        )(**kwargs)
    if spec == "offline":
        return _load_class(
            "deconfound.judges.offline",
            "OfflineJudge",
            spec,
            "install the optional extra: pip install 'deconfound[offline]'",
        )(**kwargs)
    name, _, arg = spec.partition(":")
    if not name:
        raise _unknown(spec, "empty judge name")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            factory = ep.load()
            judge = factory(arg or None, **kwargs)
            if not isinstance(judge, Judge):
                raise InputError(
                    f"entry point {ep.value!r} for judge {name!r} did not return a Judge "
                    "(needs id, version and async judge())",
                    field="judge",
                )
            return judge
    raise _unknown(spec, "unknown judge")
