"""Provenance helpers: versions, file digests, the command line."""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path

from deconfound.provenance import TRACKED_PACKAGES, command_line, package_versions, sha256_file


def test_package_versions_cover_the_tracked_packages_and_python() -> None:
    versions = package_versions()
    assert set(versions) == {*TRACKED_PACKAGES, "python"}
    assert versions["python"] == platform.python_version()
    assert versions["pandas"] == metadata.version("pandas")
    assert versions["inspect-ai"] == metadata.version("inspect-ai")


def test_sha256_file_matches_hashlib_on_multi_chunk_file(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # > 1 MiB, several read chunks
    f = tmp_path / "blob.bin"
    f.write_bytes(data)
    assert sha256_file(f) == hashlib.sha256(data).hexdigest()


def test_command_line_quotes_arguments_and_shortens_program() -> None:
    line = command_line(["/opt/venv/bin/deconfound", "import", "a dir/x.json", "-o", "r.parquet"])
    assert line == "deconfound import 'a dir/x.json' -o r.parquet"
