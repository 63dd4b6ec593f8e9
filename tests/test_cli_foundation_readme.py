"""The records reference page stays true to the code: every schema column, the import defaults."""

from __future__ import annotations

import re
from pathlib import Path

from deconfound.records import COLUMNS
from deconfound.records.importers.table import DEFAULT_JUDGE, DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[1]


def _section(title: str) -> str:
    text = (ROOT / "docs" / "records.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/records.md has no '## {title}' section"
    return match.group(1)


def test_records_table_section_lists_every_schema_column() -> None:
    section = _section("Records table")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))
    assert documented == {c.name for c in COLUMNS}


def test_importing_section_states_the_table_defaults() -> None:
    section = _section("Importing results")
    assert f"| `judge` | `{DEFAULT_JUDGE}` |" in section
    assert f"else `{DEFAULT_MODEL}`" in section
