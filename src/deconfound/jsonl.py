"""JSON Lines reading shared by every stage that accepts ``.jsonl`` input.

JSON can spell text that is not Unicode: a lone surrogate escape such as ``"\\ud83d"`` (half an
emoji) decodes to a Python string that no UTF-8 file, Parquet table or pandas string column can
hold. It is rejected where it is read (:func:`check_text`), naming the record and field, rather
than crashing a later stage.
"""

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
        check_text(obj, path=path, location=f"line {n}")
        yield n, obj


def _bad_text(value: Any, field: str) -> tuple[str, str, int] | None:
    """(field, text, offset) of the first string holding a lone surrogate, or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return field, value, exc.start
        return None
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        sub = f"{field}.{key}" if field else str(key)
        if isinstance(key, str) and (bad := _bad_text(key, sub)):
            return bad
        if bad := _bad_text(item, sub):
            return bad
    return None


def check_text(obj: Any, *, path: str | Path, location: str) -> None:
    """Raise :class:`InputError` if any string in a decoded JSON value holds a lone surrogate."""
    bad = _bad_text(obj, "")
    if bad is None:
        return
    field, text, at = bad
    raise InputError(
        f"text holds a lone surrogate {text[at]!r} at character {at}, which is not valid "
        "Unicode; fix the producer or replace it (e.g. with U+FFFD) and try again",
        path=path,
        location=location,
        field=field or None,
    )
