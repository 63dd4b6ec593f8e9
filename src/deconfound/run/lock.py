"""One run per log directory at a time, and no resume over damaged logs.

Two ``deconfound run`` processes on one log directory both see the same unfinished samples and
both pay for them (an issue probe saw 1,371 requests for a 720-request study), and one can delete
a log the other has listed. :func:`guard_log_dir` wraps ``run_study``: it takes an exclusive lock
beside the log directory (a second run stops at once, naming the holder's pid and start time) and,
holding it, refuses to resume over a damaged ``.eval`` (see :mod:`deconfound.run.repair`).

A log directory on an object store (``s3://...``) cannot hold a file lock; its lock lives in the
local user cache directory instead, so it only keeps out runs on the same machine.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, ParamSpec, TypeVar, cast

import platformdirs

from deconfound.locking import file_lock
from deconfound.run.repair import DamagedLog, check_log_dir, repair_log_dir

#: Suffix of the lock file beside a local log directory (``runs/.x.deconfound-run.lock``):
#: beside, not inside, so a run refused for bad input leaves no log directory behind.
LOCK_SUFFIX: Final = ".deconfound-run.lock"
_REMOTE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")

P = ParamSpec("P")
R = TypeVar("R")


def is_remote(log_dir: str | Path) -> bool:
    """True for an object-store location such as ``s3://bucket/runs/x``."""
    return bool(_REMOTE.match(str(log_dir)))


def lock_file(log_dir: str | Path, scope: str | None = None) -> Path:
    """Where the run lock of ``log_dir`` lives.

    ``scope`` narrows the lock to one share of a log directory that several processes write
    into (``deconfound run --shared-log-dir``: one process per model), so runs of different
    shares do not exclude each other while two runs of the same share still do.
    """
    if is_remote(log_dir):
        key = str(log_dir) if scope is None else f"{log_dir}#{scope}"
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        return Path(platformdirs.user_cache_dir("deconfound")) / "run-locks" / f"{digest}.lock"
    path = Path(log_dir).absolute()
    if scope is not None:
        share = hashlib.sha256(scope.encode("utf-8")).hexdigest()[:12]
        return path.with_name(f".{path.name}.{share}{LOCK_SUFFIX}")
    return path.with_name(f".{path.name}{LOCK_SUFFIX}")


@contextmanager
def run_lock(log_dir: str | Path, scope: str | None = None) -> Iterator[None]:
    """Hold the log directory's run lock; raise ``LockBusyError`` (exit 1) if another run has it."""
    with file_lock(
        lock_file(log_dir, scope),
        what=f"the log directory {log_dir}",
        advice="wait for that run to finish (or stop it), then run again; two runs on one log "
        "directory would pay for the same samples twice",
    ):
        yield


def repair(log_dir: str | Path) -> list[tuple[DamagedLog, Path]]:
    """Move damaged logs of ``log_dir`` aside, holding its run lock (local directories only)."""
    if is_remote(log_dir):
        return []
    with run_lock(log_dir):
        return repair_log_dir(Path(log_dir))


def guard_log_dir(run: Callable[P, R]) -> Callable[P, R]:
    """Decorate ``run_study``: hold the run lock and check for damaged logs before running."""

    @functools.wraps(run)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        study: Any = args[0] if args else kwargs["study"]
        log_dir = cast(str | Path, kwargs.get("log_dir") or study.resolved_log_dir())
        shared = bool((cast(Any, kwargs.get("eval_set_args")) or {}).get("log_dir_allow_dirty"))
        # A shared log directory is locked per model set: one process per model may write.
        scope = ",".join(sorted(study.models)) if shared else None
        with run_lock(log_dir, scope):
            if not is_remote(log_dir):
                check_log_dir(Path(log_dir))
            return run(*args, **kwargs)

    return guarded
