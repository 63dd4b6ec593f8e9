"""Strict parsers for LLM judge output: a label is read exactly or not at all.

Judge output is untrusted text. Anything outside the label vocabularies is a :class:`ParseError`
(the judgment becomes ``invalid``), never mapped to the nearest class, because a silent default
would bias exactly the rates the analysis compares.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from typing import Any, Final, cast

from deconfound.records.labels import ENGAGEMENT_VALID, REASONING_FLAGS, REFUSAL_KIND

_FENCE_RE: Final = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_DECISION_RE: Final = re.compile(
    r"^[\s>*_#`]*DECISION[\s*_`]*:[\s*_`]*([A-Za-z_\-]+)", re.IGNORECASE | re.MULTILINE
)
_REASON_RE: Final = re.compile(
    r"^[\s>*_#`]*REASON[\s*_`]*:[\s*_`]*(.*)", re.IGNORECASE | re.DOTALL | re.MULTILINE
)
DECISIONS: Final = ("convergence", "no_convergence")


class ParseError(ValueError):
    """Judge output that does not carry the asked-for labels (the message says what is wrong)."""


class SyntaxParseError(ParseError):
    """No readable JSON object at all (worth one repair request, unlike a wrong label)."""


@dataclass(frozen=True)
class RubricLabels:
    """The labels of one rubric judge reply, checked against the vocabularies."""

    engagement: str
    ic: bool | None
    ic_evidence: str | None
    refusal_kind: str | None
    in_role: bool | None = None
    flags: dict[str, bool | None] = field(default_factory=dict)
    confidence: float | None = None
    explanation: str | None = None

    def label_fields(self) -> dict[str, Any]:
        """The labels by their :class:`~deconfound.judges.base.Judgment` field names (all but
        ``explanation``, which the judge may annotate), so a new label is carried over by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "explanation"}


def extract_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in ``text`` (a code fence or surrounding prose is tolerated).

    Raises:
        SyntaxParseError: No complete JSON object (e.g. truncated or plain prose).
    """
    candidates = [m.group(1) for m in _FENCE_RE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    last_error = "no JSON object found"
    for cand in candidates:
        # Only the first brace: after a broken object, later braces are usually nested parts of
        # it (e.g. the flags object), and reading one of those as the reply would be wrong.
        start = cand.find("{")
        if start == -1:
            continue
        try:
            obj, _ = decoder.raw_decode(cand, start)
        except json.JSONDecodeError as exc:
            last_error = f"invalid JSON ({exc.msg} at char {exc.pos})"
        else:
            return cast(dict[str, Any], obj)
    raise SyntaxParseError(last_error)


def _enum(obj: dict[str, Any], key: str, allowed: tuple[str, ...], *, nullable: bool) -> str | None:
    v = obj.get(key)
    if v is None:
        if nullable:
            return None
        raise ParseError(f"'{key}' is required")
    if not isinstance(v, str) or v not in allowed:
        raise ParseError(f"'{key}' must be one of {', '.join(allowed)}; got {v!r}")
    return v


def _bool(v: Any, key: str) -> bool | None:
    if v is None or isinstance(v, bool):
        return v
    raise ParseError(f"'{key}' must be true, false or null; got {v!r}")


def _text(v: Any, key: str) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise ParseError(f"'{key}' must be a string or null; got {v!r}")
    return v.strip() or None


def parse_rubric(obj: dict[str, Any]) -> RubricLabels:
    """Check a rubric reply (every prompt since v2 shares its format) against the vocabularies
    and rules.

    Rules (docs/codebook.md, ``codebook-1``): ``ic`` is required (true/false) for every answer,
    refusals included, and ``ic: true`` needs evidence; ``refusal_kind`` and ``in_role`` are
    required for refusals and partials; ``in_role`` on an engaged answer contradicts the codebook
    and is an error (it would move the answer between the broad and narrow constructs), while a
    ``refusal_kind`` there is dropped; all five flags must be booleans (or null); ``confidence``
    is a number in [0, 1] or null.

    Raises:
        ParseError: A value outside its vocabulary or type, or a contradiction.
    """
    engagement = _enum(obj, "engagement", ENGAGEMENT_VALID, nullable=False)
    assert engagement is not None
    ic = _bool(obj.get("ic"), "ic")
    evidence = _text(obj.get("ic_evidence"), "ic_evidence")
    kind = _enum(obj, "refusal_kind", REFUSAL_KIND, nullable=True)
    in_role = _bool(obj.get("in_role"), "in_role")
    if ic is None:
        raise ParseError(f"'ic' is required (true/false) for every answer, also a {engagement}")
    if ic and evidence is None:
        raise ParseError("'ic' is true but 'ic_evidence' is empty")
    if not ic:
        evidence = None
    if engagement == "engaged":
        kind = None
        if in_role is not None:
            raise ParseError(
                f"'in_role' is {str(in_role).lower()} on an engaged answer; it is defined only "
                "for refusal and partial (null for engaged)"
            )
    else:
        if kind is None:
            raise ParseError(f"'refusal_kind' is required for a {engagement} response")
        if in_role is None:
            raise ParseError(f"'in_role' is required (true/false) for a {engagement} response")
    raw_flags = obj.get("flags")
    if not isinstance(raw_flags, dict):
        raise ParseError(f"'flags' must be an object with {', '.join(REASONING_FLAGS)}")
    unknown = set(raw_flags) - set(REASONING_FLAGS)
    if unknown:
        raise ParseError(f"unknown flag(s) {', '.join(sorted(unknown))}")
    flags = {f: _bool(raw_flags.get(f), f"flags.{f}") for f in REASONING_FLAGS}
    conf = obj.get("confidence")
    if conf is not None:
        if isinstance(conf, bool) or not isinstance(conf, int | float) or not 0 <= conf <= 1:
            raise ParseError(f"'confidence' must be a number in [0, 1]; got {conf!r}")
        conf = float(conf)
    return RubricLabels(
        engagement=engagement,
        ic=ic,
        ic_evidence=evidence,
        refusal_kind=kind,
        in_role=in_role,
        flags=flags,
        confidence=conf,
        explanation=_text(obj.get("explanation"), "explanation"),
    )


def parse_decision(text: str) -> tuple[str, str | None]:
    """Read ``DECISION: convergence|no_convergence`` and ``REASON: ...`` from a benchmark reply.

    Markdown emphasis around the words is tolerated; the value itself must be exact (case aside).

    Raises:
        ParseError: No DECISION line, a value other than the two decisions, or two DECISION lines
            that disagree.
    """
    found = [m.group(1).lower() for m in _DECISION_RE.finditer(text)]
    if not found:
        raise ParseError("no 'DECISION:' line")
    bad = [d for d in found if d not in DECISIONS]
    if bad:
        raise ParseError(f"DECISION must be convergence or no_convergence; got {bad[0]!r}")
    if len(set(found)) > 1:
        raise ParseError("conflicting DECISION lines")
    reason_match = _REASON_RE.search(text)
    reason = reason_match.group(1).strip() if reason_match else None
    return found[0], reason or None
