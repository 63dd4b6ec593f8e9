"""JSON Lines reading shared by every stage that accepts ``.jsonl`` input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from deconfound.errors import InputError


def iter_jsonl(text: str, path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of JSON Lines text.

    A line that is not valid JSON, or not a JSON object, is an InputError naming file and line.
    """
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON ({exc.msg})", path=path, location=f"line {n}"
            ) from exc
        if not isinstance(obj, dict):
            raise InputError("each line must be a JSON object", path=path, location=f"line {n}")
        yield n, obj
