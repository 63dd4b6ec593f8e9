"""Find damaged Inspect logs in a log directory before resuming, and move them aside.

A run killed while Inspect rewrites a ``.eval`` file (it is a zip) can leave it truncated.
Inspect then fails on every resume with "EOCD not found" from deep inside its zip reader, naming
no file. We check each ``.eval`` first: the zip must open, every member's CRC must match, and the
log header must parse. A damaged file is renamed ``<name>.eval.damaged`` (no longer a log to
Inspect or to us); the resume then reruns only that task, and the model-call cache under the log
directory answers the calls the lost samples had already made.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from deconfound.errors import DeconfoundError

#: Suffix added to a damaged log when it is moved aside.
DAMAGED_SUFFIX: Final = ".damaged"


@dataclass(frozen=True)
class DamagedLog:
    """A ``.eval`` file that cannot be read, and why."""

    path: Path
    reason: str


class DamagedLogsError(DeconfoundError):
    """The log directory holds damaged logs; resuming would fail until they are moved aside."""


def _problem(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad is not None:
                return f"member {bad} fails its CRC check"
    except zipfile.BadZipFile as exc:
        return f"not a complete zip archive ({exc}); the run writing it was probably killed"
    except (OSError, EOFError, zipfile.LargeZipFile) as exc:
        return f"cannot be read ({exc})"
    from inspect_ai.log import read_eval_log

    try:
        read_eval_log(str(path), header_only=True)
    except Exception as exc:
        return f"its log header cannot be read ({type(exc).__name__}: {exc})"
    return None


def find_damaged_logs(log_dir: Path) -> list[DamagedLog]:
    """Damaged ``.eval`` files directly in ``log_dir`` (where an eval set writes its logs)."""
    if not log_dir.is_dir():
        return []
    found = []
    for path in sorted(log_dir.glob("*.eval")):
        why = _problem(path)
        if why is not None:
            found.append(DamagedLog(path, why))
    return found


def check_log_dir(log_dir: Path) -> None:
    """Raise :class:`DamagedLogsError` naming each damaged log and the ``--repair`` fix."""
    damaged = find_damaged_logs(log_dir)
    if damaged:
        listed = "; ".join(f"{d.path}: {d.reason}" for d in damaged)
        raise DamagedLogsError(
            f"the log directory {log_dir} holds {len(damaged)} damaged Inspect log(s), so the "
            f"run cannot resume: {listed}. Run the same command with --repair to move them "
            f"aside (renamed *.eval{DAMAGED_SUFFIX}) and redo only their tasks"
        )


def repair_log_dir(log_dir: Path) -> list[tuple[DamagedLog, Path]]:
    """Move every damaged log aside; returns (damaged log, new path) pairs."""
    moved = []
    for damaged in find_damaged_logs(log_dir):
        target = damaged.path.with_name(damaged.path.name + DAMAGED_SUFFIX)
        n = 1
        while target.exists():
            n += 1
            target = damaged.path.with_name(f"{damaged.path.name}{DAMAGED_SUFFIX}-{n}")
        os.replace(damaged.path, target)
        moved.append((damaged, target))
    return moved
