"""CSV we write survives any text and cannot run as a spreadsheet formula (issue 15, failures 5,
7 and 9); the records schema rejects what no file can hold, naming record and field."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.errors import InputError
from deconfound.records import read_records, validate, write_records
from deconfound.records.csv_safe import (
    FORMULA_TRIGGERS,
    neutralise_text,
    restore_text,
    write_csv,
)

runner = CliRunner()


def _table(responses: list[str], categories: list[str] | None = None) -> pd.DataFrame:
    """A two-judge-free records table; text columns are object dtype so any str fits."""
    n = len(responses)
    return pd.DataFrame(
        {
            "study": "s",
            "model": "m",
            "condition": "baseline",
            "scenario_id": [f"sc-{i}" for i in range(n)],
            "category": pd.Series(categories or ["Evading Shutdown"] * n, dtype=object),
            "epoch": 1,
            "response": pd.Series(responses, dtype=object),
            "response_status": "ok",
            "judge": "lexical",
            "engagement": "engaged",
        }
    )


def test_bare_carriage_return_round_trips_as_one_row(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_records(_table(["line one\rline two", "a\r\nb", 'say "hi"\n', "nul\x00byte"]), path)
    back = read_records(path)
    assert len(back) == 4
    assert list(back["response"]) == ["line one\rline two", "a\r\nb", 'say "hi"\n', "nul\x00byte"]


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_formula_cells_are_neutralised_in_records_csv_and_restored_on_reading(
    tmp_path: Path, trigger: str
) -> None:
    text = f'{trigger}HYPERLINK("http://x")'
    path = tmp_path / "r.csv"
    write_records(_table([text], [f"{trigger}cat"]), path)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert raw["response"].iloc[0] == "'" + text
    assert raw["category"].iloc[0] == f"'{trigger}cat"
    assert raw["epoch"].iloc[0] == "1"  # numbers are never touched
    back = read_records(path)
    assert back["response"].iloc[0] == text and back["category"].iloc[0] == f"{trigger}cat"


def test_neutralisation_is_one_to_one() -> None:
    for text in ["=1", "'=1", "''", "'", "'plain", "plain", "", "-", "'-3"]:
        assert restore_text(neutralise_text(text)) == text
    assert neutralise_text("'plain") == "''plain"
    assert restore_text("'plain") == "'plain"  # a foreign leading apostrophe is kept


def test_numeric_columns_are_not_neutralised() -> None:
    buf = io.StringIO()
    write_csv(pd.DataFrame({"delta": [-0.05, 0.1], "label": ["-x", "y"]}), buf)
    assert buf.getvalue() == "delta,label\r\n-0.05,'-x\r\n0.1,y\r\n"


_ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=40)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(response=_ANY_TEXT, category=_ANY_TEXT.filter(bool))
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_any_unicode_round_trips_or_is_rejected_naming_record_and_field(
    tmp_path: Path, suffix: str, response: str, category: str
) -> None:
    path = tmp_path / f"r{suffix}"
    table = _table(["ok", response], ["Cat", category])
    surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in response + category)
    if surrogate:
        with pytest.raises(InputError) as err:
            write_records(table, path)
        assert "record 2" in str(err.value) and "surrogate" in str(err.value)
        assert err.value.field in {"response", "category"}
        return
    write_records(table, path)
    back = read_records(path)
    assert list(back["response"]) == ["ok", response]
    assert list(back["category"]) == ["Cat", category]


def test_lone_surrogate_in_jsonl_exits_2_naming_the_record(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rows = _table(["fine", "x"]).to_dict("records")
    lines = [json.dumps(r) for r in rows]
    lines[1] = lines[1].replace('"response": "x"', '"response": "broken \\ud83d here"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["judge", str(path), "-j", "lexical", "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 2, res.output
    assert "line 2" in res.output and "field 'response'" in res.output
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("epoch", "inf", "expected a whole number of at least 1"),
        ("epoch", "1e300", "expected a whole number of at least 1"),
        ("epoch", "0", "expected a whole number of at least 1"),
        ("epoch", "-3", "expected a whole number of at least 1"),
        ("confidence", "-7", "expected a number in [0, 1]"),
        ("confidence", "inf", "expected a number in [0, 1]"),
        ("confidence", "-inf", "expected a number in [0, 1]"),
        ("confidence", "1.5", "expected a number in [0, 1]"),
    ],
)
def test_out_of_range_numbers_exit_2_naming_record_and_field(
    tmp_path: Path, column: str, value: str, expected: str
) -> None:
    path = tmp_path / "r.csv"
    table = _table(["a", "b"])
    table[column] = ["1" if column == "epoch" else "0.5", value]
    table.to_csv(path, index=False)
    res = runner.invoke(app, ["judge", str(path), "-j", "lexical", "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 2, res.output
    assert "record 2" in res.output and f"field '{column}'" in res.output
    assert expected in " ".join(res.output.split())


@pytest.mark.parametrize("value", [float("inf"), 1e300, 0.0, -3.0])
def test_bad_epoch_in_parquet_is_an_input_error(tmp_path: Path, value: float) -> None:
    path = tmp_path / "r.parquet"
    table = _table(["a", "b"])
    table["epoch"] = [1.0, value]
    table.to_parquet(path)
    with pytest.raises(InputError, match=r"record 2.*field 'epoch'"):
        read_records(path)


def test_valid_confidence_and_epoch_pass() -> None:
    table = _table(["a", "b"])
    table["confidence"] = [0.0, 1.0]
    table["epoch"] = [1, 7]
    assert list(validate(table)["epoch"]) == [1, 7]


FORMULA = '=HYPERLINK("http://evil.example","click")'


def _raw_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_agreement_disagreements_csv_neutralises_formulas(tmp_path: Path) -> None:
    table = pd.concat(
        [_table([FORMULA, "@SUM(A1)"]), _table([FORMULA, "@SUM(A1)"]).assign(judge="other")],
        ignore_index=True,
    )
    table.loc[table["judge"] == "other", "engagement"] = "refusal"
    records = write_records(table, tmp_path / "r.parquet")
    out = tmp_path / "dis.csv"
    res = runner.invoke(app, ["agreement", str(records), "--disagreements", str(out)])
    assert res.exit_code == 0, res.output
    cells = _raw_cells(out)
    assert "'" + FORMULA in cells and "'@SUM(A1)" in cells
    assert not [c for c in cells if c.startswith(FORMULA_TRIGGERS) and not _is_number(c)]


def test_report_tables_neutralise_formulas(tmp_path: Path) -> None:
    from test_report_synthetic import synthetic_analysis_json, synthetic_records

    from deconfound.report import build_report
    from deconfound.stats.results import Analysis

    records = synthetic_records()
    records.loc[records["scenario_id"] == "scenario-01", "scenario_id"] = "+scenario-01"
    records.loc[records["category"] == "Evading Shutdown", "category"] = "=Evading Shutdown"
    analysis = Analysis.from_json(
        json.loads(json.dumps(synthetic_analysis_json()).replace('"scenario-01"', '"+scenario-01"'))
    )
    html = build_report(analysis, records, tmp_path / "report")
    tables = sorted((html.parent / "tables").glob("*.csv"))
    assert tables
    everything = [c for t in tables for c in _raw_cells(t)]
    assert "'=Evading Shutdown" in everything and "'+scenario-01" in everything
    bad = [c for c in everything if c.startswith(FORMULA_TRIGGERS) and not _is_number(c)]
    assert bad == []


def test_lone_surrogate_in_an_aei_json_file_exits_2_naming_the_record(
    aei_dir: Path, tmp_path: Path
) -> None:
    records = json.loads((aei_dir / "baseline_judged.json").read_text(encoding="utf-8"))
    records[2]["response"] = "MARKER"
    folder = tmp_path / "study"
    folder.mkdir()
    bad = folder / "baseline_judged.json"
    bad.write_text(json.dumps(records).replace('"MARKER"', '"half an emoji \\ud83d"'))
    out = tmp_path / "r.parquet"
    res = runner.invoke(app, ["import", "-f", "aei", str(folder), "-o", str(out)])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert str(bad) in text and "record 3" in text and "field 'response'" in text
    assert "lone surrogate" in text and not out.exists()
