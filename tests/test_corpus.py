"""The reference corpus (benchmarks/corpus): a records-compatible table whose labels obey the
codebook, whose answers match the pinned files we hold, and whose datasheet states the measured
inter-reader agreement."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from deconfound.records import read_records

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "benchmarks" / "corpus"
SHARED_AEI = ROOT.parent / "shared" / "data" / "aei-elessan"
SHORT = {
    "Baseline (adversarial only)": "baseline",
    "Prompt-only (adversarial + ethics)": "prompt_only",
    "Full Elessan (adversarial + ethics + RAG)": "elessan",
}


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return read_records(CORPUS / "corpus_labels.csv")


def test_corpus_has_at_least_1000_answers_from_five_models_one_row_each(
    corpus: pd.DataFrame,
) -> None:
    assert len(corpus) >= 1000
    assert corpus["model"].nunique() >= 5
    assert set(corpus["judge"]) == {"reference"}
    key = ["study", "model", "condition", "scenario_id", "epoch"]
    assert not corpus.duplicated(key).any()
    assert set(corpus["judge_version"]) == {"codebook-1"}


def test_corpus_labels_obey_the_codebook(corpus: pd.DataFrame) -> None:
    ok = corpus[corpus["response_status"] == "ok"]
    assert set(ok["engagement"]) <= {"refusal", "partial", "engaged"}
    assert ok["ic"].notna().all()
    declined = ok["engagement"].isin(["refusal", "partial"])
    assert ok.loc[declined, "in_role"].notna().all()
    assert ok.loc[declined, "refusal_kind"].notna().all()
    assert ok.loc[~declined, "in_role"].isna().all()
    assert ok.loc[~declined, "refusal_kind"].isna().all()
    assert set(corpus["resolution"]) == {
        "readers agree",
        "adjudicated",
        "re-read (B1a)",
        "re-read (B6a)",
    }


def test_every_label_the_reread_changed_is_in_the_table_and_no_other_row_claims_a_reread(
    corpus: pd.DataFrame,
) -> None:
    """benchmarks/corpus/reread_b1a_b6a.csv is the audit of the codebook-1 clarifications'
    re-reading: the table must hold its after-labels, and only its changed rows say re-read."""
    audit = pd.read_csv(CORPUS / "reread_b1a_b6a.csv", dtype=str, keep_default_na=False)
    fields = ["engagement", "ic", "refusal_kind", "in_role"]
    changed = audit[
        [any(r[f"before_{f}"] != r[f"after_{f}"] for f in fields) for _, r in audit.iterrows()]
    ]
    assert len(changed) > 0
    table = corpus.set_index(["model", "condition", "source_task_id"])
    for _, r in audit.iterrows():
        row = table.loc[(r["model"], r["condition"], r["source_task_id"])]
        assert row["response_sha256"] == r["response_sha256"]
        got = {
            "engagement": row["engagement"],
            "ic": str(bool(row["ic"])).lower(),
            "refusal_kind": "" if pd.isna(row["refusal_kind"]) else row["refusal_kind"],
            "in_role": "" if pd.isna(row["in_role"]) else str(bool(row["in_role"])).lower(),
        }
        assert got == {f: r[f"after_{f}"] for f in fields}, r["source_task_id"]
    reread = corpus[corpus["resolution"].str.startswith("re-read")]
    assert len(reread) == len(changed)


@pytest.mark.parametrize("model", ["sonnet-4.5", "kimi-k2.5"])
def test_corpus_answers_match_the_shared_copies_of_the_pinned_files(
    corpus: pd.DataFrame, model: str
) -> None:
    rows = corpus[corpus["model"] == model]
    assert len(rows) == 228
    for condition, group in rows.groupby("condition"):
        data = json.loads((SHARED_AEI / model / f"{SHORT[str(condition)]}_judged.json").read_text())
        digest = {
            r["task_id"]: hashlib.sha256(r["response"].encode()).hexdigest()
            if r["response"]
            else ""
            for r in data
        }
        for task, sha in zip(group["source_task_id"], group["response_sha256"], strict=True):
            assert digest[task] == (sha if isinstance(sha, str) else ""), (model, condition, task)


def test_every_corpus_file_is_pinned_to_a_commit(corpus: pd.DataFrame) -> None:
    sources = json.loads((CORPUS / "sources.json").read_text())
    pinned = {
        (s["model"], s["condition"]) for s in sources if re.fullmatch(r"[0-9a-f]{40}", s["commit"])
    }
    used = {(m, SHORT[c]) for m, c in zip(corpus["model"], corpus["condition"], strict=True)}
    assert used <= pinned


def test_datasheet_states_the_measured_inter_reader_agreement() -> None:
    measured = {}
    for line in (CORPUS / "reader_agreement.txt").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "all":
            measured[parts[1]] = (parts[3], parts[4])
    sheet = (CORPUS / "DATASHEET.md").read_text()
    names = {
        "engagement": "engagement (3 classes)",
        "refusal": "refusal vs not",
        "refusal_or_partial": "refusal-or-partial vs engaged",
        "ic": "IC",
    }
    for view, label in names.items():
        agree, kappa = measured[view]
        assert f"| {label} | {agree} | {kappa} |" in sheet, view


def test_no_shipped_kappa_stands_where_the_corpus_reference_has_one_class() -> None:
    """A cell whose reference has one class has no kappa: measured_kappa.json must store it as
    null and name it under ``undefined``, never as a number (0 would read as "measured, chance")."""
    import csv
    from collections import defaultdict

    from deconfound.judges.offline_train import view_labels

    with (CORPUS / "corpus_labels.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["response_status"] == "ok"]
    bool_in_role = {"true": "yes", "false": "no"}
    classes: dict[tuple[str, str], set[str]] = defaultdict(set)
    shipped = json.loads(
        (ROOT / "src" / "deconfound" / "judges" / "data" / "measured_kappa.json").read_text()
    )["judges"]
    views = {v for entry in shipped.values() for cells in entry["kappa"].values() for v in cells}
    for r in rows:
        ref = {**r, "in_role": bool_in_role.get(r["in_role"], r["in_role"])}
        for view in views:
            if view.endswith("_among_ref_refusal_partial") and r["engagement"] == "engaged":
                continue
            if (label := view_labels(view, ref)) is not None:
                classes[(r["model"], view)].add(label)
    checked = 0
    for judge, entry in shipped.items():
        for model, cells in entry["kappa"].items():
            for view, kappa in cells.items():
                if model == "pooled" or len(classes[(model, view)]) != 1:
                    continue
                checked += 1
                assert kappa is None, (judge, model, view, kappa)
                assert view in entry.get("undefined", {}).get(model, {}), (judge, model, view)
    assert checked >= 4  # gpt-5 never refuses; llama's and gpt-4.1's declines are all in role
