"""The transcript explorer's rows as compressed blocks that the page unpacks and renders on demand.

Written as markup, every response cost the page about 470 bytes of tags and the browser built
every row at load (47 MB and 100,000 response cells for 100,000 responses). Instead the rows
travel as columnar JSON, gzip-compressed and base64-encoded, in one inert
``<script type="application/octet-stream">`` element: first a small *index* (what the filters and
the pager need: scenario ids, categories, transitions, conflicts, response counts, text sizes),
then *chunks* of about ``CHUNK_RESPONSES`` responses each (texts, labels, prompts), joined by
``.``, a character base64 never uses. ``report.js`` inflates the index and the chunks of the
first page with the browser's own ``DecompressionStream``, shows those rows, then unpacks the
other chunks one short task at a time, so no single task has to inflate and parse every
transcript at once. It inserts text only through ``textContent``; base64 has no character that
could end the element, so model and judge text never meets an HTML parser.

In every block each distinct string is stored once (``strings``) and the other fields refer to
it by index (``-1``: none). Columns of one table have equal length; a scenario's responses follow
each other in display order (the index's ``n`` says how many), as do a response's judge labels.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from markupsafe import Markup

from deconfound.report.explorer import JudgeLabel, ScenarioRow, state_label

#: Version tag of the block layout; report.js refuses any other.
FORMAT: Final = "deconfound-explorer/2"
#: Responses per chunk (a scenario is never split): one chunk of real prose (~2,000 characters
#: per response) inflates and parses in well under 50 ms, a browser's "long task" bound.
CHUNK_RESPONSES: Final = 400
#: gzip level: zlib's default. On 60 MB of the real-prose benchmark's JSON, level 4 was 2.6x
#: faster but 8% larger, level 9 26% slower for 0.3% smaller.
_LEVEL: Final = 6
_BLOCKS: Final = re.compile(r"[A-Za-z0-9+/=]+(\.[A-Za-z0-9+/=]+)*")


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


class _Chunk:
    """One chunk under construction: prompts, responses and labels of consecutive scenarios."""

    def __init__(self) -> None:
        self.s = _Strings()
        self.scenarios = 0
        self.prompts: list[list[list[int]]] = []
        self.resp: dict[str, list[Any]] = {
            k: [] for k in ("condition", "epoch", "status", "text", "state", "conflict", "n")
        }
        self.labs: dict[str, list[Any]] = {
            k: [] for k in ("judge", "version", "role", "summary", "evidence", "explanation")
        }

    def add(self, row: ScenarioRow, column: Mapping[str, int]) -> int:
        """Append a scenario's prompts and responses (in column order); returns how many."""
        s, resp, labs = self.s, self.resp, self.labs
        self.scenarios += 1
        if not row.prompts:
            self.prompts.append([])
        elif row.same_prompt:  # shown once, without a condition name
            self.prompts.append([[-1, s(next(iter(row.prompts.values())))]])
        else:
            self.prompts.append([[s(c), s(p)] for c, p in row.prompts.items()])
        n = 0
        for cond, i in column.items():
            for r in row.responses.get(cond, []):
                n += 1
                resp["condition"].append(i)
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
        return n

    def block(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "strings": self.s.items,
            "prompts": self.prompts,
            "responses": self.resp,
            "labels": self.labs,
        }


