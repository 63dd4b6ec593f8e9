"""Hidden scratch files and folders beside an output, and cleaning up after killed writers.

Outputs are written to a hidden scratch path beside the target and renamed into place, so a
crash never leaves a half-written output. The scratch name carries the writer's pid
(``.records.parquet.4711-k3j2h1.tmp``): a ``finally`` block removes it on errors and on SIGTERM
(the CLI turns SIGTERM into ``SystemExit``), and after ``kill -9`` the next writer of the same
target removes scratch whose pid no longer runs. Scratch in the old pid-less form is removed once
it is an hour old.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Final

#: Age after which pid-less scratch (written by older versions) counts as abandoned.
STALE_SECONDS: Final = 3600.0


def scratch_prefix(target: Path) -> str:
    """``.<name>.<pid>-``: the prefix of this process's scratch paths for ``target``."""
    return f".{target.name}.{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(target: Path) -> list[Path]:
    """Remove scratch files and folders left beside ``target`` by writers that are gone.

    Returns the removed paths. Scratch of a running process (another writer) is left alone.
    """
    pattern = re.compile(
        rf"^\.{re.escape(target.name)}\.(?:(\d+)-)?[A-Za-z0-9_]{{6,12}}(?:\.tmp)?$"
    )
    removed: list[Path] = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        m = pattern.match(entry.name)
        if m is None:
            continue
        try:
            if m.group(1) is not None:
                pid = int(m.group(1))
                if pid == os.getpid() or _alive(pid):
                    continue
            elif now - entry.lstat().st_mtime < STALE_SECONDS:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
        except OSError:
            continue
    return removed


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def exit_cleanly_on_sigterm() -> None:
    """Make SIGTERM raise ``SystemExit(143)`` so ``finally`` blocks remove scratch files."""
    if sys.platform != "win32":
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
