"""deconfound label: a blind, stratified, self-contained labelling page with its key file beside
it; the exported gold CSV maps back through the key; --format csv; --plan."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from label_fixtures import CONDITIONS, JUDGES, PLANTED, label_records
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.records import write_records
from deconfound.records.gold import read_gold
from deconfound.records.labelkey import KEY_COLUMNS, read_label_key
from deconfound.report.labelling import draw_label_sample, write_label_files

runner = CliRunner()


@pytest.fixture
def records_path(tmp_path: Path) -> Path:
    path = tmp_path / "records.parquet"
    write_records(label_records(), path)
    return path


def _page(tmp_path: Path, records_path: Path, *extra: str) -> tuple[str, pd.DataFrame]:
    out = tmp_path / "labels.html"
    res = runner.invoke(app, ["label", str(records_path), "-o", str(out), "--n", "40", *extra])
    assert res.exit_code == 0, res.output
    return out.read_text(encoding="utf-8"), read_label_key(tmp_path / "labels.key.csv")


def test_page_names_no_condition_no_judge_and_no_response_identity(
    tmp_path: Path, records_path: Path
) -> None:
    html, key = _page(tmp_path, records_path)
    for secret in (*CONDITIONS, *JUDGES, "zq-study", "mockllm/zq", "scen-0"):
        assert secret not in html
    data = json.loads(re.search(r'id="label-data">(.*?)</script>', html, re.S).group(1))
    assert len(data["items"]) == 40 == len(key)
    assert set(data["items"][0]) == {"key", "scenario", "response"}
    assert [it["key"] for it in data["items"]] == key["item"].tolist()
    assert list(key.columns) == list(KEY_COLUMNS)
    # items are shuffled, not grouped by condition
    assert key["condition"].tolist() != sorted(key["condition"].tolist())


def test_page_escapes_model_text_and_only_its_hashed_script_may_run(
    tmp_path: Path, records_path: Path
) -> None:
    html, _ = _page(tmp_path, records_path, "--n", "120")
    assert "<img src=x" not in html and "</script><script>window" not in html
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html
    assert "default-src 'none'" in html
    data = json.loads(re.search(r'id="label-data">(.*?)</script>', html, re.S).group(1))
    assert PLANTED in [it["response"] for it in data["items"]]  # carried as data, intact


def test_inclusion_probabilities_follow_the_allocation_and_disagreement_is_oversampled() -> None:
    records = label_records()
    s = draw_label_sample(records, n=40, seed=3)
    assert s.strata == ("condition", "judge", "disagreement")
    for _, row in s.key.iterrows():
        n_h, big_n = s.allocation[row["stratum"]]
        assert float(row["inclusion_probability"]) == pytest.approx(n_h / big_n)
    rate = {h: n / big for h, (n, big) in s.allocation.items() if big >= 5}
    dis = [r for h, r in rate.items() if h.endswith("judges disagree")]
    agree = [r for h, r in rate.items() if h.endswith("judges agree")]
    assert min(dis) > max(agree)


def test_same_seed_same_sample_other_seed_other_sample() -> None:
    records = label_records()
    a = draw_label_sample(records, n=20, seed=1)
    b = draw_label_sample(records, n=20, seed=1)
    c = draw_label_sample(records, n=20, seed=2)
    assert a.key.equals(b.key) and a.sample_id == b.sample_id
    assert a.sample_id != c.sample_id


def test_export_format_maps_back_through_the_key(tmp_path: Path, records_path: Path) -> None:
    _, key = _page(tmp_path, records_path)
    export = tmp_path / "labels-gold.csv"
    pd.DataFrame(
        {
            "sample": key["sample"],
            "key_file": "labels.key.csv",
            "item": key["item"],
            "engagement": ["refusal", "engaged"] * 20,
            "ic": ["", "false"] * 20,
            "refusal_kind": "",
            "note": "",
        }
    ).to_csv(export, index=False)
    gold = read_gold(export)
    assert len(gold) == 40
    assert set(gold["condition"]) <= set(CONDITIONS)
    assert gold["inclusion_probability"].between(0, 1).all()
    res = runner.invoke(app, ["calibrate", str(records_path), "--gold", str(export)])
    assert res.exit_code == 0, res.output
    assert JUDGES[0] in res.output


def test_a_sheet_in_csv_format_is_read_back_like_an_export(
    tmp_path: Path, records_path: Path
) -> None:
    out = tmp_path / "sheet.csv"
    res = runner.invoke(
        app, ["label", str(records_path), "-o", str(out), "--n", "12", "--format", "csv"]
    )
    assert res.exit_code == 0, res.output
    sheet = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert {"item", "engagement", "scenario", "response"} <= set(sheet.columns)
    assert not any(c in out.read_text(encoding="utf-8") for c in CONDITIONS)
    sheet["engagement"] = "engaged"
    sheet.to_csv(out, index=False)
    assert len(read_gold(out)) == 12


def test_gold_items_need_their_key(tmp_path: Path, records_path: Path) -> None:
    _, key = _page(tmp_path, records_path)
    (tmp_path / "labels.key.csv").unlink()
    export = tmp_path / "gold.csv"
    pd.DataFrame(
        {
            "sample": key["sample"],
            "key_file": "labels.key.csv",
            "item": key["item"],
            "engagement": "engaged",
        }
    ).to_csv(export, index=False)
    res = runner.invoke(app, ["calibrate", str(records_path), "--gold", str(export)])
    assert res.exit_code == 2
    assert "key file 'labels.key.csv' not found" in res.output


def test_unknown_stratum_is_an_input_error(tmp_path: Path, records_path: Path) -> None:
    res = runner.invoke(
        app, ["label", str(records_path), "-o", str(tmp_path / "x.html"), "--strata", "colour"]
    )
    assert res.exit_code == 2
    assert "unknown stratum 'colour'" in res.output
    assert not (tmp_path / "x.html").exists()


def test_plan_reports_gold_sizes_from_the_judges_disagreement(records_path: Path) -> None:
    res = runner.invoke(app, ["label", str(records_path), "--plan", "--baseline", CONDITIONS[0]])
    assert res.exit_code == 0, res.output
    assert "delta_refusal" in res.output and "delta_ir_engaged" in res.output
    assert "observed disagreement between engagement judges" in res.output


def test_write_label_files_refuses_unknown_format(tmp_path: Path) -> None:
    s = draw_label_sample(label_records(), n=5)
    with pytest.raises(Exception, match="unknown format"):
        write_label_files(s, tmp_path / "a.html", fmt="pdf")
