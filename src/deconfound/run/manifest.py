"""The run manifest: provenance for everything a report says about a run.

Package versions, dataset digests, the study file's hash, model and judge ids, the condition prompts
verbatim, seeds and the command line — enough to tell whether two runs are comparable.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from deconfound.records.inspect_logs import TaskLog
from deconfound.records.io import atomic_write_text
from deconfound.records.locations import name_of
from deconfound.run.study import Study

MANIFEST_VERSION: Final = 1
_PACKAGES: Final = ("deconfound", "inspect-ai", "pandas", "numpy", "pyarrow", "scipy")


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape results (deconfound.provenance's when available)."""
    try:
        module = importlib.import_module("deconfound.provenance")
        versions = module.package_versions()
        if isinstance(versions, Mapping):
            return {str(k): str(v) for k, v in versions.items()}
    except (ImportError, AttributeError):
        pass
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def build_manifest(
    study: Study,
    *,
    dataset: Mapping[str, Any],
    models: Sequence[Mapping[str, Any]],
    judges: Sequence[Mapping[str, Any]],
    tasks: Sequence[TaskLog],
    complete: bool,
    records: Mapping[str, Any],
    command: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Assemble the manifest (a JSON-ready dict).

    Args:
        study: The study as run (after command-line overrides).
        dataset: Scenario source, pinned flag, digests, scenario ids and categories.
        models: Per model: spec, inspect_model, smoke.
        judges: Per judge: spec, id, version.
        tasks: The log chosen for each task.
        complete: Every task finished successfully with every sample.
        records: Path and row count of the records table.
        command: The command line (default: ``sys.argv``).
    """
    gen = study.generation
    return {
        "manifest_version": MANIFEST_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(command if command is not None else sys.argv),
        "study": {
            "name": study.name,
            "description": study.description,
            "file": str(study.path) if study.path else None,
            "sha256": study.sha256,
        },
        "packages": package_versions(),
        "dataset": dict(dataset),
        "models": [dict(m) for m in models],
        "judges": [dict(j) for j in judges],
        "judge_roles": dict(study.judge_roles),
        "conditions": [c.fingerprint() | {"description": c.description} for c in study.conditions],
        "epochs": study.epochs,
        "generation": {
            "temperature": gen.temperature,
            "max_tokens": gen.max_tokens,
            "seed": gen.seed,
        },
        "max_connections": study.max_connections,
        "tasks": [
            {
                "model": t.model,
                "condition": t.condition,
                "status": t.status,
                "samples": t.samples,
                "smoke": t.smoke,
                "log": t.name,
                "superseded": [name_of(p) for p in t.superseded],
            }
            for t in tasks
        ],
        "complete": complete,
        "records": dict(records),
    }


def write_manifest(manifest: Mapping[str, Any], path: Path) -> Path:
    """Write the manifest atomically as indented UTF-8 JSON."""
    atomic_write_text(path, json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n")
    return path
