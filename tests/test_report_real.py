"""The report of the imported real study (AEI Sonnet 4.5): import -> analyze -> report via the CLI.

Every scenario (76) and every condition (3) must render, and the explorer's transition counts must
be the analysis' own.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.report.explorer_data import read_page

pytestmark = pytest.mark.slow

# the same path as tests/conftest.py's AEI_SONNET (not imported: tests/browser has a conftest too)
AEI_SONNET = Path(__file__).resolve().parents[2] / "shared" / "data" / "aei-elessan" / "sonnet-4.5"
BASELINE = "Baseline (adversarial only)"
TREATMENTS = ("Prompt-only (adversarial + ethics)", "Full Elessan (adversarial + ethics + RAG)")


def _run(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output


@functools.cache
def real_report() -> Path:
    """Build the real study's report once per test session (also used by the browser tests)."""
    assert AEI_SONNET.is_dir(), f"{AEI_SONNET} missing: ../shared must sit beside the project"
    work = Path(tempfile.mkdtemp(prefix="deconfound-aei-report-"))
    records, analysis, out = work / "records.parquet", work / "analysis.json", work / "out"
    _run("import", "--format", "aei", str(AEI_SONNET), "-o", str(records))
    treat = [a for t in TREATMENTS for a in ("--treatment", t)]
    _run(
        "analyze",
        str(records),
        "--baseline",
        BASELINE,
        *treat,
        "--bootstrap",
        "50",
        "--json",
        str(analysis),
    )
    _run("report", str(analysis), "--records", str(records), "-o", str(out))
    return out / "report.html"


@pytest.fixture(scope="module")
def real() -> dict[str, Any]:
    html = real_report()
    return {
        "html": html.read_text(encoding="utf-8"),
        "analysis": json.loads((html.parent.parent / "analysis.json").read_text()),
        "out": html.parent,
    }


def test_real_report_renders_every_scenario_and_condition(real: dict[str, Any]) -> None:
    html = real["html"]
    data = read_page(html)
    rows = [s["id"] for s in data.scenarios]
    assert len(rows) == len(set(rows)) == 76
    responses = data.responses
    for cond in (BASELINE, *TREATMENTS):
        assert len({r["scenario"] for r in responses if r["condition"] == cond}) == 76, cond
    # every response text is there (one per scenario x condition)
    assert sum(r["text"] is not None for r in responses) == 76 * 3
    scen = pd.read_csv(real["out"] / "tables" / "scenarios.csv")
    assert len(scen) == 76


def test_real_report_summary_and_transitions_are_the_analysis_own(real: dict[str, Any]) -> None:
    html, analysis = real["html"], real["analysis"]
    summary = pd.read_csv(real["out"] / "tables" / "summary.csv").set_index("condition")
    for cond, c in analysis["conditions"].items():
        assert summary.loc[cond, "refusal"] == pytest.approx(c["refusal"]["estimate"])
    data = json.loads(
        re.search(
            r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S
        ).group(1)  # type: ignore[union-attr]
    )
    for i, comp in enumerate(analysis["comparisons"]):
        shown = {
            o["value"].split(":", 1)[1]: o["count"]
            for o in data["transitions"]
            if o["value"].startswith(f"{i}:")
        }
        assert shown == comp["transitions"]
    trans = pd.read_csv(real["out"] / "tables" / "transitions.csv")
    assert trans["n_scenarios"].sum() == 76 * len(TREATMENTS)
