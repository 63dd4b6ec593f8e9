"""A small on-disk cache of judgments keyed by (judge id, judge version, input hash).

LLM judging costs money and time; re-running ``deconfound judge`` on the same table, or after an
interrupted run, should only call the judge for what is new. The judge version is the hash of its
prompt text, so editing the rubric invalidates old entries automatically.

Location: ``$DECONFOUND_CACHE_DIR/judgments.sqlite`` if that variable is set, else the user cache
directory (platformdirs). Pass ``enabled=False`` (CLI: ``--no-cache``) to bypass it.

A damaged cache must not look like a failing judge: the file is checked with ``PRAGMA
integrity_check`` when first opened (under a lock, so concurrent processes agree), and a corrupt
one is renamed ``judgments.sqlite.corrupt-<UTC time>`` with a notice and replaced by an empty
cache. Any later SQLite error is reported as :class:`CacheError`, naming the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import platformdirs

from deconfound.errors import DataNotice, DeconfoundError
from deconfound.judges.base import JudgeInput, Judgment
from deconfound.locking import file_lock

ENV_VAR: Final = "DECONFOUND_CACHE_DIR"
FILE_NAME: Final = "judgments.sqlite"


def default_cache_dir() -> Path:
    """``$DECONFOUND_CACHE_DIR`` or the platform's user cache directory for deconfound."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path(platformdirs.user_cache_dir("deconfound"))


def input_hash(item: JudgeInput) -> str:
    """SHA-256 over what a judge sees: category, prompt, response and judge context.

    The scenario id is left out on purpose (it does not change the verdict) and so is the
    condition's system prompt (judges are blind to it).
    """
    payload = json.dumps(
        [item.category, item.prompt, item.response, item.judge_context], ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class CacheError(DeconfoundError):
    """The judgment cache file cannot be used; the message names it and says what to do."""


class CorruptCacheNotice(DataNotice):
    """A corrupt judgment cache was moved aside and replaced by an empty one."""


def _problem(conn: sqlite3.Connection) -> str | None:
    """What ``PRAGMA integrity_check`` found wrong, or None for a sound database."""
    rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    return None if rows == ["ok"] else "; ".join(rows[:3])


class JudgmentCache:
    """SQLite-backed judgment cache.

    Args:
        directory: Where ``judgments.sqlite`` lives; defaults to :func:`default_cache_dir`.
        enabled: False makes every lookup a miss and every store a no-op.
        on_notice: Told when a corrupt cache file is moved aside (default: a
            :class:`CorruptCacheNotice` warning); the notice is also kept in ``notices``.
    """

    def __init__(
        self,
        directory: str | Path | None = None,
        *,
        enabled: bool = True,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self.enabled = enabled
        self.path = Path(directory or default_cache_dir()) / FILE_NAME
        self._conn: sqlite3.Connection | None = None
        self._on_notice = on_notice
        self.notices: list[str] = []
        self.hits = 0
        self.misses = 0

    def _error(self, exc: sqlite3.Error) -> CacheError:
        return CacheError(
            f"judgment cache {self.path} failed: {exc}. Judgments already written to the table "
            "are safe; move the cache file aside (or pass --no-cache) and run again"
        )

    def _move_aside(self, why: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.path.with_name(f"{FILE_NAME}.corrupt-{stamp}")
        os.replace(self.path, aside)
        for extra in ("-journal", "-wal", "-shm"):
            side = self.path.with_name(FILE_NAME + extra)
            if side.exists():
                os.replace(side, aside.with_name(aside.name + extra))
        notice = (
            f"the judgment cache {self.path} is corrupt ({why}); moved it to {aside} and "
            "started an empty cache (judgments will be recomputed)"
        )
        self.notices.append(notice)
        if self._on_notice is not None:
            self._on_notice(notice)
        else:
            warnings.warn(notice, CorruptCacheNotice, stacklevel=2)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS judgments ("
            " judge TEXT NOT NULL, version TEXT NOT NULL, input_hash TEXT NOT NULL,"
            " judgment TEXT NOT NULL, created REAL NOT NULL,"
            " PRIMARY KEY (judge, version, input_hash))"
        )
        conn.commit()
        return conn

    def open(self) -> None:
        """Open and check the cache now (otherwise the first lookup does)."""
        if self.enabled:
            self._db()

    def _db(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(f".{FILE_NAME}.lock")
        with file_lock(lock, what=f"judgment cache {self.path}", wait=120):
            why: str | None = None
            if self.path.exists():
                try:
                    probe = sqlite3.connect(self.path, timeout=30)
                    try:
                        why = _problem(probe)
                    finally:
                        probe.close()
                except sqlite3.DatabaseError as exc:
                    why = str(exc)
            if why is not None:
                self._move_aside(why)
            try:
                self._conn = self._connect()
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
        return self._conn

    def get(self, judge: str, version: str, item: JudgeInput) -> Judgment | None:
        """The cached judgment, or None."""
        if not self.enabled:
            return None
        try:
            row = (
                self._db()
                .execute(
                    "SELECT judgment FROM judgments WHERE judge=? AND version=? AND input_hash=?",
                    (judge, version, input_hash(item)),
                )
                .fetchone()
            )
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        if row is None:
            self.misses += 1
            return None
        try:
            data = json.loads(row[0])
            judgment = Judgment(**data)
        except (ValueError, TypeError):  # written by an incompatible version: treat as a miss
            self.misses += 1
            return None
        self.hits += 1
        return judgment

    def put(self, judge: str, version: str, item: JudgeInput, judgment: Judgment) -> None:
        """Store a judgment (replacing any earlier one under the same key)."""
        if not self.enabled:
            return
        db = self._db()
        try:
            db.execute(
                "INSERT OR REPLACE INTO judgments VALUES (?, ?, ?, ?, ?)",
                (
                    judge,
                    version,
                    input_hash(item),
                    json.dumps(dataclasses.asdict(judgment), ensure_ascii=False),
                    time.time(),
                ),
            )
            db.commit()
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
