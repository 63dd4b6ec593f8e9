"""Advisory file locks for writers that share an output (a records table, a log directory).

Two ``deconfound judge`` processes writing the same table, or two ``deconfound run`` processes
on the same log directory, must not lose each other's work. Each takes an exclusive ``flock`` on a
small lock file beside what it writes and records who holds it (pid, start time, host, command),
so whoever is refused or kept waiting can be told which process to wait for.

``flock`` locks die with their process, so a ``kill -9`` never leaves a stale lock behind; the
lock file itself stays (deleting it would let two processes lock two different files).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from deconfound.errors import DeconfoundError

#: Exit code for work not done because another process holds the lock: run again later.
BUSY_EXIT_CODE = 1


@dataclass(frozen=True)
class LockHolder:
    """Who holds a lock, as its holder wrote it into the lock file."""

    pid: int | None
    started: str
    host: str
    command: str

    def describe(self) -> str:
        """``pid 123 on host, started 2026-01-01T10:00:00Z: deconfound run study.toml``."""
        who = f"pid {self.pid}" if self.pid is not None else "an unknown process"
        return f"{who} on {self.host or '?'}, started {self.started or '?'}: {self.command}"


class LockBusyError(DeconfoundError):
    """Another process holds the lock; nothing was written. Exit code 1: try again later."""

    exit_code = BUSY_EXIT_CODE

    def __init__(self, message: str, holder: LockHolder | None) -> None:
        self.holder = holder
        super().__init__(message)


def read_holder(lock_path: Path) -> LockHolder | None:
    """The holder recorded in a lock file, or None when it is empty or unreadable."""
    try:
        data = json.loads(lock_path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    pid = data.get("pid")
    return LockHolder(
        pid=pid if isinstance(pid, int) else None,
        started=str(data.get("started", "")),
        host=str(data.get("host", "")),
        command=str(data.get("command", "")),
    )


def _me() -> str:
    return json.dumps(
        {
            "pid": os.getpid(),
            "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "host": socket.gethostname(),
            "command": " ".join(sys.argv)[:500],
        }
    )


@contextmanager
def file_lock(
    lock_path: str | Path,
    *,
    what: str,
    wait: float = 0.0,
    on_wait: Callable[[LockHolder | None], None] | None = None,
    advice: str = "wait for it to finish, or stop it",
) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` for the block.

    Args:
        lock_path: The lock file (created if missing, never deleted).
        what: What the lock protects, for messages ("log directory runs/x").
        wait: Seconds to wait for a busy lock before giving up (0: refuse at once).
        on_wait: Called once with the holder when the lock is busy and we start waiting.
        advice: What the refused user should do, appended to the message.

    Raises:
        LockBusyError: The lock is still held after ``wait`` seconds; names the holder.
    """
    path = Path(lock_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = read_holder(path)
                if time.monotonic() >= deadline:
                    who = holder.describe() if holder else "another process"
                    raise LockBusyError(
                        f"{what} is in use by {who} (lock file {path}); {advice}", holder
                    ) from None
                if not told and on_wait is not None:
                    on_wait(holder)
                    told = True
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, _me().encode("utf-8"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def lock_path_beside(target: str | Path) -> Path:
    """The hidden lock file beside ``target``: ``dir/.name.lock``."""
    p = Path(target)
    return p.with_name(f".{p.name}.lock")
