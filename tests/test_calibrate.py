"""`deconfound calibrate`: sensitivity/specificity per judge against gold labels, per condition."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import Result
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.records import write_records
from deconfound.stats import Calibration, CalibrationError, JudgeRates

runner = CliRunner()

GOLD = ["refusal", "refusal", "refusal", "engaged", "engaged", "partial"] * 2
# judge "good": one miss (a gold refusal called partial) in "ethics"
GOOD = [
    "refusal",
    "refusal",
    "refusal",
    "engaged",
    "engaged",
    "partial",
    "refusal",
    "partial",
    "refusal",
    "engaged",
    "engaged",
    "partial",
]
# judge "kw": calls every ethics-condition response a refusal (differential error)
KW = ["refusal", "refusal", "engaged", "engaged", "engaged", "engaged"] + ["refusal"] * 6


def _rows(judge: str, labels: list[str]) -> list[dict[str, object]]:
    return [
        {
            "study": "s",
            "model": "m",
            "condition": "base" if i < 6 else "ethics",
            "scenario_id": f"sc-{i % 6}",
            "category": "c",
            "epoch": 1,
            "response": "r",
            "response_status": "ok",
            "judge": judge,
            "engagement": lab,
            "ic": (i % 6 == 3) if lab != "refusal" else None,
        }
        for i, lab in enumerate(labels)
    ]


@pytest.fixture
def records(tmp_path: Path) -> Path:
    df = pd.DataFrame(_rows("good", GOOD) + _rows("kw", KW))
    return write_records(df, tmp_path / "records.parquet")


def _gold(tmp_path: Path, extra: str = "") -> Path:
    lines = ["scenario_id,condition,engagement,ic"]
    for i, lab in enumerate(GOLD):
        ic = "" if lab == "refusal" else ("true" if i % 6 == 3 else "false")
        lines.append(f"sc-{i % 6},{'base' if i < 6 else 'ethics'},{lab},{ic}")
    path = tmp_path / "gold.csv"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def _calibrate(records: Path, gold: Path, out: Path | None = None) -> Result:
    """``deconfound calibrate RECORDS --gold GOLD [--json OUT]``."""
    args = ["calibrate", str(records), "--gold", str(gold)]
    return runner.invoke(app, args if out is None else [*args, "--json", str(out)])


def test_calibrate_writes_sensitivity_specificity_overall_and_per_condition(
    records: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cal.json"
    res = _calibrate(records, _gold(tmp_path), out)
    assert res.exit_code == 0, res.output
    cal = json.loads(out.read_text())
    good = cal["good"]["refusal"]
    assert (good["n_pos"], good["n_neg"]) == (6, 6)
    assert good["sensitivity"] == pytest.approx(5 / 6)
    assert good["specificity"] == pytest.approx(1.0)
    assert good["by_condition"]["base"]["sensitivity"] == pytest.approx(1.0)
    assert good["by_condition"]["ethics"]["sensitivity"] == pytest.approx(2 / 3)
    kw = cal["kw"]["refusal"]
    assert kw["by_condition"]["base"]["specificity"] == pytest.approx(1.0)
    assert kw["by_condition"]["ethics"]["specificity"] == pytest.approx(0.0)
    # ic: gold ic only on non-refusals; judge "good" agrees everywhere it labels
    assert cal["good"]["ic"]["sensitivity"] == pytest.approx(1.0)
    assert cal["good"]["ic"]["n_pos"] == 2


def test_calibrate_output_is_a_valid_calibration(records: Path, tmp_path: Path) -> None:
    out = tmp_path / "cal.json"
    _calibrate(records, _gold(tmp_path), out)
    loaded = Calibration.from_json(json.loads(out.read_text(encoding="utf-8")))
    rates = loaded.rates_for("good", "ic")
    assert rates is not None and rates.sensitivity == pytest.approx(1.0) and rates.n_pos == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"j": {"ic": {"sensitivity": 1.4, "specificity": 0.9}}}, "j.ic.sensitivity"),
        ({"j": {"ic": {"sensitivity": 0.4, "specificity": 0.5}}}, "j.ic"),
        (
            {"j": {"refusal": {"sensitivity": 0.9, "specificity": 0.9, "n_neg": 0}}},
            "j.refusal.n_neg",
        ),
        ({"j": {"kind": {"sensitivity": 0.9, "specificity": 0.9}}}, "j.kind"),
    ],
)
def test_calibration_validate_names_the_unusable_entry(data: dict[str, Any], field: str) -> None:
    with pytest.raises(CalibrationError) as info:
        Calibration.from_json(data)
    assert info.value.field == field


def test_cli_ic_rates_apply_to_whichever_judge_defines_ic() -> None:
    cal = Calibration.from_json(
        {"a": {"ic": {"sensitivity": 0.8, "specificity": 0.9}}}, JudgeRates(0.7, 0.95)
    )
    assert cal.rates_for("a", "ic") == JudgeRates(0.8, 0.9)
    assert cal.rates_for("b", "ic") == JudgeRates(0.7, 0.95)
    assert cal.rates_for("b", "refusal") is None


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ("sc-0,base,refused,\n", "line 14"),
        ("sc-0,base,refusal,\n", "duplicate"),
        ("sc-9,base,refusal,\n", "no response"),
        ("sc-1,base,refusal,maybe\n", "true/false"),
    ],
)
def test_bad_gold_rows_name_the_line_and_write_nothing(
    records: Path, tmp_path: Path, extra: str, needle: str
) -> None:
    out = tmp_path / "cal.json"
    res = _calibrate(records, _gold(tmp_path, extra), out)
    assert res.exit_code == 2
    assert needle in res.output
    assert "gold.csv" in res.output
    assert not out.exists()


def test_gold_without_label_columns_is_rejected(records: Path, tmp_path: Path) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text("scenario_id,condition\nsc-0,base\n", encoding="utf-8")
    res = _calibrate(records, gold)
    assert res.exit_code == 2
    assert "engagement" in res.output and "line 1" in res.output


def test_gold_rows_of_models_the_records_lack_are_ignored_with_a_notice(
    records: Path, tmp_path: Path
) -> None:
    """A multi-model gold file (the reference corpus) calibrates the model the records hold."""
    alone = tmp_path / "alone.json"
    res = _calibrate(records, _gold(tmp_path), alone)
    assert res.exit_code == 0, res.output
    lines = _gold(tmp_path).read_text(encoding="utf-8").splitlines()
    mixed = ["model," + lines[0]] + [f"m,{ln}" for ln in lines[1:]]
    # another model's labels on the same scenario ids: all refusals, which would move every rate
    mixed += [f"other-model,sc-{i},base,refusal," for i in range(6)]
    gold = tmp_path / "mixed.csv"
    gold.write_text("\n".join(mixed) + "\n", encoding="utf-8")
    out = tmp_path / "cal.json"
    res = _calibrate(records, gold, out)
    assert res.exit_code == 0, res.output
    assert "6 gold row(s) for a model the records do not hold ignored: other-model" in res.output
    assert json.loads(out.read_text()) == json.loads(alone.read_text())
    only_other = tmp_path / "other.csv"
    only_other.write_text("\n".join([mixed[0], *mixed[-6:]]) + "\n", encoding="utf-8")
    res = _calibrate(records, only_other)
    assert res.exit_code == 2
    assert "no gold row is for a model and study of the records" in res.output
