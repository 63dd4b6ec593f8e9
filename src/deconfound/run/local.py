"""Keyless local models: serve a small GGUF model on 127.0.0.1 for the duration of a run.

First version: pass-through only (every spec is returned unchanged); the `local/` server
management is filled in next without changing this interface.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

LOCAL_PREFIX = "local/"


@dataclass(frozen=True)
class ResolvedModel:
    """A study's model spec resolved to what Inspect needs.

    Args:
        spec: The model string as written in the study (e.g. "local/smollm2", "openai/gpt-4o").
        inspect_model: The model string to pass to Inspect's `get_model`/`eval_set`.
        base_url: Base URL for OpenAI-compatible providers (None for others).
        model_args: Extra keyword arguments for the provider (e.g. api_key).
        smoke: True for local smoke models: plumbing checks, never findings.
    """

    spec: str
    inspect_model: str
    base_url: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)
    smoke: bool = False


@contextmanager
def resolve_models(specs: list[str]) -> Iterator[list[ResolvedModel]]:
    """Resolve model specs, serving `local/` models for the duration of the context."""
    yield [ResolvedModel(spec=s, inspect_model=s) for s in specs]
