"""``in_role`` (the codebook's broad/narrow refusal split) lives everywhere a label lives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.errors import InputError
from deconfound.judges import JudgeInput, Judgment, JudgmentCache, codebook_version
from deconfound.judges.lexical import LexicalJudge
from deconfound.records import read_records, validate, write_records
from deconfound.records.labels import CODEBOOK_VERSION


def _row(scenario: int, engagement: str | None, in_role: bool | None) -> dict[str, object]:
    return dict(
        study="s",
        model="m",
        condition="c",
        scenario_id=f"evading-shutdown-0{scenario}",
        category="Evading Shutdown",
        epoch=1,
        prompt="p",
        response="r",
        response_status="ok",
        judge="rubric:x/y",
        engagement=engagement,
        ic=False,
        in_role=in_role,
    )


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _row(1, "refusal", True),
            _row(2, "partial", False),
            _row(3, "refusal", None),  # a judge that does not label in_role
            _row(4, "engaged", None),
        ]
    )


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_in_role_round_trips_through_every_table_format(tmp_path: Path, suffix: str) -> None:
    df = validate(_table())
    back = read_records(write_records(df, tmp_path / f"records{suffix}"))
    pd.testing.assert_frame_equal(df, back)
    assert back["in_role"].tolist()[:2] == [True, False]
    assert back["in_role"].isna().tolist() == [False, False, True, True]


@pytest.mark.parametrize("engagement", ["engaged", "invalid", "missing", None])
def test_in_role_outside_refusal_or_partial_is_rejected_naming_record_and_field(
    engagement: str | None,
) -> None:
    df = _table()
    df.loc[3, "engagement"] = engagement
    df.loc[3, "in_role"] = True
    with pytest.raises(InputError) as err:
        validate(df, source="labels.csv")
    msg = str(err.value)
    assert "labels.csv" in msg and "record 4" in msg and "in_role" in msg
    assert "refusal or partial" in msg


def test_judgment_refuses_in_role_on_an_engaged_answer() -> None:
    with pytest.raises(ValueError, match="in_role"):
        Judgment(judge="j", engagement="engaged", in_role=False)
    assert Judgment(judge="j", engagement="partial", in_role=False).to_fields()["in_role"] is False


def test_table_import_maps_in_role_from_a_yes_no_column(tmp_path: Path) -> None:
    src = tmp_path / "labels.csv"
    src.write_text(
        "condition,scenario_id,category,response,engagement,stays_in_scenario\n"
        "c,a-01,A,no,refusal,yes\n"
        "c,a-02,A,plan,partial,no\n"
        "c,a-03,A,done,engaged,\n",
        encoding="utf-8",
    )
    out = tmp_path / "records.parquet"
    args = ["import", "--format", "table", str(src), "-o", str(out)]
    result = CliRunner().invoke(app, [*args, "--map", "in_role=stays_in_scenario"])
    assert result.exit_code == 0, result.output
    assert read_records(out)["in_role"].tolist() == [True, False, pd.NA]


def test_table_import_of_in_role_on_an_engaged_row_exits_2_naming_the_record(
    tmp_path: Path,
) -> None:
    src = tmp_path / "labels.csv"
    src.write_text(
        "condition,scenario_id,category,response,engagement,in_role\n"
        "c,a-01,A,no,refusal,true\nc,a-02,A,done,engaged,true\n",
        encoding="utf-8",
    )
    out = tmp_path / "records.parquet"
    result = CliRunner().invoke(app, ["import", "--format", "table", str(src), "-o", str(out)])
    assert result.exit_code == 2
    assert "record 2" in result.output and "in_role" in result.output
    assert not out.exists()


def test_cached_judgment_keeps_in_role(tmp_path: Path) -> None:
    item = JudgeInput("s-01", "Cat", "prompt", "I hold the migration and page the on-call.")
    judgment = Judgment(
        judge="rubric:x/y", judge_version="v", engagement="refusal", ic=False, in_role=True
    )
    JudgmentCache(tmp_path).put("rubric:x/y", "v", item, judgment)
    back = JudgmentCache(tmp_path).get("rubric:x/y", "v", item)
    assert back == judgment and back is not None and back.in_role is True


def test_every_codebook_judge_version_names_the_codebook() -> None:
    assert CODEBOOK_VERSION == "codebook-1"
    assert LexicalJudge().version.endswith("+codebook-1")
    # tagging is idempotent, so a version that already carries the tag is not tagged twice
    assert codebook_version(codebook_version("x")) == "x+codebook-1"


def test_records_layer_does_not_import_the_judges() -> None:
    code = (
        "import sys\n"
        "import deconfound.records, deconfound.records.inspect_logs\n"
        "import deconfound.records.importers.table, deconfound.records.importers.aei\n"
        "print(sorted(m for m in sys.modules if m.startswith('deconfound.judges')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
