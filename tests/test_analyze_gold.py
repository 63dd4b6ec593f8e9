"""analyze --gold: PPI++ and gold-only figures per condition and comparison, the gold summary,
the refusal verdict from PPI, and gold files that do not fit the records."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from label_fixtures import CONDITIONS, JUDGES, label_records
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.records import write_records

runner = CliRunner()
A, B = CONDITIONS


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    out = tmp_path_factory.mktemp("gold")
    records = label_records(n_scenarios=40, epochs=2, seed=1)
    path = out / "records.parquet"
    write_records(records, path)
    return path, records


def _gold(records: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """Gold = the keyword judge's labels (the fixture's truth) on a random sample."""
    truth = records[records["judge"] == JUDGES[0]]
    ic = records[records["judge"] == JUDGES[1]].set_index(["condition", "scenario_id", "epoch"])
    rows = truth.sample(n=n, random_state=seed)
    return pd.DataFrame(
        {
            "scenario_id": rows["scenario_id"].to_numpy(),
            "condition": rows["condition"].to_numpy(),
            "epoch": rows["epoch"].to_numpy(),
            "engagement": rows["engagement"].to_numpy(),
            "ic": [
                "" if e == "refusal" else str(bool(ic.loc[(c, s, ep), "ic"])).lower()
                for e, c, s, ep in zip(
                    rows["engagement"],
                    rows["condition"],
                    rows["scenario_id"],
                    rows["epoch"],
                    strict=True,
                )
            ],
        }
    )


def _run(records: Path, gold: Path, out: Path, *extra: str) -> Any:
    return runner.invoke(
        app,
        [
            "analyze",
            str(records),
            "--baseline",
            A,
            "--treatment",
            B,
            "--gold",
            str(gold),
            "--engagement-judge",
            JUDGES[1],
            "--bootstrap",
            "200",
            "--json",
            str(out),
            *extra,
        ],
    )


def _analyze(records: Path, gold: Path, out: Path) -> dict[str, Any]:
    res = _run(records, gold, out)
    assert res.exit_code == 0, res.output
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def test_every_headline_figure_gets_ppi_and_gold_only(
    study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    path, records = study
    gold = tmp_path / "gold.csv"
    _gold(records, 60).to_csv(gold, index=False)
    a = _analyze(path, gold, tmp_path / "a.json")
    for cond in CONDITIONS:
        ppi = a["conditions"][cond]["ppi"]
        assert set(ppi) == {"refusal", "partial", "ir", "ir_engaged"}
        for rec in ppi.values():
            assert {"estimate", "ci", "n_gold", "method", "gold_only", "lambdas"} <= set(rec)
            assert rec["gold_only"]["method"].startswith("gold labels only")
    comp = a["comparisons"][0]["ppi"]
    assert set(comp) == {"delta_refusal", "delta_ir", "delta_ir_engaged"}
    assert comp["delta_refusal"]["n_gold"] == 60
    assert a["gold"]["n"] == 60
    assert sum(v["n"] for v in a["gold"]["by_condition"].values()) == 60
    verdict = a["comparisons"][0]["verdict"]["refusal_changed"]
    assert verdict["basis"] == "ppi"
    assert verdict["estimate"] == comp["delta_refusal"]["estimate"]


def test_with_every_response_gold_labelled_ppi_returns_the_truth(
    study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    # the lexic judge flips 20% of engagement labels; gold is the truth on every response
    path, records = study
    gold = tmp_path / "gold.csv"
    _gold(records, len(records) // 2).to_csv(gold, index=False)
    a = _analyze(path, gold, tmp_path / "a.json")
    truth = records[records["judge"] == JUDGES[0]]
    true_ref = {
        c: float((truth.loc[truth["condition"] == c, "engagement"] == "refusal").mean())
        for c in CONDITIONS
    }
    for c in CONDITIONS:
        got = a["conditions"][c]["ppi"]["refusal"]["estimate"]
        assert got == pytest.approx(true_ref[c], abs=1e-9)
    off = [abs(a["conditions"][c]["refusal"]["estimate"] - true_ref[c]) for c in CONDITIONS]
    assert max(off) > 0.02  # the judge alone is off
    assert a["comparisons"][0]["ppi"]["delta_refusal"]["estimate"] == pytest.approx(
        true_ref[B] - true_ref[A], abs=1e-9
    )


def test_rows_for_other_conditions_are_ignored_with_a_notice(
    study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    path, records = study
    g = _gold(records, 30)
    extra = g.iloc[:3].copy()
    extra["condition"] = "some other arm"
    gold = tmp_path / "gold.csv"
    pd.concat([g, extra]).to_csv(gold, index=False)
    out = tmp_path / "a.json"
    res = _run(path, gold, out)
    assert res.exit_code == 0, res.output
    assert "3 gold row(s) for condition(s) not in this analysis ignored" in res.output
    assert json.loads(out.read_text())["gold"]["n_ignored"] == 3


def test_rows_for_other_models_and_studies_are_ignored_not_matched_to_this_one(
    study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """A multi-model gold file (the reference corpus is one) must not lend another model's
    labels to this model's responses, which share scenario ids and condition names."""
    path, records = study
    g = _gold(records, 30)
    g["model"], g["study"] = records["model"].iloc[0], records["study"].iloc[0]
    other = g.copy()
    other["model"] = "another-model"
    other["engagement"] = "refusal"  # would move every figure if it were matched
    elsewhere = g.iloc[:4].copy()
    elsewhere["study"] = "another-study"
    gold = tmp_path / "gold.csv"
    pd.concat([g, other, elsewhere]).to_csv(gold, index=False)
    out = tmp_path / "a.json"
    res = _run(path, gold, out)
    assert res.exit_code == 0, res.output
    assert "30 gold row(s) for model(s) not in this analysis ignored: another-model" in res.output
    assert "4 gold row(s) for study(ies) not in this analysis ignored: another-study" in res.output
    alone = tmp_path / "alone.csv"
    g.to_csv(alone, index=False)
    expected = _analyze(path, alone, tmp_path / "b.json")["gold"]
    got = json.loads(out.read_text())["gold"]
    assert got["n_ignored"] == 34
    assert got["by_condition"] == expected["by_condition"]


