"""Shared fixtures: paths to ../shared data (never copied into the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
IE_DIR = SHARED / "data" / "instrumentaleval" / "reconstructed"
AEI_SONNET = SHARED / "data" / "aei-elessan" / "sonnet-4.5"
XSTEST_DIR = SHARED / "data" / "xstest"


@pytest.fixture(autouse=True)
def _isolated_caches(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test gets its own judgment cache, so no test is served another test's judgments."""
    monkeypatch.setenv("DECONFOUND_CACHE_DIR", str(tmp_path_factory.mktemp("judge-cache")))


@pytest.fixture
def ie_dir() -> Path:
    assert IE_DIR.is_dir(), f"{IE_DIR} missing: ../shared must sit beside the project"
    return IE_DIR


@pytest.fixture
def aei_dir() -> Path:
    assert AEI_SONNET.is_dir(), f"{AEI_SONNET} missing: ../shared must sit beside the project"
    return AEI_SONNET


@pytest.fixture
def xstest_dir() -> Path:
    assert XSTEST_DIR.is_dir(), f"{XSTEST_DIR} missing: ../shared must sit beside the project"
    return XSTEST_DIR
