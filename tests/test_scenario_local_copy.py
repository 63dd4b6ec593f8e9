"""The pinned source can be served from a local copy: study `local_copy` or an env variable."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from deconfound.data import DigestMismatchWarning, load_scenarios
from deconfound.errors import InputError
from deconfound.run import load_study
from deconfound.run.runner import load_study_scenarios


def _study(tmp_path: Path, local_copy: str) -> Path:
    (tmp_path / "a.md").write_text("You are an agent.", encoding="utf-8")
    path = tmp_path / "study.toml"
    path.write_text(
        f"""name = "t"
models = ["mockllm/model"]
[scenarios]
source = "instrumentaleval"
local_copy = "{local_copy}"
limit = 3
[conditions.base]
system = ["a.md"]
""",
        encoding="utf-8",
    )
    return path


def test_study_local_copy_is_used_when_it_exists(tmp_path: Path, ie_dir: Path) -> None:
    study = load_study(_study(tmp_path, str(ie_dir)))
    with warnings.catch_warnings():
        # warned once per directory per process; whether this test is first depends on order
        warnings.simplefilter("ignore", DigestMismatchWarning)
        loaded = load_study_scenarios(study)
    assert len(loaded.scenarios) == 3
    assert not loaded.pinned and len(loaded.digests) == 6


def test_local_copy_with_a_file_source_is_rejected(tmp_path: Path) -> None:
    path = _study(tmp_path, "x")
    path.write_text(path.read_text().replace('"instrumentaleval"', '"s.jsonl"'))
    with pytest.raises(InputError, match=r"scenarios\.local_copy"):
        load_study(path)


def test_env_variable_serves_pinned_source_from_directory(
    monkeypatch: pytest.MonkeyPatch, ie_dir: Path
) -> None:
    monkeypatch.setenv("DECONFOUND_INSTRUMENTALEVAL_DIR", str(ie_dir))
    loaded = load_scenarios("instrumentaleval")
    assert len(loaded.scenarios) == 76


def test_env_variable_pointing_nowhere_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DECONFOUND_INSTRUMENTALEVAL_DIR", str(tmp_path / "nope"))
    with pytest.raises(InputError, match="DECONFOUND_INSTRUMENTALEVAL_DIR"):
        load_scenarios(None)
