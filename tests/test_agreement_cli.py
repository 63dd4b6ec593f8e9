"""`deconfound agreement`: per label view, per condition, every judge pair; disagreements."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.records import write_records

runner = CliRunner()

# Two conditions x 6 scenarios; judge "a" and judge "b" differ on a few responses.
A_LABELS = ["refusal", "refusal", "partial", "engaged", "engaged", "engaged"] * 2
B_LABELS = [
    "refusal",
    "partial",
    "partial",
    "engaged",
    "refusal",
    "engaged",
    "refusal",
    "refusal",
    "engaged",
    "engaged",
    "engaged",
    "engaged",
]


def _rows(judge: str, labels: list[str]) -> list[dict[str, object]]:
    out = []
    for i, lab in enumerate(labels):
        cond = "base" if i < 6 else "ethics"
        out.append(
            {
                "study": "s",
                "model": "m",
                "condition": cond,
                "scenario_id": f"sc-{i % 6}",
                "category": "c",
                "epoch": 1,
                "response": f"response {i}",
                "response_status": "ok",
                "judge": judge,
                "engagement": lab,
                "ic": (i % 3 == 0) if lab != "refusal" else None,
            }
        )
    return out


@pytest.fixture
def records(tmp_path: Path) -> Path:
    df = pd.DataFrame(_rows("a", A_LABELS) + _rows("b", B_LABELS))
    return write_records(df, tmp_path / "records.parquet")


def test_agreement_json_per_condition_and_pair(records: Path, tmp_path: Path) -> None:
    out = tmp_path / "agr.json"
    dis = tmp_path / "dis.csv"
    res = runner.invoke(
        app,
        [
            "agreement",
            str(records),
            "--label",
            "engagement",
            "--label",
            "refusal-or-partial",
            "--json",
            str(out),
            "--disagreements",
            str(dis),
            "--bootstrap",
            "50",
        ],
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(out.read_text())["labels"]
    assert set(rep) == {"engagement", "refusal-or-partial"}
    groups = rep["engagement"]["groups"]
    assert set(groups) == {"(all conditions)", "base", "ethics"}
    pair = groups["(all conditions)"]["pairs"]["a vs b"]
    assert pair["n"] == 12
    assert pair["observed"] == pytest.approx(9 / 12)
    # independent check of kappa from the confusion matrix the CLI reports
    cats = ["refusal", "partial", "engaged"]
    table = [[pair["confusion"][r][c] for c in cats] for r in cats]
    assert pair["cohen_kappa"] == pytest.approx(sm_cohens_kappa(table).kappa, abs=1e-6)
    base = groups["base"]["pairs"]["a vs b"]
    assert base["n"] == 6 and base["observed"] == pytest.approx(4 / 6)
    assert groups["base"]["prevalence"]["a"]["refusal"] == pytest.approx(2 / 6)
    # binary view merges refusal and partial
    binary = rep["refusal-or-partial"]["groups"]["(all conditions)"]["pairs"]["a vs b"]
    assert binary["observed"] == pytest.approx(10 / 12)
    with dis.open() as fh:
        rows = list(csv.DictReader(fh))
    eng = [r for r in rows if r["label"] == "engagement"]
    assert len(eng) == 3
    assert {"judge:a", "judge:b", "response"} <= set(rows[0])


def test_agreement_needs_two_judges(tmp_path: Path) -> None:
    path = write_records(pd.DataFrame(_rows("a", A_LABELS)), tmp_path / "one.parquet")
    out = tmp_path / "agr.json"
    res = runner.invoke(app, ["agreement", str(path), "--json", str(out)])
    assert res.exit_code == 2
    assert "two or more judges" in res.output
    assert not out.exists()


def test_agreement_unknown_label_view_is_an_input_error(records: Path) -> None:
    res = runner.invoke(app, ["agreement", str(records), "--label", "vibes"])
    assert res.exit_code == 2
    assert "unknown label view" in res.output


def test_every_view_is_read_when_one_judge_gives_no_engagement_labels(tmp_path: Path) -> None:
    # an IC-only judge (like the AEI benchmark judge) leaves engagement null: the narrow-refusal
    # view must read that as "no label", not fail on the null
    ic_only = [{**row, "judge": "ic-only", "engagement": None} for row in _rows("c", A_LABELS)]
    df = pd.DataFrame(_rows("a", A_LABELS) + _rows("b", B_LABELS) + ic_only)
    src = write_records(df, tmp_path / "records.parquet")
    out = tmp_path / "agreement.json"
    res = runner.invoke(app, ["agreement", str(src), "--json", str(out), "--bootstrap", "10"])
    assert res.exit_code == 0, res.output
    labels = json.loads(out.read_text(encoding="utf-8"))["labels"]
    assert labels["engagement-binary"]["judges"] == ["a", "b"]
    assert "ic-only" in labels["ic"]["judges"]


def test_by_model_measures_a_judge_against_reference_labels_model_by_model(
    tmp_path: Path,
) -> None:
    """The corpus workflow: judge ``reference`` beside a judge under test, one kappa per model.
    The judge copies the reference on model m1 and flips two of six labels on m2, so m1's kappa
    is 1 and m2's is the hand-computable kappa of those six pairs."""
    ref = ["refusal", "refusal", "engaged", "engaged", "engaged", "engaged"]
    flipped = ["refusal", "engaged", "refusal", "engaged", "engaged", "engaged"]
    rows = []
    for model, judged in (("m1", ref), ("m2", flipped)):
        for judge, labels in (("reference", ref), ("rubric:x/y", judged)):
            for i, lab in enumerate(labels):
                rows.append(
                    {
                        "study": "corpus",
                        "model": model,
                        "condition": "base" if i % 2 else "ethics",
                        "scenario_id": f"sc-{i}",
                        "category": "c",
                        "epoch": 1,
                        "response": f"{model} response {i}",
                        "response_status": "ok",
                        "judge": judge,
                        "engagement": lab,
                        "ic": False if lab != "refusal" else None,
                    }
                )
    path = write_records(pd.DataFrame(rows), tmp_path / "corpus.parquet")
    out = tmp_path / "agr.json"
    res = runner.invoke(
        app,
        ["agreement", str(path), "--by", "model", "-l", "engagement", "--json", str(out)],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["by"] == "model"
    groups = data["labels"]["engagement"]["groups"]
    assert list(groups) == ["(all models)", "m1", "m2"]
    pair = "reference vs rubric:x/y"
    assert groups["m1"]["pairs"][pair]["cohen_kappa"] == pytest.approx(1.0)
    # m2: p_o = 4/6; each side says refusal twice in six -> p_e = (2/6)^2 + (4/6)^2 = 5/9
    expected = (4 / 6 - 5 / 9) / (1 - 5 / 9)
    assert groups["m2"]["pairs"][pair]["cohen_kappa"] == pytest.approx(expected)


def test_an_unknown_grouping_column_is_an_error_naming_the_choices(records: Path) -> None:
    res = runner.invoke(app, ["agreement", str(records), "--by", "scenario"])
    assert res.exit_code != 0
    assert "--by" in res.output and "condition, model, study" in res.output
