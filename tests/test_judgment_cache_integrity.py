"""A corrupt judgment cache is named, moved aside and replaced, never blamed on a judge (issue 15,
failure 8); the offline judge caches like the LLM judges (failure 10)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.errors import DeconfoundError
from deconfound.judges import JudgeInput, Judgment
from deconfound.judges.apply import run_judges
from deconfound.judges.cache import FILE_NAME, CacheError, JudgmentCache
from deconfound.records import read_records, write_records

runner = CliRunner()
ITEM = JudgeInput("sc-1", "Evading Shutdown", "prompt", "I would copy my weights.", "")


def _filled_cache(directory: Path, n: int = 400) -> Path:
    cache = JudgmentCache(directory)
    for i in range(n):
        item = JudgeInput(f"sc-{i}", "cat", "p", f"response number {i} " + "x" * 200, "")
        cache.put("j", "v1", item, Judgment(judge="j", judge_version="v1", engagement="engaged"))
    cache.close()
    return directory / FILE_NAME


def _records(path: Path) -> Path:
    rows = [
        {
            "study": "s",
            "model": "m",
            "condition": "c",
            "scenario_id": f"sc-{i}",
            "category": "Evading Shutdown",
            "epoch": 1,
            "response": f"I would copy my weights elsewhere ({i}).",
            "response_status": "ok",
            "judge": "none",
        }
        for i in range(4)
    ]
    write_records(pd.DataFrame(rows), path)
    return path


def test_a_cache_that_is_not_a_database_is_moved_aside_with_a_notice(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / FILE_NAME).write_bytes(b"this is not an sqlite file at all" * 100)
    table = _records(tmp_path / "J.parquet")
    res = runner.invoke(
        app,
        [
            "judge",
            str(table),
            *("-j", "rubric:deconfound-mock/complier", "-o", str(table)),
            *("--cache-dir", str(cache_dir)),
        ],
    )
    text = "".join(res.output.split())  # rich wraps long paths anywhere
    assert res.exit_code == 0, res.output
    assert f"{cache_dir / FILE_NAME}iscorrupt" in text and f"moveditto{cache_dir}" in text
    aside = list(cache_dir.glob(f"{FILE_NAME}.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
    assert len(set(read_records(table)["judge"])) == 2  # none + the rubric judge
    # the new cache works
    cache = JudgmentCache(cache_dir)
    cache.put("j", "v", ITEM, Judgment(judge="j", judge_version="v", engagement="refusal"))
    assert cache.get("j", "v", ITEM) is not None and not cache.notices


def test_damaged_pages_fail_the_integrity_check_and_are_moved_aside(tmp_path: Path) -> None:
    path = _filled_cache(tmp_path)
    data = bytearray(path.read_bytes())
    assert len(data) > 40_000
    data[20_000:30_000] = b"\xa5" * 10_000  # scribble over b-tree pages, keep the header
    path.write_bytes(bytes(data))
    notices: list[str] = []
    cache = JudgmentCache(tmp_path, on_notice=notices.append)
    assert cache.get("j", "v1", ITEM) is None
    assert len(notices) == 1 and str(path) in notices[0] and "corrupt" in notices[0]
    assert len(list(tmp_path.glob(f"{FILE_NAME}.corrupt-*"))) == 1


def test_a_sound_cache_is_kept(tmp_path: Path) -> None:
    path = _filled_cache(tmp_path, n=5)
    cache = JudgmentCache(tmp_path)
    cache.open()
    assert not cache.notices and path.exists()
    assert not list(tmp_path.glob("*.corrupt-*"))


class _Broken:
    def execute(self, *args: Any) -> Any:
        raise sqlite3.DatabaseError("database disk image is malformed")

    def close(self) -> None:
        pass


def test_a_cache_failing_mid_run_is_named_and_not_blamed_on_the_judge(tmp_path: Path) -> None:
    cache = JudgmentCache(tmp_path)
    cache._conn = _Broken()  # type: ignore[assignment]
    with pytest.raises(CacheError) as err:
        cache.get("j", "v", ITEM)
    assert str(tmp_path / FILE_NAME) in str(err.value)
    assert "--no-cache" in str(err.value)

    class CachedJudge:
        id = "j"
        version = "v"

        async def judge(self, item: JudgeInput) -> Judgment:
            cache.get(self.id, self.version, item)
            return Judgment(judge="j", judge_version="v", engagement="engaged")

    with pytest.raises(DeconfoundError) as err2:
        asyncio.run(run_judges([CachedJudge()], [ITEM]))
    assert isinstance(err2.value, CacheError)  # not "judge 'j' failed on response 1"


def test_offline_judge_answers_a_repeat_from_the_cache(tmp_path: Path) -> None:
    pytest.importorskip("safetensors")
    from deconfound.judges.offline import OfflineJudge

    cache = JudgmentCache(tmp_path)
    judge = OfflineJudge(cache=cache)
    first = asyncio.run(judge.judge(ITEM))
    judge._encoder = None  # a second process would have to load the encoder again
    again = OfflineJudge(cache=JudgmentCache(tmp_path))
    second = asyncio.run(again.judge(ITEM))
    assert second == first and again.cache is not None and again.cache.hits == 1
    assert again._encoder is None  # answered without encoding anything


def test_without_a_callback_the_notice_is_a_data_notice_warning(tmp_path: Path) -> None:
    from deconfound.errors import DataNotice

    (tmp_path / FILE_NAME).write_bytes(b"garbage" * 200)
    with pytest.warns(DataNotice, match="is corrupt"):
        JudgmentCache(tmp_path).open()
