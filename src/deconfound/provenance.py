"""Provenance: what produced an analysis or report (versions, input digests, the command line).

Recorded with every analysis and report so a figure can be traced to the exact code, data and
invocation behind it.
"""

from __future__ import annotations

import hashlib
import platform
import shlex
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any, Final

#: Distributions whose versions change results or their meaning.
TRACKED_PACKAGES: Final = ("deconfound", "inspect-ai", "pandas", "numpy", "scipy", "statsmodels")
NOT_INSTALLED: Final = "not installed"
_CHUNK: Final = 1 << 20


def package_versions() -> dict[str, str]:
    """Installed versions of deconfound and the packages its results depend on, plus Python."""
    versions: dict[str, str] = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = NOT_INSTALLED
    versions["python"] = platform.python_version()
    return versions


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in chunks (input files can be large)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def command_line(argv: list[str] | None = None) -> str:
    """The invocation as a shell-quoted string, with the program reduced to its name."""
    args = list(sys.argv if argv is None else argv)
    if not args:
        return ""
    return shlex.join([Path(args[0]).name, *args[1:]])


def output_provenance(inputs: Mapping[str, Path] | None = None) -> dict[str, Any]:
    """The provenance block a written result carries: versions, the command line and, per named
    input, its path and sha256 (so a number can be traced to the exact file it came from)."""
    out: dict[str, Any] = {"package_versions": package_versions(), "command_line": command_line()}
    if inputs:
        out["inputs"] = {k: {"path": str(p), "sha256": sha256_file(p)} for k, p in inputs.items()}
    return out


__all__ = [
    "TRACKED_PACKAGES",
    "command_line",
    "output_provenance",
    "package_versions",
    "sha256_file",
]
