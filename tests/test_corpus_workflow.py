"""The documented way to measure a judge against the reference corpus (docs/judges.md: rebuild
the text, ``deconfound judge``, ``deconfound agreement --by model``) reproduces the κ the project
ships for that judge. Run with ``lexical`` on the two models whose source files ../shared holds."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.judges.measured import measured_kappa

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "benchmarks" / "corpus"
SHARED_AEI = ROOT.parent / "shared" / "data" / "aei-elessan"
MODELS = ("sonnet-4.5", "kimi-k2.5")
runner = CliRunner()


def test_agreement_by_model_on_the_rebuilt_corpus_gives_the_shipped_lexical_kappa(
    tmp_path: Path,
) -> None:
    with (CORPUS / "corpus_labels.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = [r for r in reader if r["model"] in MODELS]
    table = tmp_path / "labels.csv"
    with table.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    text = tmp_path / "corpus_with_text.jsonl"
    local = [a for m in MODELS for a in ("--local", f"{m}={SHARED_AEI / m}")]
    rebuild = [sys.executable, str(CORPUS / "rebuild_text.py"), "-o", str(text)]
    subprocess.run(
        [*rebuild, "--table", str(table), *local],
        check=True,
        capture_output=True,
    )
    judged = tmp_path / "judged.jsonl"
    res = runner.invoke(
        app, ["judge", str(text), "-o", str(judged), "--judge", "lexical", "--no-cache"]
    )
    assert res.exit_code == 0, res.output
    out = tmp_path / "agreement.json"
    res = runner.invoke(
        app,
        [
            *("agreement", str(judged), "--by", "model"),
            *("-l", "engagement-binary", "-l", "ic", "--bootstrap", "10", "--json", str(out)),
        ],
    )
    assert res.exit_code == 0, res.output
    groups = json.loads(out.read_text())["labels"]
    shipped = measured_kappa("lexical")
    assert shipped is not None
    for view, shipped_view in (("engagement-binary", "refusal_vs_not"), ("ic", "ic")):
        for model in MODELS:
            (pair,) = groups[view]["groups"][model]["pairs"].values()
            expected = shipped.kappa[model][shipped_view]
            assert expected is not None
            assert pair["cohen_kappa"] == pytest.approx(expected, abs=5e-4), (view, model)
