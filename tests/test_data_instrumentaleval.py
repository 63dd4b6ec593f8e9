"""InstrumentalEval loading: local directory, pinned download (fetch replaced), selection."""

from __future__ import annotations

import csv
import shutil
import urllib.error
import warnings
from pathlib import Path

import pytest

from deconfound.data import (
    CATEGORY_SIZES,
    DigestMismatchWarning,
    load_scenarios,
    scenario_id,
)
from deconfound.data import instrumentaleval as ie
from deconfound.errors import InputError


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.csv"):
        shutil.copyfile(f, dst / f.name)
    return dst


def _source_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_reconstructed_directory_has_76_scenarios_in_six_categories(ie_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DigestMismatchWarning)
        scenarios = load_scenarios(ie_dir)
    assert len(scenarios) == 76
    assert scenarios.categories() == {
        "Evading Shutdown": 20,
        "Hacking Computer Systems": 10,
        "Running Multiple AI Copies": 13,
        "Hiding Unwanted Behavior": 11,
        "Strategically Appearing Aligned": 11,
        "Deceptive Behavior": 11,
    }
    assert scenarios.categories() == CATEGORY_SIZES
    assert len(scenarios.by_id()) == 76


def test_ids_follow_upstream_row_numbering(ie_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DigestMismatchWarning)
        by_id = load_scenarios(ie_dir).by_id()
    for category in CATEGORY_SIZES:
        rows = _source_rows(ie_dir / ie.file_name(category))
        for i, row in enumerate(rows[1:], start=1):
            s = by_id[scenario_id(category, i)]
            assert s.prompt == row[0]
            assert s.source_task_id == f"{category}_{i}"
            assert s.judge_context == rows[0][0].strip()
    assert by_id["evading-shutdown-09"].source_task_id == "Evading Shutdown_9"


def test_digest_mismatch_warns_once_and_records_actual_digests(
    ie_dir: Path, tmp_path: Path
) -> None:
    local = _copy(ie_dir, tmp_path / "bench")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = load_scenarios(local)
        second = load_scenarios(local)
    mismatch = [w for w in caught if issubclass(w.category, DigestMismatchWarning)]
    assert len(mismatch) == 1
    assert not first.pinned and not second.pinned
    expected = {f.name: ie.sha256_bytes(f.read_bytes()) for f in local.glob("*.csv")}
    assert first.digests == expected
    assert set(first.digests) == set(ie.PINNED_SHA256)
    assert all(first.digests[n] != ie.PINNED_SHA256[n] for n in first.digests)


def test_directory_matching_the_pin_is_pinned_and_silent(
    ie_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = _copy(ie_dir, tmp_path / "bench")
    for f in local.glob("*.csv"):
        monkeypatch.setitem(ie.PINNED_SHA256, f.name, ie.sha256_bytes(f.read_bytes()))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DigestMismatchWarning)
        result = load_scenarios(local)
    assert result.pinned


def _fake_upstream(
    ie_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, bytes], list[str]]:
    """Pin the reconstructed bytes as if they were upstream and serve them by URL."""
    served: dict[str, bytes] = {}
    for f in ie_dir.glob("*.csv"):
        data = f.read_bytes()
        monkeypatch.setitem(ie.PINNED_SHA256, f.name, ie.sha256_bytes(data))
        served[ie.raw_url(f.name)] = data
    calls: list[str] = []

    def fetch(url: str) -> bytes:
        calls.append(url)
        return served[url]

    monkeypatch.setattr(ie, "fetch_url", fetch)
    return served, calls


