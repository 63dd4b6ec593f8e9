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
    """Each test gets its own judgment cache and Inspect model-call cache.

    Scripted mock models answer the same prompt differently in different tests; a shared cache
    would serve one test another test's replies (an eval run with cache=True also leaves Inspect
    caching later generate calls in the same process).
    """
    monkeypatch.setenv("DECONFOUND_CACHE_DIR", str(tmp_path_factory.mktemp("judge-cache")))
    monkeypatch.setenv("INSPECT_CACHE_DIR", str(tmp_path_factory.mktemp("inspect-cache")))
    # An eval leaves its generate config (cache=True included) active in the calling context, so
    # a later test's judge calls would be served from the model-call cache. Start each test clean.
    from inspect_ai.model import GenerateConfig
    from inspect_ai.model._generate_config import set_active_generate_config

    set_active_generate_config(GenerateConfig())


@pytest.fixture(autouse=True)
def _wide_cli_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI output at a fixed width: no test may pass or fail with the terminal's COLUMNS.

    Messages are never wrapped (soft wrap); tables are fitted to the console, so a 40-column
    terminal would crush the cells a test reads. Tests of narrow output set their own width.
    """
    from deconfound.cli._app import console, err_console

    monkeypatch.setattr(console, "width", 160)
    monkeypatch.setattr(err_console, "width", 160)


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
