"""The explorer's compressed blocks: strings stored once, chunked by responses, exact round trip."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
from test_report_synthetic import PLANTED_CLOSE, PLANTED_SCRIPT, synthetic_records

from deconfound.report import explorer_data
from deconfound.report.explorer import JudgeLabel, build_rows
from deconfound.report.explorer_data import (
    FORMAT,
    decode_blocks,
    encode_blocks,
    explorer_blocks,
    label_text,
    page_data,
)
from deconfound.stats import select_judges
from deconfound.stats.simulate import simulate_records

CONDS = ["baseline", "ethics prompt", "ethics + RAG"]


def _blocks(records: Any = None, conds: list[str] = CONDS) -> list[dict[str, Any]]:
    records = synthetic_records() if records is None else records
    rows = build_rows(records, conds, select_judges(records), [(conds[0], conds[1])])
    tokens = [" ".join(f"{i}:{t}" for i, t in r.transitions.items()) for r in rows]
    return explorer_blocks(rows, conds, tokens, {0: f"{conds[0]} → {conds[1]}"})


def test_every_string_is_stored_once_and_referenced_by_index() -> None:
    index, chunk = _blocks()  # 36 responses: one chunk
    strings = chunk["strings"]
    assert len(strings) == len(set(strings))
    # 36 responses x 2 judges carry "synthetic reason" (or the planted one): stored once
    assert strings.count("synthetic reason") == 1
    assert len(chunk["labels"]["explanation"]) == 72
    assert index["chunks"] == [12]


def test_round_trip_keeps_untrusted_text_verbatim() -> None:
    blocks = _blocks()
    assert decode_blocks(str(encode_blocks(blocks))) == blocks
    responses = page_data(blocks).responses
    texts = {r["text"] for r in responses}
    assert PLANTED_SCRIPT in texts and PLANTED_CLOSE in texts
    # responses follow their scenario in display order: condition columns left to right
    assert [(r["scenario"], r["condition"]) for r in responses[:3]] == [
        ("scenario-01", c) for c in CONDS
    ]


def test_chunks_hold_whole_scenarios_and_at_most_a_chunk_of_responses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(explorer_data, "CHUNK_RESPONSES", 25)
    records = simulate_records(8, 3, seed=1)  # 8 scenarios x 2 conditions x 3 epochs
    conds = sorted({str(c) for c in records["condition"]})
    index, *chunks = _blocks(records, conds)
    assert index["chunks"] == [4, 4]  # 24 responses fit, a fifth scenario (30) would not
    assert [len(c["responses"]["n"]) for c in chunks] == [24, 24]
    data = page_data([index, *chunks])
    ids = [s["id"] for s in data.scenarios]
    assert len(ids) == 8 and set(ids) == {str(s) for s in records["scenario_id"]}
    assert len(data.responses) == 48


def test_transitions_carry_their_filter_token_and_their_words() -> None:
    (scen,) = [s for s in page_data(_blocks()).scenarios if s["id"] == "scenario-03"]
    assert scen["tokens"] == "0:engaged_ic->refusal"
    assert scen["transitions"] == ["baseline → ethics prompt: engaged, IC → refusal"]


def test_encoding_is_deterministic() -> None:
    assert encode_blocks(_blocks()) == encode_blocks(_blocks())


def test_decode_refuses_what_encode_did_not_write() -> None:
    with pytest.raises(ValueError, match="not base64 blocks"):
        decode_blocks("<script>")
    other = base64.b64encode(gzip.compress(json.dumps({"format": "x"}).encode())).decode()
    with pytest.raises(ValueError, match=f"block 1 is not in the {FORMAT} layout"):
        decode_blocks(str(encode_blocks(_blocks()[:1])) + "." + other)


def test_row_tokens_must_match_the_rows() -> None:
    with pytest.raises(ValueError, match="row_tokens has 1 entries for 0 rows"):
        explorer_blocks([], CONDS, ["x"], {})


def test_label_line_says_every_label_in_the_explorer_words() -> None:
    label = JudgeLabel(
        judge="rubric",
        version="v2",
        engagement="refusal",
        ic=False,
        ic_evidence=None,
        benchmark_decision="no_convergence",
        refusal_kind="ethical",
        in_role=True,
        flags=["gives_reasons"],
        confidence=0.875,
        explanation=None,
        role=["engagement"],
    )
    assert label_text(label) == (
        "engagement refusal; IC no; decision no_convergence; refusal kind ethical; in role; "
        "flags gives_reasons; confidence 0.88"
    )