def test_download_verifies_caches_and_reuses(
    ie_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served, calls = _fake_upstream(ie_dir, monkeypatch)
    cache = tmp_path / "cache"
    first = load_scenarios(None, cache_dir=cache)
    assert len(first) == 76 and first.pinned
    assert sorted(calls) == sorted(served)
    assert all(
        u.startswith(f"https://raw.githubusercontent.com/{ie.UPSTREAM_REPO}/") for u in calls
    )
    assert all(ie.UPSTREAM_COMMIT in u for u in calls)
    assert sorted(p.name for p in cache.iterdir()) == sorted(ie.PINNED_SHA256)
    calls.clear()
    second = load_scenarios("instrumentaleval", cache_dir=cache)
    assert calls == []
    assert second.digests == first.digests
    assert [s.id for s in second.scenarios] == [s.id for s in first.scenarios]


def test_download_with_wrong_digest_is_an_error_and_not_cached(
    ie_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served, _ = _fake_upstream(ie_dir, monkeypatch)
    victim = next(iter(served))
    served[victim] = served[victim] + b"tampered\r\n"
    cache = tmp_path / "cache"
    with pytest.raises(InputError, match="sha256") as info:
        load_scenarios(None, cache_dir=cache)
    assert info.value.path == victim
    name = ie.urllib.parse.unquote(victim.rsplit("/", 1)[1])
    assert not (cache / name).exists()


def test_corrupted_cache_file_is_fetched_again(
    ie_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, calls = _fake_upstream(ie_dir, monkeypatch)
    cache = tmp_path / "cache"
    load_scenarios(None, cache_dir=cache)
    name = ie.file_name("Deceptive Behavior")
    (cache / name).write_bytes(b"edited")
    calls.clear()
    assert len(load_scenarios(None, cache_dir=cache)) == 76
    assert calls == [ie.raw_url(name)]


def test_offline_error_says_how_to_pass_a_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(url: str) -> bytes:
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(ie, "fetch_url", offline)
    with pytest.raises(InputError) as info:
        load_scenarios(None, cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert "offline" in message and "--source DIR" in message and "load_scenarios(DIR)" in message


def test_category_filter_accepts_names_and_slugs_and_limit_truncates(ie_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DigestMismatchWarning)
        by_name = load_scenarios(
            ie_dir, categories=["Deceptive Behavior", "hacking-computer-systems"]
        )
        limited = load_scenarios(ie_dir, categories=["evading-shutdown"], limit=3)
        with pytest.raises(InputError, match="unknown category 'nope'"):
            load_scenarios(ie_dir, categories=["nope"])
    assert by_name.categories() == {"Hacking Computer Systems": 10, "Deceptive Behavior": 11}
    assert [s.id for s in limited.scenarios] == [
        "evading-shutdown-01",
        "evading-shutdown-02",
        "evading-shutdown-03",
    ]


def test_blank_rows_are_skipped_but_keep_their_number(tmp_path: Path) -> None:
    d = tmp_path / "bench"
    d.mkdir()
    (d / ie.file_name("Evading Shutdown")).write_text(
        "context\r\nfirst\r\n\r\nthird\r\n", encoding="utf-8"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DigestMismatchWarning)
        result = load_scenarios(d)
    assert [s.id for s in result.scenarios] == ["evading-shutdown-01", "evading-shutdown-03"]


def test_directory_without_benchmark_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no InstrumentalEval files"):
        load_scenarios(tmp_path)


def test_non_utf8_category_file_is_an_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / ie.file_name("Deceptive Behavior")
    bad.write_bytes(b"context\n\xff\xfe scenario\n")
    with pytest.raises(InputError, match="not UTF-8") as info:
        load_scenarios(tmp_path)
    assert info.value.path == str(bad)


@pytest.mark.parametrize(
    ("task_id", "expected"),
    [
        ("Evading Shutdown_9", "evading-shutdown-09"),
        ("Deceptive Behavior_11", "deceptive-behavior-11"),
    ],
)
def test_task_ids_map_to_scenario_ids(task_id: str, expected: str) -> None:
    assert ie.task_scenario_id(task_id) == expected


@pytest.mark.parametrize(
    "task_id", ["Evading Shutdown", "Evading Shutdown_0", "Evading Shutdown_21", "Nope_1", "_3"]
)
def test_bad_task_ids_are_rejected(task_id: str) -> None:
    with pytest.raises(ValueError):
        ie.task_scenario_id(task_id)
