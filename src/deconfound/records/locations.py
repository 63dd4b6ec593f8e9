"""Log locations that may be local paths or object-store URIs (``s3://bucket/prefix``).

``Path("s3://b/p")`` collapses to ``s3:/b/p``, so a location stays a ``str`` when it is a URI and
becomes a ``Path`` only when it is local. Remote files are read and written through fsspec (the
filesystem layer Inspect's own log functions use), so any store fsspec knows works.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

#: A URI with a scheme other than ``file`` (one letter is a Windows drive, not a scheme).
_URI: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://")

Location = str | Path


def is_remote(location: str | Path) -> bool:
    """True for ``s3://``, ``gs://``, ``az://`` and the like (not ``file://``)."""
    text = str(location)
    return bool(_URI.match(text)) and not text.startswith("file://")


def as_location(location: str | Path) -> Location:
    """A URI as ``str``, anything else as ``Path``."""
    return str(location) if is_remote(location) else Path(location)


def join(base: Location, name: str) -> Location:
    """``base / name`` for either kind of location."""
    return f"{str(base).rstrip('/')}/{name}" if is_remote(base) else Path(base) / name


def name_of(location: Location) -> str:
    """The last component (a file name)."""
    return (
        str(location).rstrip("/").rsplit("/", 1)[-1] if is_remote(location) else Path(location).name
    )


def write_via_local(target: Location, write: Callable[[Path], object]) -> Location:
    """Write ``target`` with a function that writes a local path; remote targets are uploaded.

    The local writers are atomic; a remote object store replaces an object in one put, so a
    reader never sees half a file either way.
    """
    if not is_remote(target):
        write(Path(target))
        return Path(target)
    import fsspec

    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / name_of(target)
        write(local)
        fs, path = fsspec.core.url_to_fs(str(target))
        fs.put_file(str(local), path)
    return str(target)
