"""The transcript explorer's rows as one compressed block that the page renders on demand.

Written as markup, every response cost the page about 470 bytes of tags and the browser built
every row at load (47 MB and 100,000 response cells for 100,000 responses). Instead the rows
travel as columnar JSON in which each distinct string is stored once, gzip-compressed and
base64-encoded into the report's JSON data block. ``report.js`` inflates it with the browser's
own ``DecompressionStream`` and builds one page of rows at a time, inserting text only through
``textContent``; base64 has no character that could end the ``<script>`` element it sits in, so
model and judge text never meet an HTML parser.

Layout of the decoded object (``FORMAT``): ``strings`` holds every string once and the other
fields refer to it by index (``-1`` for none). ``scenarios``, ``responses`` and ``labels`` are
columns of equal length; a scenario's responses follow each other in display order (its
``responses`` count says how many), as do a response's judge labels.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from deconfound.report.explorer import JudgeLabel, ScenarioRow, state_label

#: Version tag of the decoded layout; report.js refuses any other.
FORMAT: Final = "deconfound-explorer/1"
#: gzip level: 6 is zlib's default; 9 saved under 2% on the 100k benchmark page at twice the time.
_LEVEL: Final = 6
_BASE64: Final = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class _Strings:
    """Interns strings: the first occurrence gets the next index, repeats reuse it."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.items: list[str] = []

    def __call__(self, value: str | None) -> int:
        if value is None:
            return -1
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.items)
            self.items.append(value)
        return found


def label_text(label: JudgeLabel) -> str:
    """A judge's labels on one response in words, as the explorer shows them after its name."""
    parts = []
    if label.engagement:
        parts.append(f"engagement {label.engagement}")
    if label.ic is not None:
        parts.append(f"IC {'yes' if label.ic else 'no'}")
    if label.benchmark_decision:
        parts.append(f"decision {label.benchmark_decision}")
    if label.refusal_kind:
        parts.append(f"refusal kind {label.refusal_kind}")
    if label.in_role is not None:
        parts.append("in role" if label.in_role else "out of role")
    if label.flags:
        parts.append(f"flags {', '.join(label.flags)}")
    text = "".join(f"{p}; " for p in parts)
    if label.confidence is not None:
        text += f"confidence {label.confidence:.2f}"
    return text.rstrip()


def explorer_payload(
    rows: Sequence[ScenarioRow],
    conditions: Sequence[str],
    row_tokens: Sequence[str],
    comparisons_short: Mapping[int, str],
) -> dict[str, Any]:
    """The explorer's rows as the columnar, string-deduplicated object the page decodes.

    Args:
        rows: Explorer rows (:func:`deconfound.report.explorer.build_rows`).
        conditions: The explorer's columns in display order (the table header's order).
        row_tokens: Per row, its transition-filter tokens joined by spaces (``"0:a->b"``).
        comparisons_short: Comparison index -> its short name (``"baseline → treatment"``).
    """
    if len(row_tokens) != len(rows):
        raise ValueError(f"row_tokens has {len(row_tokens)} entries for {len(rows)} rows")
    s = _Strings()
    column = {c: i for i, c in enumerate(conditions)}
    scen: dict[str, list[Any]] = {
        k: []
        for k in ("id", "category", "source", "conflict", "tokens", "transitions", "prompts", "n")
    }
    resp: dict[str, list[Any]] = {
        k: [] for k in ("condition", "epoch", "status", "text", "state", "conflict", "n")
    }
    labs: dict[str, list[Any]] = {
        k: [] for k in ("judge", "version", "role", "summary", "evidence", "explanation")
    }
    states: set[str] = set()
    for row, tokens in zip(rows, row_tokens, strict=True):
        scen["id"].append(s(row.scenario_id))
        scen["category"].append(s(row.category))
        scen["source"].append(s(row.source_task_id))
        scen["conflict"].append(1 if row.conflict else 0)
        scen["tokens"].append(s(tokens))
        scen["transitions"].append(
            [
                s(f"{comparisons_short[i]}: {state_label(a)} → {state_label(b)}")
                for i, t in row.transitions.items()
                for a, _, b in [t.partition("->")]
            ]
        )
        if not row.prompts:
            scen["prompts"].append([])
        elif row.same_prompt:  # shown once, without a condition name
            scen["prompts"].append([[-1, s(next(iter(row.prompts.values())))]])
        else:
            scen["prompts"].append([[s(c), s(p)] for c, p in row.prompts.items()])
        n = 0
        for cond in conditions:
            for r in row.responses.get(cond, []):
                n += 1
                states.add(r.state)
                resp["condition"].append(column[cond])
                resp["epoch"].append(r.epoch)
                resp["status"].append(s(r.status))
                resp["text"].append(s(r.text))
                resp["state"].append(s(r.state))
                resp["conflict"].append([s(c) for c in r.conflict])
                resp["n"].append(len(r.labels))
                for lab in r.labels:
                    labs["judge"].append(s(lab.judge))
                    labs["version"].append(s(lab.version))
                    labs["role"].append(s(", ".join(lab.role)) if lab.role else -1)
                    labs["summary"].append(s(label_text(lab)))
                    labs["evidence"].append(s(lab.ic_evidence or None))
                    labs["explanation"].append(s(lab.explanation or None))
        scen["n"].append(n)
    return {
        "format": FORMAT,
        "conditions": list(conditions),
        "state_labels": {st: state_label(st) for st in sorted(states)},
        "strings": s.items,
        "scenarios": scen,
        "responses": resp,
        "labels": labs,
    }


def encode(payload: Mapping[str, Any]) -> str:
    """gzip + base64 of the payload's compact JSON (deterministic: no timestamp in the header)."""
    raw = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    packed = gzip.compress(raw.encode("utf-8"), compresslevel=_LEVEL, mtime=0)
    return base64.b64encode(packed).decode("ascii")


def decode(block: str) -> dict[str, Any]:
    """The payload back from :func:`encode`'s text (tests and tools read pages with it)."""
    if not _BASE64.fullmatch(block):
        raise ValueError("the explorer block is not base64 text")
    data = json.loads(gzip.decompress(base64.b64decode(block)).decode("utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"the explorer block is not in the {FORMAT} layout")
    return data


def read_page(html: str) -> dict[str, Any]:
    """The decoded explorer payload of a written report page."""
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html)
    if found is None:
        raise ValueError("the page has no report-data block")
    return decode(json.loads(found.group(1))["explorer"])


def responses_of(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Decoded responses as plain dicts (scenario, condition, texts and label summaries).

    Saves tests and tools from walking the columns: each dict has ``scenario``, ``condition``,
    ``epoch``, ``status``, ``text``, ``state``, ``conflict`` and ``labels`` (judge, summary).
    """
    strings = data["strings"]

    def text(i: int) -> str | None:
        return None if i < 0 else str(strings[i])

    scen, resp, labs = data["scenarios"], data["responses"], data["labels"]
    owner = [sid for sid, n in zip(scen["id"], scen["n"], strict=True) for _ in range(n)]
    out, first = [], 0
    for r, n in enumerate(resp["n"]):
        out.append(
            {
                "scenario": text(owner[r]),
                "condition": data["conditions"][resp["condition"][r]],
                "epoch": resp["epoch"][r],
                "status": text(resp["status"][r]),
                "text": text(resp["text"][r]),
                "state": text(resp["state"][r]),
                "conflict": [text(c) for c in resp["conflict"][r]],
                "labels": [
                    {"judge": text(labs["judge"][k]), "summary": text(labs["summary"][k])}
                    for k in range(first, first + n)
                ],
            }
        )
        first += n
    return out