def explorer_blocks(
    rows: Sequence[ScenarioRow],
    conditions: Sequence[str],
    row_tokens: Sequence[str],
    comparisons_short: Mapping[int, str],
) -> list[dict[str, Any]]:
    """The explorer's rows as blocks: the index, then chunks of about ``CHUNK_RESPONSES``.

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
        for k in ("id", "category", "source", "conflict", "tokens", "transitions", "n", "chars")
    }
    chunks = [_Chunk()]
    in_chunk = 0
    states: set[str] = set()
    for row, tokens in zip(rows, row_tokens, strict=True):
        size = sum(len(rs) for rs in row.responses.values())
        if in_chunk and in_chunk + size > CHUNK_RESPONSES:
            chunks.append(_Chunk())
            in_chunk = 0
        in_chunk += chunks[-1].add(row, column)
        states.update(r.state for rs in row.responses.values() for r in rs)
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
        scen["n"].append(size)
        scen["chars"].append(sum(len(r.text or "") for rs in row.responses.values() for r in rs))
    index = {
        "format": FORMAT,
        "conditions": list(conditions),
        "state_labels": {st: state_label(st) for st in sorted(states)},
        "strings": s.items,
        "scenarios": scen,
        "chunks": [c.scenarios for c in chunks if c.scenarios],
    }
    return [index, *(c.block() for c in chunks if c.scenarios)]


def encode(block: Mapping[str, Any]) -> str:
    """gzip + base64 of a block's compact JSON (deterministic: no timestamp in the header)."""
    raw = json.dumps(block, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    packed = gzip.compress(raw.encode("utf-8"), compresslevel=_LEVEL, mtime=0)
    return base64.b64encode(packed).decode("ascii")


def encode_blocks(blocks: Sequence[Mapping[str, Any]]) -> Markup:
    """The element text: encoded blocks joined by ``.`` (safe markup: base64 and dots only)."""
    return Markup(".".join(encode(b) for b in blocks))


def decode_blocks(text: str) -> list[dict[str, Any]]:
    """The blocks back from :func:`encode_blocks`'s text (tests and tools read pages with it)."""
    if not _BLOCKS.fullmatch(text):
        raise ValueError("the explorer data is not base64 blocks joined by '.'")
    blocks = []
    for i, part in enumerate(text.split(".")):
        block = json.loads(gzip.decompress(base64.b64decode(part)).decode("utf-8"))
        if not isinstance(block, dict) or block.get("format") != FORMAT:
            raise ValueError(f"explorer block {i} is not in the {FORMAT} layout")
        blocks.append(block)
    return blocks


@dataclass(frozen=True)
class PageData:
    """A page's explorer data with every reference resolved (for tests and tools).

    ``scenarios``: dicts with id, category, source, conflict, tokens, transitions, prompts.
    ``responses``: dicts with scenario, condition, epoch, status, text, state, conflict and
    labels (judge, version, role, summary, evidence, explanation), in table order.
    """

    conditions: list[str]
    state_labels: dict[str, str]
    scenarios: list[dict[str, Any]]
    responses: list[dict[str, Any]]


def page_data(blocks: Sequence[Mapping[str, Any]]) -> PageData:
    """Resolve decoded blocks (:func:`decode_blocks`) into plain scenario and response dicts."""
    index, chunks = blocks[0], blocks[1:]

    def look(strings: Sequence[str]) -> Any:
        return lambda i: None if i < 0 else strings[i]

    at = look(index["strings"])
    sc = index["scenarios"]
    if sum(index["chunks"]) != len(sc["id"]) or len(index["chunks"]) != len(chunks):
        raise ValueError("the explorer index does not match its chunks")
    scenarios, responses = [], []
    s = 0
    for count, chunk in zip(index["chunks"], chunks, strict=True):
        cat = look(chunk["strings"])
        resp, labs = chunk["responses"], chunk["labels"]
        r = lab = 0
        for local in range(count):
            sid = at(sc["id"][s])
            scenarios.append(
                {
                    "id": sid,
                    "category": at(sc["category"][s]),
                    "source": at(sc["source"][s]),
                    "conflict": bool(sc["conflict"][s]),
                    "tokens": at(sc["tokens"][s]),
                    "transitions": [at(i) for i in sc["transitions"][s]],
                    "prompts": [(cat(c), cat(p)) for c, p in chunk["prompts"][local]],
                }
            )
            for _ in range(sc["n"][s]):
                n = resp["n"][r]
                responses.append(
                    {
                        "scenario": sid,
                        "condition": index["conditions"][resp["condition"][r]],
                        "epoch": resp["epoch"][r],
                        "status": cat(resp["status"][r]),
                        "text": cat(resp["text"][r]),
                        "state": cat(resp["state"][r]),
                        "conflict": [cat(c) for c in resp["conflict"][r]],
                        "labels": [{k: cat(labs[k][j]) for k in labs} for j in range(lab, lab + n)],
                    }
                )
                r, lab = r + 1, lab + n
            s += 1
    return PageData(index["conditions"], index["state_labels"], scenarios, responses)


def read_page(html: str) -> PageData:
    """The explorer data of a written report page, resolved."""
    found = re.search(r'<script [^>]*id="explorer-data">(.*?)</script>', html)
    if found is None:
        raise ValueError("the page has no explorer-data element")
    return page_data(decode_blocks(found.group(1)))
