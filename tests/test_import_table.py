"""Generic table importer: mapping, documented defaults, errors naming file and record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deconfound.errors import InputError
from deconfound.records.importers import import_table, parse_mapping
from deconfound.records.importers.table import DEFAULT_JUDGE, DEFAULT_MODEL


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_full_records_columns_need_no_mapping(tmp_path: Path) -> None:
    f = tmp_path / "t.jsonl"
    rows = [
        {
            "study": "s",
            "model": "m",
            "condition": "c",
            "scenario_id": "x-01",
            "category": "X",
            "epoch": e,
            "response": "r",
            "response_status": "ok",
            "judge": "j",
            "engagement": "partial",
        }
        for e in (1, 2)
    ]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    table = import_table([f])
    assert list(table["epoch"]) == [1, 2]
    assert set(table["engagement"]) == {"partial"}


def test_defaults_fill_study_model_epoch_judge(tmp_path: Path) -> None:
    f = _csv(tmp_path / "run7.csv", "condition,scenario_id,category,response\nc,a-01,A,hi\n")
    table = import_table([f])
    row = table.iloc[0]
    assert (row["study"], row["model"], row["epoch"], row["judge"]) == (
        "run7",
        DEFAULT_MODEL,
        1,
        DEFAULT_JUDGE,
    )
    override = import_table([f], study="S", model="M")
    assert (override.iloc[0]["study"], override.iloc[0]["model"]) == ("S", "M")


def test_parse_mapping_reads_pairs_and_rejects_nonsense() -> None:
    assert parse_mapping("response=answer, condition = arm") == {
        "response": "answer",
        "condition": "arm",
    }
    for bad in ("response", "=x", "nope=x", "response=a,response=b"):
        with pytest.raises(InputError):
            parse_mapping(bad)


def test_duplicate_rows_in_one_file_name_the_record(tmp_path: Path) -> None:
    f = _csv(
        tmp_path / "d.csv",
        "condition,scenario_id,category,response\nc,a-01,A,x\nc,a-02,A,y\nc,a-01,A,z\n",
    )
    with pytest.raises(InputError, match="duplicate row") as info:
        import_table([f])
    assert (info.value.path, info.value.location) == (str(f), "record 3")


def test_duplicate_rows_across_files_name_the_second_file(tmp_path: Path) -> None:
    a = _csv(tmp_path / "a.csv", "condition,scenario_id,category,response\nc,a-01,A,x\n")
    b = _csv(
        tmp_path / "b.csv", "condition,scenario_id,category,response\nc,a-02,A,x\nc,a-01,A,y\n"
    )
    with pytest.raises(InputError, match="duplicate row") as info:
        import_table([a, b], study="same")
    assert (info.value.path, info.value.location) == (str(b), "record 2")
    assert f"{a} record 1" in info.value.message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"condition,scenario_id,category,response\nc,a-01,A,caf\xe9\n", "not UTF-8"),
    ],
)
def test_unreadable_files_are_named(tmp_path: Path, content: bytes, message: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        import_table([f])
    assert info.value.path == str(f)


def test_bad_values_name_record_and_field(tmp_path: Path) -> None:
    f = _csv(
        tmp_path / "v.csv",
        "condition,scenario_id,category,response,engagement\nc,a-01,A,x,engaged\nc,a-02,A,y,maybe\n",
    )
    with pytest.raises(InputError, match="'maybe' is not one of") as info:
        import_table([f])
    assert (info.value.location, info.value.field) == ("record 2", "engagement")

    g = _csv(tmp_path / "w.csv", "condition,task,refused\nc,Evading Shutdown_1,perhaps\n")
    with pytest.raises(InputError, match="expected true/false") as info:
        import_table([g], mapping={"source_task_id": "task", "refusal": "refused"})
    assert (info.value.location, info.value.field) == ("record 1", "refusal")


def test_missing_scenario_columns_explain_the_fix(tmp_path: Path) -> None:
    f = _csv(tmp_path / "m.csv", "condition,response\nc,x\n")
    with pytest.raises(InputError, match="--map"):
        import_table([f])
    g = _csv(tmp_path / "n.csv", "condition,source_task_id,response\nc,oops,x\n")
    with pytest.raises(InputError, match="not of the form") as info:
        import_table([g])
    assert (info.value.location, info.value.field) == ("record 1", "source_task_id")
