"""Rewrite src/deconfound/stats/analysis.schema.json from the result dataclasses.

Run after changing a class in deconfound.stats.results; tests/test_contract.py fails until the
committed file matches the classes.
"""

from __future__ import annotations

import json
from pathlib import Path

from deconfound.stats.results import SCHEMA_FILE, analysis_schema

TARGET = Path(__file__).resolve().parents[1] / "src" / "deconfound" / "stats" / SCHEMA_FILE


def main() -> None:
    """Write the schema file and say where."""
    TARGET.write_text(json.dumps(analysis_schema(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