def test_a_gold_file_with_no_row_for_this_analysis_is_an_error_naming_the_file(
    study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    path, records = study
    g = _gold(records, 10)
    g["model"] = "another-model"
    gold = tmp_path / "gold.csv"
    g.to_csv(gold, index=False)
    out = tmp_path / "a.json"
    res = _run(path, gold, out)
    assert res.exit_code == 2
    assert str(gold) in res.output and "none of the 10 gold rows is for this analysis" in res.output
    assert "another-model" in res.output
    assert not out.exists()


def test_a_gold_label_made_on_another_text_is_an_error_naming_its_line(
    study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    path, records = study
    g = _gold(records, 10)
    texts = records.drop_duplicates(["condition", "scenario_id", "epoch"]).set_index(
        ["condition", "scenario_id", "epoch"]
    )["response"]
    g["response_sha256"] = [
        hashlib.sha256(texts[(c, s, e)].encode("utf-8")).hexdigest()
        for c, s, e in zip(g["condition"], g["scenario_id"], g["epoch"], strict=True)
    ]
    gold = tmp_path / "gold.csv"
    g.to_csv(gold, index=False)
    assert _run(path, gold, tmp_path / "ok.json").exit_code == 0  # the digests of these texts
    g.loc[6, "response_sha256"] = hashlib.sha256(b"a different answer").hexdigest()
    g.to_csv(gold, index=False)
    out = tmp_path / "a.json"
    res = _run(path, gold, out)
    assert res.exit_code == 2
    assert "line 8" in res.output and "made on another text" in res.output
    assert "field 'response_sha256'" in res.output
    assert not out.exists()


def test_a_gold_label_for_a_response_the_records_lack_names_its_line(
    study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    path, records = study
    g = _gold(records, 10)
    g.loc[len(g)] = ["scen-999", A, 1, "refusal", ""]
    gold = tmp_path / "gold.csv"
    g.to_csv(gold, index=False)
    out = tmp_path / "a.json"
    res = _run(path, gold, out)
    assert res.exit_code == 2
    assert "line 12" in res.output and "scen-999" in res.output
    assert not out.exists()


def test_inclusion_probabilities_reweight_an_oversampled_gold_set(
    study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    # over-sample refusals 4:1 within each condition; weights must undo it (gold only)
    path, records = study
    g = _gold(records, len(records) // 2)  # every response
    rng = np.random.default_rng(0)
    keep: list[int] = []
    prob: list[float] = []
    for c in CONDITIONS:
        for label, p in (("refusal", 0.8), ("engaged", 0.2)):
            idx = g.index[(g["condition"] == c) & (g["engagement"] == label)]
            k = max(2, round(p * len(idx)))
            keep += [int(i) for i in rng.choice(idx, k, replace=False)]
            prob += [k / len(idx)] * k
    sample = g.loc[keep].copy()
    sample["inclusion_probability"] = prob
    gold = tmp_path / "gold.csv"
    sample.to_csv(gold, index=False)
    a = _analyze(path, gold, tmp_path / "a.json")
    for c in CONDITIONS:
        true = float((g.loc[g["condition"] == c, "engagement"] == "refusal").mean())
        got = a["conditions"][c]["ppi"]["refusal"]["gold_only"]["estimate"]
        assert got == pytest.approx(true, abs=1e-9)
        unweighted = float((sample.loc[sample["condition"] == c, "engagement"] == "refusal").mean())
        assert abs(unweighted - true) > 0.1


def test_an_in_role_label_that_is_not_true_or_false_names_its_line_and_field(
    study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    path, records = study
    g = _gold(records, 5)
    g["in_role"] = ["true", "", "false", "maybe", ""]
    gold = tmp_path / "gold.csv"
    g.to_csv(gold, index=False)
    res = _run(path, gold, tmp_path / "a.json")
    assert res.exit_code == 2
    assert "line 5" in res.output and "field 'in_role'" in res.output and "'maybe'" in res.output


def test_a_gold_row_for_an_empty_answer_is_read_as_unlabelled_not_as_a_class(
    tmp_path: Path,
) -> None:
    from deconfound.errors import InputError
    from deconfound.records.gold import read_gold

    gold = tmp_path / "gold.csv"
    gold.write_text(
        "scenario_id,condition,engagement,ic\ns-1,A,missing,\ns-2,A,refusal,false\n",
        encoding="utf-8",
    )
    rows = read_gold(gold)
    assert rows["gold_engagement"].isna().tolist() == [True, False]
    assert rows["gold_ic"].isna().tolist() == [True, False]
    gold.write_text("scenario_id,condition,engagement\ns-1,A,absent\n", encoding="utf-8")
    with pytest.raises(InputError, match="'absent' is not one of"):
        read_gold(gold)
