"""CLI: ``deconfound bounds`` reproduces statistics.md §3; ``deconfound analyze`` writes the
analysis JSON atomically and exits 2 on bad input without writing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.records import write_records
from deconfound.stats import simulate_records

runner = CliRunner()
BASE, TREAT = "Baseline (adversarial only)", "Ethics prompt"
#: The published aggregate run of statistics.md §3 (percentages, as in papers).
WORKED_EXAMPLE = [
    "bounds", "--baseline-ir", "14.67", "--baseline-refusal", "55",
    "--treatment-ir", "9.21", "--treatment-refusal", "73", "--n", "76",
]  # fmt: skip


def pp(x: float) -> float:
    return round(100 * x, 2)


def test_bounds_reproduces_the_worked_example(tmp_path: Path) -> None:
    out = tmp_path / "bounds.json"
    res = runner.invoke(
        app,
        [*WORKED_EXAMPLE, "--bootstrap", "500", "--json", str(out)],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert pp(data["baseline"]["ir_engaged"]) == 32.60
    assert pp(data["treatment"]["ir_engaged"]) == 34.11
    assert pp(data["delta_ir"]["estimate"]) == -5.46
    assert pp(data["decomposition"]["refusal_part"]) == -6.00
    assert pp(data["decomposition"]["behaviour_part"]) == 0.54
    assert [pp(x) for x in data["sace_bounds"]] == [-20.22, 34.11]
    assert pp(data["tipping_point"]) == 30.33
    assert [pp(x) for x in data["manski_bounds"]] == [-60.46, 67.54]
    defier = {
        d["max_defier_share"]: [pp(x) for x in d["bounds"]] for d in data["defier_sensitivity"]
    }
    assert defier[0.05] == [-47.55, 41.86]
    lo, hi = data["sace_bounds_ci"]
    assert lo < -0.2022 and hi > 0.3411
    assert data["power"]["mde_unpaired"] == pytest.approx(0.125, abs=0.0005)
    for key in ("ir", "refusal", "engaged", "ir_engaged", "n"):
        assert key in data["baseline"] and key in data["treatment"]
    assert any("11/75" in w for w in data["warnings"])


def test_bounds_is_reproducible_with_a_seed(tmp_path: Path) -> None:
    args = [*WORKED_EXAMPLE, "--bootstrap", "200", "--seed", "5"]
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    runner.invoke(app, [*args, "--json", str(a)])
    runner.invoke(app, [*args, "--json", str(b)])
    assert (
        json.loads(a.read_text())["sace_bounds_ci"] == json.loads(b.read_text())["sace_bounds_ci"]
    )


def test_bounds_rejects_a_percentage_out_of_range(tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    res = runner.invoke(
        app,
        [
            "bounds",
            "--baseline-ir",
            "140",
            "--baseline-refusal",
            "55",
            "--treatment-ir",
            "9",
            "--treatment-refusal",
            "73",
            "--n",
            "76",
            "--json",
            str(out),
        ],
    )
    assert res.exit_code == 2
    assert not out.exists()


@pytest.fixture
def records_file(tmp_path: Path) -> Path:
    path = tmp_path / "records.parquet"
    write_records(simulate_records(40, 2, seed=3), path)
    return path


def test_analyze_writes_the_analysis_json(records_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "analysis.json"
    res = runner.invoke(
        app,
        [
            "analyze",
            str(records_file),
            "--baseline",
            BASE,
            "--treatment",
            TREAT,
            "--bootstrap",
            "200",
            "--json",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert set(data["conditions"]) == {BASE, TREAT}
    assert data["settings"]["bootstrap"] == 200
    assert data["provenance"]["inputs"]["records"]["sha256"]
    assert "numpy" in data["provenance"]["package_versions"]
    assert "refusal changed" in res.output


def test_analyze_unknown_condition_exits_2_and_writes_nothing(
    records_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "analysis.json"
    res = runner.invoke(
        app,
        [
            "analyze",
            str(records_file),
            "--baseline",
            BASE,
            "--treatment",
            "No such (condition)",
            "--json",
            str(out),
        ],
    )
    assert res.exit_code == 2
    assert "No such (condition)" in res.output
    assert not out.exists()


def test_analyze_rejects_a_bad_calibration_file(records_file: Path, tmp_path: Path) -> None:
    cal = tmp_path / "cal.json"
    cal.write_text(json.dumps({"rubric:sim": {"ic": {"sensitivity": 1.4, "specificity": 0.9}}}))
    out = tmp_path / "analysis.json"
    res = runner.invoke(
        app,
        [
            "analyze",
            str(records_file),
            "--baseline",
            BASE,
            "--treatment",
            TREAT,
            "--calibration",
            str(cal),
            "--json",
            str(out),
        ],
    )
    assert res.exit_code == 2
    assert "sensitivity" in res.output
    assert not out.exists()


def test_analyze_applies_a_calibration(records_file: Path, tmp_path: Path) -> None:
    cal = tmp_path / "cal.json"
    cal.write_text(
        json.dumps(
            {
                "rubric:sim": {
                    "ic": {"sensitivity": 0.9, "specificity": 0.95, "n_pos": 60, "n_neg": 140},
                    "refusal": {"sensitivity": 0.8, "specificity": 0.9},
                }
            }
        )
    )
    out = tmp_path / "analysis.json"
    res = runner.invoke(
        app,
        [
            "analyze",
            str(records_file),
            "--baseline",
            BASE,
            "--treatment",
            TREAT,
            "--bootstrap",
            "50",
            "--calibration",
            str(cal),
            "--json",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    corr = data["conditions"][BASE]["judge_correction"]["ir_engaged"]
    raw = data["conditions"][BASE]["ir_engaged"]["estimate"]
    assert corr["estimate"] == pytest.approx((raw + 0.95 - 1) / 0.85)
    diff = data["comparisons"][0]["judge_correction"]["ir_engaged_difference"]
    assert diff["corrected"] == pytest.approx(diff["raw"] / 0.85)
    raw_refusal = data["conditions"][BASE]["refusal"]["estimate"]
    corr_refusal = data["conditions"][BASE]["judge_correction"]["refusal"]["estimate"]
    assert corr_refusal == pytest.approx(min(1.0, max(0.0, (raw_refusal + 0.9 - 1) / 0.7)))
    # with gold counts the interval is a bootstrap one (scenarios + Se/Sp redrawn), else Wald
    assert "percentile interval" in corr["method"]
    lo, hi = corr["ci"]
    assert lo <= corr["estimate"] <= hi
    assert "delta-method" in data["conditions"][BASE]["judge_correction"]["refusal"]["method"]


def test_analyze_with_report_writes_json_and_a_self_contained_report(
    records_file: Path, tmp_path: Path
) -> None:
    out, report_dir = tmp_path / "analysis.json", tmp_path / "report"
    res = runner.invoke(
        app,
        [
            "analyze", str(records_file), "--baseline", BASE, "--treatment", TREAT,
            "--bootstrap", "50", "--json", str(out), "--report", str(report_dir),
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    data = json.loads(out.read_text())
    assert TREAT in html and BASE in html
    assert "<script src=" not in html and "https://" not in html.split("<body", 1)[1]
    assert data["comparisons"][0]["treatment"] == TREAT


def test_analyze_with_only_report_writes_the_json_into_the_report_folder(
    records_file: Path, tmp_path: Path
) -> None:
    report_dir = tmp_path / "report"
    res = runner.invoke(
        app,
        [
            "analyze", str(records_file), "--baseline", BASE, "--treatment", TREAT,
            "--bootstrap", "50", "--report", str(report_dir),
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (report_dir / "report.html").is_file()
    data = json.loads((report_dir / "analysis.json").read_text(encoding="utf-8"))
    assert data["comparisons"][0]["treatment"] == TREAT


def test_analyze_without_json_or_report_says_what_to_give(records_file: Path) -> None:
    res = runner.invoke(
        app, ["analyze", str(records_file), "--baseline", BASE, "--treatment", TREAT]
    )
    assert res.exit_code == 2
    assert "give --json FILE, --report DIR, or both" in res.stderr
