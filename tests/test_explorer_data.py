"""The explorer's compressed block: every string stored once, round-trips exactly, refuses junk."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from test_report_synthetic import PLANTED_CLOSE, PLANTED_SCRIPT, synthetic_records

from deconfound.report.explorer import JudgeLabel, build_rows
from deconfound.report.explorer_data import (
    FORMAT,
    decode,
    encode,
    explorer_payload,
    label_text,
    responses_of,
)
from deconfound.stats import select_judges

CONDS = ["baseline", "ethics prompt", "ethics + RAG"]


def _payload() -> dict[str, object]:
    records = synthetic_records()
    rows = build_rows(records, CONDS, select_judges(records), [("baseline", "ethics prompt")])
    tokens = [" ".join(f"{i}:{t}" for i, t in r.transitions.items()) for r in rows]
    return explorer_payload(rows, CONDS, tokens, {0: "baseline → ethics prompt"})


def test_every_string_is_stored_once_and_referenced_by_index() -> None:
    data = _payload()
    strings = data["strings"]
    assert isinstance(strings, list) and len(strings) == len(set(strings))
    # 36 responses x 2 judges carry "synthetic reason" (or the planted one): stored once
    assert strings.count("synthetic reason") == 1
    assert len(data["labels"]["explanation"]) == 72  # type: ignore[index]


def test_round_trip_keeps_untrusted_text_verbatim() -> None:
    data = _payload()
    block = encode(data)
    assert decode(block) == data
    texts = {r["text"] for r in responses_of(decode(block))}
    assert PLANTED_SCRIPT in texts and PLANTED_CLOSE in texts
    # responses follow their scenario in display order: condition columns left to right
    first = responses_of(data)[:3]
    assert [(r["scenario"], r["condition"]) for r in first] == [("scenario-01", c) for c in CONDS]


def test_transitions_carry_their_filter_token_and_their_words() -> None:
    data = _payload()
    strings, scen = data["strings"], data["scenarios"]
    i = [strings[k] for k in scen["id"]].index("scenario-03")  # type: ignore[index]
    assert strings[scen["tokens"][i]] == "0:engaged_ic->refusal"  # type: ignore[index]
    (words,) = scen["transitions"][i]  # type: ignore[index]
    assert strings[words] == "baseline → ethics prompt: engaged, IC → refusal"  # type: ignore[index]


def test_encoding_is_deterministic() -> None:
    assert encode(_payload()) == encode(_payload())


def test_decode_refuses_what_encode_did_not_write() -> None:
    with pytest.raises(ValueError, match="not base64"):
        decode("<script>")
    other = base64.b64encode(gzip.compress(json.dumps({"format": "x"}).encode())).decode()
    with pytest.raises(ValueError, match=FORMAT):
        decode(other)


def test_row_tokens_must_match_the_rows() -> None:
    with pytest.raises(ValueError, match="row_tokens has 1 entries for 0 rows"):
        explorer_payload([], CONDS, ["x"], {})


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
