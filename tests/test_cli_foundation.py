"""CLI: scenarios list, import (aei / table), summary; bad input exits 2 and writes nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.data import CATEGORY_SIZES
from deconfound.records import read_records

runner = CliRunner()


def _flat(text: str) -> str:
    """Drop all whitespace: Rich wraps long paths and messages at the console width."""
    return "".join(text.split())


def _records(aei_dir: Path) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(
        (aei_dir / "baseline_judged.json").read_text(encoding="utf-8")
    )
    return data


def test_scenarios_list_counts_per_category(ie_dir: Path, tmp_path: Path) -> None:
    local = tmp_path / "bench"  # a fresh path: the digest warning is given once per directory
    local.mkdir()
    for f in ie_dir.glob("*.csv"):
        shutil.copyfile(f, local / f.name)
    result = runner.invoke(app, ["scenarios", "list", "--source", str(local)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for category, count in CATEGORY_SIZES.items():
        row = next(line for line in lines if category in line)
        assert row.rstrip(" │").split()[-1] == str(count)
    total = next(line for line in lines if "total" in line)
    assert total.rstrip(" │").split()[-1] == str(sum(CATEGORY_SIZES.values())) == "76"
    assert _flat(result.stderr).count("notthepinnedupstream") == 1
    again = runner.invoke(app, ["scenarios", "list", "--source", str(local), "--ids"])
    assert again.exit_code == 0 and "pinned" not in again.stderr
    assert "evading-shutdown-20" in again.stdout


def test_scenarios_list_bad_source_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["scenarios", "list", "--source", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert _flat(str(tmp_path / "nope")) in _flat(result.stderr)


def test_import_then_summary_json_matches_published_summary(aei_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "records.parquet"
    result = runner.invoke(app, ["import", "--format", "aei", str(aei_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(read_records(out)) == 2 * 3 * 76
    js = tmp_path / "summary.json"
    result = runner.invoke(app, ["summary", str(out), "--json", str(js)])
    assert result.exit_code == 0, result.output
    ours = json.loads(js.read_text(encoding="utf-8"))
    published = json.loads((aei_dir / "summary.json").read_text(encoding="utf-8"))["conditions"]
    assert list(ours) == list(dict.fromkeys(read_records(out)["condition"]))
    assert set(ours) == set(published)
    for cond, pub in published.items():
        assert (ours[cond]["ir"], ours[cond]["rr"]) == (pub["IR"], pub["RR"])
        assert ours[cond]["records"] == pub["total_tasks"]
        assert ours[cond]["refusals"] == pub["refusal_count"]
        for cat, pc in pub["categories"].items():
            oc = ours[cond]["categories"][cat]
            assert (oc["cir"], oc["rr"], oc["records"]) == (pc["CIR"], pc["RR"], pc["total"])
        assert f"{pub['RR']:.2f}" in result.stdout


def _truncated(aei_dir: Path, path: Path) -> None:
    text = json.dumps(_records(aei_dir), indent=2)
    path.write_text(text[: len(text) // 2], encoding="utf-8")


def _wrong_type(aei_dir: Path, path: Path) -> None:
    records = _records(aei_dir)
    records[6]["is_refusal"] = "maybe"
    path.write_text(json.dumps(records), encoding="utf-8")


def _unknown_task(aei_dir: Path, path: Path) -> None:
    records = _records(aei_dir)
    records[6]["task_id"] = records[6]["category"] + "_77"
    path.write_text(json.dumps(records), encoding="utf-8")


def _duplicate(aei_dir: Path, path: Path) -> None:
    records = _records(aei_dir)
    records.append(dict(records[6]))
    path.write_text(json.dumps(records), encoding="utf-8")


def _empty(aei_dir: Path, path: Path) -> None:
    path.write_bytes(b"")


def _empty_list(aei_dir: Path, path: Path) -> None:
    path.write_text("[]\n", encoding="utf-8")


def _non_utf8(aei_dir: Path, path: Path) -> None:
    records = _records(aei_dir)
    records[6]["response"] = "MARKER"
    data = json.dumps(records, indent=2).encode("utf-8")
    path.write_bytes(data.replace(b"MARKER", b"caf\xe9 \xff"))


def _not_a_list(aei_dir: Path, path: Path) -> None:
    path.write_text(json.dumps({"records": _records(aei_dir)}), encoding="utf-8")


BAD_INPUTS: dict[str, tuple[Callable[[Path, Path], None], str, str]] = {
    # name: (writer, where the message must point, what it must say)
    "truncated": (_truncated, "record", "truncated JSON"),
    "wrong-type": (_wrong_type, "record 7", "expected true/false"),
    "unknown-task": (_unknown_task, "record 7", "unknown task id"),
    "duplicate": (_duplicate, "record 77", "duplicate record"),
    "empty": (_empty, "", "empty file"),
    "empty-list": (_empty_list, "", "no records"),
    "non-utf8": (_non_utf8, "record 7", "not UTF-8"),
    "not-a-list": (_not_a_list, "", "JSON list"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
@pytest.mark.parametrize("out_name", ["records.parquet", "records.jsonl"])
def test_bad_aei_input_exits_2_names_file_and_record_and_writes_nothing(
    aei_dir: Path, tmp_path: Path, case: str, out_name: str
) -> None:
    writer, where, what = BAD_INPUTS[case]
    folder = tmp_path / "study"
    folder.mkdir()
    bad = folder / "baseline_judged.json"
    writer(aei_dir, bad)
    out = tmp_path / "out" / out_name
    result = runner.invoke(app, ["import", "--format", "aei", str(folder), "-o", str(out)])
    assert result.exit_code == 2, result.output
    message = _flat(result.stderr)
    assert _flat(str(bad)) in message
    assert _flat(where) in message
    assert _flat(what) in message
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not any(out.parent.glob("*")) if out.parent.exists() else True


def test_existing_output_survives_a_failed_import(aei_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "records.parquet"
    assert runner.invoke(app, ["import", "-f", "aei", str(aei_dir), "-o", str(out)]).exit_code == 0
    before = out.read_bytes()
    bad = tmp_path / "bad" / "x_judged.json"
    bad.parent.mkdir()
    _truncated(aei_dir, bad)
    result = runner.invoke(app, ["import", "-f", "aei", str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert out.read_bytes() == before


def test_unknown_output_extension_exits_2_before_reading(aei_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "records.xlsx"
    result = runner.invoke(app, ["import", "-f", "aei", str(aei_dir), "-o", str(out)])
    assert result.exit_code == 2 and not out.exists()


def test_table_import_with_mapping_and_defaults(tmp_path: Path) -> None:
    src = tmp_path / "results.csv"
    src.write_text(
        "arm,task,answer,refused\n"
        "base,Evading Shutdown_1,no way,true\n"
        "base,Evading Shutdown_2,sure,false\n"
        "treated,Evading Shutdown_1,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.jsonl"
    result = runner.invoke(
        app,
        [
            "import",
            "-f",
            "table",
            str(src),
            "-o",
            str(out),
            "--map",
            "condition=arm,source_task_id=task,response=answer,refusal=refused",
        ],
    )
    assert result.exit_code == 0, result.output
    table = read_records(out)
    assert list(table["scenario_id"]) == [
        "evading-shutdown-01",
        "evading-shutdown-02",
        "evading-shutdown-01",
    ]
    assert set(table["study"]) == {"results"} and set(table["model"]) == {"unknown"}
    assert set(table["judge"]) == {"imported"} and set(table["epoch"]) == {1}
    assert list(table["response_status"]) == ["ok", "ok", "missing"]
    assert table["engagement"].tolist()[:2] == ["refusal", "engaged"]


def test_table_import_bad_mapping_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "results.csv"
    src.write_text("arm,answer\nbase,hi\n", encoding="utf-8")
    out = tmp_path / "r.parquet"
    for spec, expected in [
        ("condition=arm,response=nope", "'nope'"),
        ("bogus=arm", "'bogus'isnotarecordscolumn"),
        ("condition", "badmapping"),
    ]:
        result = runner.invoke(
            app, ["import", "-f", "table", str(src), "-o", str(out), "--map", spec]
        )
        assert result.exit_code == 2, result.output
        assert expected in _flat(result.stderr)
        assert not out.exists()


def test_summary_of_bad_records_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "r.csv"
    bad.write_text("study,model\nx,y\n", encoding="utf-8")
    js = tmp_path / "s.json"
    result = runner.invoke(app, ["summary", str(bad), "--json", str(js)])
    assert result.exit_code == 2
    assert "missingrequiredcolumn" in _flat(result.stderr)
    assert not js.exists()
