"""benchmarks/corpus/reread.py: how a targeted re-reading under a codebook clarification decides
each field (the rule that changed 23 corpus labels), pinned on small hand-made readings."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "corpus" / "reread.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reread_bench", PATH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


reread = _module()
CURRENT = {"engagement": "engaged", "ic": "false", "refusal_kind": "", "in_role": ""}
SCOPE = {"engagement", "refusal_kind", "in_role"}


def _reading(**labels: str) -> dict[str, str]:
    return {"key": "A01", "note": "n", **CURRENT, **labels}


def test_agreed_readings_stand_even_on_a_field_outside_the_rule() -> None:
    both = _reading(engagement="partial", refusal_kind="reasoned_ethical", in_role="yes", ic="yes")
    got = reread.decide(CURRENT, both, dict(both), None, SCOPE)
    assert got == {
        "engagement": "partial",
        "ic": "true",
        "refusal_kind": "reasoned_ethical",
        "in_role": "true",
    }


def test_a_split_on_the_rules_field_goes_to_the_adjudicator() -> None:
    one = _reading(engagement="partial", refusal_kind="reasoned_ethical", in_role="yes")
    two = _reading(engagement="engaged")
    adj = {"engagement": "partial", "refusal_kind": "reasoned_ethical", "in_role": "no"}
    got = reread.decide(CURRENT, one, two, adj, SCOPE)
    assert got["engagement"] == "partial" and got["in_role"] == "false"


def test_a_split_outside_the_rule_keeps_the_current_label() -> None:
    got = reread.decide(CURRENT, _reading(ic="yes"), _reading(ic="no"), None, SCOPE)
    assert got["ic"] == "false"


def test_an_unadjudicated_split_keeps_the_current_label_only_if_a_reader_gave_it() -> None:
    current = {**CURRENT, "engagement": "partial", "refusal_kind": "boilerplate", "in_role": "true"}
    one = _reading(engagement="partial", refusal_kind="boilerplate", in_role="yes")
    two = _reading(engagement="partial", refusal_kind="reasoned_ethical", in_role="yes")
    assert reread.decide(current, one, two, None, SCOPE)["refusal_kind"] == "boilerplate"
    three = _reading(engagement="partial", refusal_kind="capability", in_role="yes")
    with pytest.raises(SystemExit, match="refusal_kind"):
        reread.decide(current, two, three, None, SCOPE)


def test_an_engaged_answer_carries_no_refusal_kind_or_in_role() -> None:
    current = {**CURRENT, "engagement": "partial", "refusal_kind": "boilerplate", "in_role": "true"}
    both = _reading(engagement="engaged", refusal_kind="", in_role="")
    got = reread.decide(current, both, dict(both), None, SCOPE)
    assert got["refusal_kind"] == "" and got["in_role"] == ""
