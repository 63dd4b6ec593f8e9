"""The real study's report on a laptop screen: the summary table shows every column at 1280 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deconfound.records.importers import IMPORTERS
from deconfound.report import build_report
from deconfound.stats import analyze_records

pytestmark = pytest.mark.browser

KIMI = Path(__file__).resolve().parents[3] / "shared" / "data" / "aei-elessan" / "kimi-k2.5"
BASELINE = "Baseline (adversarial only)"
TREATMENTS = ["Prompt-only (adversarial + ethics)", "Full Elessan (adversarial + ethics + RAG)"]


@pytest.fixture(scope="module")
def kimi_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three conditions with the study's own long names, as `analyze --report` would write it."""
    assert KIMI.is_dir(), f"{KIMI} missing: ../shared must sit beside the project"
    records = IMPORTERS["aei"]([KIMI])
    analysis = analyze_records(records, baseline=BASELINE, treatments=TREATMENTS, n_boot=50)
    out = tmp_path_factory.mktemp("kimi-report")
    return build_report(analysis, records, out, figure_formats=())


def test_summary_table_fits_without_a_scrollbar_at_1280_px(kimi_report: Path, browser: Any) -> None:
    width = 1280
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = ctx.new_page()
        page.goto(kimi_report.resolve().as_uri())
        overflow = page.evaluate(
            """() => {
                const box = document.querySelector('table.summary').closest('.scroll-x');
                return box.scrollWidth - box.clientWidth;
            }"""
        )
        assert overflow <= 0, f"summary table overflows by {overflow} px at {width} px"
        header = page.inner_text("header.top p")
        assert "conditions: 3 analysed" in header
    finally:
        ctx.close()
