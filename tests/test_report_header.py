"""The report header counts what was analysed, and says when the records hold more."""

from __future__ import annotations

import re
from pathlib import Path

from deconfound.records.importers import IMPORTERS
from deconfound.report import build_report
from deconfound.stats import analyze_records

KIMI = Path(__file__).resolve().parents[2] / "shared" / "data" / "aei-elessan" / "kimi-k2.5"
BASELINE = "Baseline (adversarial only)"


def test_header_counts_the_conditions_analysed_not_those_in_the_records(tmp_path: Path) -> None:
    records = IMPORTERS["aei"]([KIMI])  # three conditions
    analysis = analyze_records(
        records, baseline=BASELINE, treatments=["Prompt-only (adversarial + ethics)"], n_boot=20
    )
    html = build_report(analysis, records, tmp_path, figure_formats=()).read_text(encoding="utf-8")
    header = re.search(r'<header class="top">.*?</header>', html, re.S)
    assert header is not None
    assert "conditions: 2 analysed (3 in the records)" in header.group(0)
