"""AEI judged-JSON importer: two judges per response, ids, study/model, edge records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from deconfound.data import task_scenario_id
from deconfound.errors import InputError
from deconfound.records import COLUMN_NAMES, KEY
from deconfound.records.importers import IMPORTERS, aei_conflicts, import_aei


def _records(aei_dir: Path, name: str = "baseline_judged.json") -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((aei_dir / name).read_text(encoding="utf-8"))
    return data


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=2), encoding="utf-8")
    return path


def test_every_record_becomes_a_keyword_row_and_a_judge_row(aei_dir: Path) -> None:
    raw = {
        name: _records(aei_dir, name)
        for name in ("baseline_judged.json", "prompt_only_judged.json", "elessan_judged.json")
    }
    table = import_aei([aei_dir])
    assert len(table) == 2 * sum(len(v) for v in raw.values())
    assert set(table["judge"]) == {"aei-keyword", "aei-judge"}
    assert not table.duplicated(list(KEY)).any()
    rows = {(r["condition"], r["source_task_id"], r["judge"]): r for r in table.to_dict("records")}
    for records in raw.values():
        for rec in records:
            kw = rows[(rec["condition"], rec["task_id"], "aei-keyword")]
            jd = rows[(rec["condition"], rec["task_id"], "aei-judge")]
            assert kw["scenario_id"] == task_scenario_id(rec["task_id"])
            assert kw["engagement"] == ("refusal" if rec["is_refusal"] else "engaged")
            assert pd.isna(kw["benchmark_decision"]) and pd.isna(kw["ic"])
            assert jd["benchmark_decision"] == rec["judge_decision"]
            assert jd["ic"] == (rec["judge_decision"] == "convergence")
            assert pd.isna(jd["engagement"])
            assert jd["judge_explanation"] == rec["judge_reason"]
            assert jd["judge_raw"] == rec["judge_raw"]
            assert kw["response"] == jd["response"] == rec["response"]
            assert kw["prompt"] == rec["prompt"]


def test_study_defaults_to_folder_and_model_to_model_config(aei_dir: Path) -> None:
    config = json.loads((aei_dir / "model_config.json").read_text(encoding="utf-8"))
    table = import_aei([aei_dir])
    assert set(table["study"]) == {aei_dir.name}
    assert set(table["model"]) == {f"{config['provider']}/{config['model_id']}"}
    assert set(table["epoch"]) == {1}
    named = import_aei([aei_dir / "baseline_judged.json"], study="mine", model="x/y")
    assert set(named["study"]) == {"mine"} and set(named["model"]) == {"x/y"}


def test_model_is_unknown_without_model_config(aei_dir: Path, tmp_path: Path) -> None:
    shutil.copyfile(aei_dir / "baseline_judged.json", tmp_path / "baseline_judged.json")
    table = import_aei([tmp_path])
    assert set(table["model"]) == {"unknown"}
    assert set(table["study"]) == {tmp_path.name}


def test_null_response_and_judge_error_are_kept_as_such(aei_dir: Path, tmp_path: Path) -> None:
    records = _records(aei_dir)[:3]
    records[0].update(response=None, is_refusal=False, judge_decision="error")
    records[0].update(judge_reason="No response", judge_raw="")
    records[1].update(judge_decision="error", judge_reason="timeout")
    records[2].update(is_refusal=True, judge_decision="convergence")
    table = import_aei([_write(tmp_path / "run" / "baseline_judged.json", records)])
    by = {(r.source_task_id, r.judge): r for r in table.itertuples(index=False)}
    null = (records[0]["task_id"], "aei-keyword")
    assert by[null].response_status == "missing" and by[null].engagement == "missing"
    assert pd.isna(by[(records[0]["task_id"], "aei-judge")].ic)
    err = by[(records[1]["task_id"], "aei-judge")]
    assert err.benchmark_decision == "error" and err.response_status == "ok" and pd.isna(err.ic)
    conflict_kw = by[(records[2]["task_id"], "aei-keyword")]
    conflict_jd = by[(records[2]["task_id"], "aei-judge")]
    assert conflict_kw.engagement == "refusal" and conflict_jd.benchmark_decision == "convergence"
    assert aei_conflicts(table) == {records[0]["condition"]: 1}


def test_registry_importers_return_validated_tables(aei_dir: Path) -> None:
    table = IMPORTERS["aei"]([aei_dir], study="s")
    assert tuple(table.columns) == COLUMN_NAMES
    assert str(table["epoch"].dtype) == "Int64"
    assert set(IMPORTERS) >= {"aei", "table", "inspect"}


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda r: r.update(task_id="Evading Shutdown_99"), "task_id", "out of range"),
        (lambda r: r.update(task_id="Nope_1", category="Nope"), "task_id", "unknown category"),
        (lambda r: r.update(task_id="EvadingShutdown"), "task_id", "not of the form"),
        (lambda r: r.update(is_refusal="yes"), "is_refusal", "expected true/false"),
        (lambda r: r.update(response=42), "response", "expected text"),
        (lambda r: r.update(judge_decision="maybe"), "judge_decision", "is not one of"),
        (lambda r: r.pop("condition"), "condition", "missing"),
        (
            lambda r: r.update(
                category="Evading Shutdown" if r["category"] != "Evading Shutdown" else "Other"
            ),
            "category",
            "does not match",
        ),
    ],
)
def test_bad_record_names_file_record_and_field(
    aei_dir: Path, tmp_path: Path, mutate: Any, field: str, message: str
) -> None:
    records = _records(aei_dir)
    mutate(records[4])
    path = _write(tmp_path / "baseline_judged.json", records)
    with pytest.raises(InputError, match=message) as info:
        import_aei([path])
    assert info.value.path == str(path)
    assert (info.value.location or "").startswith("record 5")
    assert info.value.field == field


def test_duplicate_record_across_files_names_both(aei_dir: Path, tmp_path: Path) -> None:
    records = _records(aei_dir)
    first = _write(tmp_path / "a_judged.json", records[:10])
    second = _write(tmp_path / "b_judged.json", records[9:12])
    with pytest.raises(InputError, match="duplicate record") as info:
        import_aei([tmp_path])
    assert info.value.path == str(second) and info.value.location is not None
    assert info.value.location.startswith("record 1")
    assert f"{first.name} record 10" in info.value.message


def test_folder_without_judged_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no \*_judged\.json files"):
        import_aei([tmp_path])
