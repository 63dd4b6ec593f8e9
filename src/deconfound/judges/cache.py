"""A small on-disk cache of judgments keyed by (judge id, judge version, input hash).

LLM judging costs money and time; re-running ``deconfound judge`` on the same table, or after an
interrupted run, should only call the judge for what is new. The judge version is the hash of its
prompt text, so editing the rubric invalidates old entries automatically.

Location: ``$DECONFOUND_CACHE_DIR/judgments.sqlite`` if that variable is set, else the user cache
directory (platformdirs). Pass ``enabled=False`` (CLI: ``--no-cache``) to bypass it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Final

import platformdirs

from deconfound.judges.base import JudgeInput, Judgment

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


class JudgmentCache:
    """SQLite-backed judgment cache.

    Args:
        directory: Where ``judgments.sqlite`` lives; defaults to :func:`default_cache_dir`.
        enabled: False makes every lookup a miss and every store a no-op.
    """

    def __init__(self, directory: str | Path | None = None, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.path = Path(directory or default_cache_dir()) / FILE_NAME
        self._conn: sqlite3.Connection | None = None
        self.hits = 0
        self.misses = 0

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute(
                "CREATE TABLE IF NOT EXISTS judgments ("
                " judge TEXT NOT NULL, version TEXT NOT NULL, input_hash TEXT NOT NULL,"
                " judgment TEXT NOT NULL, created REAL NOT NULL,"
                " PRIMARY KEY (judge, version, input_hash))"
            )
            conn.commit()
            self._conn = conn
        return self._conn

    def get(self, judge: str, version: str, item: JudgeInput) -> Judgment | None:
        """The cached judgment, or None."""
        if not self.enabled:
            return None
        row = (
            self._db()
            .execute(
                "SELECT judgment FROM judgments WHERE judge=? AND version=? AND input_hash=?",
                (judge, version, input_hash(item)),
            )
            .fetchone()
        )
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

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
